#include "core/pipeline.h"

#include <chrono>

#include "core/media/image_io.h"

namespace r18 {
namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace

Pipeline::Pipeline(std::shared_ptr<const Model> model, const EngineOptions& options)
    : m_model(std::move(model)), m_engine(m_model->spec(), m_model->weights(), options) {}

void Pipeline::warmUp() {
    const NetworkSpec& spec = m_model->spec();
    m_engine.run(Tensor({m_engine.options().batch, 3, spec.inputSize, spec.inputSize}));
}

Classification Pipeline::run(const Tensor& input, const RunRequest& request) {
    RunResult r = m_engine.run(input, request.taps, request.profile);
    Classification c;
    c.top = topK(r.logits.ptr(), m_model->spec().numClasses, request.topK, m_model->labels());
    c.logits = std::move(r.logits);
    c.taps = std::move(r.taps);
    c.nodeMs = std::move(r.nodeMs);
    c.networkMs = r.networkMs;
    return c;
}

Classification Pipeline::classifyFile(const std::string& path, const RunRequest& request) {
    const auto t0 = Clock::now();
    const cv::Mat decoded = readImage(path);
    const double decodeMs = msSince(t0);
    const auto t1 = Clock::now();
    const Tensor input = m_model->prepare(decoded);
    const double preprocessMs = msSince(t1);
    Classification c = run(input, request);
    c.decodeMs = decodeMs;
    c.preprocessMs = preprocessMs;
    return c;
}

}  // namespace r18
