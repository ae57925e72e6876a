// SHA-256, used to recognise the official torchvision weights file by its published hash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace r18 {

// Lower-case hex digest of data[0..size).
std::string sha256Hex(const uint8_t* data, size_t size);

}  // namespace r18
