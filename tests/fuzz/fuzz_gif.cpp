// libFuzzer target: GIF frame 0 (core/media/gif.h), straight into the decoder, with a canvas
// limit small enough that every input runs in bounded memory.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "core/media/gif.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        int64_t width = 0;
        int64_t height = 0;
        r18::gifCanvasSize(data, size, width, height);
        r18::decodeGif(data, size, "fuzz.gif", 4'000'000);
    } catch (const r18::Error&) {
    }
    return 0;
}
