#include "core/media/gif.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace r18 {
namespace {

uint32_t le16(const uint8_t* p) {
    return p[0] | (p[1] << 8);
}

// Where frame 0 is in the file, with what PIL takes from the blocks before it.
struct Frame0 {
    int64_t screenWidth = 0, screenHeight = 0;
    int64_t x0 = 0, y0 = 0, width = 0, height = 0;
    bool interlaced = false;
    int transparent = -1;            // index, or -1
    const uint8_t* table = nullptr;  // the colour table in effect, or null (grey)
    int tableEntries = 0;
    size_t data = 0;  // offset of the LZW minimum code size byte
    int64_t canvasWidth() const { return std::max(screenWidth, x0 + width); }
    int64_t canvasHeight() const { return std::max(screenHeight, y0 + height); }
};

// True if a colour table is the identity grey ramp, which PIL treats as no table.
bool isGreyRamp(const uint8_t* table, int entries) {
    for (int i = 0; i < entries; ++i)
        if (table[3 * i] != i || table[3 * i + 1] != i || table[3 * i + 2] != i) return false;
    return true;
}

// Walks the blocks up to frame 0's image descriptor. Returns false with `problem` set.
bool findFrame0(const uint8_t* d, size_t n, Frame0& f, std::string& problem) {
    if (n < 13 || (std::memcmp(d, "GIF87a", 6) != 0 && std::memcmp(d, "GIF89a", 6) != 0)) {
        problem = "not a GIF file";
        return false;
    }
    f.screenWidth = le16(d + 6);
    f.screenHeight = le16(d + 8);
    size_t pos = 13;
    const uint8_t* global = nullptr;
    int globalEntries = 0;
    if (d[10] & 0x80) {
        globalEntries = 2 << (d[10] & 7);
        if (pos + 3 * static_cast<size_t>(globalEntries) > n) {
            problem = "the file is truncated (it ends inside the colour table)";
            return false;
        }
        global = d + pos;
        pos += 3 * static_cast<size_t>(globalEntries);
        if (isGreyRamp(global, globalEntries)) global = nullptr;
    }
    auto skipSubBlocks = [&](size_t& p) {
        while (p < n && d[p] != 0) p += 1 + d[p];
        if (p >= n) return false;
        ++p;  // the terminator
        return true;
    };
    for (;;) {
        if (pos >= n || d[pos] == 0x3B) {
            problem = "the GIF holds no image";
            return false;
        }
        const uint8_t tag = d[pos++];
        if (tag == 0x21) {  // an extension: label, then sub-blocks
            if (pos >= n) break;
            const uint8_t label = d[pos++];
            if (label == 0xF9 && pos < n && d[pos] >= 4 && pos + 4 < n) {
                // Graphic control: PIL takes the transparent index of the last one before the
                // image (its first sub-block: flags, delay, index).
                if (d[pos + 1] & 1) f.transparent = d[pos + 4];
            }
            if (!skipSubBlocks(pos)) break;
        } else if (tag == 0x2C) {  // the image descriptor
            if (pos + 9 > n) break;
            f.x0 = le16(d + pos);
            f.y0 = le16(d + pos + 2);
            f.width = le16(d + pos + 4);
            f.height = le16(d + pos + 6);
            const uint8_t flags = d[pos + 8];
            pos += 9;
            f.interlaced = (flags & 0x40) != 0;
            f.table = global;
            f.tableEntries = global ? globalEntries : 0;
            if (flags & 0x80) {
                const int entries = 2 << (flags & 7);
                if (pos + 3 * static_cast<size_t>(entries) > n) break;
                // A local table that is a grey ramp counts as none: the global one applies.
                if (!isGreyRamp(d + pos, entries)) {
                    f.table = d + pos;
                    f.tableEntries = entries;
                }
                pos += 3 * static_cast<size_t>(entries);
            }
            if (pos >= n) break;
            f.data = pos;
            return true;
        }
        // PIL skips any other byte.
    }
    problem = "the file is truncated (it ends before the image does)";
    return false;
}

// The LZW data of frame 0, read across its sub-blocks; records whether the file ended before the
// block terminator.
class SubBlockBits {
public:
    SubBlockBits(const uint8_t* d, size_t n, size_t pos) : m_d(d), m_n(n), m_pos(pos) {}

    // The next `bits` bits, least significant first; false at the end of the data.
    bool read(int bits, int& code) {
        while (m_have < bits) {
            if (m_left == 0) {
                if (m_ended) return false;
                if (m_pos >= m_n) {
                    m_ended = m_truncated = true;
                    return false;
                }
                m_left = m_d[m_pos++];
                if (m_left == 0) {
                    m_ended = true;
                    return false;
                }
            }
            if (m_pos >= m_n) {
                m_ended = m_truncated = true;
                return false;
            }
            m_buffer |= static_cast<uint32_t>(m_d[m_pos++]) << m_have;
            m_have += 8;
            --m_left;
        }
        code = static_cast<int>(m_buffer & ((1u << bits) - 1));
        m_buffer >>= bits;
        m_have -= bits;
        return true;
    }
    bool truncated() const { return m_truncated; }

private:
    const uint8_t* m_d;
    size_t m_n;
    size_t m_pos;
    size_t m_left = 0;  // bytes left in the current sub-block
    uint32_t m_buffer = 0;
    int m_have = 0;
    bool m_ended = false;
    bool m_truncated = false;
};

}  // namespace

bool gifCanvasSize(const uint8_t* data, size_t size, int64_t& width, int64_t& height) {
    Frame0 f;
    std::string problem;
    if (!findFrame0(data, size, f, problem)) return false;
    width = f.canvasWidth();
    height = f.canvasHeight();
    return true;
}

cv::Mat decodeGif(const uint8_t* d, size_t n, const std::string& label, int64_t maxPixels) {
    Frame0 f;
    std::string problem;
    if (!findFrame0(d, n, f, problem)) throw ImageError(label + ": " + problem + ".");
    const int64_t width = f.canvasWidth();
    const int64_t height = f.canvasHeight();
    if (width == 0 || height == 0 || f.width == 0 || f.height == 0)
        throw ImageError(label + ": the GIF's first frame is empty (" + std::to_string(f.width) +
                         "×" + std::to_string(f.height) + ").");
    if (width * height > maxPixels)
        throw ImageError(label + ": the GIF image is " + std::to_string(width) + "×" +
                         std::to_string(height) + "; images over " +
                         std::to_string(maxPixels / 1'000'000) + " megapixels are refused.");
    const int minBits = d[f.data];
    if (minBits < 1 || minBits > 8)
        throw ImageError(label + ": the GIF's image data is corrupt (LZW code size " +
                         std::to_string(minBits) + ").");

    // The canvas of indices, filled as PIL fills it, then frame 0's pixels in place.
    std::vector<uint8_t> indices(static_cast<size_t>(width * height),
                                 static_cast<uint8_t>(f.transparent >= 0 ? f.transparent : 0));
    std::vector<int64_t> rows;  // frame row of the k-th decoded row
    rows.reserve(static_cast<size_t>(f.height));
    if (f.interlaced) {
        for (const auto& [start, step] :
             {std::pair<int64_t, int64_t>{0, 8}, {4, 8}, {2, 4}, {1, 2}})
            for (int64_t y = start; y < f.height; y += step) rows.push_back(y);
    } else {
        for (int64_t y = 0; y < f.height; ++y) rows.push_back(y);
    }
    const int64_t total = f.width * f.height;
    int64_t written = 0;
    auto emit = [&](uint8_t value) {
        if (written >= total) return;
        const int64_t y = f.y0 + rows[static_cast<size_t>(written / f.width)];
        const int64_t x = f.x0 + written % f.width;
        indices[static_cast<size_t>(y * width + x)] = value;
        ++written;
    };

    const int clear = 1 << minBits;
    const int end = clear + 1;
    std::array<uint16_t, 4096> prefix{};
    std::array<uint8_t, 4096> suffix{};
    std::array<uint8_t, 4097> stack{};
    for (int i = 0; i < clear; ++i) suffix[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
    int codeSize = minBits + 1;
    int next = clear + 2;
    int old = -1;
    uint8_t first = 0;
    SubBlockBits bits(d, n, f.data + 1);
    int code = 0;
    auto corrupt = [&] {
        return ImageError(label +
                          ": the GIF's image data is corrupt (an LZW code that was never "
                          "defined).");
    };
    while (written < total && bits.read(codeSize, code)) {
        if (code == clear) {
            codeSize = minBits + 1;
            next = clear + 2;
            old = -1;
            continue;
        }
        if (code == end) break;
        if (old < 0) {
            if (code >= clear) throw corrupt();
            first = static_cast<uint8_t>(code);
            emit(first);
            old = code;
            continue;
        }
        const int in = code;
        size_t depth = 0;
        if (code > next || (code == next && next >= 4096)) throw corrupt();
        if (code == next) {
            stack[depth++] = first;
            code = old;
        }
        while (code >= clear) {
            stack[depth++] = suffix[static_cast<size_t>(code)];
            code = prefix[static_cast<size_t>(code)];
        }
        first = static_cast<uint8_t>(code);
        stack[depth++] = first;
        while (depth > 0) emit(stack[--depth]);
        if (next < 4096) {
            prefix[static_cast<size_t>(next)] = static_cast<uint16_t>(old);
            suffix[static_cast<size_t>(next)] = first;
            ++next;
            if (next == (1 << codeSize) && codeSize < 12) ++codeSize;
        }
        old = in;
    }
    // PIL calls a frame whose data stop early (an end code, the last sub-block, the file's end)
    // truncated, and refuses it.
    if (written < total)
        throw ImageError(label + (bits.truncated() ? ": the GIF file is truncated (it ends before "
                                                     "the image data does)."
                                                   : ": the GIF file is truncated (its image data "
                                                     "end before the image does)."));

    // Indices to colours: the table's entries, grey (i, i, i) past its end or without one.
    std::array<std::array<uint8_t, 3>, 256> bgr{};
    for (int i = 0; i < 256; ++i) {
        const auto v = static_cast<uint8_t>(i);
        bgr[static_cast<size_t>(i)] = {v, v, v};
        if (f.table && i < f.tableEntries)
            bgr[static_cast<size_t>(i)] = {f.table[3 * i + 2], f.table[3 * i + 1], f.table[3 * i]};
    }
    cv::Mat out(static_cast<int>(height), static_cast<int>(width), CV_8UC3);
    for (int64_t y = 0; y < height; ++y) {
        uint8_t* row = out.ptr<uint8_t>(static_cast<int>(y));
        const uint8_t* src = indices.data() + y * width;
        for (int64_t x = 0; x < width; ++x) std::memcpy(row + 3 * x, bgr[src[x]].data(), 3);
    }
    return out;
}

}  // namespace r18
