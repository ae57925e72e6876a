#include "ui/insight/importance_insight.h"

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
        if (!m_job) m_engine.forget();
        EngineOptions o;
        if (m_engine.changed(engine, kChannelsPerRun, &o)) {
            m_job.reset();
            m_job = std::make_unique<ChannelImportance>(engine.model, o);
        }
        return m_job->compute(input, options, progress);
    }

private:
    std::unique_ptr<ChannelImportance> m_job;
    SameEngine m_engine;  // what m_job was compiled for
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
