// HEIC (every iPhone's default) through libheif, AVIF through libavif: Debian's decoders of the two
// formats, their size read from the container before anything is decoded, the same limits as
// every other format, and orientation as the decoder reports it (HEIF's irot/imir: libheif
// applies them; libavif reports them and they are applied here). PIL 9.4 reads neither format,
// so what these give is the reference: heif-convert's and avifdec's output.
#pragma once

#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace r18 {

// "HEIC" or "AVIF" for an ISO base media file whose 'ftyp' box names one of their brands, else "".
std::string heifFormat(const uint8_t* data, size_t size);

// Decodes the primary image to 8-bit BGR, oriented. The container's declared size is checked
// against maxPixels before decoding. Throws ImageError naming `label`.
cv::Mat decodeHeic(const uint8_t* data, size_t size, const std::string& label, int64_t maxPixels);
cv::Mat decodeAvif(const uint8_t* data, size_t size, const std::string& label, int64_t maxPixels);

}  // namespace r18
