// EXIF orientation, found where PIL 9.4 finds it (ImageOps.exif_transpose reads
// Image.getexif()), container by container:
//   JPEG  the first APP1 segment starting "Exif\0\0"
//   PNG   the eXIf chunk (the last one); else a "Raw profile type exif" text chunk (tEXt, zTXt
//         or iTXt, hex-encoded); else tiff:Orientation in the "XML:com.adobe.xmp" iTXt chunk
//   WebP  the EXIF chunk of an extended (VP8X) file
// TIFF is not here: libtiff, in PIL's loader as in OpenCV's, orients a TIFF while decoding it
// (PIL 9.4's exif_transpose then turns it a second time, which this app does not copy).
// Malformed metadata means no orientation, never an error.
#pragma once

#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace r18 {

// The orientation (1..8) the file's metadata declares for `format` ("JPEG", "PNG", "WebP"),
// or 1 when there is none or it is malformed or out of range.
int exifOrientation(const uint8_t* data, size_t size, const std::string& format);

// The orientation tag of a TIFF structure ("II*\0..." or "MM\0*...", optionally preceded by
// "Exif\0\0"), IFD0 only; 1 when absent or malformed.
int tiffOrientation(const uint8_t* data, size_t size);

// The image as PIL's exif_transpose turns it for an orientation (2 mirror, 3 rotate 180°,
// 4 flip, 5 transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise).
cv::Mat applyOrientation(const cv::Mat& image, int orientation);

}  // namespace r18
