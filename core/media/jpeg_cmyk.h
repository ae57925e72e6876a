// CMYK and YCCK JPEGs (Photoshop's, print workflows'), converted to RGB exactly as PIL 9.4 does,
// through libjpeg-turbo directly: OpenCV converts CMYK with a formula of its own (results 1e-3 of
// the largest logit away from PIL's). PIL reads every CMYK JPEG inverted ("CMYK;I", Adobe's
// convention, whether or not the file has Adobe's APP14 segment; YCCK is turned into CMYK by
// libjpeg first) and then computes (255 - K) - C (255 - K) / 255 per channel, rounded as its
// MULDIV255.
#pragma once

#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace r18 {

// True if the JPEG's frame header declares four components (CMYK or YCCK).
bool isFourComponentJpeg(const uint8_t* data, size_t size);

// Decodes a four-component JPEG to 8-bit BGR as PIL's convert("RGB") gives it (orientation is
// the caller's). Throws ImageError naming `label`.
cv::Mat decodeCmykJpeg(const uint8_t* data, size_t size, const std::string& label);

}  // namespace r18
