#include "ui/insight/compare_insight.h"

#include "ui/session/session.h"

namespace r18::ui {

CompareInsight::CompareInsight(Session* session, QObject* parent)
    : Insight(session, QStringLiteral("compare"), parent),
      m_runner(std::make_shared<CompareRunner>()) {
    followImageOnScreen([this] { update(); });
    connect(session, &Session::nodeSelected, this, [this] {
        update();
        emit shown();
    });
    connect(session, &Session::engineChanged, this, &CompareInsight::shown);
}

void CompareInsight::setWanted(bool wanted) {
    if (wanted == m_wanted) return;
    m_wanted = wanted;
    m_comparisons.forgetAsked();
    if (wanted)
        update();
    else
        cancel();
    emit shown();
}

ComparisonPtr CompareInsight::comparison() const {
    const ComputedFor on = session()->onScreen();
    if (!on.sourceId) return nullptr;
    return m_comparisons.find(on, session()->selectedNode().toStdString());
}

void CompareInsight::update() {
    const Session& s = *session();
    const ComputedFor on = s.onScreen();
    const std::string node = s.selectedNode().toStdString();
    if (!m_wanted || !on.sourceId || !s.result()->input || node.empty()) return;
    if (m_comparisons.find(on, node) || !m_comparisons.ask(on, node)) return;
    submit<ShownComparison>(
        [runner = m_runner, model = s.engine().model, threads = s.engine().threads,
         calibration = s.int8Calibration(), input = s.result()->input, node, on,
         ablations = s.ablations()](const ProgressFn&) -> std::optional<ShownComparison> {
            return ShownComparison{
                runner->run(model, threads, calibration, *input, node, ablations), on.sourceId};
        },
        [this, on](const ComparisonPtr& c) {
            // Another image's, or another engine's: dropped, never shown.
            if (session()->stillShows(on)) m_comparisons.store(on, c->node, c);
        });
    emit shown();
}

}  // namespace r18::ui
