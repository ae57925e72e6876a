// Reader for torch.save files: the zip format (archive/data.pkl plus archive/data/<key>) and the
// legacy pre-1.6 stream (pickle protocols 2 to 5), holding a state dict or a training
// checkpoint (pytorch/examples' {'epoch', 'arch', 'state_dict', 'best_acc1', 'optimizer'},
// Lightning's {'state_dict': {'model.conv1.weight', ...}, 'optimizer_states', ...}: the state
// dict is found by structure, see findStateDict in the .cpp); and torch.jit.save archives
// (TorchScript, traced or scripted), whose module attributes are walked to the parameters.
// Parsed with the restricted unpickler in pickle_reader.h; nothing in the file is ever
// executed, and TorchScript's code/ is never read. Names are left as the file has them
// (prefixes are stripped later, by weight_names.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/formats/tensor_file.h"

namespace r18 {

// `label` names the file in messages. Throws WeightsError. Memory and time are bounded by what
// a ResNet18/34 can need (formats/limits.h), whatever the file declares: everything is checked
// before a storage is read, each storage is read once however many tensors view it, and a
// stored (uncompressed) storage is read in place.
TensorFile readPth(const uint8_t* data, size_t size, const std::string& label);
inline TensorFile readPth(const std::vector<uint8_t>& bytes, const std::string& label) {
    return readPth(bytes.data(), bytes.size(), label);
}

bool looksLikeLegacyPth(const uint8_t* data, size_t size);
inline bool looksLikeLegacyPth(const std::vector<uint8_t>& bytes) {
    return looksLikeLegacyPth(bytes.data(), bytes.size());
}

}  // namespace r18
