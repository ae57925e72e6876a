#include "core/video_explain.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/clock.h"
#include "core/error.h"
#include "core/media/video_source.h"
#include "core/model/predictions.h"

namespace r18 {
namespace {

constexpr double kDefaultFps = 25.0;

// cv::putText draws ASCII only: anything else becomes '?'.
std::string ascii(const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else if ((c & 0xC0) != 0x80) {  // the first byte of a UTF-8 sequence
            out += '?';
        }
    }
    return out;
}

}  // namespace

cv::Mat drawHeatOverlay(const cv::Mat& frame, const Tensor& heat,
                        const PreprocessOptions& preprocess, const std::string& caption,
                        float opacity) {
    const int s = preprocess.crop;
    if (heat.data.size() != static_cast<size_t>(s) * static_cast<size_t>(s))
        throw EngineError("A heat overlay needs " + std::to_string(s) + "×" + std::to_string(s) +
                          " values, got " + std::to_string(heat.data.size()) + ".");
    cv::Mat out = toRgb8(frame);  // gray/BGRA/16-bit → 8-bit, in RGB order
    cv::cvtColor(out, out, cv::COLOR_RGB2BGR);
    const CropWindow w = cropWindow(out.cols, out.rows, preprocess);
    const double sx = static_cast<double>(out.cols) / w.resizedWidth;
    const double sy = static_cast<double>(out.rows) / w.resizedHeight;
    cv::Rect region(static_cast<int>(std::lround(w.left * sx)),
                    static_cast<int>(std::lround(w.top * sy)),
                    std::max(1, static_cast<int>(std::lround(s * sx))),
                    std::max(1, static_cast<int>(std::lround(s * sy))));
    region &= cv::Rect(0, 0, out.cols, out.rows);
    if (region.empty()) return out;

    cv::Mat gray(s, s, CV_8U);
    for (size_t i = 0; i < heat.data.size(); ++i)
        gray.data[i] =
            static_cast<uint8_t>(std::lround(std::clamp(heat.data[i], 0.0F, 1.0F) * 255.0F));
    cv::Mat colours;
    cv::applyColorMap(gray, colours, cv::COLORMAP_INFERNO);  // BGR
    cv::resize(colours, colours, region.size(), 0, 0, cv::INTER_LINEAR);
    cv::Mat roi = out(region);
    const double a = std::clamp(static_cast<double>(opacity), 0.0, 1.0);
    cv::addWeighted(roi, 1.0 - a, colours, a, 0.0, roi);
    cv::rectangle(out, region, cv::Scalar(255, 255, 255), std::max(1, out.cols / 400));

    if (!caption.empty()) {
        const double scale = std::max(0.4, out.cols / 1000.0);
        const int thickness = std::max(1, static_cast<int>(scale * 1.5));
        int baseline = 0;
        const std::string text = ascii(caption);
        const cv::Size size =
            cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thickness, &baseline);
        // Above the region if there is room, else inside its top edge.
        const int y = region.y >= size.height + baseline + 4 ? region.y - baseline - 2
                                                             : region.y + size.height + 2;
        const cv::Rect box(region.x, y - size.height - 2, size.width + 4,
                           size.height + baseline + 4);
        cv::rectangle(out, box & cv::Rect(0, 0, out.cols, out.rows), cv::Scalar(0, 0, 0),
                      cv::FILLED);
        cv::putText(out, text, cv::Point(region.x + 2, y), cv::FONT_HERSHEY_SIMPLEX, scale,
                    cv::Scalar(255, 255, 255), thickness, cv::LINE_AA);
    }
    return out;
}

VideoExplainReport explainVideo(std::shared_ptr<const Model> model,
                                const VideoExplainOptions& options, const ProgressFn& progress) {
    const auto t0 = Clock::now();
    if (options.method != AttributionMethod::Cam && options.method != AttributionMethod::GradCam)
        throw EngineError(std::string("A video can show cam or gradcam, not ") +
                          methodName(options.method) + ".");
    VideoExplainReport report;
    report.format = videoFormatForPath(options.output);
    if (options.input.find("://") == std::string::npos && cv::haveImageReader(options.input))
        throw VideoError(options.input +
                         ": is a still image, not a video (explain --overlay draws one image).");
    const std::unique_ptr<VideoSource> source = VideoSource::open(options.input);
    report.framesInInput = source->frameCount();
    report.fpsGuessed = !(source->fps() > 0.0);
    report.fps = report.fpsGuessed ? kDefaultFps : source->fps();

    Explainer explainer(model, options.threads);
    AttributionOptions attribution;
    attribution.method = options.method;
    attribution.layer = options.layer;
    attribution.classIndex = options.classIndex;
    const int64_t size = model->spec().inputSize;
    std::unique_ptr<VideoFileWriter> writer;  // opened with the first frame explained
    cv::Mat frame;
    while (source->read(frame)) {
        const Tensor input = model->prepare(frame);
        const std::optional<Attribution> a = explainer.explain(input, attribution);
        const std::vector<float> p = softmax(a->logits.ptr(), a->logits.numel());
        char percent[32];
        std::snprintf(percent, sizeof percent, " %.1f%%",
                      100.0 * p[static_cast<size_t>(a->classIndex)]);
        const cv::Mat drawn =
            drawHeatOverlay(frame, heatValues(a->map, size), model->preprocess(),
                            model->labels().name(a->classIndex) + percent, options.opacity);
        if (!writer)
            writer = std::make_unique<VideoFileWriter>(options.output, report.format, report.fps,
                                                       drawn.size());
        writer->write(drawn);
        report.layer = a->layer;
        if (options.keepMaps) report.maps.push_back(a->map);
        ++report.frames;
        if (!keepGoing(progress, report.frames, report.framesInInput)) {
            report.cancelled = true;
            break;
        }
    }
    if (!writer) throw VideoError(options.input + ": the video has no frame that could be read.");
    writer->finish();
    report.seconds = msSince(t0) / 1000.0;
    return report;
}

}  // namespace r18
