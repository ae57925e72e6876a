// SHA-256, used to recognise the official torchvision weights file by its published hash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace r18 {

// Lower-case hex digest of data[0..size).
std::string sha256Hex(const uint8_t* data, size_t size);
// The same, calling `hashed` after each MiB with the range it has finished reading (a mapped
// file can then let go of those pages).
std::string sha256Hex(const uint8_t* data, size_t size,
                      const std::function<void(size_t offset, size_t length)>& hashed);

// Whether this CPU's SHA extensions do the work (x86 SHA-NI; otherwise portable C++), and the
// portable path itself, for tests that check both give the same digests.
bool sha256UsesShaExtensions();
std::string sha256HexPortable(const uint8_t* data, size_t size);

}  // namespace r18
