// libFuzzer target: the ONNX reader (protobuf parse, graph mapping, tensor decoding).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/formats/onnx_reader.h"
#include "core/model/weights.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::vector<uint8_t> bytes(data, data + size);
    try {
        const r18::WeightSet w = r18::readOnnx(bytes, "fuzz.onnx");
        r18::validateWeights(r18::inferSpec(w), w);
    } catch (const r18::Error&) {
    }
    return 0;
}
