// libFuzzer target: the .pth reader (zip container, restricted unpickler, tensor views) and the
// validation that follows it. Any exception other than r18::Error is a bug.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/formats/pth_reader.h"
#include "core/model/weights.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::vector<uint8_t> bytes(data, data + size);
    try {
        const r18::WeightSet w = r18::readPth(bytes, "fuzz.pth");
        r18::validateWeights(r18::inferSpec(w), w);
    } catch (const r18::Error&) {
    }
    return 0;
}
