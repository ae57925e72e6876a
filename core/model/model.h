// Model: the one place that opens a model — the weights, the network they describe, the labels
// and the preprocessing they expect — and says what they are (official, someone's own weights,
// untrained). Immutable once opened: share it as std::shared_ptr<const Model> between the CLI,
// the window's worker and the folder job.
//
// Where things come from, in order:
//   weights        ModelOptions::weightsPath, else defaultWeightsCandidates() (first that
//                  exists), else the untrained demo weights if demoIfMissing, else WeightsError
//   labels         ModelOptions::labelsPath, else "<weights>.labels.txt/.json" beside the
//                  weights, else label_names / id2label from a config.json beside the weights
//                  (model_config.h), else ImageNet's for a 1000-class model, else "class N"
//   preprocessing  the config's (timm's pretrained_cfg, transformers' preprocessor_config.json),
//                  else torchvision's evaluation transform (Resize 256, CenterCrop 224,
//                  ImageNet mean and std)
#pragma once

#include <opencv2/core.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/files.h"
#include "core/media/preprocess.h"
#include "core/model/labels.h"
#include "core/model/model_config.h"
#include "core/model/network_spec.h"
#include "core/model/weights.h"
#include "core/tensor.h"

namespace r18 {

// What the weights are, as far as the app can tell.
enum class Trust {
    Official,    // torchvision's ImageNet file, recognised by its hash
    Unverified,  // a file of the user's: fine-tuned, retrained, converted — or untrained
    Untrained,   // the built-in demo weights: random, predictions meaningless
};

struct ModelOptions {
    std::string weightsPath;     // empty: the default locations
    std::string labelsPath;      // empty: beside the weights, ImageNet's, or none
    bool demoIfMissing = false;  // no weights file anywhere: the demo weights instead of an error
};

class Model {
public:
    // Reads, maps and validates the weights, then finds labels and preprocessing.
    // Throws WeightsError (weights, or none found: the message lists where it looked) or Error
    // (an explicitly named labels file that cannot be used). A labels file merely found beside
    // the weights that cannot be used is skipped, with a note.
    static std::shared_ptr<const Model> open(const ModelOptions& options);
    // Torchvision's ResNet18 initialised from a fixed seed: a demo, and the bench's weights.
    static std::shared_ptr<const Model> demo();

    // The same network and weights named by another labels file. Throws Error naming the file
    // when it cannot be read or holds fewer labels than the model has classes.
    std::shared_ptr<const Model> withLabels(const std::string& labelsPath) const;

    const NetworkSpec& spec() const { return *m_spec; }
    const WeightSet& weights() const { return *m_weights; }
    const Labels& labels() const { return m_labels; }
    const PreprocessOptions& preprocess() const { return m_preprocess; }
    // Shared handles, for code that keeps the parts longer than the model (GradCam, calibration).
    std::shared_ptr<const NetworkSpec> specPtr() const { return m_spec; }
    std::shared_ptr<const WeightSet> weightsPtr() const { return m_weights; }

    Trust trust() const { return m_trust; }
    const std::string& file() const { return m_weights->file; }  // empty for the demo
    // Where each part came from, in a few words for the window's model line and `info`:
    //   weightsSource     "safetensors; Hugging Face transformers names mapped onto torchvision's"
    //   labelsSource      a labels file's path, "label_names in /x/config.json",
    //                     "ImageNet (built in)", or "none (classes are shown as "class N")"
    //   preprocessSource  "timm config: bicubic, crop 0.95 (resize 235, crop 224)" or
    //                     "torchvision evaluation transform"
    std::string weightsSource() const;
    const std::string& labelsSource() const { return m_labelsSource; }
    const std::string& preprocessSource() const { return m_preprocessSource; }
    // Things noticed while opening that the user should hear about (a labels file or config
    // beside the weights that was skipped, and why).
    const std::vector<std::string>& notes() const { return m_notes; }
    // The files the model was read from, each with its role: {"the weights", path}, {"the
    // labels", path}, {"the model config", path}. Outputs are checked against them
    // (outputOverInputProblem() in core/files.h).
    std::vector<RoleAndPath> sourceFiles() const;

    // One line: "ResNet18 · resnet18-f37072fd.pth · 1000 classes · ImageNet-trained".
    std::string summary() const;
    // One plain sentence about what the weights are and what their predictions mean.
    std::string trustNote() const { return m_weights->trustNote(); }

    // A decoded image (any layout readImage() returns) as the [1,3,S,S] tensor the network
    // takes, with this model's preprocessing. Throws ImageError.
    Tensor prepare(const cv::Mat& decoded) const;
    // The same from 8-bit RGB (toRgb8()'s output), for callers that also display the image.
    Tensor prepareRgb(const cv::Mat& rgb8) const;

private:
    Model() = default;
    static std::shared_ptr<const Model> openFile(const std::string& path,
                                                 const std::string& labelsPath);
    void findLabels(const std::string& labelsPath);
    void usePreprocessing();

    std::shared_ptr<const NetworkSpec> m_spec;
    std::shared_ptr<const WeightSet> m_weights;
    Labels m_labels;
    PreprocessOptions m_preprocess;
    Trust m_trust = Trust::Untrained;
    std::string m_labelsSource;
    std::string m_labelsFile;  // empty unless the labels came from a file of their own
    std::string m_preprocessSource = "torchvision evaluation transform";
    ModelConfig m_config;  // the config beside the weights, if any
    std::vector<std::string> m_notes;
};

// The label file's label count against the model's classes: "" if usable, else the reason.
std::string labelsMismatch(const Labels& labels, const NetworkSpec& spec, const std::string& file);

}  // namespace r18
