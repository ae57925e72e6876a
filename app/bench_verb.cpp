#include "app/bench_verb.h"

#include <QCommandLineParser>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "app/cli.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/weights.h"

namespace r18::cli {
namespace {

constexpr int kWarmup = 5;

struct Measurement {
    std::string precision;
    bool supported = true;
    std::string note;
    double medianMs = 0.0;
    double minMs = 0.0;
    double imagesPerSecond = 0.0;
    double gflops = 0.0;
    std::string implementations;
};

// Resident set size of this process in MB, from /proc/self/status.
double rssMb() {
    std::ifstream f("/proc/self/status");
    std::string key;
    while (f >> key) {
        if (key == "VmRSS:") {
            double kb = 0;
            f >> kb;
            return kb / 1024.0;
        }
        f.ignore(1 << 16, '\n');
    }
    return 0.0;
}

Measurement measure(const NetworkSpec& spec, const WeightSet& weights, Precision precision,
                    int batch, int threads, int iterations) {
    Measurement m;
    m.precision = precisionName(precision);
    std::unique_ptr<Engine> engine;
    try {
        engine = std::make_unique<Engine>(spec, weights, EngineOptions{precision, batch, threads});
    } catch (const EngineError& e) {
        m.supported = false;
        m.note = e.what();
        return m;
    }
    m.implementations = engine->implementations();
    Tensor input({batch, 3, spec.inputSize, spec.inputSize});
    for (size_t i = 0; i < input.data.size(); ++i)
        input.data[i] = static_cast<float>((i * 7919) % 255) / 128.0F - 1.0F;
    for (int i = 0; i < kWarmup; ++i) engine->run(input);
    std::vector<double> ms;
    for (int i = 0; i < iterations; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        engine->run(input);
        ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
    }
    std::sort(ms.begin(), ms.end());
    m.medianMs = ms[ms.size() / 2];
    m.minMs = ms.front();
    m.imagesPerSecond = batch * 1000.0 / m.medianMs;
    m.gflops = 2.0 * static_cast<double>(spec.totalMacs()) * batch / (m.medianMs * 1e6);
    return m;
}

}  // namespace

int bench(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription("Measure inference latency and throughput.");
    const QCommandLineOption weightsOpt("weights", "Weights file (default: seeded random weights).",
                                        "FILE");
    const QCommandLineOption precisionOpt("precision", "fp32, bf16 or all (default all).", "P",
                                          "all");
    const QCommandLineOption threadsOpt("threads", "Threads (default: all cores).", "N", "0");
    const QCommandLineOption batchOpt("batch", "Images per call (default 1).", "B", "1");
    const QCommandLineOption iterOpt("iterations", "Timed calls per precision (default 50).", "N",
                                     "50");
    const QCommandLineOption jsonOpt("json", "Print JSON.");
    p.addOptions({weightsOpt, precisionOpt, threadsOpt, batchOpt, iterOpt, jsonOpt});
    p.addHelpOption();
    if (!p.parse(args)) {
        std::cerr << "usage error: " << p.errorText().toStdString() << "\n";
        return kExitUsage;
    }
    if (p.isSet("help")) {
        std::cout << p.helpText().toStdString();
        return kExitOk;
    }
    bool ok1 = false, ok2 = false, ok3 = false;
    const int threads = p.value(threadsOpt).toInt(&ok1);
    const int batch = p.value(batchOpt).toInt(&ok2);
    const int iterations = p.value(iterOpt).toInt(&ok3);
    if (!ok1 || !ok2 || !ok3 || threads < 0 || batch < 1 || iterations < 1) {
        std::cerr << "usage error: --threads, --batch and --iterations need positive numbers\n";
        return kExitUsage;
    }
    std::vector<Precision> precisions;
    const std::string which = p.value(precisionOpt).toStdString();
    if (which == "all") {
        precisions = {Precision::Fp32, Precision::Bf16};
    } else if (const auto one = parsePrecision(which)) {
        precisions = {*one};
    } else {
        std::cerr << "usage error: --precision must be fp32, bf16 or all\n";
        return kExitUsage;
    }

    NetworkSpec spec = makeResNet18();
    WeightSet weights;
    std::string source = "seeded random weights";
    try {
        if (p.isSet(weightsOpt)) {
            weights = loadWeights(p.value(weightsOpt).toStdString());
            spec = inferSpec(weights);
            source = weights.file;
        } else {
            weights = makeRandomWeights(spec);
        }
    } catch (const Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return kExitBadInput;
    }

    std::vector<Measurement> results;
    for (Precision precision : precisions)
        results.push_back(measure(spec, weights, precision, batch, threads, iterations));
    const double rss = rssMb();

    if (p.isSet(jsonOpt)) {
        std::cout << "{\"model\": \"" << spec.archName() << "\", \"batch\": " << batch
                  << ", \"threads\": " << threads << ", \"isa\": \"" << Engine::cpuIsa()
                  << "\", \"rss_mb\": " << rss << ", \"results\": [";
        for (size_t i = 0; i < results.size(); ++i) {
            const Measurement& m = results[i];
            std::cout << (i ? ", " : "") << "{\"precision\": \"" << m.precision
                      << "\", \"supported\": " << (m.supported ? "true" : "false");
            if (m.supported)
                std::cout << ", \"median_ms\": " << m.medianMs << ", \"min_ms\": " << m.minMs
                          << ", \"images_per_s\": " << m.imagesPerSecond
                          << ", \"gflops\": " << m.gflops;
            std::cout << "}";
        }
        std::cout << "]}\n";
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
    std::printf("process RSS %.0f MB\n", rss);
    return kExitOk;
}

}  // namespace r18::cli
