#include "ui/session/session.h"

#include <QDir>

#include <algorithm>
#include <functional>
#include <string_view>

#include "core/error.h"
#include "ui/session/inference_worker.h"

namespace r18::ui {
namespace {

constexpr size_t kCalibrationImages = 16;
constexpr uint64_t kCalibrationFrameStride = 30;  // live: every 30th frame shown

}  // namespace

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
        [w = m_worker, id = m_engineId, weightsPath, precision, threads,
         calibration = recentInputs()] {
            w->loadModel(id, weightsPath, precision, threads, calibration);
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
        [w = m_worker, id = m_engineId, precision, threads = m_wantedThreads,
         calibration = recentInputs()] { w->configure(id, precision, threads, calibration); },
        Qt::QueuedConnection);
}

void Session::setThreads(int threads) {
    if (threads == m_wantedThreads && !engineChanging() && m_engine.threads == threads) return;
    m_wantedThreads = threads;
    if (!hasModel()) return;
    m_engineId = newEngineId();
    QMetaObject::invokeMethod(
        m_worker,
        [w = m_worker, id = m_engineId, precision = m_wantedPrecision, threads,
         calibration = recentInputs()] { w->configure(id, precision, threads, calibration); },
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
    if (!m_engine.model || !info.model || m_engine.model->weightsPtr() != info.model->weightsPtr())
        m_weightsId = newEngineId();  // unique and rising too
    m_engine = info;
    m_wantedPrecision = info.precision;
    m_wantedThreads = info.threads;
    if (otherSpec) {
        m_result.reset();
        m_shownRequestId = 0;
    }
    m_taps.clear();  // the node's tap is asked for again, from this engine
    if (!m_ablations.empty()) {
        try {
            checkAblations(info.model->spec(), m_ablations, 1);
        } catch (const Error& e) {
            m_ablations.clear();
            m_ablationsId = 0;
            emit ablationsChanged();
            emit ablationsDropped(
                tr("Every channel is on again: %1").arg(QString::fromStdString(e.what())));
        }
    }
    emit engineChanged(info);
    if (otherSpec) emit resultShown(nullptr);
    emit tapShown();
    request();
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
    // A frozen frame is compared with fp32 as a still image is (live frames are only while the
    // diagram shows it): run once more for that.
    if (frozen && m_source && m_engine.precision != Precision::Fp32 && m_result &&
        m_result->vsFp32.empty())
        request();
    emit frozenChanged(frozen);
}

// ---- what the views need ----

ViewNeeds Session::needs(bool live) const {
    ViewNeeds n;
    const bool cached =
        !live && m_result && m_source && m_result->source->sourceId == m_source->sourceId &&
        m_result->needs.ablations == m_ablations && m_taps.count(m_node.toStdString());
    if (!m_node.isEmpty() && !cached) n.taps.push_back(m_node.toStdString());
    n.heatmap = m_heatmap;
    n.nodeFigures = m_nodeFigures;
    // Against fp32: for every still image and frozen frame (one fp32 pass more), and for each
    // live frame while the diagram is coloured by it.
    n.vsFp32 = !live || m_errorFigures;
    n.ablations = m_ablations;
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
    emit nodeSelected(node);
}

void Session::setHeatmap(const HeatmapSettings& settings) {
    if (settings == m_heatmap) return;
    m_heatmap = settings;
    request();
}

bool Session::setSwitchedOff(const QString& node, std::vector<int> channels, QString* error) {
    std::sort(channels.begin(), channels.end());
    channels.erase(std::unique(channels.begin(), channels.end()), channels.end());
    std::vector<ChannelAblation> next;
    for (const ChannelAblation& a : m_ablations)
        if (a.node != node.toStdString()) next.push_back(a);
    if (!channels.empty()) next.push_back({node.toStdString(), std::move(channels), -1});
    std::sort(next.begin(), next.end(),
              [](const ChannelAblation& a, const ChannelAblation& b) { return a.node < b.node; });
    if (next == m_ablations) return true;
    if (hasModel()) {
        try {
            checkAblations(m_engine.model->spec(), next, 1);
        } catch (const Error& e) {
            if (error) *error = QString::fromStdString(e.what());
            return false;
        }
    }
    applyAblations(std::move(next));
    return true;
}

void Session::switchAllBackOn() {
    if (!m_ablations.empty()) applyAblations({});
}

void Session::applyAblations(std::vector<ChannelAblation> ablations) {
    m_ablations = std::move(ablations);
    m_ablationsId = m_ablations.empty() ? 0 : newEngineId();
    m_taps.clear();  // every node after the switched-off channels changes: asked for again
    emit ablationsChanged();
    emit tapShown();
    request();
}

std::vector<int> Session::switchedOff(const QString& node) const {
    for (const ChannelAblation& a : m_ablations)
        if (a.node == node.toStdString()) return a.channels;
    return {};
}

QString Session::ablationsText() const {
    if (m_ablations.empty() || !hasModel()) return {};
    return QString::fromStdString(describeAblations(m_engine.model->spec(), m_ablations));
}

void Session::setNodeFiguresWanted(bool wanted) {
    if (wanted == m_nodeFigures) return;
    m_nodeFigures = wanted;
    if (wanted && (!m_result || m_result->nodeFigures.empty())) request();
    updateLiveNeeds();
}

void Session::setErrorFiguresWanted(bool wanted) {
    if (wanted == m_errorFigures) return;
    m_errorFigures = wanted;
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
    if (r->engineId != m_engineId) return;          // another engine's: stale
    if (r->requestId <= m_shownRequestId) return;   // overtaken by a newer one
    if (r->needs.ablations != m_ablations) return;  // computed before channels went off or on
    if (m_live && !m_frozen) {
        if (!r->source->live) return;
    } else if (m_lateFrames && r->source->live) {
        m_source = r->source;  // the stream's last frames, after it ended
    } else if (!m_source || r->source->sourceId != m_source->sourceId) {
        return;  // another image's, or a live frame after the freeze
    }
    if (!m_result || m_result->source->sourceId != r->source->sourceId ||
        m_result->engineId != r->engineId || m_result->needs.ablations != r->needs.ablations)
        m_taps.clear();
    m_result = r;
    m_shownRequestId = r->requestId;
    for (const auto& [name, tensor] : r->taps) m_taps[name] = r;
    if (r->source->live) {
        m_liveOpening = false;
        const auto now = Clock::now();
        const double latency = msSince(r->source->grabbed, now);
        m_stats.latencyMs =
            m_stats.framesShown == 0 ? latency : 0.8 * m_stats.latencyMs + 0.2 * latency;
        ++m_stats.framesShown;
        m_shownTimes.push_back(now);
        while (now - m_shownTimes.front() > std::chrono::seconds(1)) m_shownTimes.pop_front();
        m_stats.processedFps = static_cast<double>(m_shownTimes.size());
    }
    rememberInput(*r);
    emit resultShown(r);
    emit tapShown();
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

// ---- what the insights ask ----

bool Session::settled() const {
    return !(m_live && !m_frozen) && m_result && !engineChanging() &&
           m_result->engineId == m_engineId && m_result->needs.ablations == m_ablations &&
           !openingSource();
}

ComputedFor Session::onScreen() const {
    ComputedFor on;
    on.weightsId = m_weightsId;
    on.ablationsId = m_ablationsId;
    if (settled()) {
        on.sourceId = m_result->source->sourceId;
        on.engineId = m_result->engineId;
    }
    return on;
}

bool Session::stillShows(const ComputedFor& c) const {
    const ComputedFor now = onScreen();
    return hasModel() && c.weightsId == now.weightsId &&
           (!c.sourceId || c.sourceId == now.sourceId) &&
           (!c.engineId || c.engineId == now.engineId) &&
           (!c.sourceId || c.ablationsId == now.ablationsId);
}

void Session::rememberInput(const InferenceResult& r) {
    if (!r.input) return;
    if (r.source->live && !m_frozen && m_stats.framesShown % kCalibrationFrameStride != 1)
        return;  // neighbouring frames repeat each other
    const size_t hash = std::hash<std::string_view>()(std::string_view(
        reinterpret_cast<const char*>(r.input->data.data()), r.input->data.size() * sizeof(float)));
    const auto same = std::find_if(m_recentInputs.begin(), m_recentInputs.end(),
                                   [hash](const RecentInput& x) { return x.hash == hash; });
    if (same != m_recentInputs.end()) m_recentInputs.erase(same);
    m_recentInputs.push_back({hash, r.input});
    if (m_recentInputs.size() > kCalibrationImages) m_recentInputs.pop_front();
}

CalibrationSet Session::int8Calibration() const {
    return m_engine.precision == Precision::Int8 ? m_engine.calibration : recentInputs();
}

CalibrationSet Session::recentInputs() const {
    CalibrationSet set;
    for (const RecentInput& x : m_recentInputs) set.push_back(x.input);
    return set;
}

}  // namespace r18::ui
