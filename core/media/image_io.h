// Reading images from disk or memory with OpenCV, after a header check that refuses huge
// images before any pixel is decoded and recognises truncated JPEG and PNG files.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace r18 {

constexpr int64_t kMaxImagePixels = 100'000'000;

struct ImageHeader {
    std::string format;  // "JPEG", "PNG", "GIF", "BMP", "WebP", "PNM"
    int64_t width = 0;
    int64_t height = 0;
    bool truncated = false;  // the file ends before the image data does
};

// File suffixes (lower case, no dot) of the formats readImage() handles or explains (GIF).
const std::vector<std::string>& imageSuffixes();
// Whether a path ends in one of them, in any case.
bool hasImageSuffix(const std::string& path);

// Reads width and height from the header of common formats without decoding pixels.
// Returns nullopt for formats it does not know (OpenCV may still decode them).
std::optional<ImageHeader> probeImage(const uint8_t* data, size_t size);

// Decodes an image file: 8- or 16-bit, gray or BGR (alpha dropped), EXIF orientation
// applied. Throws ImageError naming the file: missing, empty, not an image, truncated,
// too large (over kMaxImagePixels), or undecodable.
cv::Mat readImage(const std::string& path);

// The same for bytes already in memory; `label` names the source in messages.
cv::Mat decodeImage(const std::vector<uint8_t>& bytes, const std::string& label);

}  // namespace r18
