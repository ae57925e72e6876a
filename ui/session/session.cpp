#include "ui/session/session.h"

#include <QDir>

#include <algorithm>

#include "core/error.h"
#include "ui/insight/job_thread.h"
#include "ui/session/inference_worker.h"

namespace r18::ui {

Session::Session(QObject* parent)
    : QObject(parent), m_forwardFrames(std::make_shared<std::atomic<bool>>(false)) {
    registerInferenceTypes();
    m_worker = new InferenceWorker;
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &InferenceWorker::resultReady, this, &Session::onResult);
    connect(m_worker, &InferenceWorker::failed, this, &Session::onFailed);
    connect(m_worker, &InferenceWorker::engineReady, this, &Session::onEngineReady);
    connect(m_worker, &InferenceWorker::engineFailed, this,
            [this](quint64 engineId, const QString& message, bool labels) {
                m_failedEngineId = engineId;
                emit engineFailed(message, labels);
            });
    m_thread.setObjectName(QStringLiteral("inference"));
    m_thread.start();

    m_explainRunner = std::make_shared<ExplainRunner>();
    m_visualizeRunner = std::make_shared<VisualizeRunner>();
    m_compareRunner = std::make_shared<CompareRunner>();
    m_compareJobs = new JobThread(QStringLiteral("compare"), this);
    connect(m_compareJobs, &JobThread::finished, this, [this](quint64 id) {
        if (id != m_compareJobId) return;
        m_compareJobId = 0;
        emit comparisonShown();
    });
    m_explainJobs = new JobThread(QStringLiteral("explain"), this);
    m_atlasJobs = new JobThread(QStringLiteral("atlas"), this);
    m_patchJobs = new JobThread(QStringLiteral("patches"), this);
    m_visualizeJobs = new JobThread(QStringLiteral("visualize"), this);
    connect(m_explainJobs, &JobThread::progress, this, [this](quint64 id, int done, int total) {
        if (id == m_explainJobId) emit explainProgress(done, total);
    });
    connect(m_explainJobs, &JobThread::finished, this, [this](quint64 id) {
        if (id != m_explainJobId) return;
        m_explainJobId = 0;
        emit explainStateChanged();
    });
    connect(m_atlasJobs, &JobThread::progress, this, [this](quint64 id, int done, int total) {
        if (id == m_atlasJobId) emit atlasProgress(done, total);
    });
    connect(m_atlasJobs, &JobThread::finished, this, [this](quint64 id) {
        if (id != m_atlasJobId) return;
        m_atlasJobId = 0;
        emit atlasChanged();
    });
    connect(m_visualizeJobs, &JobThread::progress, this, [this](quint64 id, int done, int total) {
        if (id == m_visualizeJobId) emit visualizeProgress(done, total);
    });
    connect(m_visualizeJobs, &JobThread::finished, this, [this](quint64 id) {
        if (id != m_visualizeJobId) return;
        m_visualizeJobId = 0;
        emit visualizeStateChanged();
    });

    m_capture = new CaptureThread(this);
    connect(m_capture, &CaptureThread::opened, this,
            [this](const QString& label, double fps, QSize size) {
                m_liveLabel = label;
                emit liveOpened(label, fps, size);
            });
    connect(m_capture, &CaptureThread::stopped, this, [this](const QString& reason, bool error) {
        if (m_live) {
            m_live = false;
            *m_forwardFrames = false;
            // Frames already on their way are the stream's last: they may still be shown,
            // unless the user froze one or opens something else.
            m_lateFrames = !m_frozen;
            m_frozen = false;
            if (!m_source) m_source = shownSource();  // the last frame stays, to browse
            emit frozenChanged(false);
        }
        emit liveStopped(reason, error);
    });
}

Session::~Session() {
    // Insight jobs first: they stop at their next progress check and deliver nothing more.
    for (JobThread* jobs :
         {m_compareJobs, m_explainJobs, m_atlasJobs, m_patchJobs, m_visualizeJobs})
        delete jobs;
    delete m_capture;  // stops the capture thread (never waiting on a stuck driver) first
    m_capture = nullptr;
    m_thread.quit();
    m_thread.wait();
}

uint64_t Session::newEngineId() {
    return nextRequestId();  // unique and rising is all an engine id needs
}

// ---- the engine ----

void Session::openModel(const QString& weightsPath, Precision precision, int threads) {
    m_wantedPrecision = precision;
    m_wantedThreads = threads;
    m_engineId = newEngineId();
    m_loadingModel = true;
    m_loadingWeights = weightsPath;
    emit modelLoading(weightsPath);
    QMetaObject::invokeMethod(
        m_worker,
        [w = m_worker, id = m_engineId, weightsPath, precision, threads] {
            w->loadModel(id, weightsPath, precision, threads);
        },
        Qt::QueuedConnection);
}

void Session::setPrecision(Precision precision) {
    if (precision == m_wantedPrecision && !engineChanging() && m_engine.precision == precision)
        return;
    m_wantedPrecision = precision;
    if (!hasModel()) return;  // the model being loaded gets it
    m_engineId = newEngineId();
    QMetaObject::invokeMethod(
        m_worker,
        [w = m_worker, id = m_engineId, precision, threads = m_wantedThreads] {
            w->configure(id, precision, threads);
        },
        Qt::QueuedConnection);
}

void Session::setThreads(int threads) {
    if (threads == m_wantedThreads && !engineChanging() && m_engine.threads == threads) return;
    m_wantedThreads = threads;
    if (!hasModel()) return;
    m_engineId = newEngineId();
    QMetaObject::invokeMethod(
        m_worker,
        [w = m_worker, id = m_engineId, precision = m_wantedPrecision, threads] {
            w->configure(id, precision, threads);
        },
        Qt::QueuedConnection);
}

void Session::setLabels(const QString& path) {
    if (!hasModel()) return;
    m_engineId = newEngineId();
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, id = m_engineId, path] { w->setLabels(id, path); },
        Qt::QueuedConnection);
}

void Session::onEngineReady(const EngineInfo& info) {
    if (info.engineId != m_engineId) {
        if (m_failedEngineId != m_engineId) {
            // The answer to an older request, overtaken by a newer one that is on its way.
            return;
        }
        // What was asked for failed (engineFailed said why): adopt what still runs.
        m_engineId = info.engineId;
    }
    m_loadingModel = false;
    m_loadingWeights.clear();
    const bool otherSpec =
        !m_engine.model || !info.model || m_engine.model->specPtr() != info.model->specPtr();
    m_engine = info;
    m_wantedPrecision = info.precision;
    m_wantedThreads = info.threads;
    if (otherSpec) {
        m_result.reset();
        m_shownRequestId = 0;
    }
    m_taps.clear();  // the node's tap is asked for again, from this engine
    emit engineChanged(info);
    if (otherSpec) emit resultShown(nullptr);
    emit tapShown();
    request();
    emit explanationShown();  // the map of the old engine is no longer shown
    emit comparisonShown();
    emit atlasChanged();
    emit explainStateChanged();
}

// ---- sources ----

void Session::openFile(const QString& path) {
    auto source = std::make_shared<Source>();
    source->label = QDir::toNativeSeparators(path);
    source->path = path;
    openSource(std::move(source));
}

void Session::openImage(const QImage& image, const QString& label) {
    auto source = std::make_shared<Source>();
    source->label = label;
    source->image = image;
    openSource(std::move(source));
}

void Session::openBytes(const QByteArray& bytes, const QString& label) {
    auto source = std::make_shared<Source>();
    source->label = label;
    source->bytes = bytes;
    openSource(std::move(source));
}

void Session::openSource(std::shared_ptr<Source> source) {
    if (m_live) {
        stopLive();
        m_live = false;  // from now on, frames still in flight are not shown
        if (m_frozen) emit frozenChanged(m_frozen = false);
    }
    source->sourceId = nextSourceId();
    m_source = std::move(source);
    m_heatmap.classIndex = kTopClass;  // a new image: the heat map follows its top-1 again
    m_lateFrames = false;
    request();
    emit sourceOpening(m_source->label);
    if (m_explainJobId) cancelExplanation();  // the old image's map is no longer wanted
    emit explanationShown();                  // nor shown
    emit comparisonShown();
}

void Session::startLive(const CaptureThread::Options& options) {
    m_stats = LiveStats{};
    m_shownTimes.clear();
    m_live = true;
    m_lateFrames = false;
    m_liveOpening = true;
    m_liveLabel = options.spec;
    m_frozen = false;
    m_source.reset();
    updateLiveNeeds();
    // A fresh flag per run: a capture thread abandoned in a stuck read keeps its own, off.
    *m_forwardFrames = false;
    m_forwardFrames = std::make_shared<std::atomic<bool>>(true);
    m_capture->start(options, [w = m_worker, forward = m_forwardFrames](const FramePtr& frame,
                                                                        const QString& label) {
        if (*forward) w->submitFrame(frame, label);
    });
    emit frozenChanged(false);
    emit liveStarted(options.spec);
}

void Session::stopLive() {
    *m_forwardFrames = false;
    m_capture->stop();
}

bool Session::isLive() const {
    return m_live;
}

void Session::setFrozen(bool frozen) {
    if (!m_live || frozen == m_frozen) return;
    m_frozen = frozen;
    *m_forwardFrames = !frozen;
    // Frozen: the frame on screen becomes the source; results of frames still in flight no
    // longer match it and are dropped.
    m_source = frozen ? shownSource() : nullptr;
    updateLiveNeeds();
    emit frozenChanged(frozen);
    if (!frozen) {  // live again: the frozen frame's map and comparison are no longer wanted
        if (m_explainJobId) cancelExplanation();
        m_compareJobs->cancel();
        m_compareJobId = 0;
    }
    updateExplanation();
    updateComparison();
    emit explanationShown();
    emit comparisonShown();
}

// ---- what the views need ----

ViewNeeds Session::needs(bool live) const {
    ViewNeeds n;
    const bool cached = !live && m_result && m_source &&
                        m_result->source->sourceId == m_source->sourceId &&
                        m_taps.count(m_node.toStdString());
    if (!m_node.isEmpty() && !cached) n.taps.push_back(m_node.toStdString());
    n.heatmap = m_heatmap;
    n.nodeFigures = m_nodeFigures;
    return n;
}

void Session::updateLiveNeeds() {
    m_worker->setLiveNeeds(needs(true));
}

void Session::selectNode(const QString& node) {
    if (node == m_node) return;
    m_node = node;
    emit tapShown();  // the cached tap, or "computing"
    if (!tapResult()) request();
    updateComparison();
    emit comparisonShown();
}

void Session::setHeatmap(const HeatmapSettings& settings) {
    if (settings == m_heatmap) return;
    m_heatmap = settings;
    request();
}

void Session::setNodeFiguresWanted(bool wanted) {
    if (wanted == m_nodeFigures) return;
    m_nodeFigures = wanted;
    if (wanted && (!m_result || m_result->nodeFigures.empty())) request();
    updateLiveNeeds();
}

void Session::request() {
    updateLiveNeeds();
    if (!m_source) return;  // live: the next frame carries the new needs
    InferenceRequest r;
    r.requestId = nextRequestId();
    r.source = m_source;
    r.needs = needs(false);
    m_lastRequestId = r.requestId;
    m_worker->submit(std::move(r));
}

// ---- results ----

SourcePtr Session::openingSource() const {
    const SourcePtr shown = shownSource();
    return m_source && (!shown || shown->sourceId != m_source->sourceId) ? m_source : nullptr;
}

ResultPtr Session::tapResult() const {
    const auto it = m_taps.find(m_node.toStdString());
    return it == m_taps.end() ? nullptr : it->second;
}

const Heatmap* Session::shownHeatmap() const {
    if (!m_heatmap.enabled || !m_result || !m_result->heatmap) return nullptr;
    return m_result->needs.heatmap == m_heatmap ? &*m_result->heatmap : nullptr;
}

void Session::onResult(const ResultPtr& r) {
    if (r->engineId != m_engineId) return;         // another engine's: stale
    if (r->requestId <= m_shownRequestId) return;  // overtaken by a newer one
    if (m_live && !m_frozen) {
        if (!r->source->live) return;
    } else if (m_lateFrames && r->source->live) {
        m_source = r->source;  // the stream's last frames, after it ended
    } else if (!m_source || r->source->sourceId != m_source->sourceId) {
        return;  // another image's, or a live frame after the freeze
    }
    if (!m_result || m_result->source->sourceId != r->source->sourceId ||
        m_result->engineId != r->engineId)
        m_taps.clear();
    m_result = r;
    m_shownRequestId = r->requestId;
    for (const auto& [name, tensor] : r->taps) m_taps[name] = r;
    if (r->source->live) {
        m_liveOpening = false;
        const auto now = Clock::now();
        const double latency =
            std::chrono::duration<double, std::milli>(now - r->source->grabbed).count();
        m_stats.latencyMs =
            m_stats.framesShown == 0 ? latency : 0.8 * m_stats.latencyMs + 0.2 * latency;
        ++m_stats.framesShown;
        m_shownTimes.push_back(now);
        while (now - m_shownTimes.front() > std::chrono::seconds(1)) m_shownTimes.pop_front();
        m_stats.processedFps = static_cast<double>(m_shownTimes.size());
    }
    emit resultShown(r);
    emit tapShown();
    if (!r->source->live || m_frozen) {
        if (r->input && std::find(m_recentInputs.begin(), m_recentInputs.end(), r->input) ==
                            m_recentInputs.end()) {
            m_recentInputs.push_back(r->input);
            if (m_recentInputs.size() > 16) m_recentInputs.pop_front();
        }
        updateExplanation();
        updateComparison();
    }
}

void Session::onFailed(quint64 requestId, const SourcePtr& source, const QString& message) {
    if (requestId <= m_shownRequestId || !source || source->live) return;
    if (!m_source || source->sourceId != m_source->sourceId) return;  // no longer wanted
    m_source = shownSource();  // keep exploring the last image that worked
    emit imageFailed(source->label, message);
}

Session::LiveStats Session::liveStats() const {
    LiveStats s = m_stats;
    s.cameraFps = m_capture && m_live ? m_capture->fps() : 0.0;
    s.framesDropped = m_worker->droppedCount();
    return s;
}

// ---- where it looked ----

void Session::setExplainWanted(bool wanted) {
    if (wanted == m_explainWanted) return;
    m_explainWanted = wanted;
    if (wanted) {
        m_explainAsked = ExplainKey{};  // what was stopped when the panel closed is asked again
        updateExplanation();
    } else {
        cancelExplanation();
    }
}

void Session::setExplainSettings(const ExplainSettings& settings) {
    if (settings == m_explainSettings) return;
    m_explainSettings = settings;
    emit explanationShown();
    updateExplanation();
}

ExplainSettings Session::resolvedExplainSettings() const {
    ExplainSettings s = m_explainSettings;
    if (s.classIndex == kTopClass && m_result && !m_result->top.empty())
        s.classIndex = m_result->top.front().index;
    if (s.method != AttributionMethod::GradCam) s.layer = "layer4";
    return s;
}

QString Session::explainBlocked() const {
    if (m_live && !m_frozen) return tr("Freeze the frame (F) to see where the network looked.");
    if (!m_result) return tr("Open an image to see where the network looked.");
    if (engineChanging() || m_result->engineId != m_engineId || openingSource())
        return tr("Waiting for the network…");
    if (!m_result->input) return tr("This result has no input to explain.");
    return {};
}

ExplanationPtr Session::explanation() const {
    if (!explainBlocked().isEmpty()) return nullptr;
    const ExplainSettings wanted = resolvedExplainSettings();
    for (const ExplanationPtr& e : m_explanations)
        if (e->sourceId == m_result->source->sourceId && e->engineId == m_result->engineId &&
            e->settings == wanted)
            return e;
    return nullptr;
}

std::vector<ExplanationPtr> Session::shownExplanations() const {
    std::vector<ExplanationPtr> shown;
    if (!explainBlocked().isEmpty()) return shown;
    const ExplainSettings wanted = resolvedExplainSettings();
    for (const AttributionMethod method : allMethods())
        for (const ExplanationPtr& e : m_explanations) {
            ExplainSettings s = wanted;
            s.method = method;
            if (method != AttributionMethod::GradCam) s.layer = "layer4";
            if (e->sourceId == m_result->source->sourceId && e->engineId == m_result->engineId &&
                e->settings == s) {
                shown.push_back(e);
                break;
            }
        }
    return shown;
}

void Session::updateExplanation() {
    if (!m_explainWanted || !explainBlocked().isEmpty()) {
        emit explainStateChanged();
        return;
    }
    const ExplainKey key{m_result->source->sourceId, m_result->engineId, resolvedExplainSettings()};
    if (key == m_explainAsked) return;  // computing, done, or cancelled by the user
    m_explainAsked = key;
    // Keep only this image's and engine's maps: the comparison is between methods.
    m_explanations.erase(std::remove_if(m_explanations.begin(), m_explanations.end(),
                                        [&key](const ExplanationPtr& e) {
                                            return e->sourceId != key.sourceId ||
                                                   e->engineId != key.engineId;
                                        }),
                         m_explanations.end());
    if (explanation()) {
        m_explainJobs->cancel();  // what is computing is no longer what is asked for
        m_explainJobId = 0;
        emit explanationShown();
        emit explainStateChanged();
        return;
    }
    const std::shared_ptr<const Model> model = m_engine.model;
    const std::shared_ptr<const Tensor> input = m_result->input;
    const int threads = m_engine.threads;
    const std::shared_ptr<ExplainRunner> runner = m_explainRunner;
    m_explainJobId = m_explainJobs->submit(
        [this, runner, model, input, threads, key](const JobThread::Context& ctx) {
            try {
                std::optional<Explanation> e =
                    runner->run(model, threads, *input, key.settings,
                                [&ctx](int done, int total) { return ctx.keepGoing(done, total); });
                if (!e) return;
                e->sourceId = key.sourceId;
                e->engineId = key.engineId;
                auto shown = std::make_shared<const Explanation>(std::move(*e));
                const uint64_t jobId = ctx.jobId();
                ctx.deliver([this, shown, jobId] { onExplanation(shown, jobId); });
            } catch (const std::exception& error) {
                const QString message = QString::fromUtf8(error.what());
                ctx.deliver([this, message] { emit explainFailed(message); });
            }
        });
    emit explanationShown();
    emit explainStateChanged();
}

void Session::onExplanation(const ExplanationPtr& e, uint64_t jobId) {
    if (jobId == m_explainJobId) m_explainJobId = 0;
    // Computed for another image or engine than the one on screen: dropped, never shown.
    if (!explainBlocked().isEmpty() || e->sourceId != m_result->source->sourceId ||
        e->engineId != m_result->engineId)
        return;
    m_explanations.push_back(e);
    emit explanationShown();
    emit explainStateChanged();
}

void Session::cancelExplanation() {
    m_explainJobs->cancel();
    m_explainJobId = 0;
    emit explainStateChanged();
}

void Session::computeExplanation() {
    m_explainAsked = ExplainKey{};
    updateExplanation();
}

// ---- A/B ----

void Session::setCompareWanted(bool wanted) {
    if (wanted == m_compareWanted) return;
    m_compareWanted = wanted;
    m_compareAsked = {0, ""};
    if (wanted) {
        updateComparison();
    } else {
        m_compareJobs->cancel();
        m_compareJobId = 0;
    }
    emit comparisonShown();
}

ComparisonPtr Session::comparison() const {
    if ((m_live && !m_frozen) || !m_result || openingSource() || m_node.isEmpty() ||
        m_result->source->sourceId != m_comparedSource || !m_engine.model ||
        m_compareModel != m_engine.model)
        return nullptr;
    const auto it = m_comparisons.find(m_node.toStdString());
    return it == m_comparisons.end() ? nullptr : it->second;
}

void Session::updateComparison() {
    if (!m_compareWanted || (m_live && !m_frozen) || !m_result || !m_result->input ||
        openingSource() || m_node.isEmpty() || !m_engine.model)
        return;
    const uint64_t sourceId = m_result->source->sourceId;
    const std::string node = m_node.toStdString();
    if (comparison() || m_compareAsked == std::pair{sourceId, node}) return;
    m_compareAsked = {sourceId, node};
    const std::shared_ptr<const Model> model = m_engine.model;
    const std::shared_ptr<const Tensor> input = m_result->input;
    const std::vector<std::shared_ptr<const Tensor>> calibration(m_recentInputs.begin(),
                                                                 m_recentInputs.end());
    const int threads = m_engine.threads;
    const std::shared_ptr<CompareRunner> runner = m_compareRunner;
    m_compareJobId = m_compareJobs->submit([this, runner, model, threads, calibration, input, node,
                                            sourceId](const JobThread::Context& ctx) {
        try {
            auto c = std::make_shared<Comparison>(
                runner->run(model, threads, calibration, *input, node));
            c->sourceId = sourceId;
            ComparisonPtr done = std::move(c);
            ctx.deliver([this, done, model] {
                // Another image's, or another model's: dropped, never shown.
                if (!m_result || m_result->source->sourceId != done->sourceId ||
                    model != m_engine.model)
                    return;
                if (m_comparedSource != done->sourceId || m_compareModel != model)
                    m_comparisons.clear();
                m_comparedSource = done->sourceId;
                m_compareModel = model;
                m_comparisons[done->node] = done;
                emit comparisonShown();
            });
        } catch (const std::exception& error) {
            const QString message = QString::fromUtf8(error.what());
            ctx.deliver([this, message] { emit compareFailed(message); });
        }
    });
    emit comparisonShown();
}

// ---- what does this channel detect ----

bool Session::atlasFits(const ChannelAtlas* atlas) const {
    return atlas && m_atlasModel && m_engine.model &&
           m_atlasModel->weightsPtr() == m_engine.model->weightsPtr();
}

std::shared_ptr<const ChannelAtlas> Session::atlas() const {
    return atlasFits(m_atlas.get()) ? m_atlas : nullptr;
}

void Session::buildAtlas(const QString& folder) {
    if (!hasModel()) return;
    m_atlasFolder = folder;
    const std::shared_ptr<const Model> model = m_engine.model;
    AtlasOptions options;
    options.threads = m_engine.threads;
    m_atlasJobId =
        m_atlasJobs->submit([this, model, folder, options](const JobThread::Context& ctx) {
            try {
                std::optional<ChannelAtlas> atlas = buildChannelAtlas(
                    model, folder.toStdString(), options,
                    [&ctx](int done, int total) { return ctx.keepGoing(done, total); });
                if (!atlas) return;
                auto built = std::make_shared<const ChannelAtlas>(std::move(*atlas));
                ctx.deliver([this, built, model] {
                    m_atlas = built;
                    m_atlasModel = model;
                    m_patches.clear();
                    m_patchesAsked = {"", -1};
                    emit atlasChanged();
                });
            } catch (const std::exception& error) {
                const QString message = QString::fromUtf8(error.what());
                ctx.deliver([this, message] { emit atlasFailed(message); });
            }
        });
    emit atlasChanged();
}

void Session::cancelAtlas() {
    m_atlasJobs->cancel();
    m_atlasJobId = 0;
    emit atlasChanged();
}

void Session::requestPatches(const QString& layer, int64_t channel) {
    const std::shared_ptr<const ChannelAtlas> shown = atlas();
    const std::pair<std::string, int64_t> key{layer.toStdString(), channel};
    if (!shown || !shown->layers.count(key.first) || m_patches.count(key) || key == m_patchesAsked)
        return;
    m_patchesAsked = key;
    const std::shared_ptr<const Model> model = m_engine.model;
    m_patchJobs->submit([this, shown, model, key](const JobThread::Context& ctx) {
        std::vector<ChannelPatch> patches;
        try {
            patches = channelPatches(*shown, key.first, key.second, *model);
        } catch (const std::exception&) {
            return;  // a layer the atlas does not have: nothing to show
        }
        ctx.deliver([this, shown, key, patches = std::move(patches)] {
            if (shown != m_atlas) return;  // another folder's
            m_patches[key] = patches;
            emit patchesShown(QString::fromStdString(key.first), key.second);
        });
    });
}

const std::vector<ChannelPatch>* Session::patches(const QString& layer, int64_t channel) const {
    if (!atlas()) return nullptr;
    const auto it = m_patches.find({layer.toStdString(), channel});
    return it == m_patches.end() ? nullptr : &it->second;
}

VisualizeOptions Session::visualizeOptions(const QString& layer, int64_t channel) const {
    VisualizeOptions options;
    options.layer = layer.toStdString();
    options.channel = channel;
    return options;
}

void Session::visualize(const QString& layer, int64_t channel) {
    if (!hasModel()) return;
    const std::shared_ptr<const Model> model = m_engine.model;
    const int threads = m_engine.threads;
    const VisualizeOptions options = visualizeOptions(layer, channel);
    const std::shared_ptr<VisualizeRunner> runner = m_visualizeRunner;
    m_visualizeJobId = m_visualizeJobs->submit(
        [this, runner, model, threads, options](const JobThread::Context& ctx) {
            try {
                std::optional<Visualization> v =
                    runner->run(model, threads, options,
                                [&ctx](int done, int total) { return ctx.keepGoing(done, total); });
                if (!v) return;
                auto made = std::make_shared<const Visualization>(std::move(*v));
                ctx.deliver([this, made, model, options] {
                    if (!m_engine.model || model->weightsPtr() != m_engine.model->weightsPtr())
                        return;  // made for other weights
                    if (m_visualizationModel != model) m_visualizations.clear();
                    m_visualizationModel = model;
                    m_visualizations[{options.layer, options.channel}] = made;
                    emit visualizationShown(QString::fromStdString(options.layer), options.channel);
                });
            } catch (const std::exception& error) {
                const QString message = QString::fromUtf8(error.what());
                ctx.deliver([this, message] { emit visualizeFailed(message); });
            }
        });
    emit visualizeStateChanged();
}

void Session::cancelVisualization() {
    m_visualizeJobs->cancel();
    m_visualizeJobId = 0;
    emit visualizeStateChanged();
}

std::shared_ptr<const Visualization> Session::visualization(const QString& layer,
                                                            int64_t channel) const {
    if (!m_visualizationModel || !m_engine.model ||
        m_visualizationModel->weightsPtr() != m_engine.model->weightsPtr())
        return nullptr;
    const auto it = m_visualizations.find({layer.toStdString(), channel});
    return it == m_visualizations.end() ? nullptr : it->second;
}

}  // namespace r18::ui
