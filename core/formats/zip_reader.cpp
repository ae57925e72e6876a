#include "core/formats/zip_reader.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/formats/limits.h"

namespace r18 {
namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
// A large entry (over kBombFloor) may inflate to at most this many times its compressed size
// (zip-bomb guard; real tensors compress barely at all) ...
constexpr uint64_t kMaxInflateRatio = 100;
constexpr uint64_t kBombFloor = uint64_t{64} << 20;

uint16_t le16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] | (p[1] << 8));
}
uint32_t le32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
           (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t le64(const uint8_t* p) {
    return static_cast<uint64_t>(le32(p)) | (static_cast<uint64_t>(le32(p + 4)) << 32);
}

}  // namespace

bool ZipArchive::looksLikeZip(const uint8_t* data, size_t size) {
    return size >= 4 && le32(data) == kLocalHeaderSig;
}

void ZipArchive::fail(const std::string& problem) const {
    throw WeightsError(m_label + ": " + problem);
}

ZipArchive::ZipArchive(std::string label, const uint8_t* data, size_t size)
    : m_label(std::move(label)), m_data(data), m_size(size) {
    const uint64_t n = size;
    const uint8_t* b = data;
    if (n < 22) fail("the zip archive is truncated (no end-of-directory record).");

    // The end-of-central-directory record sits in the last 64 KiB + 22 bytes.
    uint64_t eocd = n;
    const uint64_t lowest = n > 65557 ? n - 65557 : 0;
    for (uint64_t pos = n - 22 + 1; pos-- > lowest;) {
        if (le32(b + pos) == kEndSig) {
            eocd = pos;
            break;
        }
    }
    if (eocd == n) fail("the zip archive is truncated or corrupt (no end-of-directory record).");

    uint64_t count = le16(b + eocd + 10);
    uint64_t dirSize = le32(b + eocd + 12);
    uint64_t dirOffset = le32(b + eocd + 16);
    if (eocd >= 20 && le32(b + eocd - 20) == kZip64LocatorSig) {
        const uint64_t z64 = le64(b + eocd - 20 + 8);
        // The record is 56 bytes and sits before the locator (n >= 42 here, but not 56).
        if (n < 56 || z64 > n - 56 || z64 + 56 > eocd - 20 || le32(b + z64) != kZip64EndSig)
            fail("the zip64 end-of-directory record is corrupt.");
        count = le64(b + z64 + 32);
        dirSize = le64(b + z64 + 40);
        dirOffset = le64(b + z64 + 48);
    }
    if (dirOffset > n || dirSize > n - dirOffset)
        fail("the zip directory points outside the file (truncated download?).");
    if (count > dirSize / 46) fail("the zip directory declares more entries than it holds.");
    if (count > limits::kMaxZipEntries)
        fail("the zip archive holds " + std::to_string(count) +
             " entries; a ResNet weights file has a few hundred.");

    uint64_t pos = dirOffset;
    const uint64_t end = dirOffset + dirSize;
    m_entries.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
        if (end - pos < 46 || le32(b + pos) != kCentralHeaderSig)
            fail("the zip directory is corrupt at entry " + std::to_string(i) + ".");
        Entry e;
        e.method = le16(b + pos + 10);
        e.crc = le32(b + pos + 16);
        e.compressedSize = le32(b + pos + 20);
        e.size = le32(b + pos + 24);
        const uint16_t nameLen = le16(b + pos + 28);
        const uint16_t extraLen = le16(b + pos + 30);
        const uint16_t commentLen = le16(b + pos + 32);
        e.localHeaderOffset = le32(b + pos + 42);
        if (end - pos - 46 < uint64_t{nameLen} + extraLen + commentLen)
            fail("the zip directory is corrupt at entry " + std::to_string(i) + ".");
        e.name.assign(reinterpret_cast<const char*>(b + pos + 46), nameLen);

        // zip64 extended information replaces the fields that are 0xFFFFFFFF, in order.
        const uint8_t* extra = b + pos + 46 + nameLen;
        for (uint32_t x = 0; x + 4 <= extraLen;) {
            const uint16_t id = le16(extra + x);
            const uint16_t len = le16(extra + x + 2);
            if (x + 4 + len > extraLen) break;
            if (id == 0x0001) {
                const uint8_t* f = extra + x + 4;
                uint32_t left = len;
                auto take = [&](uint64_t& field) {
                    if (field != 0xFFFFFFFFu) return;
                    if (left < 8) fail("entry '" + e.name + "' has a corrupt zip64 field.");
                    field = le64(f);
                    f += 8;
                    left -= 8;
                };
                take(e.size);
                take(e.compressedSize);
                take(e.localHeaderOffset);
            }
            x += 4u + len;
        }
        if (!m_byName.emplace(e.name, m_entries.size()).second)
            fail("the zip archive holds two entries named '" + e.name + "'.");
        m_entries.push_back(std::move(e));
        pos += 46 + uint64_t{nameLen} + extraLen + commentLen;
    }
}

const ZipArchive::Entry* ZipArchive::find(const std::string& name) const {
    auto it = m_byName.find(name);
    return it == m_byName.end() ? nullptr : &m_entries[it->second];
}

uint64_t ZipArchive::locate(const Entry& e) const {
    const uint64_t n = m_size;
    const uint8_t* b = m_data;
    if (e.localHeaderOffset > n || n - e.localHeaderOffset < 30 ||
        le32(b + e.localHeaderOffset) != kLocalHeaderSig)
        fail("entry '" + e.name + "' is missing or corrupt (truncated file?).");
    const uint64_t dataStart = e.localHeaderOffset + 30 + le16(b + e.localHeaderOffset + 26) +
                               le16(b + e.localHeaderOffset + 28);
    if (dataStart > n || e.compressedSize > n - dataStart)
        fail("entry '" + e.name + "' runs past the end of the file (truncated download?).");
    if (e.method == 0 && e.size != e.compressedSize)
        fail("stored entry '" + e.name + "' declares two different sizes.");
    return dataStart;
}

ZipArchive::Bytes ZipArchive::read(const Entry& e, uint64_t maxSize) const {
    const uint8_t* src = m_data + locate(e);
    if (e.size > std::min(maxSize, kMaxEntrySize))
        fail("entry '" + e.name + "' declares " + std::to_string(e.size) +
             " bytes, more than a ResNet weights file can need (" +
             std::to_string(std::min(maxSize, kMaxEntrySize)) + ").");

    Bytes out;
    out.m_size = static_cast<size_t>(e.size);
    if (e.method == 0) {
        out.m_view = src;
    } else if (e.method == 8) {
        if ((e.size > kBombFloor &&
             e.size > std::max<uint64_t>(e.compressedSize, 1) * kMaxInflateRatio))
            fail("entry '" + e.name + "' declares " + std::to_string(e.size) + " bytes from " +
                 std::to_string(e.compressedSize) +
                 " compressed bytes; refusing a likely zip bomb.");
        out.m_owned.resize(e.size);
        z_stream zs{};
        if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) fail("could not start zlib.");
        zs.next_in = const_cast<Bytef*>(src);
        zs.avail_in = static_cast<uInt>(std::min<uint64_t>(e.compressedSize, UINT32_MAX));
        zs.next_out = out.m_owned.data();
        zs.avail_out = static_cast<uInt>(std::min<uint64_t>(e.size, UINT32_MAX));
        const int rc = inflate(&zs, Z_FINISH);
        const uint64_t produced = zs.total_out;
        inflateEnd(&zs);
        if (rc != Z_STREAM_END || produced != e.size)
            fail("entry '" + e.name + "' does not inflate to its declared size (corrupt data).");
    } else {
        fail("entry '" + e.name + "' uses zip compression method " + std::to_string(e.method) +
             "; only stored and deflated entries are supported.");
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    for (uint64_t off = 0; off < out.size(); off += 1u << 30) {
        const auto len = static_cast<uInt>(std::min<uint64_t>(out.size() - off, 1u << 30));
        crc = crc32(crc, out.data() + off, len);
    }
    if (crc != e.crc) fail("entry '" + e.name + "' fails its CRC check (corrupt file).");
    return out;
}

}  // namespace r18
