#include "core/model/model_config.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace r18 {
namespace {

using Json = nlohmann::json;

constexpr uint64_t kMaxConfigBytes = 16u << 20;  // ImageNet-21k's id2label is ~1 MB

// What a config says that cannot be used: the note names the file and the reason.
struct Skip {
    std::string why;
};

std::string folderOf(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

// "" if the file does not exist; throws Skip if it exists but cannot be read.
std::string readText(const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return {};
    if (!S_ISREG(st.st_mode)) throw Skip{path + " is not a regular file"};
    if (static_cast<uint64_t>(st.st_size) > kMaxConfigBytes)
        throw Skip{path + " is larger than any model config (" + std::to_string(st.st_size >> 20) +
                   " MB)"};
    std::ifstream f(path, std::ios::binary);
    std::stringstream text;
    text << f.rdbuf();
    if (!f) throw Skip{path + " cannot be read"};
    return text.str();
}

// A value from the file in a message: scalars as written, containers only by kind (a hostile,
// deeply nested value must not be serialised recursively).
std::string describe(const Json& j) {
    if (j.is_string()) return "'" + j.get<std::string>().substr(0, 64) + "'";
    if (j.is_primitive()) return j.dump();
    return j.is_array() ? "(a list)" : "(an object)";
}

std::string number(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

Json parse(const std::string& text, const std::string& file) {
    try {
        Json j = Json::parse(text);
        if (!j.is_object()) throw Skip{file + " is not a JSON object"};
        return j;
    } catch (const Json::exception& e) {
        throw Skip{file + " is not valid JSON (" + e.what() + ")"};
    }
}

std::array<float, 3> triple(const Json& j, const char* key, const std::string& file) {
    if (!j.is_array() || j.size() != 3)
        throw Skip{file + ": '" + key + "' is not a list of 3 numbers"};
    std::array<float, 3> v{};
    for (size_t i = 0; i < 3; ++i) {
        if (!j[i].is_number()) throw Skip{file + ": '" + key + "' is not a list of 3 numbers"};
        v[i] = j[i].get<float>();
    }
    return v;
}

void checkStd(const std::array<float, 3>& std, const std::string& file) {
    for (float s : std)
        if (!(s > 0.0F) || !std::isfinite(s))
            throw Skip{file + ": 'std' must hold positive numbers"};
}

int resizeFor(int crop, double cropPct, const std::string& file) {
    if (!(cropPct > 0.05 && cropPct <= 1.0))
        throw Skip{file + ": crop_pct " + number(cropPct) +
                   " is outside (0.05, 1]; only centre crops inside the image are supported"};
    return resizeForCropPct(crop, cropPct);
}

int cropSize(int64_t size, const std::string& file) {
    if (size < 16 || size > 1024)
        throw Skip{file + ": input size " + std::to_string(size) +
                   " is outside the 16..1024 pixels the app runs"};
    return static_cast<int>(size);
}

// Labels in class order from a list, or from {"0": "tench", ...}; placeholders dropped.
std::vector<std::string> labelList(const Json& j, const std::string& file, const char* key) {
    std::vector<std::string> labels;
    if (j.is_array()) {
        for (const Json& l : j) {
            if (!l.is_string()) throw Skip{file + ": '" + key + "' holds a non-string"};
            labels.push_back(l.get<std::string>());
        }
    } else if (j.is_object()) {
        labels.resize(j.size());
        std::vector<bool> seen(j.size(), false);
        for (const auto& [id, l] : j.items()) {
            char* end = nullptr;
            const long index = std::strtol(id.c_str(), &end, 10);
            if (id.empty() || *end != '\0' || index < 0 ||
                static_cast<size_t>(index) >= labels.size() || seen[static_cast<size_t>(index)] ||
                !l.is_string())
                throw Skip{file + ": '" + key + "' is not numbered 0.." +
                           std::to_string(j.size() - 1) + " with string labels"};
            seen[static_cast<size_t>(index)] = true;
            labels[static_cast<size_t>(index)] = l.get<std::string>();
        }
    } else {
        throw Skip{file + ": '" + key + "' is neither a list nor a map"};
    }
    bool placeholders = true;
    for (size_t i = 0; i < labels.size() && placeholders; ++i)
        placeholders = labels[i] == "LABEL_" + std::to_string(i);
    if (placeholders) labels.clear();
    return labels;
}

void readTimmPreprocess(const Json& pretrained, const std::string& file, ModelConfig& c);

void readTimm(const Json& config, const std::string& file, ModelConfig& c) {
    c.kind = "timm";
    if (const auto names = config.find("label_names"); names != config.end()) {
        try {
            c.labels = labelList(*names, file, "label_names");
        } catch (const Skip& s) {
            c.notes.push_back(s.why + "; its labels were skipped.");
        }
    }
    const auto cfg = config.contains("pretrained_cfg") ? config.find("pretrained_cfg")
                                                       : config.find("default_cfg");
    if (cfg == config.end() || !cfg->is_object()) {
        c.notes.push_back(file +
                          " has no 'pretrained_cfg'; using torchvision's evaluation transform.");
        return;
    }
    try {
        readTimmPreprocess(*cfg, file, c);
    } catch (const Skip& s) {
        c.notes.push_back(s.why + "; using torchvision's evaluation transform.");
    } catch (const Json::exception& e) {
        c.notes.push_back(file + ": 'pretrained_cfg' does not have the expected types (" +
                          e.what() + "); using torchvision's evaluation transform.");
    }
}

void readTimmPreprocess(const Json& pretrained, const std::string& file, ModelConfig& c) {
    const Json* cfg = &pretrained;
    PreprocessOptions o;
    o.interpolation = Interpolation::Bicubic;  // resolve_data_config's default
    if (const auto in = cfg->find("interpolation"); in != cfg->end()) {
        const std::string mode = in->is_string() ? in->get<std::string>() : describe(*in);
        if (mode == "bilinear")
            o.interpolation = Interpolation::Bilinear;
        else if (mode != "bicubic")
            throw Skip{file + ": interpolation '" + mode +
                       "' is not supported (bilinear and bicubic are)"};
    }
    int crop = 224;
    if (const auto size = cfg->find("input_size"); size != cfg->end()) {
        if (!size->is_array() || size->size() != 3 || !(*size)[1].is_number_integer() ||
            !(*size)[2].is_number_integer())
            throw Skip{file + ": 'input_size' is not [3, height, width]"};
        if ((*size)[1] != (*size)[2])
            throw Skip{file + ": input_size [3, " + describe((*size)[1]) + ", " +
                       describe((*size)[2]) + "]" +
                       " is not square; only square inputs are supported"};
        crop = cropSize((*size)[1].get<int64_t>(), file);
    }
    double cropPct = 0.875;  // timm's DEFAULT_CROP_PCT
    if (const auto pct = cfg->find("crop_pct"); pct != cfg->end() && !pct->is_null()) {
        if (!pct->is_number()) throw Skip{file + ": 'crop_pct' is not a number"};
        cropPct = pct->get<double>();
    }
    if (const auto mode = cfg->find("crop_mode");
        mode != cfg->end() && !(mode->is_string() && mode->get<std::string>() == "center"))
        throw Skip{file + ": crop_mode " + describe(*mode) + " is not supported (center is)"};
    o.crop = crop;
    o.resize = resizeFor(crop, cropPct, file);
    if (const auto mean = cfg->find("mean"); mean != cfg->end())
        o.mean = triple(*mean, "mean", file);
    if (const auto std = cfg->find("std"); std != cfg->end()) o.std = triple(*std, "std", file);
    checkStd(o.std, file);
    c.hasPreprocess = true;
    c.preprocess = o;
    c.preprocessSource = "timm config: " + std::string(interpolationName(o.interpolation)) +
                         ", crop " + number(cropPct) + " (resize " + std::to_string(o.resize) +
                         ", crop " + std::to_string(o.crop) + ")";
}

void readTransformersPreprocessor(const Json& p, const std::string& file, ModelConfig& c) {
    if (p.value("do_resize", true) == false || p.value("do_normalize", true) == false ||
        p.value("do_rescale", true) == false)
        throw Skip{file + " turns off resizing, rescaling or normalising, which is not supported"};
    PreprocessOptions o;
    o.floorCropOffset = true;
    int shortest = 224;
    if (const auto size = p.find("size"); size != p.end()) {
        if (size->is_number_integer())
            shortest = cropSize(size->get<int64_t>(), file);
        else if (size->is_object() && size->contains("shortest_edge") &&
                 (*size)["shortest_edge"].is_number_integer())
            shortest = cropSize((*size)["shortest_edge"].get<int64_t>(), file);
        else
            throw Skip{file + ": size " + describe(*size) +
                       " is not supported (a number or {\"shortest_edge\": N} is)"};
    }
    if (shortest >= 384)
        throw Skip{file + ": size " + std::to_string(shortest) +
                   " means a resize without a crop, which is not supported"};
    double cropPct = 224.0 / 256.0;  // ConvNextImageProcessor's default
    if (const auto pct = p.find("crop_pct"); pct != p.end() && !pct->is_null()) {
        if (!pct->is_number()) throw Skip{file + ": 'crop_pct' is not a number"};
        cropPct = pct->get<double>();
    }
    // PIL's filter numbers: 2 bilinear, 3 bicubic.
    // Checked as a JSON integer first: a float such as 4e27 converted to int is undefined.
    const auto r = p.find("resample");
    if (r != p.end() && !(r->is_number_integer() && (*r == 2 || *r == 3)))
        throw Skip{file + ": resample " + describe(*r) +
                   " is not supported (2, bilinear, and 3, bicubic, are)"};
    const int resample = r == p.end() ? 3 : r->get<int>();
    o.interpolation = resample == 3 ? Interpolation::Bicubic : Interpolation::Bilinear;
    o.crop = shortest;
    // int(shortest_edge / crop_pct), as Python truncates.
    if (!(cropPct > 0.05 && cropPct <= 1.0))
        throw Skip{file + ": crop_pct " + number(cropPct) + " is outside (0.05, 1]"};
    o.resize = static_cast<int>(shortest / cropPct);
    if (const auto mean = p.find("image_mean"); mean != p.end())
        o.mean = triple(*mean, "image_mean", file);
    if (const auto std = p.find("image_std"); std != p.end())
        o.std = triple(*std, "image_std", file);
    checkStd(o.std, file);
    c.hasPreprocess = true;
    c.preprocess = o;
    c.preprocessSource =
        "transformers preprocessor config: " + std::string(interpolationName(o.interpolation)) +
        ", crop " + number(cropPct) + " (resize " + std::to_string(o.resize) + ", crop " +
        std::to_string(o.crop) + ")";
}

void readTransformers(const Json& config, const std::string& file, const std::string& preprocessor,
                      const std::string& preprocessorFile, ModelConfig& c) {
    c.kind = "transformers";
    if (config.value("layer_type", std::string("basic")) == "bottleneck")
        throw WeightsError(file +
                           ": layer_type 'bottleneck' is a ResNet50 or larger; only "
                           "basic-block ResNets (ResNet18, ResNet34) are supported.");
    if (config.value("downsample_in_first_stage", false))
        c.notes.push_back(file +
                          " sets downsample_in_first_stage, which torchvision's ResNet does not "
                          "have; the weights may not fit.");
    if (const auto labels = config.find("id2label"); labels != config.end()) {
        try {
            c.labels = labelList(*labels, file, "id2label");
        } catch (const Skip& s) {
            c.notes.push_back(s.why + "; its labels were skipped.");
        }
    }
    if (preprocessor.empty()) {
        c.notes.push_back(file +
                          " has no preprocessor_config.json beside it; using torchvision's "
                          "evaluation transform.");
        return;
    }
    try {
        readTransformersPreprocessor(parse(preprocessor, preprocessorFile), preprocessorFile, c);
    } catch (const Skip& s) {
        c.notes.push_back(s.why + "; using torchvision's evaluation transform.");
    } catch (const Json::exception& e) {
        c.notes.push_back(preprocessorFile + " does not have the expected types (" + e.what() +
                          "); using torchvision's evaluation transform.");
    }
}

}  // namespace

ModelConfig parseModelConfig(const std::string& configJson, const std::string& preprocessorJson,
                             const std::string& folder) {
    ModelConfig c;
    const std::string file = folder + "config.json";
    const std::string preprocessorFile = folder + "preprocessor_config.json";
    try {
        const Json config = parse(configJson, file);
        c.file = file;
        if (config.contains("pretrained_cfg") || config.contains("default_cfg") ||
            config.contains("architecture")) {
            readTimm(config, file, c);
        } else if (config.value("model_type", std::string()) == "resnet") {
            readTransformers(config, file, preprocessorJson, preprocessorFile, c);
        } else {
            throw Skip{file + " is neither a timm nor a transformers ResNet config"};
        }
    } catch (const Skip& s) {
        const std::vector<std::string> notes = c.notes;
        c = ModelConfig{};
        c.notes = notes;
        c.notes.push_back(s.why + "; it was skipped.");
    } catch (const Json::exception& e) {
        const std::vector<std::string> notes = c.notes;
        c = ModelConfig{};
        c.notes = notes;
        c.notes.push_back(file + " does not have the expected types (" + e.what() +
                          "); it was skipped.");
    }
    return c;
}

ModelConfig readModelConfig(const std::string& weightsPath) {
    const std::string folder = folderOf(weightsPath);
    try {
        const std::string config = readText(folder + "config.json");
        if (config.empty()) return {};
        std::string preprocessor;
        try {
            preprocessor = readText(folder + "preprocessor_config.json");
        } catch (const Skip&) {
        }
        return parseModelConfig(config, preprocessor, folder);
    } catch (const Skip& s) {
        ModelConfig c;
        c.notes.push_back(s.why + "; it was skipped.");
        return c;
    }
}

}  // namespace r18
