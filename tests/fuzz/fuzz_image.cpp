// libFuzzer target: header probing, decoding and preprocessing of an image from memory.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/media/image_io.h"
#include "core/media/preprocess.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::vector<uint8_t> bytes(data, data + size);
    try {
        const cv::Mat image = r18::decodeImage(bytes, "fuzz.img");
        std::vector<float> out(3 * 224 * 224);
        r18::preprocessInto(image, out.data());
    } catch (const r18::Error&) {
    }
    return 0;
}
