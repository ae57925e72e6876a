// Reading images from disk or memory. Every format OpenCV decodes has its header read first,
// and an image over kMaxImagePixels, or over kMaxDecodedBytes once decoded, is refused before
// any pixel is decoded (decompression bombs: a deflated TIFF, an RLE Radiance HDR); a format
// without such a check (OpenEXR, DICOM, GIF, anything unrecognised) is refused. What comes out
// is what PIL 9.4 + convert("RGB") would see in the same file, which is what torchvision users
// compare with: PBM/PGM/PPM decoded as PIL does (pnm.h), 16-bit samples reduced to 8 bits as
// PIL does per mode, EXIF orientation applied where PIL's exif_transpose finds it
// (exif_orientation.h).
#pragma once

#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace r18 {

constexpr int64_t kMaxImagePixels = 100'000'000;
constexpr uint64_t kMaxDecodedBytes = uint64_t{384} << 20;

struct ImageHeader {
    std::string format;  // "JPEG", "PNG", "GIF", "BMP", "WebP", "PNM", "TIFF", "PFM", ...
    int64_t width = 0;
    int64_t height = 0;
    int bytesPerPixel = 4;   // at most, once decoded (channels × bytes per sample)
    bool truncated = false;  // the file ends before the image data does
};

// File suffixes (lower case, no dot) of the formats readImage() handles or explains (GIF).
const std::vector<std::string>& imageSuffixes();
// Whether a path ends in one of them, in any case.
bool hasImageSuffix(const std::string& path);

// Reads width, height and sample size from the header without decoding pixels. Returns
// nullopt for formats it does not know (which decoding then refuses).
std::optional<ImageHeader> probeImage(const uint8_t* data, size_t size);

// The format of a file that is a still image ("JPEG", "PNG", "GIF", ...) judged from its first
// megabyte, or "" if it is not one the app knows (or cannot be read). Live sources use it to tell
// a photo from a video.
std::string stillImageFormat(const std::string& path);

// Decodes an image file: 8-bit (float for HDR/PFM), gray, BGR or BGRA, oriented. Throws
// ImageError naming the file: missing, not a regular file (a FIFO or device is refused before
// it is opened), empty, not an image, truncated, too large, or undecodable.
cv::Mat readImage(const std::string& path);

// The same for bytes already in memory; `label` names the source in messages.
cv::Mat decodeImage(const std::vector<uint8_t>& bytes, const std::string& label);

}  // namespace r18
