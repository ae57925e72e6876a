// Weights: the tensors of a ResNet as torchvision names them, read from the files people have
// (.pth state dicts and checkpoints, safetensors from timm and Hugging Face, ONNX exports) and
// checked against a NetworkSpec before anything runs.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/formats/tensor_file.h"
#include "core/model/network_spec.h"
#include "core/tensor.h"

namespace r18 {

// A TensorFile with torchvision's names (weight_names.h), its hash and what it is.
struct WeightSet : TensorFile {
    WeightSet() = default;
    WeightSet(TensorFile read) : TensorFile(std::move(read)) {}  // NOLINT: what a reader read

    // How the file's names were mapped onto torchvision's, "" if they already were
    // ("Hugging Face transformers names mapped onto torchvision's; prefix 'model.' stripped").
    std::string naming;
    std::string sha256;  // of the file; empty for generated weights

    // True only for torchvision's ResNet18 IMAGENET1K_V1 file (resnet18-f37072fd.pth),
    // recognised as torchvision does: its SHA-256 starts with the 8 hex digits in its name.
    bool isOfficialImageNet() const;
    // One plain sentence for users about what these weights are and whether predictions mean
    // anything.
    std::string trustNote() const;

    const Tensor* get(const std::string& name) const;
    float eps(const std::string& bnName) const;
};

// Name of torchvision's official ResNet18 ImageNet weights and its hash prefix.
constexpr const char* kOfficialWeightsName = "resnet18-f37072fd.pth";
constexpr const char* kOfficialWeightsHashPrefix = "f37072fd";

// Where weights are looked for when none is named, in order: $RESNET18_WEIGHTS, the user's data
// folder (userWeightsDir()/resnet18-f37072fd.pth, where weights/fetch.sh and the app's download
// put it), the app's data folders for all users (dataDirCandidates() in core/app_data.h: beside
// the installed binary, then $XDG_DATA_DIRS, e.g. /usr/share/resnet18-explorer/), and, for a
// binary still in its build tree, the weights/ folder of its source tree.
std::vector<std::string> defaultWeightsCandidates();
// The first of them that exists, or "".
std::string findDefaultWeights();
// $XDG_DATA_HOME/resnet18-explorer, or ~/.local/share/resnet18-explorer.
std::string userWeightsDir();

// True if the file name ends in a weights suffix (.pth, .pt, .bin, .safetensors, .onnx; any
// case): how a path given on the command line, dropped or pasted is told apart from an image.
bool hasWeightsSuffix(const std::string& path);

// Reads a .pth/.pt/.bin (zip or legacy torch.save format), .safetensors or .onnx file, chosen
// by content, and maps its names onto torchvision's (weight_names.h).
// Throws WeightsError naming the file and the problem.
WeightSet loadWeights(const std::string& path);

// The network a weight set describes: stage depths from the tensor names, classes from the fc
// weight. Throws WeightsError when the tensors do not describe a basic-block ResNet.
NetworkSpec inferSpec(const WeightSet& weights);

// Checks presence, shape, dtype and finiteness of every tensor the spec needs.
// Throws WeightsError: "<file>: tensor 'x' has shape [..], expected [..]".
void validateWeights(const NetworkSpec& spec, const WeightSet& weights);

// A convolution with its batch-norm (and any conv bias) folded in, in double precision:
// w' = w·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε) (+ bias·γ/√(σ²+ε)). Weights [out][in][k][k].
struct FoldedConv {
    std::vector<float> weights;
    std::vector<float> bias;
};
FoldedConv foldBatchNorm(const Node& conv, const WeightSet& weights);

// Untrained weights for demos and benchmarks: torchvision's initialisation (Kaiming-normal
// convs, unit batch-norm, uniform fc) from a fixed seed. Identical on every machine.
WeightSet makeRandomWeights(const NetworkSpec& spec, uint32_t seed = 18);

}  // namespace r18
