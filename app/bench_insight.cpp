#include "app/bench_insight.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "app/cli_args.h"
#include "core/channel_importance.h"
#include "core/clock.h"
#include "core/engine/calibration.h"
#include "core/error.h"
#include "core/runtime_info.h"

namespace r18::cli {
namespace {

using nlohmann::ordered_json;

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

// A fixed, image-like input (speed does not depend on the values).
Tensor benchInput(const NetworkSpec& spec) {
    Tensor input({1, 3, spec.inputSize, spec.inputSize});
    for (size_t i = 0; i < input.data.size(); ++i)
        input.data[i] = static_cast<float>((i * 7919) % 255) / 128.0F - 1.0F;
    return input;
}

// The engine options for a precision; nullopt (with the reason) where this CPU has none.
std::optional<EngineOptions> optionsFor(const Model& model, Precision precision, int batch,
                                        int threads, std::string& why) {
    if (!Engine::supports(precision)) {
        why = std::string(precisionName(precision)) + " is not available on this CPU (" +
              Engine::cpuIsa() + ")";
        return std::nullopt;
    }
    EngineOptions o = EngineOptions().with(precision).withBatch(batch).withThreads(threads);
    if (precision == Precision::Int8)
        o.calibration = std::make_shared<Calibration>(
            calibrate(model.spec(), model.weights(), {benchInput(model.spec())}, threads));
    return o;
}

std::string header(const Model& model, int threads) {
    return model.spec().archName() + ", " + (threads ? std::to_string(threads) : "all") +
           " threads, " + runtimeInfo().cpuModel + ", oneDNN ISA " + Engine::cpuIsa();
}

}  // namespace

int benchIntervention(const std::shared_ptr<const Model>& model,
                      const std::vector<Precision>& precisions, int threads, int iterations,
                      const std::vector<std::string>& texts, bool json) {
    const NetworkSpec& spec = model->spec();
    std::vector<ChannelAblation> ablations;
    try {
        for (const std::string& t :
             texts.empty() ? std::vector<std::string>{"layer3.1:0-127"} : texts)
            ablations.push_back(parseAblation(t, spec));
    } catch (const EngineError& e) {
        std::cerr << "usage error: --ablate " << e.what() << "\n";
        return kExitUsage;
    }
    const Tensor input = benchInput(spec);
    const EngineRun plain{{"layer3.1"}, {}};
    const EngineRun ablated{{"layer3.1"}, ablations};
    ordered_json rows = ordered_json::array();
    if (!json)
        std::printf(
            "%s\nswitched off: %s; one tap (layer3.1) per run, batch 1, runs alternating\n"
            "%-9s %14s %14s %8s %8s %8s\n",
            header(*model, threads).c_str(), describeAblations(spec, ablations).c_str(),
            "precision", "every ch. ms", "switched ms", "fps", "fps off", "ratio");
    for (Precision precision : precisions) {
        std::string why;
        const std::optional<EngineOptions> o = optionsFor(*model, precision, 1, threads, why);
        if (!o) {
            if (!json)
                std::printf("%-9s  not available: %s\n", precisionName(precision), why.c_str());
            rows.push_back({{"precision", precisionName(precision)}, {"supported", false}});
            continue;
        }
        Engine engine(spec, model->weights(), *o);
        for (int i = 0; i < 5; ++i) engine.run(input, i % 2 ? ablated : plain);
        std::vector<double> on, off;
        for (int i = 0; i < iterations; ++i) {
            auto t0 = Clock::now();
            engine.run(input, plain);
            on.push_back(msSince(t0));
            t0 = Clock::now();
            engine.run(input, ablated);
            off.push_back(msSince(t0));
        }
        const double a = median(on), b = median(off);
        if (!json)
            std::printf("%-9s %14.3f %14.3f %8.1f %8.1f %8.3f\n", precisionName(precision), a, b,
                        1000.0 / a, 1000.0 / b, a / b);
        rows.push_back({{"precision", precisionName(precision)},
                        {"supported", true},
                        {"median_ms", a},
                        {"median_ms_switched_off", b},
                        {"fps", 1000.0 / a},
                        {"fps_switched_off", 1000.0 / b},
                        {"fps_ratio", a / b},
                        {"implementations", engine.implementations()}});
    }
    if (json)
        std::cout << ordered_json{{"cpu", runtimeInfo().cpuModel},
                                  {"isa", Engine::cpuIsa()},
                                  {"threads", threads},
                                  {"ablate", describeAblations(spec, ablations)},
                                  {"results", rows}}
                         .dump()
                  << "\n";
    return kExitOk;
}

int benchImportance(const std::shared_ptr<const Model>& model,
                    const std::vector<Precision>& precisions, int threads, int batch, bool json) {
    const NetworkSpec& spec = model->spec();
    const Tensor input = benchInput(spec);
    const std::vector<std::string> nodes{"layer3.1", "layer4.0", "layer4.1.conv1"};
    ordered_json rows = ordered_json::array();
    if (!json)
        std::printf(
            "%s\nchannel importance of class 0, %d channels per run\n"
            "%-9s %-16s %8s %16s %18s %8s\n",
            header(*model, threads).c_str(), batch, "precision", "node", "channels",
            "from the node ms", "whole network ms", "speedup");
    for (Precision precision : precisions) {
        std::string why;
        const std::optional<EngineOptions> o = optionsFor(*model, precision, batch, threads, why);
        if (!o) {
            if (!json)
                std::printf("%-9s  not available: %s\n", precisionName(precision), why.c_str());
            rows.push_back({{"precision", precisionName(precision)}, {"supported", false}});
            continue;
        }
        ChannelImportance importance(model, *o);
        Engine whole(spec, model->weights(), *o);
        Tensor many({batch, 3, spec.inputSize, spec.inputSize});
        for (int b = 0; b < batch; ++b)
            std::copy(input.data.begin(), input.data.end(),
                      many.data.begin() + static_cast<std::ptrdiff_t>(b * input.data.size()));
        for (const std::string& node : nodes) {
            ChannelImportanceOptions io;
            io.node = node;
            io.classIndex = 0;
            importance.compute(input, io);  // warm: plans and masks built
            auto t0 = Clock::now();
            importance.compute(input, io);
            const double fromNode = msSince(t0);
            // The same deltas from the whole network: a batch per `batch` channels.
            const int channels = static_cast<int>(spec.node(node).outShape[0]);
            EngineRun run;
            whole.run(many, run);
            t0 = Clock::now();
            whole.run(many, run);
            for (int first = 0; first < channels; first += batch) {
                run.ablations.clear();
                for (int b = 0; b < batch && first + b < channels; ++b)
                    run.ablations.push_back(ChannelAblation{node, {first + b}, b});
                whole.run(many, run);
            }
            const double wholeMs = msSince(t0);
            if (!json)
                std::printf("%-9s %-16s %8d %16.1f %18.1f %7.1fx\n", precisionName(precision),
                            node.c_str(), channels, fromNode, wholeMs, wholeMs / fromNode);
            rows.push_back({{"precision", precisionName(precision)},
                            {"supported", true},
                            {"node", node},
                            {"channels", channels},
                            {"from_node_ms", fromNode},
                            {"whole_network_ms", wholeMs}});
        }
    }
    if (json)
        std::cout << ordered_json{{"cpu", runtimeInfo().cpuModel},
                                  {"isa", Engine::cpuIsa()},
                                  {"threads", threads},
                                  {"batch", batch},
                                  {"results", rows}}
                         .dump()
                  << "\n";
    return kExitOk;
}

}  // namespace r18::cli
