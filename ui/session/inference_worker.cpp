#include "ui/session/inference_worker.h"

#include <QMutexLocker>
#include <QThread>

#include <algorithm>

#include "core/clock.h"
#include "core/error.h"
#include "core/media/image_io.h"
#include "core/media/preprocess.h"
#include "ui/session/image_convert.h"

namespace r18::ui {
namespace {

constexpr int kDisplayMaxSide = 2048;
constexpr int kTopK = 5;

std::atomic<uint64_t> g_sourceIds{0};
std::atomic<uint64_t> g_requestIds{0};

}  // namespace

uint64_t nextSourceId() {
    return ++g_sourceIds;
}

uint64_t nextRequestId() {
    return ++g_requestIds;
}

Tensor nodeThumbnail(const Tensor& tap, const TapStats& stats) {
    if (stats.byMean.empty() || tap.dims.size() < 2) return {};
    const int64_t c = stats.byMean.front();
    const int64_t h = tap.dims.size() == 4 ? tap.dims[2] : 1;
    const int64_t w = tap.dims.size() == 4 ? tap.dims[3] : 1;
    if (h == 1 && w == 1) {  // avgpool, fc: the values themselves, as a strip
        const int64_t n = tap.dims[1];
        const int64_t step =
            (n + NodeFigures::kThumbnailSide * 4 - 1) / (NodeFigures::kThumbnailSide * 4);
        Tensor strip({1, (n + step - 1) / step});
        for (int64_t i = 0; i < strip.dims[1]; ++i)
            strip.data[static_cast<size_t>(i)] = tap.data[static_cast<size_t>(i * step)];
        return strip;
    }
    const int64_t side = NodeFigures::kThumbnailSide;
    const int64_t step = std::max((h + side - 1) / side, (w + side - 1) / side);
    Tensor t({(h + step - 1) / step, (w + step - 1) / step});
    const float* plane = tap.ptr() + static_cast<size_t>(c * h * w);
    for (int64_t y = 0; y < t.dims[0]; ++y)
        for (int64_t x = 0; x < t.dims[1]; ++x)
            t.data[static_cast<size_t>(y * t.dims[1] + x)] =
                plane[static_cast<size_t>(y * step * w + x * step)];
    return t;
}

void registerInferenceTypes() {
    qRegisterMetaType<ResultPtr>("r18::ui::ResultPtr");
    qRegisterMetaType<SourcePtr>("r18::ui::SourcePtr");
    qRegisterMetaType<EngineInfo>("r18::ui::EngineInfo");
    qRegisterMetaType<Precision>("r18::Precision");
}

InferenceWorker::InferenceWorker(QObject* parent) : QObject(parent) {
    registerInferenceTypes();
}

InferenceWorker::~InferenceWorker() = default;

void InferenceWorker::submit(InferenceRequest request) {
    post(std::move(request), false);
}

void InferenceWorker::setLiveNeeds(const ViewNeeds& needs) {
    QMutexLocker lock(&m_mutex);
    m_liveNeeds = needs;
}

void InferenceWorker::submitFrame(const FramePtr& frame, const QString& label) {
    auto source = std::make_shared<Source>();
    source->sourceId = nextSourceId();
    source->label = label;
    source->frame = frame->image;
    source->live = true;
    source->grabbed = frame->grabbed;
    InferenceRequest request;
    request.requestId = nextRequestId();
    request.source = std::move(source);
    {
        QMutexLocker lock(&m_mutex);
        request.needs = m_liveNeeds;
    }
    post(std::move(request), true);
}

void InferenceWorker::post(InferenceRequest request, bool live) {
    ++m_submitted;
    {
        QMutexLocker lock(&m_mutex);
        if (m_pending) ++m_dropped;
        m_pending = std::move(request);
        m_pendingIsLive = live;
        if (m_wakeQueued) return;
        m_wakeQueued = true;
    }
    QMetaObject::invokeMethod(this, &InferenceWorker::processPending, Qt::QueuedConnection);
}

bool InferenceWorker::newerUserRequestPending() {
    QMutexLocker lock(&m_mutex);
    return m_pending && !m_pendingIsLive;
}

bool InferenceWorker::compile(uint64_t engineId, std::shared_ptr<const Model> model,
                              Precision precision, int threads, const CalibrationSet& inputs) {
    try {
        std::shared_ptr<const Calibration> calibration;
        if (precision == Precision::Int8) {
            if (inputs.empty())
                throw EngineError(
                    "int8 calibrates on the images you open: open an image (or start a camera) "
                    "first, then choose int8.");
            std::vector<Tensor> tensors;
            for (const auto& input : inputs) tensors.push_back(*input);
            calibration = std::make_shared<Calibration>(
                calibrate(model->spec(), model->weights(), tensors, threads));
        }
        auto pipeline = std::make_unique<Pipeline>(
            model,
            EngineOptions().with(precision).withThreads(threads).withCalibration(calibration));
        pipeline->warmUp();  // so the first result shows steady-state times
        const bool newModel = !m_pipeline || m_info.model != model;
        if (newModel || !m_gradCam) {
            m_gradCam.reset();
            m_gradCam = std::make_unique<GradCam>(model->spec(), model->weights());
            m_input.reset();  // the next image is prepared with this model's preprocessing
        }
        m_pipeline = std::move(pipeline);
        m_fp32.reset();  // the fp32 reference of this model and threads, built when asked for
        m_info.engineId = engineId;
        m_info.model = std::move(model);
        m_info.precision = precision;
        m_info.threads = m_pipeline->engine().options().threads;  // capped at the cores
        m_info.implementations = QString::fromStdString(m_pipeline->engine().implementations());
        m_info.calibrationImages = calibration ? calibration->images : 0;
        m_info.calibration = calibration ? inputs : CalibrationSet();
    } catch (...) {  // r18::Error, or anything else the engine lets out (std::bad_alloc, ...)
        const std::string subject = model->file().empty() ? "The demo weights" : model->file();
        emit engineFailed(engineId, QString::fromStdString(currentExceptionMessage(subject)),
                          false);
        return false;
    }
    return true;
}

void InferenceWorker::loadModel(quint64 engineId, const QString& weightsPath, Precision precision,
                                int threads, const CalibrationSet& calibration) {
    std::shared_ptr<const Model> model;
    try {
        ModelOptions options;
        options.weightsPath = weightsPath.toStdString();
        options.demoIfMissing = true;
        model = Model::open(options);
    } catch (...) {
        emit engineFailed(
            engineId, QString::fromStdString(currentExceptionMessage(weightsPath.toStdString())),
            false);
        if (!m_pipeline) model = Model::demo();  // something must run
    }
    if (model) {
        for (const std::string& note : model->notes())
            emit engineFailed(engineId, QString::fromStdString(note), true);
        const bool ok = compile(engineId, model, precision, threads, calibration) ||
                        (precision != Precision::Fp32 &&
                         compile(engineId, model, Precision::Fp32, threads, calibration));
        if (!ok && !m_pipeline) return;
    }
    emit engineReady(m_info);
    processPending();
}

void InferenceWorker::configure(quint64 engineId, Precision precision, int threads,
                                const CalibrationSet& calibration) {
    if (!m_pipeline) return;
    compile(engineId, m_info.model, precision, threads, calibration);
    emit engineReady(m_info);  // the new engine, or the one that still runs
    processPending();
}

void InferenceWorker::setLabels(quint64 engineId, const QString& path) {
    if (!m_pipeline) return;
    try {
        const std::shared_ptr<const Model> model = m_info.model->withLabels(path.toStdString());
        m_pipeline = std::make_unique<Pipeline>(model, m_pipeline->options());
        m_fp32.reset();
        m_info.engineId = engineId;
        m_info.model = model;
    } catch (...) {
        emit engineFailed(
            engineId, QString::fromStdString(currentExceptionMessage(path.toStdString())), true);
    }
    emit engineReady(m_info);
    processPending();
}

void InferenceWorker::prepareSource(const Source& source, InferenceResult& result) {
    if (source.sourceId != m_sourceId || !m_input) {
        const auto t0 = Clock::now();
        const std::string label = source.label.toStdString();
        cv::Mat decoded;
        if (!source.path.isEmpty()) {
            decoded = readImage(source.path.toStdString());
        } else if (!source.bytes.isEmpty()) {
            decoded =
                decodeImage(std::vector<uint8_t>(source.bytes.begin(), source.bytes.end()), label);
        } else if (!source.frame.empty()) {
            decoded = source.frame;
        } else if (!source.image.isNull()) {
            decoded = matFromImage(source.image);
        } else {
            throw ImageError(label + ": there is no image.");
        }
        const cv::Mat rgb = toRgb8(decoded);
        QImage display = displayImageFromRgb(rgb, kDisplayMaxSide);
        const double decodeMs = msSince(t0);
        const auto t1 = Clock::now();
        Tensor input = m_info.model->prepareRgb(rgb);
        // Commit only once everything succeeded, so a bad image leaves the last good one.
        m_preprocessMs = msSince(t1);
        m_decodeMs = decodeMs;
        m_input = std::make_shared<const Tensor>(std::move(input));
        m_display = std::move(display);
        m_originalSize = QSize(rgb.cols, rgb.rows);
        m_sourceId = source.sourceId;
    }
    result.display = m_display;
    result.input = m_input;
    result.originalSize = m_originalSize;
    result.decodeMs = m_decodeMs;
    result.preprocessMs = m_preprocessMs;
}

void InferenceWorker::processPending() {
    InferenceRequest request;
    {
        QMutexLocker lock(&m_mutex);
        m_wakeQueued = false;
        if (!m_pending || !m_pipeline) return;  // nothing to do, or waiting for a model
        request = std::move(*m_pending);
        m_pending.reset();
    }
    emit started(request.requestId);
    try {
        if (!request.source) throw ImageError("The request has no image.");
        if (const int delay = m_extraLatencyMs.load())
            QThread::msleep(static_cast<unsigned long>(delay));
        auto result = std::make_shared<InferenceResult>();
        result->requestId = request.requestId;
        result->engineId = m_info.engineId;
        result->source = request.source;
        result->needs = request.needs;
        prepareSource(*request.source, *result);
        if (newerUserRequestPending()) {
            ++m_dropped;
            return processPending();
        }
        const ViewNeeds& needs = request.needs;
        const NetworkSpec& spec = m_info.model->spec();
        // The views' taps, plus what the heat map and the node figures need.
        RunRequest run;
        run.taps = needs.taps;
        run.topK = kTopK;
        run.profile = request.profile;
        run.ablations = needs.ablations;
        if (needs.heatmap.enabled)
            for (const std::string& t : m_gradCam->neededTaps(needs.heatmap.target))
                run.taps.push_back(t);
        const bool vsFp32 = needs.vsFp32 && m_info.precision != Precision::Fp32;
        if (needs.nodeFigures || vsFp32)
            for (const std::string& t : spec.tapNames()) run.taps.push_back(t);
        Classification c = m_pipeline->run(*m_input, run);
        if (vsFp32 && !newerUserRequestPending()) {
            if (!m_fp32) {
                EngineOptions o = m_pipeline->options();
                o.precision = Precision::Fp32;
                o.calibration.reset();
                m_fp32 = std::make_unique<Pipeline>(m_info.model, o);
            }
            RunRequest reference;
            reference.taps = spec.tapNames();
            reference.ablations = needs.ablations;
            const Classification f = m_fp32->run(*m_input, reference);
            for (const auto& [name, tap] : f.taps)
                if (const auto it = c.taps.find(name); it != c.taps.end())
                    result->vsFp32[name] = compareTaps(tap, it->second);
        }
        result->top = std::move(c.top);
        if (needs.heatmap.enabled && !newerUserRequestPending()) {
            const int64_t cls = needs.heatmap.classIndex == kTopClass ? result->top.front().index
                                                                      : needs.heatmap.classIndex;
            result->heatmap =
                m_gradCam->compute(c.taps, needs.heatmap.target, cls, needs.ablations);
        }
        if (needs.nodeFigures) {
            result->nodeFigures.resize(spec.nodes.size());
            for (size_t i = 0; i < spec.nodes.size(); ++i) {
                const auto it = c.taps.find(spec.nodes[i].name);
                if (it == c.taps.end()) continue;
                const TapStats s = computeTapStats(it->second);
                NodeFigures& f = result->nodeFigures[i];
                f.mean = s.mean;
                f.zeroFraction = s.zeroFraction;
                f.thumbnail = nodeThumbnail(it->second, s);
                const auto [lo, hi] =
                    std::minmax_element(f.thumbnail.data.begin(), f.thumbnail.data.end());
                if (lo != f.thumbnail.data.end()) {
                    f.thumbnailLo = *lo;
                    f.thumbnailHi = *hi;
                }
                f.histogram = s.histogram.counts;
            }
        }
        for (const std::string& name : needs.taps) {  // hand back only what the views asked for
            const auto it = c.taps.find(name);
            if (it == c.taps.end()) continue;
            result->tapStats[name] = computeTapStats(it->second);
            result->taps[name] = std::move(it->second);
        }
        result->logits = std::move(c.logits);
        result->nodeMs = std::move(c.nodeMs);
        result->networkMs = c.networkMs;
        emit resultReady(result);
    } catch (...) {  // r18::Error names the image; anything else is named here
        const std::string label = request.source ? request.source->label.toStdString() : "";
        emit failed(request.requestId, request.source,
                    QString::fromStdString(currentExceptionMessage(label)));
    }
}

}  // namespace r18::ui
