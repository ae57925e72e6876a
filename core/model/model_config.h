// Model configs: the JSON files the hubs publish beside the weights, read for the labels and
// the preprocessing the weights were trained with. Looked for in the weights' folder:
//   timm          config.json with "architecture", "num_classes", optional "label_names", and
//                 "pretrained_cfg": {"input_size": [3,H,W], "interpolation", "crop_pct",
//                 "crop_mode", "mean", "std"}. Preprocessing as timm's resolve_data_config +
//                 transforms_imagenet_eval: Resize(floor(H / crop_pct)), CenterCrop(H); a
//                 missing interpolation is bicubic, a missing crop_pct 0.875.
//   transformers  config.json with "model_type": "resnet", "layer_type", "depths",
//                 "hidden_sizes", "id2label"; preprocessor_config.json beside it with "size",
//                 "crop_pct", "resample" (PIL's filter number), "image_mean", "image_std".
//                 Preprocessing as ConvNextImageProcessor: Resize(int(size / crop_pct)),
//                 CenterCrop(size) with Hugging Face's floor-division offset.
// Anything else named config.json, or a config that cannot be used, is skipped with a note:
// a file merely found beside the weights never stops them from opening. The one exception is a
// transformers config declaring bottleneck layers (ResNet50 and up), which is refused.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/media/preprocess.h"

namespace r18 {

struct ModelConfig {
    std::string kind;  // "timm", "transformers", or "" when there is no usable config
    std::string file;  // the config.json that was read
    // Class names in class order from label_names / id2label; empty if the config has none (or
    // only transformers' placeholder "LABEL_0", "LABEL_1", ...).
    std::vector<std::string> labels;
    bool hasPreprocess = false;
    PreprocessOptions preprocess;
    // "timm config: bicubic, crop 0.95 (resize 235, crop 224)"
    std::string preprocessSource;
    std::vector<std::string> notes;  // what was skipped, and why
};

// The config beside `weightsPath` (its folder's config.json and preprocessor_config.json), or
// an empty ModelConfig if there is none. Throws WeightsError only for a transformers config
// that declares a bottleneck ResNet.
ModelConfig readModelConfig(const std::string& weightsPath);

// The same from JSON texts, for tests and fuzzing; `folder` names the files in messages.
// `preprocessorJson` may be empty.
ModelConfig parseModelConfig(const std::string& configJson, const std::string& preprocessorJson,
                             const std::string& folder);

}  // namespace r18
