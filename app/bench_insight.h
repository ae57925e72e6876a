// `resnet18-explorer bench --intervention` and `bench --importance`: what switching channels off
// costs (core/engine/ablation.h), and channel importance with the network run only from the
// node onwards against the whole network per batch (core/channel_importance.h). Each pair is
// measured in one run, alternating, so the ratio holds on a busy machine too.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/engine/engine.h"
#include "core/model/model.h"

namespace r18::cli {

// Batch-1 runs with one tap (layer3.1, as the window's live view asks for), alternating every
// call between no channel switched off and `ablations` (texts "NODE:C1,…"; default:
// layer3.1:0-127), per precision. Returns the exit code.
int benchIntervention(const std::shared_ptr<const Model>& model,
                      const std::vector<Precision>& precisions, int threads, int iterations,
                      const std::vector<std::string>& ablations, bool json);

// Channel importance of class 0 at layer3.1 (256 channels), layer4.0 and layer4.1.conv1 (512),
// with `batch` channels per run: run from the node (ChannelImportance) against the whole network
// per batch. Returns the exit code.
int benchImportance(const std::shared_ptr<const Model>& model,
                    const std::vector<Precision>& precisions, int threads, int batch, bool json);

}  // namespace r18::cli
