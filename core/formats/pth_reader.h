// Reader for torch.save files holding a state dict: the zip format (archive/data.pkl plus
// archive/data/<key>) and the legacy pre-1.6 stream. Parsed with the restricted unpickler in
// pickle_reader.h; nothing in the file is ever executed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/weights.h"

namespace r18 {

// `label` names the file in messages. Throws WeightsError.
WeightSet readPth(const std::vector<uint8_t>& bytes, const std::string& label);

bool looksLikeLegacyPth(const std::vector<uint8_t>& bytes);

}  // namespace r18
