#include "core/formats/npy.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/error.h"

namespace r18 {

namespace {

// The header of a float32, C-order .npy of `dims`, padded with spaces to `size` bytes (at least
// the 64-byte multiple it needs).
std::string npyHeader(const std::vector<int64_t>& dims, size_t size) {
    std::string shape = "(";
    for (size_t i = 0; i < dims.size(); ++i)
        shape += std::to_string(dims[i]) + (dims.size() == 1 || i + 1 < dims.size() ? "," : "");
    shape += ")";
    std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
    const size_t unpadded = 10 + dict.size() + 1;
    const size_t total = std::max(size, unpadded + (64 - unpadded % 64) % 64);
    dict.append(total - unpadded, ' ');
    dict += '\n';
    std::string out("\x93NUMPY\x01\x00", 8);
    const auto len = static_cast<uint16_t>(dict.size());
    out += static_cast<char>(len & 0xFF);
    out += static_cast<char>(len >> 8);
    return out + dict;
}

}  // namespace

void writeNpy(const std::string& path, const Tensor& t) {
    if (t.dims.empty()) throw Error(path + ": a .npy needs at least one dimension.");
    NpyWriter w(path, std::vector<int64_t>(t.dims.begin() + 1, t.dims.end()));
    w.append(t.ptr(), t.dims[0]);
    w.close();
}

NpyWriter::NpyWriter(std::string path, std::vector<int64_t> sliceDims)
    : m_path(std::move(path)), m_sliceDims(std::move(sliceDims)) {
    for (const int64_t d : m_sliceDims) m_sliceSize *= d;
    // Room for the largest count, so the final header has the same size.
    m_headerSize = header(std::numeric_limits<int64_t>::max()).size();
    m_out = std::make_unique<AtomicFile>(m_path);
    m_out->write(header(0));
}

NpyWriter::~NpyWriter() = default;

std::string NpyWriter::header(int64_t count) const {
    std::vector<int64_t> dims{count};
    dims.insert(dims.end(), m_sliceDims.begin(), m_sliceDims.end());
    return npyHeader(dims, m_headerSize);
}

void NpyWriter::append(const float* data, int64_t slices) {
    if (!m_out) throw Error(m_path + ": the file is already closed.");
    m_out->write(data, static_cast<size_t>(slices * m_sliceSize) * sizeof(float));
    m_count += slices;
}

void NpyWriter::close() {
    if (!m_out) throw Error(m_path + ": the file is already closed.");
    const std::string h = header(m_count);
    m_out->writeAt(0, h.data(), h.size());
    std::unique_ptr<AtomicFile> out = std::move(m_out);
    out->commit();  // flushes and renames: a full disk shows here
}

Tensor readNpy(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw Error(path + ": cannot open the file.");
    char magic[10];
    if (!f.read(magic, 10) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
        throw Error(path + ": not a .npy file.");
    uint32_t len = static_cast<uint8_t>(magic[8]) | (static_cast<uint8_t>(magic[9]) << 8);
    if (magic[6] >= 2) {
        char extra[2];
        f.read(extra, 2);
        len = (len) | (static_cast<uint32_t>(static_cast<uint8_t>(extra[0])) << 16) |
              (static_cast<uint32_t>(static_cast<uint8_t>(extra[1])) << 24);
    }
    std::string header(len, '\0');
    f.read(header.data(), len);
    if (header.find("'fortran_order': False") == std::string::npos)
        throw Error(path + ": only C-order .npy files are supported.");
    const size_t d = header.find("'descr': '");
    const std::string descr = d == std::string::npos ? "" : header.substr(d + 10, 3);
    const size_t s = header.find('(');
    const size_t e = header.find(')', s);
    if (s == std::string::npos || e == std::string::npos) throw Error(path + ": bad .npy header.");
    std::vector<int64_t> dims;
    std::stringstream shape(header.substr(s + 1, e - s - 1));
    std::string item;
    while (std::getline(shape, item, ','))
        if (item.find_first_not_of(' ') != std::string::npos) dims.push_back(std::stoll(item));
    Tensor t(dims);
    const size_t n = t.data.size();
    if (descr == "<f4") {
        f.read(reinterpret_cast<char*>(t.ptr()), static_cast<std::streamsize>(n * 4));
    } else if (descr == "<f8" || descr == "<i8") {
        std::vector<char> raw(n * 8);
        f.read(raw.data(), static_cast<std::streamsize>(raw.size()));
        for (size_t i = 0; i < n; ++i) {
            if (descr == "<f8") {
                double v = 0;
                std::memcpy(&v, raw.data() + 8 * i, 8);
                t.data[i] = static_cast<float>(v);
            } else {
                int64_t v = 0;
                std::memcpy(&v, raw.data() + 8 * i, 8);
                t.data[i] = static_cast<float>(v);
            }
        }
    } else {
        throw Error(path + ": unsupported .npy dtype '" + descr + "'.");
    }
    if (!f) throw Error(path + ": the .npy file is truncated.");
    return t;
}

}  // namespace r18
