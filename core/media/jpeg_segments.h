// Walking the marker segments of a JPEG file, shared by the header probe (image size, whether
// the file is complete) and the EXIF orientation reader.
#pragma once

#include <cstddef>
#include <cstdint>

namespace r18 {

// Calls visit(marker, pos, length) for each marker after SOI that carries a length field: pos
// is the offset of its 0xFF byte, length the big-endian field (the segment's bytes after the
// marker, itself included), not checked against n. Fill bytes and standalone markers (SOI,
// TEM, RSTn) are skipped. Stops when visit returns false, when fewer than 4 bytes remain, or
// when the stream loses sync (a byte other than 0xFF where a marker should start).
template <class Visit>
void forEachJpegSegment(const uint8_t* d, size_t n, Visit visit) {
    size_t pos = 2;
    while (pos + 4 <= n) {
        if (d[pos] != 0xFF) return;
        const uint8_t marker = d[pos + 1];
        if (marker == 0xFF) {
            ++pos;
            continue;
        }
        if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
            pos += 2;
            continue;
        }
        const uint32_t length = (uint32_t{d[pos + 2]} << 8) | d[pos + 3];
        if (!visit(marker, pos, length)) return;
        pos += 2 + length;
    }
}

}  // namespace r18
