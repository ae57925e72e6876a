// GIF: the first frame, exactly as PIL 9.4's GifImagePlugin + convert("RGB") gives it, which is
// what a torchvision user's ImageFolder sees. Our own decoder (OpenCV 4.6 has none): a hostile-
// input boundary, bounded and fuzzed (tests/fuzz/fuzz_image.cpp).
//
// PIL's rules for frame 0, reproduced:
// - The canvas is the logical screen, grown to cover the frame if the frame reaches past it.
// - Outside the frame the canvas holds the frame's transparent index if it has one, else 0.
// - The frame's local colour table, else the global one; a table that is the identity grey ramp
//   (entry i = (i, i, i)) counts as none (a grey-ramp local table lets the global one apply).
//   Indices map through the table; indices past its end, and every index when there is no table,
//   map to grey (i, i, i). Transparency does not change a pixel's colour in convert("RGB").
// - Interlaced frames are de-interlaced; later frames, comments and application data are
//   skipped unread.
// A file that ends before the frame's pixels do, or whose LZW data is invalid, is refused as
// PIL refuses it.
#pragma once

#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace r18 {

// The canvas size of frame 0 (the logical screen grown to the frame), read without decoding any
// pixel; false if the file has no image descriptor (within `size` bytes) or is not a GIF.
bool gifCanvasSize(const uint8_t* data, size_t size, int64_t& width, int64_t& height);

// Decodes frame 0 to 8-bit BGR. `maxPixels` bounds the canvas (checked before decoding). Throws
// ImageError naming `label`.
cv::Mat decodeGif(const uint8_t* data, size_t size, const std::string& label, int64_t maxPixels);

}  // namespace r18
