#include "ui/insight/insight_jobs.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "core/engine/calibration.h"
#include "core/error.h"
#include "core/media/image_io.h"
#include "core/media/preprocess.h"
#include "ui/views/colormap.h"

namespace r18::ui {

QImage rgbImage(const cv::Mat& rgb8) {
    QImage image(rgb8.cols, rgb8.rows, QImage::Format_RGB888);
    for (int y = 0; y < rgb8.rows; ++y)
        std::copy_n(rgb8.ptr<uint8_t>(y), static_cast<size_t>(rgb8.cols) * 3, image.scanLine(y));
    return image;
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

std::optional<Explanation> ExplainRunner::run(const std::shared_ptr<const Model>& model,
                                              int threads, const Tensor& input,
                                              const ExplainSettings& settings,
                                              const ProgressFn& progress) {
    if (!m_explainer || model != m_model || threads != m_threads) {
        m_explainer.reset();
        m_explainer = std::make_unique<Explainer>(model, threads);
        m_model = model;
        m_threads = threads;
    }
    AttributionOptions options;
    options.method = settings.method;
    options.classIndex = settings.classIndex;
    options.layer = settings.method == AttributionMethod::Cam ? "layer4" : settings.layer;
    options.steps = settings.steps;
    options.samples = settings.samples;
    options.noise = settings.noise;
    options.seed = settings.seed;
    const auto phase = [&progress](int from) -> ProgressFn {
        return [&progress, from](int done, int total) {
            return keepGoing(progress, from + (total > 0 ? done * 500 / total : 0), 1000);
        };
    };
    std::optional<Attribution> a = m_explainer->explain(input, options, phase(0));
    if (!a) return std::nullopt;
    std::optional<Faithfulness> f = m_explainer->faithfulness(
        input, a->map, a->classIndex, settings.faithfulnessSteps, phase(500));
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

Tensor absoluteDifference(const Tensor& a, const Tensor& b) {
    Tensor d(a.dims);
    for (size_t i = 0; i < d.data.size(); ++i) d.data[i] = std::abs(b.data[i] - a.data[i]);
    return d;
}

CompareRunner::CompareRunner() = default;
CompareRunner::~CompareRunner() = default;

Comparison CompareRunner::run(const std::shared_ptr<const Model>& model, int threads,
                              const std::vector<std::shared_ptr<const Tensor>>& calibration,
                              const Tensor& input, const std::string& node) {
    std::vector<const Tensor*> set;
    for (const auto& t : calibration) set.push_back(t.get());
    if (model != m_model || threads != m_threads) {
        m_fp32.reset();
        m_int8.reset();
        m_fp32 = std::make_unique<Pipeline>(model, EngineOptions{Precision::Fp32, 1, threads});
        m_model = model;
        m_threads = threads;
    }
    if (!m_int8 || set != m_calibratedOn) {
        m_int8.reset();
        std::vector<Tensor> inputs;
        for (const auto& t : calibration) inputs.push_back(*t);
        auto ranges = std::make_shared<const Calibration>(
            calibrate(model->spec(), model->weights(), inputs, threads));
        m_int8 = std::make_unique<Pipeline>(
            model, EngineOptions{Precision::Int8, 1, threads, std::move(ranges)});
        m_calibratedOn = set;
    }
    RunRequest request;
    request.taps = {node};
    Classification a = m_fp32->run(input, request);
    Classification b = m_int8->run(input, request);
    Comparison c;
    c.node = node;
    c.calibrationImages = static_cast<int>(calibration.size());
    c.topFp32 = std::move(a.top);
    c.topInt8 = std::move(b.top);
    c.fp32 = std::move(a.taps.at(node));
    c.difference = absoluteDifference(c.fp32, b.taps.at(node));
    c.differenceStats = computeTapStats(c.difference);
    double sum = 0.0;
    for (size_t i = 0; i < c.difference.data.size(); ++i) {
        c.maxAbsDifference = std::max(c.maxAbsDifference, double(c.difference.data[i]));
        c.maxAbsFp32 = std::max(c.maxAbsFp32, double(std::abs(c.fp32.data[i])));
        sum += c.difference.data[i];
    }
    c.meanAbsDifference = c.difference.data.empty() ? 0.0 : sum / double(c.difference.data.size());
    return c;
}

std::vector<ChannelPatch> channelPatches(const ChannelAtlas& atlas, const std::string& layer,
                                         int64_t channel, const Model& model) {
    const LayerAtlas& l = atlas.layer(layer);
    std::vector<ChannelPatch> patches;
    if (channel < 0 || channel >= static_cast<int64_t>(l.channels.size())) return patches;
    for (const ChannelHit& hit : l.channels[static_cast<size_t>(channel)]) {
        ChannelPatch p;
        p.file = QString::fromStdString(atlas.files.at(static_cast<size_t>(hit.file)));
        p.value = hit.value;
        p.box = hit.box;
        try {
            const cv::Mat crop =
                resizeAndCropDecoded(readImage(p.file.toStdString()), model.preprocess());
            const cv::Rect r(static_cast<int>(hit.box.x0), static_cast<int>(hit.box.y0),
                             static_cast<int>(hit.box.x1 - hit.box.x0),
                             static_cast<int>(hit.box.y1 - hit.box.y0));
            if ((r & cv::Rect(0, 0, crop.cols, crop.rows)) == r && !r.empty())
                p.image = rgbImage(crop(r).clone());
        } catch (const Error&) {
            // The file changed or went away since the atlas was built: an empty tile.
        }
        patches.push_back(std::move(p));
    }
    return patches;
}

}  // namespace r18::ui
