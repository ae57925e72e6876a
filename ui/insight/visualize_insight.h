// VisualizeInsight: feature visualisation of a channel (or of a class, for "fc") — the input
// that excites it most, synthesised by core's FeatureVisualizer (seeded gradient ascent, cached
// on disk by core), on a thread of its own with progress and cancel. A visualisation belongs to
// the weights it was made with: other weights hide it.
#pragma once

#include <QString>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "core/feature_vis.h"
#include "core/model/model.h"
#include "ui/insight/insight.h"

namespace r18::ui {

// Job-thread state for feature visualisation: a FeatureVisualizer for the current model,
// rebuilt when the model or thread count changes. Use from one thread only.
class VisualizeRunner {
public:
    VisualizeRunner();
    ~VisualizeRunner();
    std::optional<Visualization> run(const std::shared_ptr<const Model>& model, int threads,
                                     const VisualizeOptions& options, const ProgressFn& progress);

private:
    std::shared_ptr<const Model> m_model;
    int m_threads = 0;
    std::unique_ptr<FeatureVisualizer> m_visualizer;
};

class VisualizeInsight : public Insight {
    Q_OBJECT

public:
    explicit VisualizeInsight(Session* session, QObject* parent = nullptr);

    void visualize(const QString& layer, int64_t channel);
    // The visualisation of layer/channel for the weights on screen, or null.
    std::shared_ptr<const Visualization> visualization(const QString& layer, int64_t channel) const;
    // What visualize() asks core for.
    VisualizeOptions options(const QString& layer, int64_t channel) const;

signals:
    void visualizationShown(const QString& layer, qint64 channel);

private:
    ComputedFor weightsOnScreen() const;

    std::shared_ptr<VisualizeRunner> m_runner;  // used on the job thread only
    KeyedCache<std::pair<std::string, int64_t>, Visualization> m_visualizations{64};
};

}  // namespace r18::ui
