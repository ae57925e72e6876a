#include "core/media/pnm.h"

#include <cmath>
#include <cstring>

#include "core/error.h"

namespace r18 {
namespace {

bool isSpace(uint8_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// PIL's _read_token: leading whitespace skipped, '#' comments skipped up to CR or LF (even in
// the middle of a token), at most 10 characters, ended (and consumed) by one whitespace.
bool readToken(const uint8_t* d, size_t n, size_t& pos, std::string& token) {
    token.clear();
    while (token.size() <= 10) {
        if (pos >= n) break;
        const uint8_t c = d[pos++];
        if (isSpace(c)) {
            if (token.empty()) continue;
            break;
        }
        if (c == '#') {
            while (pos < n && d[pos] != '\r' && d[pos] != '\n') ++pos;
            if (pos < n) ++pos;
            continue;
        }
        token += static_cast<char>(c);
    }
    return !token.empty() && token.size() <= 10;
}

bool parseNumber(const std::string& token, int64_t& value) {
    if (token.empty()) return false;
    value = 0;
    for (char c : token) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    return true;
}

uint8_t scaled8(double v, double maxval) {
    const double r = std::nearbyint(v / maxval * 255.0);
    return static_cast<uint8_t>(r > 255.0 ? 255.0 : r);
}

// PGM with maxval > 255: PIL mode "I" (rescaled to 65535 unless it is 65535), then clipped
// to 255 by convert("RGB").
uint8_t wideGray(double v, double maxval) {
    double r = maxval == 65535.0 ? v : std::nearbyint(v / maxval * 65535.0);
    if (r > 65535.0) r = 65535.0;
    return static_cast<uint8_t>(r > 255.0 ? 255.0 : r);
}

// The raster of a plain (ASCII) file without its comments, as PpmPlainDecoder sees it.
std::string withoutComments(const uint8_t* d, size_t n) {
    std::string out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        if (d[i] == '#') {
            while (i < n && d[i] != '\r' && d[i] != '\n') ++i;
            continue;  // the CR or LF goes too
        }
        out += static_cast<char>(d[i]);
    }
    return out;
}

}  // namespace

bool parsePnmHeader(const uint8_t* d, size_t n, PnmHeader& h, std::string& problem) {
    // The magic: up to 6 bytes before whitespace.
    size_t pos = 0;
    std::string magic;
    while (pos < n && magic.size() < 6) {
        const uint8_t c = d[pos++];
        if (isSpace(c)) break;
        magic += static_cast<char>(c);
    }
    if (magic.size() != 2 || magic[0] != 'P' || magic[1] < '1' || magic[1] > '6') {
        problem = "is not a PBM, PGM or PPM file (P1..P6)";
        return false;
    }
    h.kind = magic[1];
    const bool bitmap = h.kind == '1' || h.kind == '4';
    int64_t* fields[3] = {&h.width, &h.height, &h.maxval};
    h.maxval = 1;
    for (int i = 0; i < (bitmap ? 2 : 3); ++i) {
        std::string token;
        if (!readToken(d, n, pos, token) || !parseNumber(token, *fields[i])) {
            problem = "has a malformed PNM header (" +
                      std::string(i == 0   ? "width"
                                  : i == 1 ? "height"
                                           : "maxval") +
                      ")";
            return false;
        }
    }
    if (h.width <= 0 || h.height <= 0) {
        problem = "declares an image with no pixels";
        return false;
    }
    if (h.maxval <= 0 || h.maxval >= 65536) {
        problem = "declares a maxval of " + std::to_string(h.maxval) +
                  "; it must be greater than 0 and less than 65536";
        return false;
    }
    h.dataOffset = pos;
    return true;
}

cv::Mat decodePnm(const uint8_t* d, size_t n, const std::string& label) {
    PnmHeader h;
    std::string problem;
    if (!parsePnmHeader(d, n, h, problem)) throw ImageError(label + ": the file " + problem + ".");
    const int w = static_cast<int>(h.width);
    const int rows = static_cast<int>(h.height);
    const auto pixels = static_cast<size_t>(h.width) * static_cast<size_t>(h.height);
    const bool color = h.kind == '3' || h.kind == '6';
    const size_t bands = color ? 3 : 1;
    const auto maxval = static_cast<double>(h.maxval);
    const uint8_t* raster = d + h.dataOffset;
    const size_t have = n - h.dataOffset;
    auto truncated = [&] {
        return ImageError(label +
                          ": the PNM file is truncated (it ends before the image data does).");
    };
    cv::Mat out(rows, w, color ? CV_8UC3 : CV_8UC1);
    auto put = [&](size_t i, size_t band, uint8_t v) {
        // PIL's RGB order; OpenCV keeps BGR.
        out.data[i * bands + (color ? 2 - band : 0)] = v;
    };
    switch (h.kind) {
        case '4': {
            const size_t stride = (static_cast<size_t>(w) + 7) / 8;
            if (have < stride * static_cast<size_t>(rows)) throw truncated();
            for (int y = 0; y < rows; ++y)
                for (int x = 0; x < w; ++x) {
                    const uint8_t byte = raster[static_cast<size_t>(y) * stride + x / 8];
                    out.at<uint8_t>(y, x) = (byte & (0x80 >> (x % 8))) ? 0 : 255;
                }
            break;
        }
        case '5':
        case '6': {
            const size_t width = h.maxval < 256 ? 1 : 2;
            if (have / width / bands < pixels) throw truncated();
            for (size_t i = 0; i < pixels; ++i)
                for (size_t b = 0; b < bands; ++b) {
                    const uint8_t* p = raster + (i * bands + b) * width;
                    const double v = width == 1 ? p[0] : (p[0] << 8) | p[1];
                    uint8_t o = 0;
                    if (!color && width == 2)
                        o = wideGray(v, maxval);
                    else if (h.maxval == 255)
                        o = static_cast<uint8_t>(v);
                    else
                        o = scaled8(v, maxval);
                    put(i, b, o);
                }
            break;
        }
        case '1': {
            const std::string text = withoutComments(raster, have);
            size_t i = 0;
            for (char c : text) {
                if (i == pixels) break;
                if (isSpace(static_cast<uint8_t>(c))) continue;
                if (c != '0' && c != '1')
                    throw ImageError(label + ": the plain PBM data holds '" + std::string(1, c) +
                                     "', which is neither 0 nor 1.");
                out.data[i++] = c == '1' ? 0 : 255;
            }
            if (i < pixels) throw truncated();
            break;
        }
        default: {  // '2', '3': whitespace-separated decimal values
            const std::string text = withoutComments(raster, have);
            size_t i = 0;
            size_t pos = 0;
            const size_t values = pixels * bands;
            while (i < values && pos < text.size()) {
                while (pos < text.size() && isSpace(static_cast<uint8_t>(text[pos]))) ++pos;
                const size_t start = pos;
                while (pos < text.size() && !isSpace(static_cast<uint8_t>(text[pos]))) ++pos;
                if (start == pos) break;
                int64_t v = 0;
                const std::string token = text.substr(start, pos - start);
                if (token.size() > 10 || !parseNumber(token, v))
                    throw ImageError(label + ": the plain PNM data holds '" + token.substr(0, 11) +
                                     "', which is not a value.");
                if (v > h.maxval)
                    throw ImageError(label + ": the plain PNM data holds " + std::to_string(v) +
                                     ", more than its maxval of " + std::to_string(h.maxval) + ".");
                const double dv = static_cast<double>(v);
                put(i / bands, i % bands,
                    !color && h.maxval > 255 ? wideGray(dv, maxval) : scaled8(dv, maxval));
                ++i;
            }
            if (i < values) throw truncated();
            break;
        }
    }
    return out;
}

}  // namespace r18
