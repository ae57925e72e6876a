#include "ui/inference_worker.h"

#include <QFileInfo>
#include <QMutexLocker>
#include <QThread>

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "core/media/image_io.h"
#include "core/media/preprocess.h"
#include "ui/image_convert.h"

namespace r18::ui {
namespace {

constexpr int kDisplayMaxSide = 2048;
constexpr int kTopK = 5;
constexpr size_t kCalibrationImages = 16;

double msSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

void registerInferenceTypes() {
    qRegisterMetaType<ResultPtr>("r18::ui::ResultPtr");
    qRegisterMetaType<ModelInfo>("r18::ui::ModelInfo");
    qRegisterMetaType<Precision>("r18::Precision");
}

InferenceWorker::InferenceWorker(QObject* parent) : QObject(parent) {
    registerInferenceTypes();
}

InferenceWorker::~InferenceWorker() = default;

void InferenceWorker::submit(InferenceRequest request) {
    {
        QMutexLocker lock(&m_mutex);
        if (m_pending) ++m_dropped;
        m_pending = std::move(request);
        if (m_wakeQueued) return;
        m_wakeQueued = true;
    }
    wake();
}

void InferenceWorker::wake() {
    QMetaObject::invokeMethod(this, &InferenceWorker::processPending, Qt::QueuedConnection);
}

bool InferenceWorker::compile(Precision precision, int threads) {
    try {
        std::shared_ptr<const Calibration> calibration;
        if (precision == Precision::Int8) {
            if (m_recentInputs.empty())
                throw EngineError(
                    "int8 calibrates on the images you open: open an image (or start a camera) "
                    "first, "
                    "then choose int8.");
            calibration = std::make_shared<Calibration>(calibrate(
                *m_spec, *m_weights,
                std::vector<Tensor>(m_recentInputs.begin(), m_recentInputs.end()), threads));
        }
        auto engine = std::make_unique<Engine>(*m_spec, *m_weights,
                                               EngineOptions{precision, 1, threads, calibration});
        m_engine = std::move(engine);
        m_info.calibrationImages = calibration ? calibration->images : 0;
    } catch (const Error& e) {
        emit modelFailed(QString::fromStdString(e.what()));
        return false;
    }
    m_info.precision = precision;
    m_info.threads = threads;
    m_info.implementations = QString::fromStdString(m_engine->implementations());
    return true;
}

void InferenceWorker::loadModel(const QString& weightsPath, Precision precision, int threads) {
    std::shared_ptr<const Model> model;
    try {
        ModelOptions options;
        options.weightsPath = weightsPath.toStdString();
        options.demoIfMissing = true;
        model = Model::open(options);
    } catch (const Error& e) {
        emit modelFailed(QString::fromStdString(e.what()));
        if (m_engine) return;  // keep running the previous model
        model = Model::demo();
    }
    for (const std::string& note : model->notes()) emit modelFailed(QString::fromStdString(note));
    m_gradCam.reset();
    m_engine.reset();
    m_model = model;
    m_input = Tensor();  // the next image is prepared with this model's preprocessing
    m_weights = model->weightsPtr();
    m_spec = model->specPtr();
    m_gradCam = std::make_unique<GradCam>(*m_spec, *m_weights);
    m_info = ModelInfo{};
    m_labels = std::make_shared<Labels>(model->labels());
    if (model->labelsSource() != "ImageNet (built in)" &&
        model->labelsSource().rfind("none", 0) != 0)
        m_info.labelsFile = QString::fromStdString(model->labelsSource());
    m_info.model = model;
    m_info.file = QString::fromStdString(model->file());
    m_info.format = QString::fromStdString(model->weights().format);
    m_info.arch = QString::fromStdString(m_spec->archName());
    m_info.classes = m_spec->numClasses;
    m_info.official = model->trust() == Trust::Official;
    m_info.trustNote = QString::fromStdString(model->trustNote());
    m_info.spec = m_spec;
    m_info.weights = m_weights;
    m_info.labels = m_labels;
    if (!compile(precision, threads) &&
        (precision == Precision::Fp32 || !compile(Precision::Fp32, threads)))
        return;
    emit modelReady(m_info);
    processPending();
}

void InferenceWorker::configure(Precision precision, int threads) {
    if (!m_weights) return;
    const Precision before = m_info.precision;
    const int beforeThreads = m_info.threads;
    if (!compile(precision, threads) && !compile(before, beforeThreads)) return;
    emit modelReady(m_info);
    processPending();
}

void InferenceWorker::setLabels(const QString& path) {
    try {
        if (!m_model) throw Error("There is no model to name the classes of yet.");
        m_model = m_model->withLabels(path.toStdString());
        m_info.model = m_model;
        m_labels = std::make_shared<Labels>(m_model->labels());
        m_info.labels = m_labels;
        m_info.labelsFile = path;
    } catch (const Error& e) {
        emit modelFailed(QString::fromStdString(e.what()));
        return;
    }
    emit modelReady(m_info);
}

void InferenceWorker::prepareSource(const Source& source, InferenceResult& result) {
    if (source.generation != m_generation || m_input.empty()) {
        const auto t0 = std::chrono::steady_clock::now();
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
        const auto t1 = std::chrono::steady_clock::now();
        // The model's own preprocessing (its config's resize, crop, filter, mean and std).
        const PreprocessOptions options = m_model ? m_model->preprocess() : PreprocessOptions{};
        const cv::Mat crop = resizeAndCrop(rgb, options);
        Tensor input({1, 3, options.crop, options.crop});
        cropToTensor(crop, input.ptr(), options);
        // Commit only once everything succeeded, so a bad image leaves the last good one.
        m_preprocessMs = msSince(t1);
        m_decodeMs = decodeMs;
        // int8 calibration material: every image, but only every 30th camera frame (neighbours
        // are near-duplicates, and the copy would otherwise be paid on every frame).
        if (source.frame.empty() || source.generation % 30 == 1) {
            m_recentInputs.push_back(input);
            if (m_recentInputs.size() > kCalibrationImages) m_recentInputs.pop_front();
        }
        m_input = std::move(input);
        m_display = std::move(display);

        m_originalSize = QSize(rgb.cols, rgb.rows);
        m_generation = source.generation;
    }
    result.display = m_display;

    result.originalSize = m_originalSize;
    result.decodeMs = m_decodeMs;
    result.preprocessMs = m_preprocessMs;
}

void InferenceWorker::processPending() {
    InferenceRequest request;
    {
        QMutexLocker lock(&m_mutex);
        m_wakeQueued = false;
        if (!m_pending || !m_engine) return;  // nothing to do, or waiting for a model
        request = std::move(*m_pending);
        m_pending.reset();
    }
    const QString label = request.source ? request.source->label : QString();
    emit started(request.id);
    try {
        if (!request.source) throw ImageError("The request has no image.");
        if (const int delay = m_extraLatencyMs.load())
            QThread::msleep(static_cast<unsigned long>(delay));
        auto result = std::make_shared<InferenceResult>();
        result->id = request.id;
        result->generation = request.source->generation;
        result->label = label;
        result->grabbed = request.source->grabbed;
        prepareSource(*request.source, *result);
        // The views' taps, plus what the heat map and the node figures need.
        std::vector<std::string> taps = request.taps;
        if (request.heatmapClass != kNoHeatmap)
            for (const std::string& t : m_gradCam->neededTaps(request.heatmapTarget))
                taps.push_back(t);
        if (request.stats)
            for (const std::string& t : m_spec->tapNames()) taps.push_back(t);
        RunResult run = m_engine->run(m_input, taps, request.profile);
        result->top = topK(run.logits.ptr(), m_spec->numClasses, kTopK, *m_labels);
        if (request.heatmapClass != kNoHeatmap) {
            const int64_t cls = request.heatmapClass == kTopClass ? result->top.front().index
                                                                  : request.heatmapClass;
            result->heatmap = m_gradCam->compute(run.taps, request.heatmapTarget, cls);
        }
        if (request.stats) {
            result->nodeStats.resize(m_spec->nodes.size());
            for (size_t i = 0; i < m_spec->nodes.size(); ++i) {
                const auto it = run.taps.find(m_spec->nodes[i].name);
                if (it == run.taps.end()) continue;
                double sum = 0.0;
                size_t zeros = 0;
                for (float v : it->second.data) {
                    sum += v;
                    zeros += v == 0.0F;
                }
                const auto n = static_cast<double>(it->second.data.size());
                result->nodeStats[i] = {static_cast<float>(sum / n), static_cast<float>(zeros / n)};
            }
        }
        for (auto it = run.taps.begin(); it != run.taps.end();)  // hand back only what was asked
            it =
                std::find(request.taps.begin(), request.taps.end(), it->first) == request.taps.end()
                    ? run.taps.erase(it)
                    : std::next(it);
        result->taps = std::move(run.taps);
        result->nodeMs = std::move(run.nodeMs);
        result->networkMs = run.networkMs;
        emit resultReady(result);
    } catch (const Error& e) {
        emit failed(request.id, label, QString::fromStdString(e.what()));
    } catch (const std::exception& e) {
        emit failed(request.id, label,
                    tr("%1: unexpected error: %2").arg(label, QString::fromUtf8(e.what())));
    }
}

}  // namespace r18::ui
