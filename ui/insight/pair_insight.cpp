#include "ui/insight/pair_insight.h"

#include "core/pipeline.h"
#include "ui/session/session.h"

namespace r18::ui {

// One pipeline per model, precision, threads and (int8) calibration set, so another B compiles
// nothing. Used on the insight's job thread only.
class PairRunner {
public:
    ImagePair run(const EngineInfo& engine, const Tensor& a, const Tensor& b,
                  const std::vector<ChannelAblation>& ablations) {
        if (!m_pipeline) m_engine.forget();
        EngineOptions o;
        if (m_engine.changed(engine, 1, &o)) {
            m_pipeline.reset();
            m_pipeline = std::make_unique<Pipeline>(engine.model, o);
        }
        RunRequest request;
        request.taps = engine.model->spec().tapNames();
        request.ablations = ablations;
        Classification ra = m_pipeline->run(a, request);
        Classification rb = m_pipeline->run(b, request);
        ImagePair pair;
        pair.nodes = compareEveryNode(engine.model->spec(), ra.taps, rb.taps);
        pair.topA = std::move(ra.top);
        pair.topB = std::move(rb.top);
        pair.tapsA = std::move(ra.taps);
        pair.tapsB = std::move(rb.taps);
        return pair;
    }

private:
    std::unique_ptr<Pipeline> m_pipeline;
    SameEngine m_engine;  // what m_pipeline was compiled for
};

PairInsight::PairInsight(Session* session, QObject* parent)
    : Insight(session, QStringLiteral("pair"), parent), m_runner(std::make_shared<PairRunner>()) {
    followImageOnScreen([this] { update(); });
    connect(session, &Session::engineChanged, this, [this](const EngineInfo& engine) {
        // A was prepared for the model it was pinned with: other weights or labels may prepare
        // images differently, so the pin goes with them.
        if (m_a && engine.model != m_aModel) unpin();
        emit shown();
    });
}

PairInsight::~PairInsight() = default;

bool PairInsight::pin() {
    const Session& s = *session();
    const ResultPtr r = s.result();
    if (!s.onScreen().sourceId || !r || !r->input) return false;
    m_a = r;
    m_aModel = s.engine().model;
    m_pinId = nextRequestId();
    m_pairs.clear();
    if (busy()) cancel();
    emit shown();
    return true;
}

void PairInsight::unpin() {
    m_a.reset();
    m_aModel.reset();
    m_pairs.clear();
    if (busy()) cancel();
    emit shown();
}

QString PairInsight::pinnedLabel() const {
    return m_a ? m_a->source->label : QString();
}

uint64_t PairInsight::pinnedSourceId() const {
    return m_a ? m_a->source->sourceId : 0;
}

QImage PairInsight::pinnedImage() const {
    return m_a ? m_a->display : QImage();
}

void PairInsight::setWanted(bool wanted) {
    if (wanted == m_wanted) return;
    m_wanted = wanted;
    m_pairs.forgetAsked();
    if (wanted)
        update();
    else
        cancel();
    emit shown();
}

PairPtr PairInsight::pair() const {
    if (!m_a) return nullptr;
    return m_pairs.find(session()->onScreen(), m_pinId);
}

void PairInsight::update() {
    const Session& s = *session();
    const ComputedFor on = s.onScreen();
    if (!m_wanted || !m_a || !on.sourceId || !s.result()->input) return;
    if (on.sourceId == m_a->source->sourceId) return;  // A itself: nothing to compare
    if (m_pairs.find(on, m_pinId) || !m_pairs.ask(on, m_pinId)) return;
    const uint64_t pinId = m_pinId;
    submit<ImagePair>(
        [runner = m_runner, engine = s.engine(), a = m_a->input, b = s.result()->input,
         ablations = s.ablations(), labelA = m_a->source->label,
         labelB = s.result()->source->label](const ProgressFn&) -> std::optional<ImagePair> {
            ImagePair pair = runner->run(engine, *a, *b, ablations);
            pair.labelA = labelA;
            pair.labelB = labelB;
            return pair;
        },
        [this, on, pinId](const PairPtr& p) {
            // Another image's, engine's, switch-off's or pin's: dropped, never shown.
            if (session()->stillShows(on) && pinId == m_pinId) m_pairs.store(on, pinId, p);
        });
    emit shown();
}

}  // namespace r18::ui
