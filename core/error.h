// Exceptions thrown by core. Every what() is a finished sentence naming the file or item and
// the problem, ready to show to a user as is.
#pragma once

#include <exception>
#include <new>
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

// Inside a catch block: the exception being handled as a sentence about `subject` (a file or an
// item). An r18::Error is already one and comes back as is; std::bad_alloc says that memory ran
// out; any other exception (std::length_error, std::out_of_range, dnnl::error, cv::Exception,
// nlohmann::json's, std::filesystem_error, std::system_error, ...) keeps its own text after the
// subject.
inline std::string currentExceptionMessage(const std::string& subject) {
    try {
        throw;
    } catch (const Error& e) {
        return e.what();
    } catch (const std::bad_alloc&) {
        return subject + ": there is not enough memory for it.";
    } catch (const std::exception& e) {
        return subject + ": " + e.what() + " (unexpected; please report it).";
    } catch (...) {
        return subject + ": an unknown error (unexpected; please report it).";
    }
}

// Runs f() and returns what it returns; an exception that is not an r18::Error comes out as an E
// naming `subject`. Core's entry points that take outside input (weights, labels, images) run
// their work through it, so their callers only ever see r18::Error.
template <class E, class F>
auto rethrowAsError(const std::string& subject, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const Error&) {
        throw;
    } catch (...) {
        throw E(currentExceptionMessage(subject));
    }
}

}  // namespace r18
