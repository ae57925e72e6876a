// Exceptions thrown by core. Every what() is a finished sentence naming the file or item and
// the problem, ready to show to a user as is.
#pragma once

#include <stdexcept>
#include <string>

namespace r18 {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// An image that cannot be read, decoded or preprocessed.
class ImageError : public Error {
public:
    using Error::Error;
};

// A weights file that cannot be read or does not fit the network description.
class WeightsError : public Error {
public:
    using Error::Error;
};

// A camera, video file or stream that cannot be opened or stops delivering frames.
class VideoError : public Error {
public:
    using Error::Error;
};

// oneDNN could not build or run the network (unsupported precision, bad tap name, ...).
class EngineError : public Error {
public:
    using Error::Error;
};

}  // namespace r18
