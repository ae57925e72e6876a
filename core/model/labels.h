// Class labels: torchvision's ImageNet categories built in, or a user's file for a fine-tuned
// model. The files people have, told apart by content:
//   one label per line                      tench
//   a JSON list of strings                  ["tench", "goldfish", ...]
//   imagenet_class_index.json (Keras, many  {"0": ["n01440764", "tench"], ...}: the name is the
//   PyTorch tutorials)                      label, the WordNet id is kept (id())
//   LOC_synset_mapping.txt (ImageNet's      n01440764 tench, Tinca tinca: the first name is the
//   Kaggle release)                         label, the WordNet id is kept
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace r18 {

class Labels {
public:
    Labels() = default;
    explicit Labels(std::vector<std::string> names, std::vector<std::string> ids = {})
        : m_names(std::move(names)), m_ids(std::move(ids)) {}

    // torchvision's 1000 ImageNet-1k categories (ResNet18_Weights.IMAGENET1K_V1.meta).
    static Labels imagenet();
    // Throws Error naming the file when it cannot be read or parsed, or is not UTF-8 (labels
    // go into JSON output and onto the screen; a file in another encoding is refused, naming
    // the line, rather than copied through as invalid text). A FIFO or device is refused
    // before it is opened.
    static Labels fromFile(const std::string& path);

    // The labels file that goes with a weights file, if there is one: "<weights without its
    // extension>.labels.txt" or ".labels.json" ("model.pth" -> "model.labels.txt"). Empty
    // string if neither exists.
    static std::string fileBesideWeights(const std::string& weightsPath);

    // The label of a class, or "class 17" when there is none.
    std::string name(int64_t index) const;
    // The class's WordNet id ("n01440764") when the file gave one, else "".
    std::string id(int64_t index) const;
    size_t size() const { return m_names.size(); }
    bool empty() const { return m_names.empty(); }

private:
    std::vector<std::string> m_names;
    std::vector<std::string> m_ids;  // empty, or one per name
};

}  // namespace r18
