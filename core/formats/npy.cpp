#include "core/formats/npy.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace r18 {

void writeNpy(const std::string& path, const Tensor& t) {
    std::string shape = "(";
    for (size_t i = 0; i < t.dims.size(); ++i)
        shape +=
            std::to_string(t.dims[i]) + (t.dims.size() == 1 || i + 1 < t.dims.size() ? "," : "");
    shape += ")";
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
    const size_t total = 10 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
    std::ofstream f(path, std::ios::binary);
    if (!f) throw Error(path + ": cannot create the file.");
    const auto len = static_cast<uint16_t>(header.size());
    f.write("\x93NUMPY\x01\x00", 8);
    f.put(static_cast<char>(len & 0xFF));
    f.put(static_cast<char>(len >> 8));
    f.write(header.data(), static_cast<std::streamsize>(header.size()));
    f.write(reinterpret_cast<const char*>(t.ptr()),
            static_cast<std::streamsize>(t.data.size() * sizeof(float)));
    if (!f) throw Error(path + ": writing the file failed.");
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
