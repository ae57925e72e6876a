#include "core/media/jpeg_cmyk.h"

#include <jpeglib.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/media/jpeg_segments.h"

namespace r18 {
namespace {

struct ErrorManager {
    jpeg_error_mgr pub;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

void onError(j_common_ptr cinfo) {
    auto* e = reinterpret_cast<ErrorManager*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, e->message);
    std::longjmp(e->jump, 1);
}

void onMessage(j_common_ptr, int) {}  // warnings (a corrupt-data note) are not printed

// Pillow 9.4's cmyk2rgb (libImaging/Convert.c).
inline uint8_t pilChannel(int ink, int nk) {
    const int tmp = ink * nk + 128;
    const int v = nk - (((tmp >> 8) + tmp) >> 8);
    return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

}  // namespace

bool isFourComponentJpeg(const uint8_t* d, size_t n) {
    bool four = false;
    forEachJpegSegment(d, n, [&](uint8_t marker, size_t pos, uint32_t) {
        const bool sof =
            marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (sof && pos + 10 <= n) four = d[pos + 9] == 4;
        return !sof && marker != 0xDA;
    });
    return four;
}

cv::Mat decodeCmykJpeg(const uint8_t* data, size_t size, const std::string& label) {
    jpeg_decompress_struct cinfo{};
    ErrorManager err{};
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = onError;
    err.pub.emit_message = onMessage;
    // Nothing with a destructor lives between setjmp and the longjmp that may return to it.
    cv::Mat bgr;
    std::vector<uint8_t> row;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        throw ImageError(label + ": the JPEG image cannot be decoded (" + err.message + ").");
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.num_components != 4) {
        jpeg_destroy_decompress(&cinfo);
        throw ImageError(label + ": not a CMYK JPEG.");
    }
    cinfo.out_color_space = JCS_CMYK;  // YCCK is turned into CMYK by libjpeg, as for PIL
    jpeg_start_decompress(&cinfo);
    bgr.create(static_cast<int>(cinfo.output_height), static_cast<int>(cinfo.output_width),
               CV_8UC3);
    row.resize(static_cast<size_t>(cinfo.output_width) * 4);
    while (cinfo.output_scanline < cinfo.output_height) {
        const int y = static_cast<int>(cinfo.output_scanline);
        JSAMPROW rows[1] = {row.data()};
        jpeg_read_scanlines(&cinfo, rows, 1);
        uint8_t* out = bgr.ptr<uint8_t>(y);
        for (JDIMENSION x = 0; x < cinfo.output_width; ++x) {
            int c = row[4 * x], m = row[4 * x + 1], yy = row[4 * x + 2], k = row[4 * x + 3];
            c = 255 - c, m = 255 - m, yy = 255 - yy, k = 255 - k;  // PIL's "CMYK;I", always
            const int nk = 255 - k;
            out[3 * x + 0] = pilChannel(yy, nk);
            out[3 * x + 1] = pilChannel(m, nk);
            out[3 * x + 2] = pilChannel(c, nk);
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return bgr;
}

}  // namespace r18
