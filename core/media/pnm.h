// PBM, PGM and PPM (P1..P6) decoded exactly as PIL 9.4 reads them and convert("RGB") turns them
// into 8 bits, because that is what users compare with:
//   - a maxval other than 255 is rescaled: round(v / maxval * 255), Python's round (half to
//     even); values over maxval are clamped (raw) or refused (plain);
//   - PGM with a maxval over 255 becomes PIL mode "I" (65535 as is, others rescaled to
//     65535), which convert("RGB") clips at 255;
//   - PPM with a maxval over 255 is rescaled to 8 bits per channel;
//   - PBM: 1 is black.
// Header tokens, comments and the single whitespace before raster data follow PIL's parser.
#pragma once

#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace r18 {

struct PnmHeader {
    char kind = 0;  // '1'..'6'
    int64_t width = 0;
    int64_t height = 0;
    int64_t maxval = 1;
    size_t dataOffset = 0;  // first byte of the raster
};

// Parses the header of a P1..P6 file; false if it is malformed (problem says how).
bool parsePnmHeader(const uint8_t* data, size_t size, PnmHeader& header, std::string& problem);

// Decodes a P1..P6 file into 8-bit gray (P1, P2, P4, P5) or BGR (P3, P6). The caller checks the
// header's size first. Throws ImageError prefixed with `label`.
cv::Mat decodePnm(const uint8_t* data, size_t size, const std::string& label);

}  // namespace r18
