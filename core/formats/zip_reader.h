// ZipArchive: reads the zip container torch.save writes (stored or deflated entries, zip64
// sizes). Defensive: every offset and size is checked against the file, declared sizes are
// capped, and CRCs are verified, so a hostile archive costs at most what its bytes justify.
#pragma once

#include <cstdint>
#include <string>
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

    // `label` names the archive in error messages (usually the file name). The bytes must
    // outlive the archive. Throws WeightsError if the central directory is malformed.
    ZipArchive(std::string label, const std::vector<uint8_t>& bytes);

    const std::vector<Entry>& entries() const { return m_entries; }
    const Entry* find(const std::string& name) const;

    // The entry's contents, inflated if needed and CRC-checked. Throws WeightsError.
    std::vector<uint8_t> read(const Entry& entry) const;

    static bool looksLikeZip(const std::vector<uint8_t>& bytes);

private:
    [[noreturn]] void fail(const std::string& problem) const;

    std::string m_label;
    const std::vector<uint8_t>& m_bytes;
    std::vector<Entry> m_entries;
};

}  // namespace r18
