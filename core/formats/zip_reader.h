// ZipArchive: reads the zip container torch.save writes (stored or deflated entries, zip64
// sizes). Defensive: every offset and size is checked against the file, declared sizes are
// capped, and CRCs are verified, so a hostile archive costs at most what its bytes justify.
// Entries are indexed by name; a stored entry is read in place, without a copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace r18 {

class ZipArchive {
public:
    struct Entry {
        std::string name;
        uint16_t method = 0;  // 0 stored, 8 deflated
        uint32_t crc = 0;
        uint64_t compressedSize = 0;
        uint64_t size = 0;
        uint64_t localHeaderOffset = 0;
    };

    // An entry's contents: a view into the archive's bytes for a stored entry, its own buffer
    // for an inflated one. Valid as long as the archive's bytes are.
    class Bytes {
    public:
        const uint8_t* data() const { return m_owned.empty() ? m_view : m_owned.data(); }
        size_t size() const { return m_size; }

    private:
        friend class ZipArchive;
        const uint8_t* m_view = nullptr;
        std::vector<uint8_t> m_owned;
        size_t m_size = 0;
    };

    // `label` names the archive in error messages (usually the file name). The bytes must
    // outlive the archive. Throws WeightsError if the central directory is malformed, holds
    // more than limits::kMaxZipEntries entries or two entries of the same name.
    ZipArchive(std::string label, const uint8_t* data, size_t size);
    ZipArchive(std::string label, const std::vector<uint8_t>& bytes)
        : ZipArchive(std::move(label), bytes.data(), bytes.size()) {}

    const std::vector<Entry>& entries() const { return m_entries; }
    // The entry of that exact name, or nullptr. Constant time.
    const Entry* find(const std::string& name) const;

    // Checks that the entry lies inside the archive, without reading it; returns where its
    // data starts. Throws WeightsError. (read() does this too.)
    uint64_t locate(const Entry& entry) const;

    // The entry's contents, inflated if needed and CRC-checked. An entry declaring more than
    // `maxSize` bytes is refused before anything is read or allocated. Throws WeightsError.
    Bytes read(const Entry& entry, uint64_t maxSize = kMaxEntrySize) const;

    static bool looksLikeZip(const uint8_t* data, size_t size);
    static bool looksLikeZip(const std::vector<uint8_t>& bytes) {
        return looksLikeZip(bytes.data(), bytes.size());
    }

    static constexpr uint64_t kMaxEntrySize = uint64_t{4} << 30;

private:
    [[noreturn]] void fail(const std::string& problem) const;

    std::string m_label;
    const uint8_t* m_data;
    size_t m_size;
    std::vector<Entry> m_entries;
    std::unordered_map<std::string, size_t> m_byName;
};

}  // namespace r18
