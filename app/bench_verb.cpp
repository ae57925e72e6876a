#include "app/bench_verb.h"

#include <QCommandLineParser>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "app/bench_insight.h"
#include "app/cli_args.h"
#include "core/attribution.h"
#include "core/clock.h"
#include "core/engine/calibration.h"
#include "core/engine/engine.h"
#include "core/error.h"
#include "core/live_pipeline.h"
#include "core/media/image_io.h"
#include "core/media/video_source.h"
#include "core/model/model.h"
#include "core/pipeline.h"
#include "core/process_stats.h"

namespace r18::cli {
namespace {

using nlohmann::ordered_json;

// One JSON document on stdout, written by nlohmann-json (paths escaped; bytes that are not
// UTF-8 become U+FFFD).
void printJson(const ordered_json& doc) {
    std::cout << doc.dump(-1, ' ', false, ordered_json::error_handler_t::replace) << "\n";
}

constexpr int kWarmup = 5;

// A thread competing with inference for the cores, as the window's GUI and capture threads do:
// "gui" works 4 ms of every 16 (a 60 Hz repaint), "spin" never rests (a capture thread
// decoding frames). It counts the work it gets done, so a wait policy that wins latency by
// starving the other threads shows.
class Background {
public:
    explicit Background(const std::string& mode) {
        if (mode == "none") return;
        const bool gui = mode == "gui";
        m_thread = std::thread([this, gui] {
            while (!m_stop.load(std::memory_order_relaxed)) {
                const auto until = Clock::now() + std::chrono::milliseconds(gui ? 4 : 1);
                while (Clock::now() < until) {
                    volatile uint64_t x = 0;
                    for (int i = 0; i < 1000; ++i) x = x + static_cast<uint64_t>(i);
                    m_work.fetch_add(1, std::memory_order_relaxed);
                }
                if (gui) std::this_thread::sleep_for(std::chrono::milliseconds(12));
            }
        });
    }
    ~Background() {
        m_stop = true;
        if (m_thread.joinable()) m_thread.join();
    }
    uint64_t work() const { return m_work.load(); }

private:
    std::atomic<bool> m_stop{false};
    std::atomic<uint64_t> m_work{0};
    std::thread m_thread;
};

struct Measurement {
    std::string precision;
    bool supported = true;
    std::string note;
    double medianMs = 0.0;
    double minMs = 0.0;
    double imagesPerSecond = 0.0;
    double gflops = 0.0;
    std::string implementations;
    double backgroundWork = 0.0;  // the background thread's work units per ms while timing
};

Measurement measure(const std::shared_ptr<const Model>& model, Precision precision, int batch,
                    int threads, int iterations, const std::string& background) {
    const NetworkSpec& spec = model->spec();
    Measurement m;
    m.precision = precisionName(precision);
    Tensor input({batch, 3, spec.inputSize, spec.inputSize});
    for (size_t i = 0; i < input.data.size(); ++i)
        input.data[i] = static_cast<float>((i * 7919) % 255) / 128.0F - 1.0F;
    std::unique_ptr<Pipeline> pipeline;
    try {
        std::shared_ptr<const Calibration> calibration;
        if (precision == Precision::Int8) {  // speed does not depend on the ranges
            Tensor one({1, 3, spec.inputSize, spec.inputSize});
            std::copy(input.data.begin(),
                      input.data.begin() + static_cast<std::ptrdiff_t>(one.data.size()),
                      one.data.begin());
            calibration =
                std::make_shared<Calibration>(calibrate(spec, model->weights(), {one}, threads));
        }
        pipeline = std::make_unique<Pipeline>(
            model,
            EngineOptions().with(precision).withBatch(batch).withThreads(threads).withCalibration(
                calibration));
    } catch (const EngineError& e) {
        m.supported = false;
        m.note = e.what();
        return m;
    }
    Engine* engine = &pipeline->engine();
    m.implementations = engine->implementations();
    for (int i = 0; i < kWarmup; ++i) engine->run(input);
    std::vector<double> ms;
    const Background competitor(background);
    const uint64_t work0 = competitor.work();
    const auto begin = Clock::now();
    for (int i = 0; i < iterations; ++i) {
        const auto t0 = Clock::now();
        engine->run(input);
        ms.push_back(msSince(t0));
    }
    m.backgroundWork = static_cast<double>(competitor.work() - work0) / msSince(begin);
    std::sort(ms.begin(), ms.end());
    m.medianMs = ms[ms.size() / 2];
    m.minMs = ms.front();
    m.imagesPerSecond = batch * 1000.0 / m.medianMs;
    m.gflops = 2.0 * static_cast<double>(spec.totalMacs()) * batch / (m.medianMs * 1e6);
    return m;
}

}  // namespace

// Per 3×3 stride-1 convolution, fp32: direct against Winograd on the same nChw16c activations,
// median of `iterations` profiled runs each, beside what ConvAlgorithm::Auto computes it with
// (Engine's fixed table) and the whole network both ways and on oneDNN's own layout. This is
// how the table in core/engine/conv_algorithm.cpp was chosen; run it on a new CPU to check it.
int benchAlgorithms(const std::shared_ptr<const Model>& model, int threads, int batch,
                    int iterations, bool json) {
    const NetworkSpec& spec = model->spec();
    Tensor input({batch, 3, spec.inputSize, spec.inputSize});
    for (size_t i = 0; i < input.data.size(); ++i)
        input.data[i] = static_cast<float>((i * 7919) % 255) / 128.0F - 1.0F;
    struct Variant {
        const char* name;
        ConvAlgorithm algorithm;
        ActivationLayout layout;
        std::vector<std::vector<double>> nodeMs;  // per node, per iteration
        std::vector<double> totalMs;
        std::string implementations;
    };
    std::vector<Variant> variants{
        {"direct nChw16c", ConvAlgorithm::Direct, ActivationLayout::Blocked16, {}, {}, {}},
        {"winograd nChw16c", ConvAlgorithm::Winograd, ActivationLayout::Blocked16, {}, {}, {}},
        {"direct, oneDNN's layout", ConvAlgorithm::Direct, ActivationLayout::Library, {}, {}, {}},
        {"auto", ConvAlgorithm::Auto, ActivationLayout::Auto, {}, {}, {}},
    };
    if (!Engine::hasWinograd()) {
        std::cerr << "bench --algorithms: oneDNN has no Winograd on this CPU (ISA "
                  << Engine::cpuIsa() << "): every convolution is direct.\n";
        variants.erase(variants.begin(), variants.begin() + 2);
    }
    std::vector<std::string> autoPicks;
    for (Variant& v : variants) {
        EngineOptions options = EngineOptions().withBatch(batch).withThreads(threads);
        options.algorithm = v.algorithm;
        options.layout = v.layout;
        Engine engine(spec, model->weights(), options);
        v.implementations = engine.implementations();
        if (v.algorithm == ConvAlgorithm::Auto) autoPicks = engine.winogradLayers();
        v.nodeMs.assign(spec.nodes.size(), {});
        for (int i = 0; i < kWarmup; ++i) engine.run(input);
        // Interleave plain and profiled runs: the profile waits after every primitive.
        for (int i = 0; i < iterations; ++i) {
            const RunResult r = engine.run(input, {}, true);
            for (size_t n = 0; n < spec.nodes.size(); ++n) v.nodeMs[n].push_back(r.nodeMs[n]);
            v.totalMs.push_back(engine.run(input).networkMs);
        }
    }
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v.empty() ? 0.0 : v[v.size() / 2];
    };
    ordered_json doc = {{"isa", Engine::cpuIsa()},
                        {"threads", threads},
                        {"batch", batch},
                        {"layers", ordered_json::array()},
                        {"networks", ordered_json::array()}};
    if (!json)
        std::printf("fp32 convolutions, batch %d, %s threads, CPU ISA %s (median of %d runs)\n",
                    batch, threads ? std::to_string(threads).c_str() : "all",
                    Engine::cpuIsa().c_str(), iterations);
    if (variants.size() == 4) {
        if (!json)
            std::printf("%-20s %-14s %10s %12s %8s  %s\n", "layer", "in", "direct ms",
                        "winograd ms", "ratio", "auto computes it with");
        for (size_t n = 0; n < spec.nodes.size(); ++n) {
            const Node& node = spec.nodes[n];
            if (node.kind != NodeKind::Conv || node.kernel != 3 || node.stride != 1) continue;
            const double direct = median(variants[0].nodeMs[n]);
            const double winograd = median(variants[1].nodeMs[n]);
            const bool picked =
                std::find(autoPicks.begin(), autoPicks.end(), node.name) != autoPicks.end();
            doc["layers"].push_back({{"layer", node.name},
                                     {"in", shapeToString(node.inShape)},
                                     {"direct_ms", direct},
                                     {"winograd_ms", winograd},
                                     {"auto", picked ? "winograd" : "direct"}});
            if (!json)
                std::printf("%-20s %-14s %10.3f %12.3f %8.2f  %s%s\n", node.name.c_str(),
                            shapeToString(node.inShape).c_str(), direct, winograd,
                            winograd / direct, picked ? "winograd" : "direct",
                            (winograd < direct) == picked ? ""
                                                          : "  (the faster one here is the "
                                                            "other)");
        }
    }
    if (!json) std::printf("\n%-24s %12s  %s\n", "network", "median ms", "implementations");
    for (const Variant& v : variants) {
        doc["networks"].push_back({{"variant", v.name},
                                   {"median_ms", median(v.totalMs)},
                                   {"implementations", v.implementations}});
        if (!json)
            std::printf("%-24s %12.3f  %s\n", v.name, median(v.totalMs), v.implementations.c_str());
    }
    if (json) printJson(doc);
    return kExitOk;
}

// The attribution methods as `explain` computes them (core's Explainer: forward and backward
// passes, batched), each the median of `iterations` runs after one warm-up, on the image's
// preprocessed input, for its top-1 class. `steps`/`samples` are integrated gradients' and
// SmoothGrad's. bench/peers.py times PyTorch autograd doing the same in the same run.
int benchExplain(const std::shared_ptr<const Model>& model, const std::string& imagePath,
                 int threads, int batch, int iterations, int steps, int samples, bool json) {
    const NetworkSpec& spec = model->spec();
    Tensor input({1, 3, spec.inputSize, spec.inputSize});
    if (imagePath.empty()) {
        for (size_t i = 0; i < input.data.size(); ++i)
            input.data[i] = static_cast<float>((i * 7919) % 255) / 128.0F - 1.0F;
    } else {
        input = model->prepare(readImage(imagePath));
    }
    Explainer explainer(model, threads, batch);
    struct Row {
        std::string what;
        AttributionOptions options;
        double medianMs = 0.0;
        int passes = 0;
    };
    std::vector<Row> rows;
    auto add = [&](const std::string& what, AttributionMethod method, const std::string& layer) {
        Row r;
        r.what = what;
        r.options.method = method;
        r.options.layer = layer;
        r.options.steps = steps;
        r.options.samples = samples;
        rows.push_back(r);
    };
    add("cam (layer4)", AttributionMethod::Cam, "layer4");
    add("gradcam (layer3)", AttributionMethod::GradCam, "layer3");
    add("gradient", AttributionMethod::Gradient, "layer4");
    add("guided-backprop", AttributionMethod::GuidedBackprop, "layer4");
    add("integrated-gradients (" + std::to_string(steps) + " steps)",
        AttributionMethod::IntegratedGradients, "layer4");
    add("smoothgrad (" + std::to_string(samples) + " samples)", AttributionMethod::SmoothGrad,
        "layer4");
    for (Row& r : rows) {
        std::vector<double> ms;
        for (int i = 0; i <= iterations; ++i) {
            const auto t0 = Clock::now();
            const std::optional<Attribution> a = explainer.explain(input, r.options);
            const double took = msSince(t0);
            if (a) r.passes = a->backwardPasses;
            if (i > 0) ms.push_back(took);  // the first builds the batched engine and passes
        }
        std::sort(ms.begin(), ms.end());
        r.medianMs = ms[ms.size() / 2];
    }
    if (json) {
        ordered_json doc = {{"explain", imagePath.empty() ? "synthetic input" : imagePath},
                            {"threads", threads},
                            {"batch", batch},
                            {"isa", Engine::cpuIsa()},
                            {"results", ordered_json::array()}};
        for (const Row& r : rows)
            doc["results"].push_back({{"method", methodName(r.options.method)},
                                      {"what", r.what},
                                      {"median_ms", r.medianMs},
                                      {"backward_passes", r.passes}});
        printJson(doc);
        return kExitOk;
    }
    std::printf("attributions, %s, %s threads, batch %d, CPU ISA %s (median of %d runs)\n",
                spec.archName().c_str(), threads ? std::to_string(threads).c_str() : "all", batch,
                Engine::cpuIsa().c_str(), iterations);
    std::printf("%-36s %11s %16s\n", "method", "median ms", "backward passes");
    for (const Row& r : rows)
        std::printf("%-36s %11.1f %16d\n", r.what.c_str(), r.medianMs, r.passes);
    return kExitOk;
}

// The live pipeline as the window runs it (core's LivePipeline: capture thread -> newest-wins
// mailbox -> network, one tap per frame), driven by a video file.
struct LiveMeasurement {
    double sourceFps = 0.0;
    double processedFps = 0.0;
    double latencyMedianMs = 0.0;
    double latencyP95Ms = 0.0;
    uint64_t frames = 0;
    uint64_t processed = 0;
    uint64_t dropped = 0;
    int maxWaiting = 0;  // frames handed over but not yet started, at worst
    std::string error;
};

// int8 calibrates on the clip as the window would on its frames: every 30th, up to 16.
std::shared_ptr<const Calibration> calibrateOnClip(const std::string& video, const Model& model,
                                                   int threads) {
    constexpr int kStride = 30;
    constexpr size_t kImages = 16;
    std::unique_ptr<VideoSource> source = VideoSource::open(video);
    std::vector<Tensor> inputs;
    cv::Mat frame;
    for (int i = 0; inputs.size() < kImages && source->read(frame); ++i)
        if (i % kStride == 0) inputs.push_back(model.prepare(frame));
    return std::make_shared<const Calibration>(
        calibrate(model.spec(), model.weights(), inputs, threads));
}

LiveMeasurement measureLive(const std::string& video, const std::shared_ptr<const Model>& model,
                            Precision precision, int threads, double seconds, bool paced,
                            const std::vector<ChannelAblation>& ablations) {
    constexpr uint64_t kWarmFrames = 16;
    LiveMeasurement m;
    std::mutex mutex;
    std::condition_variable changed;
    bool ended = false;
    bool measuring = false;
    uint64_t warmFrames = 0;
    std::vector<double> latencies;
    Clock::time_point begin;
    Clock::time_point lastResult;
    try {
        EngineOptions options = EngineOptions().with(precision).withThreads(threads);
        if (precision == Precision::Int8)
            options.withCalibration(calibrateOnClip(video, *model, threads));
        RunRequest request;
        request.taps = {"layer3.1"};
        request.profile = true;  // as the window asks for every frame (the diagram's times)
        request.ablations = ablations;
        LivePipeline live(model, options, request);
        CaptureOptions capture;
        capture.spec = video;
        capture.loop = true;
        capture.paced = paced;
        live.start(
            capture,
            [&](const LiveResult& r) {
                const auto now = Clock::now();
                std::lock_guard<std::mutex> lock(mutex);
                if (measuring) {
                    lastResult = now;
                    latencies.push_back(msSince(r.frame->grabbed, now));
                } else if (++warmFrames >= kWarmFrames) {
                    live.resetStats();
                    begin = now;
                    lastResult = now;
                    measuring = true;
                }
                changed.notify_all();
            },
            [&](const std::string& reason, bool error) {
                std::lock_guard<std::mutex> lock(mutex);
                if (error) m.error = reason;
                ended = true;
                changed.notify_all();
            });
        {
            std::unique_lock<std::mutex> lock(mutex);
            while (!ended && !(measuring && msSince(begin) >= seconds * 1000.0))
                changed.wait_for(lock, std::chrono::milliseconds(50));
        }
        live.stop();
        const LivePipeline::Stats stats = live.stats();
        m.frames = stats.submitted;
        m.dropped = stats.dropped;
        m.maxWaiting = stats.maxWaiting;
    } catch (const std::exception& e) {
        m.error = e.what();
        return m;
    }
    m.processed = latencies.size();
    const double elapsed = msSince(begin, lastResult) / 1000.0;
    if (latencies.empty() || elapsed <= 0) return m;
    std::sort(latencies.begin(), latencies.end());
    m.latencyMedianMs = latencies[latencies.size() / 2];
    m.latencyP95Ms = latencies[latencies.size() * 95 / 100];
    m.processedFps = static_cast<double>(m.processed) / elapsed;
    m.sourceFps = static_cast<double>(m.frames) / elapsed;
    return m;
}

std::vector<std::string> ablateList(const QStringList& values) {
    std::vector<std::string> out;
    for (const QString& v : values) out.push_back(v.toStdString());
    return out;
}

// With `ablate` ("NODE:C1,…"), every precision is measured twice, one run after the other: every
// channel on, then those channels switched off — the cost of an intervention on camera frames.
int benchLive(const std::string& video, const std::string& weights,
              const std::vector<Precision>& precisions, int threads, double seconds, bool paced,
              const std::vector<std::string>& ablate, bool json) {
    // The source is tried first: a still image, an unreachable stream, a video without frames
    // or with frames over the live limit is a sentence and exit 3, not an empty table.
    std::shared_ptr<const Model> model;
    try {
        VideoSource::open(video);
        ModelOptions options;
        options.weightsPath = weights;
        options.demoIfMissing = true;  // as the window opens them
        model = Model::open(options);
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    std::vector<ChannelAblation> ablations;
    try {
        for (const std::string& a : ablate) ablations.push_back(parseAblation(a, model->spec()));
    } catch (const Error& e) {
        std::cerr << "usage error: --ablate: " << e.what() << "\n";
        return kExitUsage;
    }
    struct Row {
        Precision precision;
        bool off;
        LiveMeasurement m;
    };
    std::vector<Row> rows;
    for (Precision p : precisions) {
        rows.push_back({p, false, measureLive(video, model, p, threads, seconds, paced, {})});
        if (!ablations.empty())
            rows.push_back(
                {p, true, measureLive(video, model, p, threads, seconds, paced, ablations)});
    }
    std::vector<std::pair<Precision, LiveMeasurement>> results;
    for (const Row& r : rows) results.emplace_back(r.precision, r.m);
    if (std::none_of(results.begin(), results.end(),
                     [](const auto& r) { return r.second.processed > 0; })) {
        const std::string why = results.empty() ? std::string() : results.front().second.error;
        std::cerr << "error: " << (why.empty() ? shown(video) + ": no frame was processed." : why)
                  << "\n";
        return kExitBadInput;
    }
    if (json) {
        ordered_json doc = {{"live", video}, {"threads", threads}};
        if (!ablations.empty()) {
            doc["ablate"] = ordered_json::array();
            for (const ChannelAblation& a : ablations) doc["ablate"].push_back(ablationText(a));
        }
        doc["results"] = ordered_json::array();
        for (const Row& r : rows) {
            const LiveMeasurement& m = r.m;
            ordered_json row = {{"precision", precisionName(r.precision)}};
            if (!ablations.empty()) row["channels_off"] = r.off;
            if (m.processed > 0) {
                row["source_fps"] = m.sourceFps;
                row["processed_fps"] = m.processedFps;
                row["latency_median_ms"] = m.latencyMedianMs;
                row["latency_p95_ms"] = m.latencyP95Ms;
                row["dropped"] = m.dropped;
                row["max_waiting"] = m.maxWaiting;
            } else {
                row["error"] = m.error;
            }
            doc["results"].push_back(row);
        }
        printJson(doc);
        return kExitOk;
    }
    std::printf("live pipeline: %s, one tap (layer3.1) per frame, %s threads, %s source\n",
                video.c_str(), threads ? std::to_string(threads).c_str() : "all",
                paced ? "paced" : "unpaced");
    if (!ablations.empty())
        std::printf("\"+off\": %s\n", describeAblations(model->spec(), ablations).c_str());
    std::printf("%-9s %10s %13s %14s %11s %9s %11s\n", "precision", "source fps", "processed fps",
                "latency median", "latency p95", "dropped", "max waiting");
    for (const Row& r : rows) {
        const LiveMeasurement& m = r.m;
        const std::string name = std::string(precisionName(r.precision)) + (r.off ? " +off" : "");
        if (m.processed == 0) {
            std::printf("%-9s  not available: %s\n", name.c_str(), m.error.c_str());
            continue;
        }
        std::printf("%-9s %10.1f %13.1f %11.1f ms %8.1f ms %9llu %11d\n", name.c_str(), m.sourceFps,
                    m.processedFps, m.latencyMedianMs, m.latencyP95Ms,
                    static_cast<unsigned long long>(m.dropped), m.maxWaiting);
    }
    return kExitOk;
}

// Decode + preprocess + network + top-5 for one image file, as `classify` does it per image.
int benchImage(const std::string& path, const std::shared_ptr<const Model>& model, int threads,
               int iterations, bool json) {
    try {
        Pipeline pipeline(model, EngineOptions().withThreads(threads));
        std::vector<double> total;
        std::vector<double> prep;
        std::string top1;
        for (int i = 0; i < iterations + kWarmup; ++i) {
            const Classification c = pipeline.classifyFile(path);
            top1 = c.top.front().label;
            if (i < kWarmup) continue;
            total.push_back(c.decodeMs + c.preprocessMs + c.networkMs);
            prep.push_back(c.decodeMs + c.preprocessMs);
        }
        std::sort(total.begin(), total.end());
        std::sort(prep.begin(), prep.end());
        if (json)
            printJson({{"image", path},
                       {"median_ms", total[total.size() / 2]},
                       {"min_ms", total.front()},
                       {"decode_preprocess_ms", prep[prep.size() / 2]},
                       {"top1", top1}});
        else
            std::printf(
                "%s -> top-5: median %.2f ms (decode + preprocess %.2f ms), min %.2f ms; top-1 "
                "%s\n",
                path.c_str(), total[total.size() / 2], prep[prep.size() / 2], total.front(),
                top1.c_str());
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    return kExitOk;
}

int bench(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription("Measure inference latency and throughput.");
    const QCommandLineOption weightsOpt("weights", "Weights file (default: seeded random weights).",
                                        "FILE");
    const QCommandLineOption precisionOpt("precision", "fp32, bf16, int8 or all (default all).",
                                          "P", "all");
    const QCommandLineOption threadsOpt("threads", "Threads (default: all cores).", "N", "0");
    const QCommandLineOption batchOpt("batch", "Images per call (default 1).", "B", "1");
    const QCommandLineOption iterOpt("iterations", "Timed calls per precision (default 50).", "N",
                                     "50");
    const QCommandLineOption jsonOpt("json", "Print JSON.");
    const QCommandLineOption liveOpt("live", "Measure the live pipeline on this video instead.",
                                     "VIDEO");
    const QCommandLineOption secondsOpt("seconds", "Duration of a --live run (default 10).", "S",
                                        "10");
    const QCommandLineOption pacedOpt(
        "paced", "--live: deliver frames at the video's rate, not as fast as possible.");
    const QCommandLineOption imageOpt(
        "image", "Measure decode + preprocess + network + top-5 on this file instead.", "FILE");
    const QCommandLineOption algorithmsOpt(
        "algorithms",
        "Time every fp32 3x3 convolution direct and with Winograd, beside what --algorithm auto "
        "picks.");
    const QCommandLineOption explainOpt(
        "explain",
        "Time the attribution methods (explain) on --image FILE (or a synthetic input); --batch "
        "is the Explainer's batch (default 8 here), --iterations the runs per method (3).");
    const QCommandLineOption stepsOpt("steps", "--explain: integrated-gradients steps (32).", "N",
                                      "32");
    const QCommandLineOption samplesOpt("samples", "--explain: SmoothGrad samples (25).", "N",
                                        "25");
    const QCommandLineOption backgroundOpt(
        "background",
        "A thread competing for the cores while timing: none, gui (busy 4 ms of every 16) or "
        "spin (always busy). See bench/wait_policy.sh.",
        "MODE", "none");
    const QCommandLineOption interventionOpt(
        "intervention",
        "Time runs with channels switched off (--ablate, default layer3.1:0-127) against runs "
        "with every channel on, alternating.");
    const QCommandLineOption ablateOpt("ablate",
                                       "--intervention, --live: NODE:C1,C2,… (repeatable); "
                                       "--live measures with and without them.",
                                       "NODE:C,…");
    const QCommandLineOption importanceOpt(
        "importance",
        "Time channel importance at a 256- and two 512-channel nodes (--batch channels per run, "
        "default 16), run from the node against the whole network.");
    p.addOptions({weightsOpt, precisionOpt, threadsOpt, batchOpt, iterOpt, jsonOpt, liveOpt,
                  secondsOpt, pacedOpt, imageOpt, backgroundOpt, algorithmsOpt, explainOpt,
                  stepsOpt, samplesOpt, interventionOpt, ablateOpt, importanceOpt});
    if (parseVerb(p, args)) return kExitOk;
    bool ok2 = false, ok3 = false;
    const int threads = threadsOption("--threads", p.value(threadsOpt));
    const int batch = p.value(batchOpt).toInt(&ok2);
    const int iterations = p.value(iterOpt).toInt(&ok3);
    if (!ok2 || !ok3 || batch < 1 || iterations < 1) {
        std::cerr << "usage error: --batch and --iterations need positive numbers\n";
        return kExitUsage;
    }
    std::vector<Precision> precisions;
    const std::string which = p.value(precisionOpt).toStdString();
    if (which == "all") {
        precisions = {Precision::Fp32, Precision::Bf16, Precision::Int8};
    } else if (const auto one = parsePrecision(which)) {
        precisions = {*one};
    } else {
        std::cerr << "usage error: --precision must be fp32, bf16, int8 or all\n";
        return kExitUsage;
    }

    if (p.isSet(liveOpt)) {
        bool ok = false;
        const double seconds = p.value(secondsOpt).toDouble(&ok);
        if (!ok || seconds <= 0) {
            std::cerr << "usage error: --seconds needs a positive number\n";
            return kExitUsage;
        }
        return benchLive(bytesOf(p.value(liveOpt)), bytesOf(p.value(weightsOpt)), precisions,
                         threads, seconds, p.isSet(pacedOpt), ablateList(p.values(ablateOpt)),
                         p.isSet(jsonOpt));
    }

    std::shared_ptr<const Model> model;
    std::string source = "seeded random weights";
    try {
        if (p.isSet(weightsOpt)) {
            ModelOptions options;
            options.weightsPath = bytesOf(p.value(weightsOpt));
            model = Model::open(options);
            source = model->file();
        } else {
            model = Model::demo();
        }
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    const NetworkSpec& spec = model->spec();

    if (p.isSet(explainOpt)) {
        bool okSteps = false, okSamples = false;
        const int steps = p.value(stepsOpt).toInt(&okSteps);
        const int samples = p.value(samplesOpt).toInt(&okSamples);
        if (!okSteps || !okSamples || steps < 1 || samples < 1)
            throw UsageError{"--steps and --samples need positive numbers"};
        return rethrowAsError<EngineError>("bench --explain", [&] {
            return benchExplain(model, p.isSet(imageOpt) ? bytesOf(p.value(imageOpt)) : "", threads,
                                p.isSet(batchOpt) ? batch : 8, p.isSet(iterOpt) ? iterations : 3,
                                steps, samples, p.isSet(jsonOpt));
        });
    }
    if (p.isSet(imageOpt))
        return benchImage(bytesOf(p.value(imageOpt)), model, threads, iterations, p.isSet(jsonOpt));
    if (p.isSet(interventionOpt)) {
        return benchIntervention(model, precisions, threads, iterations,
                                 ablateList(p.values(ablateOpt)), p.isSet(jsonOpt));
    }
    if (p.isSet(importanceOpt))
        return benchImportance(model, precisions, threads, p.isSet(batchOpt) ? batch : 16,
                               p.isSet(jsonOpt));

    if (p.isSet(algorithmsOpt))
        return benchAlgorithms(model, threads, batch, iterations, p.isSet(jsonOpt));

    const std::string background = p.value(backgroundOpt).toStdString();
    if (background != "none" && background != "gui" && background != "spin") {
        std::cerr << "usage error: --background must be none, gui or spin\n";
        return kExitUsage;
    }
    std::vector<Measurement> results;
    for (Precision precision : precisions)  // a batch too large for memory is named
        results.push_back(rethrowAsError<EngineError>(
            "bench --batch " + std::to_string(batch),
            [&] { return measure(model, precision, batch, threads, iterations, background); }));
    const double rss = residentMemoryMb();

    if (p.isSet(jsonOpt)) {
        ordered_json doc = {{"model", spec.archName()}, {"batch", batch},
                            {"threads", threads},       {"background", background},
                            {"isa", Engine::cpuIsa()},  {"rss_mb", rss}};
        doc["results"] = ordered_json::array();
        for (const Measurement& m : results) {
            ordered_json row = {{"precision", m.precision}, {"supported", m.supported}};
            if (m.supported) {
                row["median_ms"] = m.medianMs;
                row["min_ms"] = m.minMs;
                row["images_per_s"] = m.imagesPerSecond;
                row["gflops"] = m.gflops;
                row["background_work_per_ms"] = m.backgroundWork;
                row["implementations"] = m.implementations;
            }
            doc["results"].push_back(row);
        }
        printJson(doc);
        return kExitOk;
    }
    std::printf("%s, batch %d, %s threads, %s, CPU ISA %s\n", spec.archName().c_str(), batch,
                threads ? std::to_string(threads).c_str() : "all", source.c_str(),
                Engine::cpuIsa().c_str());
    std::printf("%-9s %11s %11s %10s %9s\n", "precision", "median ms", "min ms", "images/s",
                "GFLOP/s");
    for (const Measurement& m : results) {
        if (!m.supported) {
            std::printf("%-9s  not available: %s\n", m.precision.c_str(), m.note.c_str());
            continue;
        }
        std::printf("%-9s %11.3f %11.3f %10.1f %9.1f   (%s)\n", m.precision.c_str(), m.medianMs,
                    m.minMs, m.imagesPerSecond, m.gflops, m.implementations.c_str());
    }
    if (background != "none")
        for (const Measurement& m : results)
            if (m.supported)
                std::printf("%s: the background thread (%s) did %.1f work units per ms meanwhile\n",
                            m.precision.c_str(), background.c_str(), m.backgroundWork);
    std::printf("process RSS %.0f MB\n", rss);
    return kExitOk;
}

}  // namespace r18::cli
