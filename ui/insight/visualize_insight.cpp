#include "ui/insight/visualize_insight.h"

#include "ui/session/session.h"

namespace r18::ui {

VisualizeRunner::VisualizeRunner() = default;
VisualizeRunner::~VisualizeRunner() = default;

std::optional<Visualization> VisualizeRunner::run(const std::shared_ptr<const Model>& model,
                                                  int threads, const VisualizeOptions& options,
                                                  const ProgressFn& progress) {
    if (!m_visualizer || model != m_model || threads != m_threads) {
        m_visualizer.reset();
        m_visualizer = std::make_unique<FeatureVisualizer>(model, threads);
        m_model = model;
        m_threads = threads;
    }
    return m_visualizer->visualize(options, progress);
}

VisualizeInsight::VisualizeInsight(Session* session, QObject* parent)
    : Insight(session, QStringLiteral("visualize"), parent),
      m_runner(std::make_shared<VisualizeRunner>()) {
    connect(session, &Session::engineChanged, this, &VisualizeInsight::shown);
}

ComputedFor VisualizeInsight::weightsOnScreen() const {
    ComputedFor weights;
    weights.weightsId = session()->onScreen().weightsId;
    return weights;
}

VisualizeOptions VisualizeInsight::options(const QString& layer, int64_t channel) const {
    VisualizeOptions options;
    options.layer = layer.toStdString();
    options.channel = channel;
    return options;
}

void VisualizeInsight::visualize(const QString& layer, int64_t channel) {
    if (!session()->hasModel()) return;
    const ComputedFor weights = weightsOnScreen();
    submit<Visualization>(
        [runner = m_runner, model = session()->engine().model,
         threads = session()->engine().threads, options = options(layer, channel)](
            const ProgressFn& progress) { return runner->run(model, threads, options, progress); },
        [this, weights, layer, channel](const std::shared_ptr<const Visualization>& made) {
            if (!session()->stillShows(weights)) return;  // made for other weights
            m_visualizations.store(weights, {layer.toStdString(), channel}, made);
            emit visualizationShown(layer, channel);
        });
}

std::shared_ptr<const Visualization> VisualizeInsight::visualization(const QString& layer,
                                                                     int64_t channel) const {
    return m_visualizations.find(weightsOnScreen(), {layer.toStdString(), channel});
}

}  // namespace r18::ui
