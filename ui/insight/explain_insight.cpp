#include "ui/insight/explain_insight.h"

#include <algorithm>
#include <cmath>

#include "ui/session/image_convert.h"
#include "ui/session/session.h"
#include "ui/views/colormap.h"

namespace r18::ui {

bool hasLayer(AttributionMethod method) {
    return method == AttributionMethod::GradCam || method == AttributionMethod::ScoreCam;
}

QImage cropImage(const Tensor& input, const PreprocessOptions& preprocess) {
    if (input.dims.size() != 4 || input.dims[1] != 3) return {};
    const int h = static_cast<int>(input.dims[2]);
    const int w = static_cast<int>(input.dims[3]);
    QImage image(w, h, QImage::Format_RGB888);
    const size_t plane = static_cast<size_t>(h) * static_cast<size_t>(w);
    for (int y = 0; y < h; ++y) {
        uint8_t* row = image.scanLine(y);
        for (int x = 0; x < w; ++x)
            for (size_t c = 0; c < 3; ++c) {
                const float v =
                    input.data[c * plane + static_cast<size_t>(y * w + x)] * preprocess.std[c] +
                    preprocess.mean[c];
                row[x * 3 + static_cast<int>(c)] =
                    static_cast<uint8_t>(std::clamp(std::lround(v * 255.0F), 0L, 255L));
            }
    }
    return image;
}

ExplainRunner::ExplainRunner() = default;
ExplainRunner::~ExplainRunner() = default;

std::optional<Explanation> ExplainRunner::run(const EngineInfo& engine, const Tensor& input,
                                              const ExplainSettings& settings,
                                              const ProgressFn& progress,
                                              const std::vector<ChannelAblation>& ablations) {
    const std::shared_ptr<const Model>& model = engine.model;
    if (!m_explainer || model != m_model || engine.threads != m_threads) {
        m_explainer.reset();
        m_scoreCamEngine.forget();
        m_explainer = std::make_unique<Explainer>(model, engine.threads);
        m_model = model;
        m_threads = engine.threads;
    }
    EngineOptions scoreCamOptions;
    if (settings.method == AttributionMethod::ScoreCam &&
        m_scoreCamEngine.changed(engine, kScoreCamBatch, &scoreCamOptions)) {
        try {
            m_explainer->setScoreCamEngine(scoreCamOptions);
        } catch (...) {
            m_scoreCamEngine.forget();
            throw;
        }
    }
    AttributionOptions options;
    options.method = settings.method;
    options.classIndex = settings.classIndex;
    options.layer = settings.method == AttributionMethod::Cam ? "layer4" : settings.layer;
    options.steps = settings.steps;
    options.samples = settings.samples;
    options.noise = settings.noise;
    options.seed = settings.seed;
    options.ablations = ablations;
    const auto phase = [&progress](int from) -> ProgressFn {
        return [&progress, from](int done, int total) {
            return keepGoing(progress, from + (total > 0 ? done * 500 / total : 0), 1000);
        };
    };
    std::optional<Attribution> a = m_explainer->explain(input, options, phase(0));
    if (!a) return std::nullopt;
    std::optional<Faithfulness> f = m_explainer->faithfulness(
        input, a->map, a->classIndex, settings.faithfulnessSteps, phase(500), ablations);
    if (!f) return std::nullopt;

    Explanation e;
    e.settings = settings;
    e.settings.classIndex = a->classIndex;
    const int64_t size = input.dims[2];
    const Tensor heat = heatValues(a->map, size);
    e.heat = heatImage(heat.ptr(), static_cast<int>(size), static_cast<int>(size), 1.0F,
                       Colormap::Magma);
    if (inInputSpace(a->method)) e.signedRgb = rgbImage(signedRgb(a->map));
    e.crop = cropImage(input, model->preprocess());
    e.attribution = std::move(*a);
    e.faithfulness = std::move(*f);
    return e;
}

ExplainInsight::ExplainInsight(Session* session, QObject* parent)
    : Insight(session, QStringLiteral("explain"), parent),
      m_runner(std::make_shared<ExplainRunner>()) {
    followImageOnScreen([this] { update(); });
    connect(session, &Session::engineChanged, this, [this] {
        emit shown();  // the map of the old engine is no longer shown
        emit busyChanged();
    });
}

void ExplainInsight::setWanted(bool wanted) {
    if (wanted == m_wanted) return;
    m_wanted = wanted;
    if (wanted) {
        m_maps.forgetAsked();  // what was stopped when the panel closed is asked again
        update();
    } else {
        cancel();
    }
}

void ExplainInsight::setSettings(const ExplainSettings& settings) {
    if (settings == m_settings) return;
    m_settings = settings;
    emit shown();
    update();
}

ExplainSettings ExplainInsight::resolvedSettings() const {
    ExplainSettings s = m_settings;
    const ResultPtr r = session()->result();
    if (s.classIndex == kTopClass && r && !r->top.empty()) s.classIndex = r->top.front().index;
    if (!hasLayer(s.method)) s.layer = "layer4";
    return s;
}

QString ExplainInsight::blocked() const {
    const Session& s = *session();
    if (s.isLive() && !s.isFrozen())
        return tr("Freeze the frame (F) to see where the network looked.");
    if (!s.result()) return tr("Open an image to see where the network looked.");
    if (!s.settled()) return tr("Waiting for the network…");
    if (!s.result()->input) return tr("This result has no input to explain.");
    return {};
}

ExplanationPtr ExplainInsight::explanation() const {
    if (!blocked().isEmpty()) return nullptr;
    return m_maps.find(session()->onScreen(), resolvedSettings());
}

std::vector<ExplanationPtr> ExplainInsight::shownExplanations() const {
    std::vector<ExplanationPtr> shown;
    if (!blocked().isEmpty()) return shown;
    const ComputedFor on = session()->onScreen();
    for (const AttributionMethod method : allMethods()) {
        ExplainSettings s = resolvedSettings();
        s.method = method;
        if (!hasLayer(method)) s.layer = "layer4";
        if (const ExplanationPtr e = m_maps.find(on, s)) shown.push_back(e);
    }
    return shown;
}

void ExplainInsight::compute() {
    m_maps.forgetAsked();
    update();
}

void ExplainInsight::update() {
    if (!m_wanted || !blocked().isEmpty()) {
        emit busyChanged();
        return;
    }
    const ComputedFor on = session()->onScreen();
    const ExplainSettings key = resolvedSettings();
    if (!m_maps.ask(on, key)) return;  // computing, done, or cancelled by the user
    if (explanation()) {
        cancel();  // what is computing is no longer what is asked for
        emit shown();
        return;
    }
    const EngineInfo& engine = session()->engine();
    submit<Explanation>(
        [runner = m_runner, engine, input = session()->result()->input, key, on,
         ablations = session()->ablations()](const ProgressFn& progress) {
            std::optional<Explanation> e = runner->run(engine, *input, key, progress, ablations);
            if (e) {
                e->sourceId = on.sourceId;
                e->engineId = on.engineId;
            }
            return e;
        },
        [this, on](const ExplanationPtr& e) {
            // Computed for another image or engine than the one on screen: dropped, never shown.
            if (session()->stillShows(on)) m_maps.store(on, e->settings, e);
        });
    emit shown();
}

}  // namespace r18::ui
