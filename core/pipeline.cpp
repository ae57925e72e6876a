#include "core/pipeline.h"

#include <algorithm>
#include <chrono>

#include "core/clock.h"
#include "core/media/image_io.h"

namespace r18 {

Pipeline::Pipeline(std::shared_ptr<const Model> model, const EngineOptions& options)
    : m_model(std::move(model)), m_engine(m_model->spec(), m_model->weights(), options) {}

void Pipeline::warmUp() {
    const NetworkSpec& spec = m_model->spec();
    m_engine.run(Tensor({m_engine.options().batch, 3, spec.inputSize, spec.inputSize}));
}

Classification Pipeline::run(const Tensor& input, const RunRequest& request) {
    Classification c;
    static_cast<RunResult&>(c) =
        m_engine.run(input, EngineRun{request.taps, request.ablations, request.profile});
    c.top = topK(c.logits.ptr(), m_model->spec().numClasses, request.topK, m_model->labels());
    return c;
}

std::vector<Classification> Pipeline::runBatch(const Tensor& input, const RunRequest& request) {
    RunResult r = m_engine.run(input, EngineRun{request.taps, request.ablations, request.profile});
    const int64_t batch = m_engine.options().batch;
    const int64_t classes = m_model->spec().numClasses;
    std::vector<Classification> out(static_cast<size_t>(batch));
    for (int64_t b = 0; b < batch; ++b) {
        Classification& c = out[static_cast<size_t>(b)];
        c.logits = Tensor({1, classes});
        std::copy_n(r.logits.ptr() + b * classes, classes, c.logits.ptr());
        c.top = topK(c.logits.ptr(), static_cast<int>(classes), request.topK, m_model->labels());
        for (const auto& [name, t] : r.taps) {
            std::vector<int64_t> dims = t.dims;
            dims[0] = 1;
            Tensor one(dims);
            const size_t per = one.data.size();
            std::copy_n(t.data.begin() + static_cast<std::ptrdiff_t>(per * static_cast<size_t>(b)),
                        per, one.data.begin());
            c.taps.emplace(name, std::move(one));
        }
        c.nodeMs = r.nodeMs;
        c.networkMs = r.networkMs;
    }
    return out;
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
