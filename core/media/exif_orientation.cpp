#include "core/media/exif_orientation.h"

#include <zlib.h>

#include <cstring>
#include <optional>
#include <regex>

#include "core/media/jpeg_segments.h"

namespace r18 {
namespace {

constexpr size_t kMaxTextChunk = size_t{1} << 20;  // PIL's MAX_TEXT_CHUNK (ImageFile.SAFEBLOCK)

uint32_t be16(const uint8_t* p) {
    return (uint32_t{p[0]} << 8) | p[1];
}
uint32_t be32(const uint8_t* p) {
    return (be16(p) << 16) | be16(p + 2);
}
uint32_t le32(const uint8_t* p) {
    return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

// PIL's _safe_zlib_decompress: at most kMaxTextChunk bytes, else nothing.
std::optional<std::string> inflateText(const uint8_t* data, size_t size) {
    std::string out(kMaxTextChunk + 1, '\0');
    z_stream zs{};
    if (inflateInit(&zs) != Z_OK) return std::nullopt;
    zs.next_in = const_cast<Bytef*>(data);
    zs.avail_in = static_cast<uInt>(size);
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&zs, Z_FINISH);
    const size_t produced = zs.total_out;
    inflateEnd(&zs);
    if ((rc != Z_STREAM_END && rc != Z_BUF_ERROR && rc != Z_OK) || produced > kMaxTextChunk)
        return std::nullopt;
    out.resize(produced);
    return out;
}

int orientationTag(const uint8_t* d, size_t n);

// PIL's Exif.load on the bytes of info["exif"] ("Exif\0\0" is skipped when present): -1
// malformed, 0 no orientation tag, else its value.
int orientationFromExif(const std::string& exif) {
    return orientationTag(reinterpret_cast<const uint8_t*>(exif.data()), exif.size());
}

int hexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// "Raw profile type exif": lines after the third hold the EXIF bytes in hex.
std::optional<std::string> rawProfileBytes(const std::string& text) {
    size_t at = 0;
    for (int line = 0; line < 3; ++line) {
        at = text.find('\n', at);
        if (at == std::string::npos) return std::string();
        ++at;
    }
    std::string bytes;
    int high = -1;
    for (size_t i = at; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\n') continue;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') {
            if (high >= 0) return std::nullopt;  // fromhex: whitespace only between pairs
            continue;
        }
        const int d = hexDigit(c);
        if (d < 0) return std::nullopt;
        if (high < 0) {
            high = d;
        } else {
            bytes += static_cast<char>(high * 16 + d);
            high = -1;
        }
    }
    if (high >= 0) return std::nullopt;
    return bytes;
}

int fromXmp(const std::string& xmp) {
    static const std::regex orientation(R"(tiff:Orientation(="|>)([0-9]))");
    std::smatch m;
    if (!std::regex_search(xmp, m, orientation)) return 1;
    return m[2].str()[0] - '0';
}

int valid(int o) {
    return o >= 1 && o <= 8 ? o : 1;
}

int jpegOrientation(const uint8_t* d, size_t n) {
    int orientation = 1;
    forEachJpegSegment(d, n, [&](uint8_t marker, size_t pos, uint32_t len) {
        if (marker == 0xDA || marker == 0xD9) return false;
        if (len < 2 || pos + 2 + len > n) return false;
        const uint8_t* s = d + pos + 4;
        const size_t sn = len - 2;
        if (marker == 0xE1 && sn >= 5 && std::memcmp(s, "Exif\0", 5) == 0) {  // the first only
            orientation =
                valid(orientationFromExif(std::string(reinterpret_cast<const char*>(s), sn)));
            return false;
        }
        return true;
    });
    return orientation;
}

int pngOrientation(const uint8_t* d, size_t n) {
    // What PIL's info holds when exif_transpose asks: the chunks before the image data, or all
    // of them when none of those set "exif" (getexif() then loads the image first).
    struct Info {
        std::optional<std::string> exif, rawProfile, xmp;
    } before, all;
    bool afterData = false;
    for (size_t pos = 8; pos + 12 <= n;) {
        const uint32_t len = be32(d + pos);
        if (len > n - pos - 12) break;
        const std::string type(reinterpret_cast<const char*>(d + pos + 4), 4);
        const uint8_t* s = d + pos + 8;
        const std::string body(reinterpret_cast<const char*>(s), len);
        std::optional<std::string> exif, raw, xmp;
        if (type == "eXIf") {
            exif = body;
        } else if (type == "tEXt" || type == "zTXt" || type == "iTXt") {
            const size_t nul = body.find('\0');
            const std::string key = body.substr(0, nul);
            std::string rest = nul == std::string::npos ? std::string() : body.substr(nul + 1);
            std::optional<std::string> text = rest;
            if (type == "zTXt") {
                text = rest.empty() ? std::optional<std::string>(std::string())
                                    : inflateText(reinterpret_cast<const uint8_t*>(rest.data()) + 1,
                                                  rest.size() - 1);
            } else if (type == "iTXt") {
                // flag, method, language\0, translated keyword\0, text
                text.reset();
                if (rest.size() >= 2) {
                    const bool compressed = rest[0] != 0;
                    const size_t lang = rest.find('\0', 2);
                    const size_t translated =
                        lang == std::string::npos ? lang : rest.find('\0', lang + 1);
                    if (translated != std::string::npos) {
                        const std::string payload = rest.substr(translated + 1);
                        text = compressed
                                   ? inflateText(reinterpret_cast<const uint8_t*>(payload.data()),
                                                 payload.size())
                                   : std::optional<std::string>(payload);
                    }
                }
            }
            if (text) {
                if (key == "exif" && type == "tEXt") exif = *text;
                if (key == "Raw profile type exif") raw = *text;
                if (key == "XML:com.adobe.xmp" && type == "iTXt") xmp = *text;
            }
        } else if (type == "IDAT") {
            afterData = true;
        } else if (type == "IEND") {
            break;
        }
        for (Info* info : {afterData ? nullptr : &before, &all}) {
            if (!info) continue;
            if (exif) info->exif = exif;
            if (raw) info->rawProfile = raw;
            if (xmp) info->xmp = xmp;
        }
        pos += 12 + len;
    }
    const Info& info = before.exif ? before : all;
    std::optional<std::string> exif = info.exif;
    if (!exif && info.rawProfile) {
        exif = rawProfileBytes(*info.rawProfile);
        if (!exif) return 1;  // PIL raises here; no orientation
    }
    if (exif) {
        const int o = orientationFromExif(*exif);
        if (o != 0) return valid(o);  // a tag, or malformed (where PIL raises)
    }
    return info.xmp ? valid(fromXmp(*info.xmp)) : 1;
}

int webpOrientation(const uint8_t* d, size_t n) {
    if (n < 30 || std::memcmp(d + 12, "VP8X", 4) != 0 || !(d[20] & 0x08)) return 1;
    for (size_t pos = 12; pos + 8 <= n;) {
        const uint32_t len = le32(d + pos + 4);
        if (len > n - pos - 8) return 1;
        if (std::memcmp(d + pos, "EXIF", 4) == 0)
            return valid(
                orientationFromExif(std::string(reinterpret_cast<const char*>(d + pos + 8), len)));
        pos += 8 + len + (len & 1);
    }
    return 1;
}

// The orientation tag's value in IFD0: -1 if the structure is malformed, 0 if there is no
// tag (PIL then looks at XMP), else the value (PIL acts on 2..8 only).
int orientationTag(const uint8_t* d, size_t n) {
    if (n >= 6 && std::memcmp(d, "Exif\0\0", 6) == 0) {
        d += 6;
        n -= 6;
    }
    if (n < 8) return -1;
    const bool little = d[0] == 'I' && d[1] == 'I' && d[2] == 42 && d[3] == 0;
    const bool big = d[0] == 'M' && d[1] == 'M' && d[2] == 0 && d[3] == 42;
    if (!little && !big) return -1;
    auto u16 = [&](size_t at) {
        return little ? (uint32_t{d[at + 1]} << 8) | d[at] : be16(d + at);
    };
    auto u32 = [&](size_t at) { return little ? le32(d + at) : be32(d + at); };
    const uint32_t ifd = u32(4);
    if (ifd < 8 || ifd > n - 2) return -1;
    const uint32_t count = u16(ifd);
    for (uint32_t i = 0; i < count; ++i) {
        const size_t e = ifd + 2 + size_t{12} * i;
        if (e + 12 > n) return -1;
        if (u16(e) != 0x0112) continue;
        const uint32_t type = u16(e + 2);
        if (u32(e + 4) != 1) return 1;  // PIL keeps a tuple, which means no orientation
        uint32_t value = 0;
        if (type == 3 || type == 8)
            value = u16(e + 8);
        else if (type == 4 || type == 9)
            value = u32(e + 8);
        else if (type == 1 || type == 6 || type == 7)
            value = d[e + 8];
        else
            return 1;
        return value >= 1 && value <= 8 ? static_cast<int>(value) : 1;
    }
    return 0;
}

}  // namespace

int tiffOrientation(const uint8_t* d, size_t n) {
    const int o = orientationTag(d, n);
    return o >= 1 ? o : 1;
}

int exifOrientation(const uint8_t* data, size_t size, const std::string& format) {
    int o = 1;
    if (format == "JPEG")
        o = jpegOrientation(data, size);
    else if (format == "PNG")
        o = pngOrientation(data, size);
    else if (format == "WebP")
        o = webpOrientation(data, size);
    return o >= 1 && o <= 8 ? o : 1;
}

cv::Mat applyOrientation(const cv::Mat& image, int orientation) {
    cv::Mat out;
    switch (orientation) {
        case 2: cv::flip(image, out, 1); break;
        case 3: cv::flip(image, out, -1); break;
        case 4: cv::flip(image, out, 0); break;
        case 5: cv::transpose(image, out); break;
        case 6: cv::rotate(image, out, cv::ROTATE_90_CLOCKWISE); break;
        case 7:
            cv::transpose(image, out);
            cv::flip(out, out, -1);
            break;
        case 8: cv::rotate(image, out, cv::ROTATE_90_COUNTERCLOCKWISE); break;
        default: return image;
    }
    return out;
}

}  // namespace r18
