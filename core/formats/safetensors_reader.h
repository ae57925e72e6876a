// Reader for safetensors files (the Hugging Face hub's default: timm's and transformers'
// model.safetensors). The format: an 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
// "__metadata__": {"key": "value"}}, then the little-endian tensor bytes, offsets counted from
// the end of the header. Checked as strictly as the reference implementation: the header is at
// most 100 MB of JSON, names are unique, every tensor's byte range matches its dtype and shape,
// and the ranges cover the data exactly once, without gaps or overlaps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/formats/tensor_file.h"

namespace r18 {

// The reference implementation's cap on the JSON header.
constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;

// True if the bytes start like a safetensors file: a header length below 2^40 followed by '{'.
// Cheap; readSafetensors() checks everything else (a length past the file included).
bool looksLikeSafetensors(const uint8_t* data, size_t size);

// Float tensors (F16, BF16, F32, F64) converted to float32 under the file's own names (no
// renaming here: see weight_names.h); integer and bool tensors are listed in nonFloat.
// `label` names the file in messages. Throws WeightsError.
TensorFile readSafetensors(const uint8_t* data, size_t size, const std::string& label);
inline TensorFile readSafetensors(const std::vector<uint8_t>& bytes, const std::string& label) {
    return readSafetensors(bytes.data(), bytes.size(), label);
}

}  // namespace r18
