// TensorFile: what a weights reader (.pth, safetensors, ONNX) found in a file — named float
// tensors and what it noticed about them — before anything knows which network they belong to.
// core/model maps the names onto torchvision's and checks them against a NetworkSpec (WeightSet).
#pragma once

#include <map>
#include <string>

#include "core/tensor.h"

namespace r18 {

struct TensorFile {
    // By the names the file uses; readers that map a graph by its structure (ONNX) give
    // torchvision's names. A file whose batch-norm was folded into the convolutions (a torchvision
    // ONNX export) has "<conv>.bias" instead of the "<bn>.*" tensors.
    std::map<std::string, Tensor> tensors;
    std::map<std::string, std::string> nonFloat;  // tensors skipped for their dtype: name -> dtype
    std::map<std::string, float> bnEps;           // per BatchNorm module; absent means 1e-5
    std::string file;    // where it came from, for messages ("" for generated weights)
    std::string format;  // "PyTorch state dict", "PyTorch state dict (legacy format)", "ONNX", ...
};

}  // namespace r18
