#include "core/model/weight_names.h"

#include <cstdlib>
#include <vector>

namespace r18 {
namespace {

constexpr const char* kTorchvisionStem = "conv1.weight";
constexpr const char* kTorchvisionBlock = "layer1.0.conv1.weight";
constexpr const char* kTransformersStem = "resnet.embedder.embedder.convolution.weight";
constexpr const char* kTransformersBlock =
    "resnet.encoder.stages.0.layers.0.layer.0.convolution.weight";

bool startsWith(const std::string& s, const std::string& prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

bool endsWith(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> parts;
    size_t at = 0;
    for (;;) {
        const size_t dot = s.find('.', at);
        parts.push_back(s.substr(at, dot == std::string::npos ? std::string::npos : dot - at));
        if (dot == std::string::npos) return parts;
        at = dot + 1;
    }
}

bool isIndex(const std::string& s, int limit) {
    if (s.empty() || s.size() > 3 || s.find_first_not_of("0123456789") != std::string::npos)
        return false;
    return std::atoi(s.c_str()) < limit;
}

std::string join(const std::vector<std::string>& parts, size_t from) {
    std::string s;
    for (size_t i = from; i < parts.size(); ++i) s += (s.empty() ? "" : ".") + parts[i];
    return s;
}

// One transformers name as torchvision's, or "" if it is not one of the names above.
std::string fromTransformers(const std::string& name) {
    const std::vector<std::string> p = split(name);
    const auto module = [](const std::string& kind, const std::string& conv,
                           const std::string& bn) -> std::string {
        return kind == "convolution" ? conv : kind == "normalization" ? bn : "";
    };
    if (p.size() >= 5 && p[0] == "resnet" && p[1] == "embedder" && p[2] == "embedder") {
        const std::string m = module(p[3], "conv1", "bn1");
        return m.empty() ? "" : m + "." + join(p, 4);
    }
    if (p.size() >= 8 && p[0] == "resnet" && p[1] == "encoder" && p[2] == "stages" &&
        isIndex(p[3], 4) && p[4] == "layers" && isIndex(p[5], 1000)) {
        const std::string block =
            "layer" + std::to_string(std::atoi(p[3].c_str()) + 1) + "." + p[5] + ".";
        if (p[6] == "layer" && p.size() >= 10 && isIndex(p[7], 9)) {
            const std::string j = std::to_string(std::atoi(p[7].c_str()) + 1);
            const std::string m = module(p[8], "conv" + j, "bn" + j);
            return m.empty() ? "" : block + m + "." + join(p, 9);
        }
        if (p[6] == "shortcut") {
            const std::string m = module(p[7], "downsample.0", "downsample.1");
            return m.empty() ? "" : block + m + "." + join(p, 8);
        }
    }
    if (p.size() == 3 && p[0] == "classifier" && p[1] == "1") return "fc." + p[2];
    return "";
}

// The prefix under which a ResNet's stem and first block are, in either naming; the shortest
// (then the first) if several are. Sets *transformers when that naming was found.
bool findPrefix(const WeightSet& w, std::string* prefix, bool* transformers) {
    bool found = false;
    const auto consider = [&](const std::string& name, const char* stem, const char* block,
                              bool hf) {
        if (!endsWith(name, stem)) return;
        const std::string p = name.substr(0, name.size() - std::string(stem).size());
        if (!p.empty() && p.back() != '.') return;
        if (!w.tensors.count(p + block)) return;
        if (found && p.size() >= prefix->size()) return;
        *prefix = p;
        *transformers = hf;
        found = true;
    };
    for (const auto& [name, t] : w.tensors) {
        (void)t;
        consider(name, kTorchvisionStem, kTorchvisionBlock, false);
        consider(name, kTransformersStem, kTransformersBlock, true);
    }
    return found;
}

template <class Map>
Map renamed(Map& in, const std::string& prefix, bool transformers, size_t* dropped) {
    Map out;
    for (auto& [name, value] : in) {
        if (!startsWith(name, prefix)) {
            ++*dropped;
            continue;
        }
        std::string n = name.substr(prefix.size());
        if (transformers) {
            const std::string tv = fromTransformers(n);
            if (!tv.empty()) n = tv;
        }
        out[n] = std::move(value);
    }
    return out;
}

}  // namespace

std::string mapToTorchvisionNames(WeightSet& w) {
    std::string prefix;
    bool transformers = false;
    if (!findPrefix(w, &prefix, &transformers) || (prefix.empty() && !transformers)) return {};
    size_t dropped = 0;
    w.tensors = renamed(w.tensors, prefix, transformers, &dropped);
    w.nonFloat = renamed(w.nonFloat, prefix, transformers, &dropped);
    std::string what;
    if (transformers) what = "Hugging Face transformers names mapped onto torchvision's";
    if (!prefix.empty())
        what += std::string(what.empty() ? "" : "; ") + "prefix '" + prefix + "' stripped";
    if (dropped > 0)
        what += " (" + std::to_string(dropped) + " tensor" + (dropped == 1 ? "" : "s") +
                " outside it ignored)";
    return what;
}

}  // namespace r18
