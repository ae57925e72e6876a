// PairInsight: two images side by side. The image on screen is pinned as A; every still image
// or frozen frame shown after it is B. Both run through the window's engine (precision, threads,
// int8 calibration, channels switched off) with every node tapped, on a thread of its own; the
// pair holds both top-5s, each node's cosine similarity and max |B − A| (core's
// compareEveryNode) and both images' activations, so the panel can show any node's A, B and
// |A − B| without running anything again.
#pragma once

#include <QImage>
#include <QString>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/model/model.h"
#include "core/model/predictions.h"
#include "core/tap_stats.h"
#include "core/tensor.h"
#include "ui/insight/insight.h"

namespace r18::ui {

struct ImagePair {
    QString labelA;
    QString labelB;
    std::vector<Prediction> topA;
    std::vector<Prediction> topB;
    std::vector<NodeComparison> nodes;  // network order
    std::map<std::string, Tensor> tapsA;
    std::map<std::string, Tensor> tapsB;
};
using PairPtr = std::shared_ptr<const ImagePair>;

class PairRunner;

class PairInsight : public Insight {
    Q_OBJECT

public:
    explicit PairInsight(Session* session, QObject* parent = nullptr);
    ~PairInsight() override;

    // Pins the image on screen as A (false if none is settled on screen).
    bool pin();
    void unpin();
    bool pinned() const { return m_a != nullptr; }
    QString pinnedLabel() const;
    uint64_t pinnedSourceId() const;  // 0 if none
    QImage pinnedImage() const;       // A as it was displayed

    // Computed only while wanted (its panel is open).
    void setWanted(bool wanted);
    // The pair of A and the image on screen, or null (none pinned, A itself on screen, computing).
    PairPtr pair() const;

private:
    void update();

    bool m_wanted = false;
    ResultPtr m_a;  // the pinned image's result: its source, display and prepared input
    std::shared_ptr<const Model> m_aModel;       // the model it was prepared for
    uint64_t m_pinId = 0;                        // a new one per pin
    std::shared_ptr<PairRunner> m_runner;        // used on the job thread only
    KeyedCache<uint64_t, ImagePair> m_pairs{4};  // by pin
};

}  // namespace r18::ui
