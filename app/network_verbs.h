// Headless verbs about what happens inside the network for one or two images:
//   info --stats IMAGE      the statistics of every node (core/tap_stats.h), and at bf16 or int8
//                           each node's error against fp32
//   compare A B             two images at every node: cosine similarity, max |B − A|
//   channels --importance   each channel's effect on a class when it alone is switched off
//                           (core/channel_importance.h)
// and what every verb that runs the network shares: the engine options (weights, precision,
// int8 calibration, threads) and channels switched off (--ablate NODE:C1,C2,…).
// The verbs' parsers (app/cli.cpp, app/insight_verbs.cpp) read the options and call these.
// Options and output formats: README.md, "Command line".
#pragma once

#include <QCommandLineOption>
#include <QCommandLineParser>

#include <memory>
#include <string>
#include <vector>

#include "core/engine/ablation.h"
#include "core/engine/engine.h"
#include "core/files.h"
#include "core/model/model.h"
#include "core/tensor.h"

namespace r18::cli {

// What the shared options asked for.
struct NetworkArgs {
    std::string weights;  // empty: --weights not given (the default locations)
    Precision precision = Precision::Fp32;
    std::vector<std::string> calibration;  // int8: files or folders; empty: the verb's own images
    int threads = 0;
    std::vector<std::string> ablate;  // "NODE:C1,C2,…", checked once the model is open
};

// The shared options, added to a verb's parser and read back from it.
class NetworkOptions {
public:
    // withPrecision: --precision and --calibration too (verbs that are fp32 only leave them out).
    explicit NetworkOptions(bool withPrecision = true);
    void addTo(QCommandLineParser& p) const;
    // Throws UsageError for a precision or thread count that makes no sense.
    NetworkArgs read(const QCommandLineParser& p) const;

    const QCommandLineOption weights;
    const QCommandLineOption precision;
    const QCommandLineOption calibration;
    const QCommandLineOption threads;
    const QCommandLineOption ablate;

private:
    bool m_withPrecision;
};

// Model::open() with --weights, printing the model's notes on stderr. Throws Error; throws
// UsageError, before and again after opening, if one of `outputs` names one of `inputs`, the
// weights, a --calibration image or a file the model was read from (core/files.h).
std::shared_ptr<const Model> openNetworkModel(const NetworkArgs& args,
                                              const std::vector<RoleAndPath>& outputs = {},
                                              std::vector<RoleAndPath> inputs = {});

// The engine for args.precision at `batch`; int8 calibrates on --calibration's images, else on
// `own` (the verb's own prepared inputs), saying which on stderr. Throws Error.
EngineOptions networkEngineOptions(const NetworkArgs& args, const Model& model,
                                   const std::vector<Tensor>& own, int batch = 1);

// --ablate, parsed and checked against the model's nodes. Throws UsageError naming the problem.
std::vector<ChannelAblation> ablationsOf(const NetworkArgs& args, const NetworkSpec& spec);

// Each verb returns the exit code (kExitOk, kExitUsage, kExitBadInput from app/cli.h) or throws
// UsageError. `json` empty: no file, only the table on stdout.
int infoStats(const NetworkArgs& args, const std::string& image, const std::string& json);
int compareImages(const NetworkArgs& args, const std::string& a, const std::string& b,
                  const std::string& json);

struct ImportanceArgs {
    std::string image;
    std::string layer;
    int64_t classIndex = -1;  // -1: the image's top-1
    int batch = 16;           // channels per run
    std::string json;
};
int channelImportance(const NetworkArgs& args, const ImportanceArgs& importance);

}  // namespace r18::cli
