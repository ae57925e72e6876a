// libFuzzer target: the safetensors reader (JSON header, offsets, dtypes), the renaming onto
// torchvision's names and the validation that follows; and, for inputs that start like JSON,
// the config.json / preprocessor_config.json parser. Any exception other than r18::Error is a
// bug, and so is a note or source that does not name the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "core/formats/safetensors_reader.h"
#include "core/model/model_config.h"
#include "core/model/weight_names.h"
#include "core/model/weights.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        r18::WeightSet w = r18::readSafetensors(data, size, "fuzz.safetensors");
        r18::mapToTorchvisionNames(w);
        r18::validateWeights(r18::inferSpec(w), w);
    } catch (const r18::Error&) {
    }
    if (size > 0 && data[0] == '{') {
        // config.json and preprocessor_config.json: the same bytes split at the first NUL.
        const std::string text(reinterpret_cast<const char*>(data), size);
        const size_t nul = text.find('\0');
        const std::string config = text.substr(0, nul);
        const std::string preprocessor = nul == std::string::npos ? "" : text.substr(nul + 1);
        try {
            const r18::ModelConfig c = r18::parseModelConfig(config, preprocessor, "/fuzz/");
            for (const std::string& note : c.notes)
                if (note.rfind("/fuzz/", 0) != 0) std::abort();
            if (c.hasPreprocess &&
                (c.preprocess.crop > c.preprocess.resize || c.preprocess.crop < 16))
                std::abort();
        } catch (const r18::WeightsError&) {
        }
    }
    return 0;
}
