#include "core/media/image_io.h"

#include <opencv2/imgcodecs.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "core/error.h"

namespace r18 {
namespace {

constexpr uint64_t kMaxImageFileBytes = uint64_t{1} << 30;

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

std::optional<ImageHeader> probeJpeg(const uint8_t* d, size_t n) {
    ImageHeader h{"JPEG", 0, 0, true};
    size_t pos = 2;
    while (pos + 4 <= n) {
        if (d[pos] != 0xFF) return h;  // lost sync: let the decoder judge
        const uint8_t marker = d[pos + 1];
        if (marker == 0xFF) {
            ++pos;
            continue;
        }
        if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
            pos += 2;
            continue;
        }
        const uint32_t len = be16(d + pos + 2);
        const bool sof =
            marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (sof && pos + 9 <= n) {
            h.height = be16(d + pos + 5);
            h.width = be16(d + pos + 7);
        }
        if (marker == 0xDA) {
            // Entropy-coded data follows; a complete file has an EOI marker after it (0xFF
            // bytes inside scan data are stuffed, so FF D9 only appears as a real marker).
            for (size_t i = pos + 2 + len; i + 1 < n; ++i)
                if (d[i] == 0xFF && d[i + 1] == 0xD9) {
                    h.truncated = false;
                    break;
                }
            return h;
        }
        pos += 2 + len;
    }
    return h;
}

std::optional<ImageHeader> probePng(const uint8_t* d, size_t n) {
    if (n < 24 || std::memcmp(d + 12, "IHDR", 4) != 0) return ImageHeader{"PNG", 0, 0, true};
    ImageHeader h{"PNG", be32(d + 16), be32(d + 20), true};
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
    if (n < 30) return ImageHeader{"WebP", 0, 0, true};
    ImageHeader h{"WebP", 0, 0, false};
    if (std::memcmp(d + 12, "VP8 ", 4) == 0) {
        h.width = le16(d + 26) & 0x3fff;
        h.height = le16(d + 28) & 0x3fff;
    } else if (std::memcmp(d + 12, "VP8L", 4) == 0) {
        const uint32_t bits = le16(d + 21) | (le16(d + 23) << 16);
        h.width = (bits & 0x3fff) + 1;
        h.height = ((bits >> 14) & 0x3fff) + 1;
    } else if (std::memcmp(d + 12, "VP8X", 4) == 0) {
        h.width = le24(d + 24) + 1;
        h.height = le24(d + 27) + 1;
    } else {
        return std::nullopt;
    }
    return h;
}

std::optional<ImageHeader> probePnm(const uint8_t* d, size_t n) {
    // P1..P6 followed by whitespace/comment separated width and height.
    int64_t values[2] = {0, 0};
    size_t pos = 2;
    for (int64_t& v : values) {
        for (;;) {
            while (pos < n && std::isspace(d[pos])) ++pos;
            if (pos < n && d[pos] == '#') {
                while (pos < n && d[pos] != '\n') ++pos;
                continue;
            }
            break;
        }
        if (pos >= n || !std::isdigit(d[pos])) return std::nullopt;
        while (pos < n && std::isdigit(d[pos]) && v < (int64_t{1} << 40))
            v = v * 10 + (d[pos++] - '0');
    }
    return ImageHeader{"PNM", values[0], values[1], false};
}

}  // namespace

const std::vector<std::string>& imageSuffixes() {
    static const std::vector<std::string> suffixes = {
        "jpg", "jpeg", "jpe", "png", "bmp", "dib", "webp", "tif", "tiff", "pgm", "ppm",
        "pbm", "pnm",  "pfm", "jp2", "exr", "hdr", "pic",  "sr",  "ras",  "gif"};
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
    if (n >= 10 && (std::memcmp(d, "GIF87a", 6) == 0 || std::memcmp(d, "GIF89a", 6) == 0))
        return ImageHeader{"GIF", le16(d + 6), le16(d + 8), false};
    if (n >= 26 && d[0] == 'B' && d[1] == 'M') {
        int32_t w = 0;
        int32_t h = 0;
        std::memcpy(&w, d + 18, 4);
        std::memcpy(&h, d + 22, 4);
        return ImageHeader{"BMP", std::abs(int64_t{w}), std::abs(int64_t{h}), false};
    }
    if (n >= 16 && std::memcmp(d, "RIFF", 4) == 0 && std::memcmp(d + 8, "WEBP", 4) == 0)
        return probeWebp(d, n);
    if (n >= 3 && d[0] == 'P' && d[1] >= '1' && d[1] <= '6') return probePnm(d, n);
    return std::nullopt;
}

cv::Mat decodeImage(const std::vector<uint8_t>& bytes, const std::string& label) {
    if (bytes.empty()) throw ImageError(label + ": the file is empty.");
    if (const auto header = probeImage(bytes.data(), bytes.size())) {
        // Both sides capped first, so the product cannot overflow (PNM sides can be huge).
        const int64_t pixels = std::min(header->width, kMaxImagePixels + 1) *
                               std::min(header->height, kMaxImagePixels + 1);
        if (header->width > 0 && header->height > 0 && pixels > kMaxImagePixels)
            throw ImageError(
                label + ": the " + header->format + " image is " + std::to_string(header->width) +
                "×" + std::to_string(header->height) + " (" +
                std::to_string(std::llround(static_cast<double>(header->width) *
                                            static_cast<double>(header->height) / 1e6)) +
                " megapixels); images over " + std::to_string(kMaxImagePixels / 1'000'000) +
                " megapixels are refused.");
        if (header->truncated)
            throw ImageError(label + ": the " + header->format +
                             " file is truncated (it ends before the image data does).");
        if (header->format == "GIF")
            throw ImageError(label +
                             ": GIF images are not supported (OpenCV cannot decode them); "
                             "convert it to PNG or JPEG.");
    }
    cv::Mat image;
    try {
        const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8U,
                          const_cast<uint8_t*>(bytes.data()));
        image = cv::imdecode(raw, cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR);
    } catch (const cv::Exception& e) {
        throw ImageError(label + ": the image cannot be decoded (" + e.err + ").");
    }
    if (image.empty())
        throw ImageError(label +
                         ": not an image OpenCV can decode (unknown format or corrupt data).");
    if (static_cast<int64_t>(image.cols) * image.rows > kMaxImagePixels)
        throw ImageError(label + ": the image is " + std::to_string(image.cols) + "×" +
                         std::to_string(image.rows) + "; images over " +
                         std::to_string(kMaxImagePixels / 1'000'000) + " megapixels are refused.");
    return image;
}

cv::Mat readImage(const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        throw ImageError(path + ": is a folder, not an image file.");
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    if (!f) throw ImageError(path + ": cannot open the file (" + std::strerror(errno) + ").");
    const std::streamoff size = f.tellg();
    if (size < 0) throw ImageError(path + ": cannot read the file (is it a folder?).");
    if (static_cast<uint64_t>(size) > kMaxImageFileBytes)
        throw ImageError(path + ": the file is " + std::to_string(size >> 20) +
                         " MB; image files over 1024 MB are refused.");
    std::vector<uint8_t> bytes(static_cast<size_t>(size));
    f.seekg(0);
    if (size > 0 && !f.read(reinterpret_cast<char*>(bytes.data()), size))
        throw ImageError(path + ": reading the file failed.");
    return decodeImage(bytes, path);
}

}  // namespace r18
