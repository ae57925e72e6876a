#include "core/media/image_io.h"

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>

#include "core/error.h"
#include "core/files.h"
#include "core/media/exif_orientation.h"
#include "core/media/gif.h"
#include "core/media/heif.h"
#include "core/media/jpeg_cmyk.h"
#include "core/media/jpeg_segments.h"
#include "core/media/pnm.h"

namespace r18 {
namespace {

constexpr uint64_t kMaxImageFileBytes = uint64_t{256} << 20;

uint32_t be16(const uint8_t* p) {
    return (uint32_t{p[0]} << 8) | p[1];
}
uint32_t be32(const uint8_t* p) {
    return (be16(p) << 16) | be16(p + 2);
}
uint32_t le16(const uint8_t* p) {
    return (uint32_t{p[1]} << 8) | p[0];
}
uint32_t le24(const uint8_t* p) {
    return le16(p) | (uint32_t{p[2]} << 16);
}
uint32_t le32(const uint8_t* p) {
    return le16(p) | (le16(p + 2) << 16);
}

ImageHeader header(const char* format, int64_t width, int64_t height, int bytesPerPixel,
                   bool truncated = false) {
    ImageHeader h;
    h.format = format;
    h.width = width;
    h.height = height;
    h.bytesPerPixel = bytesPerPixel;
    h.truncated = truncated;
    return h;
}

std::optional<ImageHeader> probeJpeg(const uint8_t* d, size_t n) {
    ImageHeader h = header("JPEG", 0, 0, 3, true);
    // A lost sync leaves the header as far as it got: the decoder judges the rest.
    forEachJpegSegment(d, n, [&](uint8_t marker, size_t pos, uint32_t len) {
        const bool sof =
            marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (sof && pos + 9 <= n) {
            h.height = be16(d + pos + 5);
            h.width = be16(d + pos + 7);
        }
        if (marker != 0xDA) return true;
        // Entropy-coded data follows; a complete file has an EOI marker after it (0xFF bytes
        // inside scan data are stuffed, so FF D9 only appears as a real marker).
        for (size_t i = pos + 2 + len; i + 1 < n; ++i)
            if (d[i] == 0xFF && d[i + 1] == 0xD9) {
                h.truncated = false;
                break;
            }
        return false;
    });
    return h;
}

std::optional<ImageHeader> probePng(const uint8_t* d, size_t n) {
    if (n < 29 || std::memcmp(d + 12, "IHDR", 4) != 0) return header("PNG", 0, 0, 8, true);
    const int bytes = d[24] > 8 ? 2 : 1;  // bit depth; up to 4 channels once decoded
    ImageHeader h = header("PNG", be32(d + 16), be32(d + 20), 4 * bytes, true);
    // The last chunk is IEND; allow up to 4 KiB of trailing bytes after it.
    const size_t stop = n > 4096 + 24 ? n - 4096 : 24;
    for (size_t i = n - 4; i >= stop; --i)
        if (std::memcmp(d + i, "IEND", 4) == 0) {
            h.truncated = false;
            break;
        }
    return h;
}

std::optional<ImageHeader> probeWebp(const uint8_t* d, size_t n) {
    if (n < 30) return header("WebP", 0, 0, 4, true);
    if (std::memcmp(d + 12, "VP8 ", 4) == 0)
        return header("WebP", le16(d + 26) & 0x3fff, le16(d + 28) & 0x3fff, 4);
    if (std::memcmp(d + 12, "VP8L", 4) == 0) {
        const uint32_t bits = le16(d + 21) | (le16(d + 23) << 16);
        return header("WebP", (bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1, 4);
    }
    if (std::memcmp(d + 12, "VP8X", 4) == 0)
        return header("WebP", le24(d + 24) + 1, le24(d + 27) + 1, 4);
    return std::nullopt;
}

// Decimal tokens of a text header (PFM, PAM, PNM-like): whitespace and '#' comments skipped.
bool nextNumber(const uint8_t* d, size_t n, size_t& pos, int64_t& v) {
    for (;;) {
        while (pos < n && std::isspace(d[pos])) ++pos;
        if (pos < n && d[pos] == '#') {
            while (pos < n && d[pos] != '\n') ++pos;
            continue;
        }
        break;
    }
    if (pos >= n || !std::isdigit(d[pos])) return false;
    v = 0;
    while (pos < n && std::isdigit(d[pos]) && v < (int64_t{1} << 40)) v = v * 10 + (d[pos++] - '0');
    return true;
}

std::optional<ImageHeader> probePnm(const uint8_t* d, size_t n) {
    PnmHeader p;
    std::string problem;
    if (!parsePnmHeader(d, n, p, problem)) return header("PNM", 0, 0, 3);  // decodePnm explains
    return header("PNM", p.width, p.height, 3);
}

// PFM: "PF" (color) or "Pf" (gray), width, height, scale; float32 samples.
std::optional<ImageHeader> probePfm(const uint8_t* d, size_t n) {
    size_t pos = 2;
    int64_t w = 0;
    int64_t h = 0;
    if (!nextNumber(d, n, pos, w) || !nextNumber(d, n, pos, h)) return header("PFM", 0, 0, 12);
    return header("PFM", w, h, d[1] == 'F' ? 12 : 4);
}

// PAM: "P7" then WIDTH, HEIGHT, DEPTH, MAXVAL lines up to ENDHDR.
std::optional<ImageHeader> probePam(const uint8_t* d, size_t n) {
    const std::string text(reinterpret_cast<const char*>(d), std::min<size_t>(n, 4096));
    auto field = [&](const char* name) -> int64_t {
        const size_t at = text.find(name);
        if (at == std::string::npos) return 0;
        size_t pos = at + std::strlen(name);
        int64_t v = 0;
        return nextNumber(reinterpret_cast<const uint8_t*>(text.data()), text.size(), pos, v) ? v
                                                                                              : 0;
    };
    const int64_t depth = std::max<int64_t>(1, std::min<int64_t>(field("DEPTH"), 1 << 20));
    const int64_t bytes = field("MAXVAL") > 255 ? 2 : 1;
    return header("PAM", field("WIDTH"), field("HEIGHT"), static_cast<int>(depth * bytes));
}

// Radiance HDR: "#?RADIANCE" or "#?RGBE", header lines, an empty line, then "-Y H +X W" (or
// another of the eight orientations); three float32 samples per pixel once decoded.
std::optional<ImageHeader> probeHdr(const uint8_t* d, size_t n) {
    const std::string text(reinterpret_cast<const char*>(d), std::min<size_t>(n, 64 * 1024));
    const size_t blank = text.find("\n\n");
    if (blank == std::string::npos) return header("Radiance HDR", 0, 0, 12, true);
    const size_t end = text.find('\n', blank + 2);
    const std::string line =
        text.substr(blank + 2, end == std::string::npos ? end : end - blank - 2);
    char s1 = 0;
    char a1 = 0;
    char s2 = 0;
    char a2 = 0;
    long long v1 = 0;
    long long v2 = 0;
    if (std::sscanf(line.c_str(), " %c%c %lld %c%c %lld", &s1, &a1, &v1, &s2, &a2, &v2) != 6 ||
        v1 < 0 || v2 < 0)
        return header("Radiance HDR", 0, 0, 12, true);
    // The first axis counts scanlines: "-Y H +X W" is H rows of W.
    return a1 == 'Y' ? header("Radiance HDR", v2, v1, 12) : header("Radiance HDR", v1, v2, 12);
}

// Sun raster: big-endian magic, width, height, depth.
std::optional<ImageHeader> probeSunRaster(const uint8_t* d, size_t n) {
    if (n < 32) return header("Sun raster", 0, 0, 4, true);
    return header("Sun raster", be32(d + 4), be32(d + 8), 4);
}

// TIFF (classic and BigTIFF): width, height, samples and bits per sample of the first image
// (the one OpenCV decodes).
std::optional<ImageHeader> probeTiff(const uint8_t* d, size_t n) {
    const bool little = d[0] == 'I';
    const bool big = d[2] == (little ? 43 : 0) && d[3] == (little ? 0 : 43);
    auto u16 = [&](uint64_t at) -> uint64_t { return little ? le16(d + at) : be16(d + at); };
    auto u32 = [&](uint64_t at) -> uint64_t { return little ? le32(d + at) : be32(d + at); };
    auto u64 = [&](uint64_t at) -> uint64_t {
        return little ? u32(at) | (u32(at + 4) << 32) : (u32(at) << 32) | u32(at + 4);
    };
    ImageHeader h = header("TIFF", 0, 0, 8, true);
    const uint64_t ifd = big ? (n >= 16 ? u64(8) : n) : u32(4);
    const uint64_t entrySize = big ? 20 : 12;
    const uint64_t countSize = big ? 8 : 2;
    if (ifd < 8 || ifd > n || n - ifd < countSize) return h;
    const uint64_t count = big ? u64(ifd) : u16(ifd);
    int64_t samples = 1;
    int64_t bits = 8;
    for (uint64_t i = 0; i < count && i < 4096; ++i) {
        const uint64_t e = ifd + countSize + i * entrySize;
        if (e > n || n - e < entrySize) return h;
        const uint64_t tag = u16(e);
        const uint64_t type = u16(e + 2);
        const uint64_t at = e + (big ? 12 : 8);
        // SHORT, LONG or LONG8 values held in the entry itself (the first one, for counts > 1
        // whose values fit; BitsPerSample beyond that is taken at its worst, 64).
        const uint64_t valueCount = big ? u64(e + 4) : u32(e + 4);
        const uint64_t width = type == 3 ? 2 : type == 4 ? 4 : type == 16 ? 8 : 0;
        const bool inline_ = width > 0 && valueCount * width <= (big ? 8u : 4u);
        const uint64_t value = !inline_ ? 0 : width == 2 ? u16(at) : width == 4 ? u32(at) : u64(at);
        if (tag == 256 && inline_)
            h.width = static_cast<int64_t>(std::min<uint64_t>(value, 1ull << 40));
        if (tag == 257 && inline_)
            h.height = static_cast<int64_t>(std::min<uint64_t>(value, 1ull << 40));
        if (tag == 258) bits = inline_ ? static_cast<int64_t>(std::min<uint64_t>(value, 64)) : 64;
        if (tag == 277 && inline_)
            samples = static_cast<int64_t>(std::min<uint64_t>(value, 1 << 16));
    }
    h.truncated = false;
    h.bytesPerPixel =
        static_cast<int>(std::max<int64_t>(samples, 1) * std::max<int64_t>((bits + 7) / 8, 1));
    return h;
}

// JPEG 2000: a JP2 file (its 'ihdr' box inside 'jp2h') or a bare codestream (its SIZ marker).
std::optional<ImageHeader> probeJpeg2000(const uint8_t* d, size_t n) {
    if (n >= 4 && d[0] == 0xFF && d[1] == 0x4F) {  // SOC, then SIZ
        if (n < 42 || d[2] != 0xFF || d[3] != 0x51) return header("JPEG 2000", 0, 0, 8, true);
        const int64_t w = static_cast<int64_t>(be32(d + 8)) - be32(d + 16);
        const int64_t h = static_cast<int64_t>(be32(d + 12)) - be32(d + 20);
        const int64_t components = be16(d + 40);
        return header("JPEG 2000", std::max<int64_t>(w, 0), std::max<int64_t>(h, 0),
                      static_cast<int>(std::max<int64_t>(components, 1) * 2));
    }
    // Boxes: length (big-endian, 1 means a 64-bit length follows), type.
    auto findBox = [&](size_t from, size_t to, const char* type, size_t& body, size_t& end) {
        for (size_t pos = from; pos + 8 <= to;) {
            uint64_t len = be32(d + pos);
            size_t headerLen = 8;
            if (len == 1) {
                if (pos + 16 > to) return false;
                len = (uint64_t{be32(d + pos + 8)} << 32) | be32(d + pos + 12);
                headerLen = 16;
            } else if (len == 0) {
                len = to - pos;
            }
            if (len < headerLen || len > to - pos) return false;
            if (std::memcmp(d + pos + 4, type, 4) == 0) {
                body = pos + headerLen;
                end = pos + static_cast<size_t>(len);
                return true;
            }
            pos += static_cast<size_t>(len);
        }
        return false;
    };
    size_t body = 0;
    size_t end = 0;
    size_t ihdr = 0;
    size_t ihdrEnd = 0;
    if (!findBox(0, n, "jp2h", body, end) || !findBox(body, end, "ihdr", ihdr, ihdrEnd) ||
        ihdrEnd - ihdr < 14)
        return header("JPEG 2000", 0, 0, 8, true);
    return header("JPEG 2000", be32(d + ihdr + 4), be32(d + ihdr),
                  std::max(1u, be16(d + ihdr + 8)) * 2);
}

int64_t bmpSize(int32_t v) {
    return std::abs(int64_t{v});
}

}  // namespace

const std::vector<std::string>& imageSuffixes() {
    static const std::vector<std::string> suffixes = {
        "jpg", "jpeg", "jpe", "png",  "bmp",  "dib", "webp", "tif", "tiff",
        "pgm", "ppm",  "pbm", "pnm",  "pfm",  "jp2", "exr",  "hdr", "pic",
        "sr",  "ras",  "gif", "heic", "heif", "hif", "avif"};
    return suffixes;
}

bool hasImageSuffix(const std::string& path) {
    const size_t dot = path.find_last_of('.');
    if (dot == std::string::npos || path.find('/', dot) != std::string::npos) return false;
    std::string suffix = path.substr(dot + 1);
    std::transform(suffix.begin(), suffix.end(), suffix.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    const auto& all = imageSuffixes();
    return std::find(all.begin(), all.end(), suffix) != all.end();
}

std::optional<ImageHeader> probeImage(const uint8_t* d, size_t n) {
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return probeJpeg(d, n);
    if (n >= 8 && std::memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) return probePng(d, n);
    if (n >= 10 && (std::memcmp(d, "GIF87a", 6) == 0 || std::memcmp(d, "GIF89a", 6) == 0)) {
        // The canvas of frame 0: the logical screen, grown to the frame (as PIL grows it).
        int64_t w = le16(d + 6), h = le16(d + 8);
        gifCanvasSize(d, n, w, h);  // else the screen's; the decoder says what is wrong
        return header("GIF", w, h, 3);
    }
    if (const std::string format = heifFormat(d, n); !format.empty())
        return header(format.c_str(), 0, 0, 3);  // the container is sized by its decoder
    if (n >= 26 && d[0] == 'B' && d[1] == 'M') {
        if (le32(d + 14) == 12)  // OS/2 BITMAPCOREHEADER: 16-bit sides
            return header("BMP", le16(d + 18), le16(d + 20), 4);
        int32_t w = 0;
        int32_t h = 0;
        std::memcpy(&w, d + 18, 4);
        std::memcpy(&h, d + 22, 4);
        return header("BMP", bmpSize(w), bmpSize(h), 4);
    }
    if (n >= 16 && std::memcmp(d, "RIFF", 4) == 0 && std::memcmp(d + 8, "WEBP", 4) == 0)
        return probeWebp(d, n);
    if (n >= 3 && d[0] == 'P' && d[1] >= '1' && d[1] <= '6') return probePnm(d, n);
    if (n >= 3 && d[0] == 'P' && (d[1] == 'F' || d[1] == 'f')) return probePfm(d, n);
    if (n >= 3 && d[0] == 'P' && d[1] == '7') return probePam(d, n);
    if (n >= 8 && (std::memcmp(d, "II*\0", 4) == 0 || std::memcmp(d, "MM\0*", 4) == 0 ||
                   std::memcmp(d, "II+\0", 4) == 0 || std::memcmp(d, "MM\0+", 4) == 0))
        return probeTiff(d, n);
    if (n >= 6 && (std::memcmp(d, "#?RADIANCE", std::min<size_t>(n, 10)) == 0 ||
                   std::memcmp(d, "#?RGBE", 6) == 0))
        return probeHdr(d, n);
    if (n >= 4 && be32(d) == 0x59a66a95) return probeSunRaster(d, n);
    if ((n >= 12 && std::memcmp(d, "\0\0\0\x0cjP  \r\n\x87\n", 12) == 0) ||
        (n >= 4 && d[0] == 0xFF && d[1] == 0x4F && d[2] == 0xFF && d[3] == 0x51))
        return probeJpeg2000(d, n);
    if (n >= 4 && std::memcmp(d, "\x76\x2f\x31\x01", 4) == 0) return header("OpenEXR", 0, 0, 16);
    if (n >= 132 && std::memcmp(d + 128, "DICM", 4) == 0) return header("DICOM", 0, 0, 8);
    return std::nullopt;
}

namespace {

// 16-bit samples to the 8 bits PIL 9.4 gives the same file after convert("RGB"): PIL opens
// 16-bit gray PNG and TIFF as mode "I" / "I;16", which convert() clips at 255; 16-bit color
// (and gray with alpha) it unpacks as "RGB;16B"-style raw modes, keeping the high byte.
cv::Mat toPil8(const cv::Mat& image) {
    if (image.depth() != CV_16U) return image;
    cv::Mat eight(image.size(), CV_MAKETYPE(CV_8U, image.channels()));
    const bool gray = image.channels() == 1;
    for (int y = 0; y < image.rows; ++y) {
        const uint16_t* src = image.ptr<uint16_t>(y);
        uint8_t* dst = eight.ptr<uint8_t>(y);
        const size_t count =
            static_cast<size_t>(image.cols) * static_cast<size_t>(image.channels());
        for (size_t i = 0; i < count; ++i)
            dst[i] = gray ? static_cast<uint8_t>(src[i] > 255 ? 255 : src[i])
                          : static_cast<uint8_t>(src[i] >> 8);
    }
    return eight;
}

// Checks the header, decodes and orients; `release` (if set) is called as soon as the encoded
// bytes are no longer needed, before the 8-bit conversion.
cv::Mat decode(const uint8_t* data, size_t size, const std::string& label,
               const std::function<void()>& release) {
    if (size == 0) throw ImageError(label + ": the file is empty.");
    const std::optional<ImageHeader> header = probeImage(data, size);
    if (!header)
        throw ImageError(label +
                         ": not an image the app can decode (unknown format or corrupt data; it "
                         "reads JPEG, PNG, GIF, BMP, WebP, HEIC, AVIF, TIFF, PNM, PAM, PFM, "
                         "Radiance HDR, Sun raster and JPEG 2000).");
    if (header->format == "OpenEXR" || header->format == "DICOM")
        throw ImageError(label + ": " + header->format +
                         " images are not supported; convert it to PNG or TIFF.");
    // Both sides capped first, so the product cannot overflow (PNM sides can be huge).
    const int64_t pixels = std::min(header->width, kMaxImagePixels + 1) *
                           std::min(header->height, kMaxImagePixels + 1);
    if (header->width > 0 && header->height > 0 && pixels > kMaxImagePixels)
        throw ImageError(label + ": the " + header->format + " image is " +
                         std::to_string(header->width) + "×" + std::to_string(header->height) +
                         " (" +
                         std::to_string(std::llround(static_cast<double>(header->width) *
                                                     static_cast<double>(header->height) / 1e6)) +
                         " megapixels); images over " +
                         std::to_string(kMaxImagePixels / 1'000'000) + " megapixels are refused.");
    if (static_cast<uint64_t>(pixels) * static_cast<uint64_t>(header->bytesPerPixel) >
        kMaxDecodedBytes)
        throw ImageError(label + ": the " + header->format + " image is " +
                         std::to_string(header->width) + "×" + std::to_string(header->height) +
                         " with " + std::to_string(header->bytesPerPixel) +
                         " bytes per pixel once decoded; images over " +
                         std::to_string(kMaxDecodedBytes >> 20) + " MB decoded are refused.");
    if (header->truncated)
        throw ImageError(label + ": the " + header->format +
                         " file is truncated (it ends before the image data does).");
    const bool sizeKnownToDecoder = header->format == "JPEG" || header->format == "PNG" ||
                                    header->format == "WebP" || header->format == "BMP" ||
                                    header->format == "PNM" || header->format == "HEIC" ||
                                    header->format == "AVIF";
    if (!sizeKnownToDecoder && (header->width <= 0 || header->height <= 0))
        throw ImageError(label + ": the " + header->format +
                         " header does not say how large the image is; it is not decoded.");

    cv::Mat image;
    int orientation = 1;
    if (header->format == "PNM") {
        image = decodePnm(data, size, label);
    } else if (header->format == "GIF") {
        image = decodeGif(data, size, label, kMaxImagePixels);
    } else if (header->format == "HEIC") {
        image = decodeHeic(data, size, label, kMaxImagePixels);
    } else if (header->format == "AVIF") {
        image = decodeAvif(data, size, label, kMaxImagePixels);
    } else if (header->format == "JPEG" && isFourComponentJpeg(data, size)) {
        image = decodeCmykJpeg(data, size, label);  // PIL's CMYK conversion, not OpenCV's
        orientation = exifOrientation(data, size, header->format);
    } else {
        try {
            const cv::Mat raw(1, static_cast<int>(size), CV_8U, const_cast<uint8_t*>(data));
            // Orientation is applied below, from the file's metadata, as PIL finds it.
            image = cv::imdecode(
                raw, cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR | cv::IMREAD_IGNORE_ORIENTATION);
        } catch (const cv::Exception& e) {
            throw ImageError(label + ": the image cannot be decoded (" + e.err + ").");
        }
        orientation = exifOrientation(data, size, header->format);
    }
    if (image.empty())
        throw ImageError(label +
                         ": not an image OpenCV can decode (unknown format or corrupt data).");
    if (static_cast<int64_t>(image.cols) * image.rows > kMaxImagePixels)
        throw ImageError(label + ": the image is " + std::to_string(image.cols) + "×" +
                         std::to_string(image.rows) + "; images over " +
                         std::to_string(kMaxImagePixels / 1'000'000) + " megapixels are refused.");
    if (release) release();
    return applyOrientation(toPil8(image), orientation);
}

}  // namespace

cv::Mat decodeImage(const std::vector<uint8_t>& bytes, const std::string& label) {
    return rethrowAsError<ImageError>(
        label, [&] { return decode(bytes.data(), bytes.size(), label, {}); });
}

std::string stillImageFormat(const std::string& path) {
    if (fileKind(path) != FileKind::Regular) return {};
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> head(1 << 20);
    in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
    const std::optional<ImageHeader> h = probeImage(head.data(), static_cast<size_t>(in.gcount()));
    return h ? h->format : std::string();
}

cv::Mat readImage(const std::string& path) {
    return rethrowAsError<ImageError>(path, [&] {
        std::vector<uint8_t> bytes =
            readRegularFileOrThrow<ImageError>(path, "image file", kMaxImageFileBytes);
        return decode(bytes.data(), bytes.size(), path,
                      [&] { std::vector<uint8_t>().swap(bytes); });
    });
}

}  // namespace r18
