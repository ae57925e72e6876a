#include "core/model/weights.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>

#include "core/app_data.h"
#include "core/error.h"
#include "core/files.h"
#include "core/formats/onnx_reader.h"
#include "core/formats/pth_reader.h"
#include "core/formats/safetensors_reader.h"
#include "core/formats/sha256.h"
#include "core/formats/zip_reader.h"
#include "core/model/weight_names.h"

namespace r18 {
namespace {

constexpr float kDefaultBnEps = 1e-5F;
constexpr uint64_t kMaxWeightsFile = uint64_t{2} << 30;

// Deterministic standard normal from a 32-bit generator (Box-Muller), identical everywhere,
// unlike std::normal_distribution whose algorithm is implementation-defined.
class Gaussian {
public:
    explicit Gaussian(uint32_t seed) : m_gen(seed) {}
    float uniform() { return static_cast<float>((m_gen() >> 8) + 0.5) / 16777216.0F; }
    float next() {
        const float u1 = uniform();
        const float u2 = uniform();
        return std::sqrt(-2.0F * std::log(u1)) * std::cos(6.2831853F * u2);
    }

private:
    std::mt19937 m_gen;
};

}  // namespace

const Tensor* WeightSet::get(const std::string& name) const {
    auto it = tensors.find(name);
    return it == tensors.end() ? nullptr : &it->second;
}

float WeightSet::eps(const std::string& bnName) const {
    auto it = bnEps.find(bnName);
    return it == bnEps.end() ? kDefaultBnEps : it->second;
}

namespace {

WeightSet loadWeightsFile(const std::string& path) {
    // Mapped, not read: a reader touches only what it needs, so memory follows the model the
    // file describes, not the file's size.
    MappedFile file;
    std::string problem;
    if (!MappedFile::map(path, "weights file", kMaxWeightsFile, file, problem))
        throw WeightsError(problem);
    if (file.size() == 0) throw WeightsError(path + ": the weights file is empty.");
    const uint8_t* bytes = file.data();
    const size_t size = file.size();
    const bool onnxName = path.size() > 5 && path.compare(path.size() - 5, 5, ".onnx") == 0;
    WeightSet w;
    // By content, most specific first: a safetensors header length can start with 0x08 too.
    if (ZipArchive::looksLikeZip(bytes, size) || looksLikeLegacyPth(bytes, size))
        w = readPth(bytes, size, path);
    else if (looksLikeSafetensors(bytes, size))
        w = readSafetensors(bytes, size, path);
    else if (onnxName || bytes[0] == 0x08)  // ModelProto starts with ir_version (field 1, varint)
        w = readOnnx(bytes, size, path);
    else
        throw WeightsError(path +
                           ": not a weights file the app can read; expected a PyTorch "
                           "state dict or checkpoint (.pth, .pt, as torch.save writes it), "
                           "TorchScript (.pt), safetensors (.safetensors) or ONNX (.onnx).");
    w.naming = mapToTorchvisionNames(w);
    w.file = path;
    w.sha256 = sha256Hex(bytes, size, [&](size_t at, size_t n) { file.release(at, n); });
    return w;
}

}  // namespace

WeightSet loadWeights(const std::string& path) {
    return rethrowAsError<WeightsError>(path, [&] { return loadWeightsFile(path); });
}

bool hasWeightsSuffix(const std::string& path) {
    const size_t dot = path.find_last_of('.');
    if (dot == std::string::npos || path.find('/', dot) != std::string::npos) return false;
    std::string suffix = path.substr(dot + 1);
    std::transform(suffix.begin(), suffix.end(), suffix.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return suffix == "pth" || suffix == "pt" || suffix == "bin" || suffix == "safetensors" ||
           suffix == "onnx";
}

std::string userWeightsDir() {
    const char* xdg = std::getenv("XDG_DATA_HOME");
    if (xdg && *xdg) return std::string(xdg) + "/resnet18-explorer";
    const char* home = std::getenv("HOME");
    return std::string(home ? home : ".") + "/.local/share/resnet18-explorer";
}

std::vector<std::string> defaultWeightsCandidates() {
    std::vector<std::string> paths;
    const char* env = std::getenv("RESNET18_WEIGHTS");
    if (env && *env) paths.emplace_back(env);
    paths.push_back(userWeightsDir() + "/" + kOfficialWeightsName);
    for (const std::string& dir : dataDirCandidates())
        paths.push_back(dir + "/" + kOfficialWeightsName);
    if (const std::string src = sourceTreeDir(); !src.empty())
        paths.push_back(src + "/weights/" + kOfficialWeightsName);
    return paths;
}

std::string findDefaultWeights() {
    for (const std::string& path : defaultWeightsCandidates())
        if (fileKind(path) != FileKind::Missing) return path;
    return {};
}

bool WeightSet::isOfficialImageNet() const {
    return sha256.compare(0, 8, kOfficialWeightsHashPrefix) == 0;
}

std::string WeightSet::trustNote() const {
    if (isOfficialImageNet()) return "Official torchvision ImageNet weights (IMAGENET1K_V1).";
    if (file.empty())
        return "Untrained demo weights: the network is random and its predictions are meaningless.";
    return "Not the official ImageNet weights (" + file +
           "): predictions are only as good as "
           "whatever trained these weights, and meaningless if they are untrained.";
}

NetworkSpec inferSpec(const WeightSet& w) {
    const Tensor* fc = w.get("fc.weight");
    if (!fc) {
        std::string names;
        int shown = 0;
        for (const auto& [name, t] : w.tensors) {
            if (shown++ == 3) break;
            names += (names.empty() ? "'" : ", '") + name + "'";
        }
        throw WeightsError(w.file +
                           ": there is no tensor 'fc.weight', so this is not a "
                           "torchvision ResNet" +
                           (names.empty() ? std::string(" (the file holds no float tensors).")
                                          : " (its tensors start " + names + ")."));
    }
    if (w.get("layer1.0.conv3.weight"))
        throw WeightsError(w.file +
                           ": the tensors describe bottleneck blocks (ResNet50 or "
                           "larger); only basic-block ResNets (ResNet18, ResNet34) are supported.");
    if (fc->dims.size() != 2 || fc->dims[0] < 1)
        throw WeightsError(w.file + ": tensor 'fc.weight' has shape " + shapeToString(fc->dims) +
                           ", expected [classes,512].");
    std::vector<int> depths;
    for (int s = 1; s <= 4; ++s) {
        int blocks = 0;
        for (;; ++blocks) {
            const std::string prefix =
                "layer" + std::to_string(s) + "." + std::to_string(blocks) + ".";
            auto it = w.tensors.lower_bound(prefix);
            if (it == w.tensors.end() || it->first.compare(0, prefix.size(), prefix) != 0) break;
        }
        if (blocks == 0)
            throw WeightsError(w.file + ": there are no tensors for stage 'layer" +
                               std::to_string(s) + "', so this is not a torchvision ResNet.");
        depths.push_back(blocks);
    }
    return makeResNet(depths, fc->dims[0]);
}

void validateWeights(const NetworkSpec& spec, const WeightSet& w) {
    std::set<std::string> expected;
    auto check = [&](const std::string& name, const std::vector<int64_t>& shape) {
        expected.insert(name);
        const Tensor* t = w.get(name);
        if (!t) {
            auto nf = w.nonFloat.find(name);
            if (nf != w.nonFloat.end())
                throw WeightsError(w.file + ": tensor '" + name + "' has dtype " + nf->second +
                                   ", expected float32.");
            throw WeightsError(w.file + ": tensor '" + name + "' is missing (expected shape " +
                               shapeToString(shape) + ").");
        }
        if (t->dims != shape)
            throw WeightsError(w.file + ": tensor '" + name + "' has shape " +
                               shapeToString(t->dims) + ", expected " + shapeToString(shape) + ".");
        for (size_t i = 0; i < t->data.size(); ++i)
            if (!std::isfinite(t->data[i]))
                throw WeightsError(w.file + ": tensor '" + name + "' holds a non-finite value (" +
                                   std::to_string(t->data[i]) + ") at index " + std::to_string(i) +
                                   ".");
    };
    for (const Node& n : spec.nodes) {
        if (n.kind == NodeKind::Conv) {
            const int64_t cout = n.outShape[0];
            check(n.weightName + ".weight", {cout, n.inShape[0], n.kernel, n.kernel});
            const bool hasBn = w.get(n.bnName + ".weight") || w.get(n.bnName + ".running_var");
            if (hasBn || !w.get(n.weightName + ".bias")) {
                for (const char* part : {".weight", ".bias", ".running_mean", ".running_var"})
                    check(n.bnName + part, {cout});
                expected.insert(n.bnName + ".num_batches_tracked");
                if (w.eps(n.bnName) <= 0.0F || !std::isfinite(w.eps(n.bnName)))
                    throw WeightsError(w.file + ": batch norm '" + n.bnName + "' has epsilon " +
                                       std::to_string(w.eps(n.bnName)) +
                                       ", expected a small positive number.");
            }
            if (w.get(n.weightName + ".bias")) check(n.weightName + ".bias", {cout});
        } else if (n.kind == NodeKind::Fc) {
            check("fc.weight", {n.outShape[0], n.inShape[0]});
            check("fc.bias", {n.outShape[0]});
        }
    }
    for (const auto& [name, t] : w.tensors)
        if (!expected.count(name))
            throw WeightsError(w.file + ": tensor '" + name + "' " + shapeToString(t.dims) +
                               " is not part of a " + spec.archName() +
                               "; is this a different model?");
    for (const auto& [bn, v] : w.bnEps) {
        (void)v;
        if (!expected.count(bn + ".running_var"))
            throw WeightsError(w.file + ": batch norm '" + bn + "' is not part of a " +
                               spec.archName() + ".");
    }
}

FoldedConv foldBatchNorm(const Node& n, const WeightSet& w) {
    const Tensor& weight = *w.get(n.weightName + ".weight");
    const Tensor* convBias = w.get(n.weightName + ".bias");
    const Tensor* gamma = w.get(n.bnName + ".weight");
    const auto cout = static_cast<size_t>(n.outShape[0]);
    const size_t per = weight.data.size() / cout;
    FoldedConv f;
    f.weights.resize(weight.data.size());
    f.bias.resize(cout);
    for (size_t co = 0; co < cout; ++co) {
        double scale = 1.0;
        double shift = 0.0;
        if (gamma) {
            const double var = w.get(n.bnName + ".running_var")->data[co];
            scale = gamma->data[co] / std::sqrt(var + static_cast<double>(w.eps(n.bnName)));
            shift = w.get(n.bnName + ".bias")->data[co] -
                    w.get(n.bnName + ".running_mean")->data[co] * scale;
        }
        for (size_t k = 0; k < per; ++k)
            f.weights[co * per + k] = static_cast<float>(weight.data[co * per + k] * scale);
        f.bias[co] = static_cast<float>(shift + (convBias ? convBias->data[co] * scale : 0.0));
    }
    return f;
}

WeightSet makeRandomWeights(const NetworkSpec& spec, uint32_t seed) {
    WeightSet w;
    w.format = "untrained demo weights (seed " + std::to_string(seed) + ")";
    Gaussian g(seed);
    for (const Node& n : spec.nodes) {
        if (n.kind == NodeKind::Conv) {
            const int64_t cout = n.outShape[0];
            Tensor weight({cout, n.inShape[0], n.kernel, n.kernel});
            const float std = std::sqrt(2.0F / static_cast<float>(cout * n.kernel * n.kernel));
            for (float& v : weight.data) v = std * g.next();
            w.tensors[n.weightName + ".weight"] = std::move(weight);
            Tensor ones({cout});
            std::fill(ones.data.begin(), ones.data.end(), 1.0F);
            w.tensors[n.bnName + ".weight"] = ones;
            w.tensors[n.bnName + ".running_var"] = ones;
            w.tensors[n.bnName + ".bias"] = Tensor({cout});
            w.tensors[n.bnName + ".running_mean"] = Tensor({cout});
        } else if (n.kind == NodeKind::Fc) {
            const float bound = 1.0F / std::sqrt(static_cast<float>(n.inShape[0]));
            Tensor weight({n.outShape[0], n.inShape[0]});
            Tensor bias({n.outShape[0]});
            for (float& v : weight.data) v = bound * (2.0F * g.uniform() - 1.0F);
            for (float& v : bias.data) v = bound * (2.0F * g.uniform() - 1.0F);
            w.tensors["fc.weight"] = std::move(weight);
            w.tensors["fc.bias"] = std::move(bias);
        }
    }
    return w;
}

}  // namespace r18
