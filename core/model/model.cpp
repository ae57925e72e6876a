#include "core/model/model.h"

#include "core/app_data.h"
#include "core/error.h"

namespace r18 {
namespace {

std::string baseName(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string noWeightsMessage() {
    std::string looked;
    for (const std::string& path : defaultWeightsCandidates()) looked += "\n  " + path;
    // The script as this binary can reach it: the checkout's weights/fetch.sh for a build-tree
    // binary, the installed fetch-weights.sh otherwise.
    const std::string script = fetchWeightsScript();
    return "no weights file found. Get torchvision's official ResNet18 weights with\n  " +
           (script.empty() ? std::string("Model > Download Official Weights in the window")
                           : script) +
           "\nor name a file (a .pth state dict or an .onnx model). Looked in:" + looked;
}

}  // namespace

std::string labelsMismatch(const Labels& labels, const NetworkSpec& spec, const std::string& file) {
    if (static_cast<int64_t>(labels.size()) >= spec.numClasses) return {};
    return file + ": the file has " + std::to_string(labels.size()) + " labels but the model has " +
           std::to_string(spec.numClasses) + " classes.";
}

std::shared_ptr<const Model> Model::open(const ModelOptions& options) {
    const std::string path =
        options.weightsPath.empty() ? findDefaultWeights() : options.weightsPath;
    if (path.empty()) {
        if (!options.demoIfMissing) throw WeightsError(noWeightsMessage());
        return options.labelsPath.empty() ? demo() : demo()->withLabels(options.labelsPath);
    }
    return rethrowAsError<WeightsError>(path, [&] { return openFile(path, options.labelsPath); });
}

std::shared_ptr<const Model> Model::openFile(const std::string& path,
                                             const std::string& labelsPath) {
    auto weights = std::make_shared<WeightSet>(loadWeights(path));
    // Read before the weights are checked, so that a config declaring another network is the
    // message the user sees.
    ModelConfig config = readModelConfig(path);
    NetworkSpec inferred = inferSpec(*weights);
    // The network takes the config's input size (global pooling makes any size work).
    if (config.hasPreprocess && config.preprocess.crop != inferred.inputSize)
        inferred = makeResNet(inferred.depths, inferred.numClasses, config.preprocess.crop);
    auto spec = std::make_shared<NetworkSpec>(std::move(inferred));
    validateWeights(*spec, *weights);
    std::shared_ptr<Model> model(new Model);
    model->m_spec = std::move(spec);
    model->m_weights = std::move(weights);
    model->m_trust = model->m_weights->isOfficialImageNet() ? Trust::Official : Trust::Unverified;
    model->m_config = std::move(config);
    model->m_notes = model->m_config.notes;
    model->usePreprocessing();
    model->findLabels(labelsPath);
    return model;
}

std::shared_ptr<const Model> Model::demo() {
    std::shared_ptr<Model> model(new Model);
    model->m_spec = std::make_shared<NetworkSpec>(makeResNet18());
    model->m_weights = std::make_shared<WeightSet>(makeRandomWeights(*model->m_spec));
    model->m_trust = Trust::Untrained;
    model->findLabels({});
    return model;
}

void Model::findLabels(const std::string& labelsPath) {
    m_labelsFile.clear();
    if (!labelsPath.empty()) {
        Labels labels = Labels::fromFile(labelsPath);
        if (const std::string why = labelsMismatch(labels, *m_spec, labelsPath); !why.empty())
            throw Error(why);
        m_labels = std::move(labels);
        m_labelsSource = labelsPath;
        m_labelsFile = labelsPath;
        return;
    }
    if (const std::string beside = Labels::fileBesideWeights(file()); !beside.empty()) {
        try {
            Labels labels = Labels::fromFile(beside);
            if (const std::string why = labelsMismatch(labels, *m_spec, beside); !why.empty())
                throw Error(why);
            m_labels = std::move(labels);
            m_labelsSource = beside;
            m_labelsFile = beside;
            return;
        } catch (const Error& e) {
            m_notes.push_back(std::string(e.what()) +
                              " The labels beside the weights were skipped.");
        }
    }
    if (!m_config.labels.empty()) {
        Labels labels(m_config.labels);
        const std::string source =
            (m_config.kind == "timm" ? "label_names in " : "id2label in ") + m_config.file;
        if (const std::string why = labelsMismatch(labels, *m_spec, source); why.empty()) {
            m_labels = std::move(labels);
            m_labelsSource = source;
            return;
        } else {
            m_notes.push_back(why + " Those labels were skipped.");
        }
    }
    if (m_spec->numClasses == 1000) {
        m_labels = Labels::imagenet();
        m_labelsSource = "ImageNet (built in)";
    } else {
        m_labels = Labels();
        m_labelsSource = "none (classes are shown as \"class N\")";
    }
}

void Model::usePreprocessing() {
    if (!m_config.hasPreprocess) return;
    m_preprocess = m_config.preprocess;
    m_preprocessSource = m_config.preprocessSource;
}

std::vector<RoleAndPath> Model::sourceFiles() const {
    std::vector<RoleAndPath> files;
    if (!file().empty()) files.push_back({"the weights", file()});
    if (!m_labelsFile.empty()) files.push_back({"the labels", m_labelsFile});
    if (!m_config.file.empty()) files.push_back({"the model config", m_config.file});
    return files;
}

std::string Model::weightsSource() const {
    if (file().empty()) return m_weights->format;
    return m_weights->format + (m_weights->naming.empty() ? "" : "; " + m_weights->naming);
}

std::shared_ptr<const Model> Model::withLabels(const std::string& labelsPath) const {
    return rethrowAsError<Error>(labelsPath, [&] {
        std::shared_ptr<Model> copy(new Model(*this));
        copy->m_notes = m_config.notes;
        copy->findLabels(labelsPath);
        return std::shared_ptr<const Model>(std::move(copy));
    });
}

std::string Model::summary() const {
    const char* trust = m_trust == Trust::Official    ? "ImageNet-trained"
                        : m_trust == Trust::Untrained ? "untrained demo weights"
                                                      : "not verified";
    return m_spec->archName() + " · " + (file().empty() ? "demo weights" : baseName(file())) +
           " · " + std::to_string(m_spec->numClasses) + " classes · " + trust;
}

Tensor Model::prepare(const cv::Mat& decoded) const {
    Tensor t({1, 3, m_preprocess.crop, m_preprocess.crop});
    cropToTensor(resizeAndCropDecoded(decoded, m_preprocess), t.ptr(), m_preprocess);
    return t;
}

Tensor Model::prepareRgb(const cv::Mat& rgb8) const {
    Tensor t({1, 3, m_preprocess.crop, m_preprocess.crop});
    cropToTensor(resizeAndCrop(rgb8, m_preprocess), t.ptr(), m_preprocess);
    return t;
}

}  // namespace r18
