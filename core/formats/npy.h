// NumPy .npy files (version 1.0, little-endian, C order): float32 out, float32/float64/int64 in.
#pragma once

#include <string>

#include "core/tensor.h"

namespace r18 {

// Writes a float32 array. Throws Error naming the file if it cannot be written.
void writeNpy(const std::string& path, const Tensor& tensor);

// Reads a float32, float64 or int64 array as float32. Throws Error naming the file.
Tensor readNpy(const std::string& path);

}  // namespace r18
