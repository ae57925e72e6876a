// libFuzzer target: HEIC through libheif and AVIF through libavif (core/media/heif.h), the
// container's declared size checked before decoding. Both decoders see every input.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "core/media/heif.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    (void)r18::heifFormat(data, size);
    try {
        r18::decodeHeic(data, size, "fuzz.heic", 4'000'000);
    } catch (const r18::Error&) {
    }
    try {
        r18::decodeAvif(data, size, "fuzz.avif", 4'000'000);
    } catch (const r18::Error&) {
    }
    return 0;
}
