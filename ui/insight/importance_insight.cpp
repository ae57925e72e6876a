#include "ui/insight/importance_insight.h"

#include "core/engine/calibration.h"
#include "ui/session/session.h"

namespace r18::ui {

namespace {
constexpr int kChannelsPerRun = 16;
}  // namespace

// Keeps one ChannelImportance per model, precision, threads and (int8) calibration set, so another
// node, class or image compiles nothing. Used on the insight's job thread only.
class ImportanceRunner {
public:
    std::optional<ChannelImportanceResult> run(const EngineInfo& engine, const Tensor& input,
                                               const ChannelImportanceOptions& options,
                                               const ProgressFn& progress) {
        std::vector<const Tensor*> set;
        if (engine.precision == Precision::Int8)
            for (const auto& t : engine.calibration) set.push_back(t.get());
        if (!m_job || engine.model != m_model || engine.precision != m_precision ||
            engine.threads != m_threads || set != m_calibratedOn) {
            m_job.reset();
            EngineOptions o = EngineOptions()
                                  .with(engine.precision)
                                  .withThreads(engine.threads)
                                  .withBatch(kChannelsPerRun);
            if (engine.precision == Precision::Int8) {
                // The window's int8: calibrated on the same images its engine was.
                std::vector<Tensor> inputs;
                for (const auto& t : engine.calibration) inputs.push_back(*t);
                o.withCalibration(std::make_shared<const Calibration>(calibrate(
                    engine.model->spec(), engine.model->weights(), inputs, engine.threads)));
            }
            m_job = std::make_unique<ChannelImportance>(engine.model, o);
            m_model = engine.model;
            m_precision = engine.precision;
            m_threads = engine.threads;
            m_calibratedOn = set;
        }
        return m_job->compute(input, options, progress);
    }

private:
    std::unique_ptr<ChannelImportance> m_job;
    std::shared_ptr<const Model> m_model;
    Precision m_precision = Precision::Fp32;
    int m_threads = 0;
    std::vector<const Tensor*> m_calibratedOn;
};

ImportanceInsight::ImportanceInsight(Session* session, QObject* parent)
    : Insight(session, QStringLiteral("importance"), parent),
      m_runner(std::make_shared<ImportanceRunner>()) {
    followImageOnScreen([this] { update(); });
    connect(session, &Session::nodeSelected, this, [this] {
        update();
        emit shown();
    });
    connect(session, &Session::engineChanged, this, &ImportanceInsight::shown);
}

ImportanceInsight::~ImportanceInsight() = default;

void ImportanceInsight::setWanted(bool wanted) {
    if (wanted == m_wanted) return;
    m_wanted = wanted;
    m_results.forgetAsked();
    if (wanted)
        update();
    else
        cancel();
    emit shown();
}

ImportanceKey ImportanceInsight::key() const {
    const Session& s = *session();
    const ResultPtr r = s.result();
    if (!s.onScreen().sourceId || !r || r->top.empty() || s.selectedNode().isEmpty()) return {};
    const int64_t wanted = s.heatmap().classIndex;
    return {s.selectedNode().toStdString(), wanted == kTopClass ? r->top.front().index : wanted};
}

ImportancePtr ImportanceInsight::importance() const {
    const ImportanceKey k = key();
    if (k.node.empty()) return nullptr;
    return m_results.find(session()->onScreen(), k);
}

void ImportanceInsight::compute() {
    m_results.forgetAsked();
    update();
}

void ImportanceInsight::update() {
    const Session& s = *session();
    const ComputedFor on = s.onScreen();
    const ImportanceKey k = key();
    if (!m_wanted || k.node.empty() || k.node == "input" || !s.result()->input) return;
    if (m_results.find(on, k) || !m_results.ask(on, k)) return;
    ChannelImportanceOptions options;
    options.node = k.node;
    options.classIndex = k.classIndex;
    options.ablations = s.ablations();
    submit<ChannelImportanceResult>(
        [runner = m_runner, engine = s.engine(), input = s.result()->input, options](
            const ProgressFn& progress) { return runner->run(engine, *input, options, progress); },
        [this, on, k](const ImportancePtr& r) {
            // Another image's, engine's or switch-off's: dropped, never shown.
            if (session()->stillShows(on)) m_results.store(on, k, r);
        });
    emit shown();
}

}  // namespace r18::ui
