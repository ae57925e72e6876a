#include "app/network_verbs.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>

#include "app/cli_args.h"
#include "core/batch.h"
#include "core/channel_importance.h"
#include "core/engine/calibration.h"
#include "core/error.h"
#include "core/files.h"
#include "core/media/image_io.h"
#include "core/pipeline.h"
#include "core/tap_stats.h"

namespace r18::cli {
namespace {

using nlohmann::ordered_json;

// "[k/n]" on a terminal's stderr, nothing otherwise.
ProgressFn terminalProgress(const std::string& what) {
    if (!isatty(STDERR_FILENO)) return {};
    return [what](int done, int total) {
        std::cerr << "\r" << what << " [" << done << "/" << total << "]\x1b[K" << std::flush;
        if (done == total) std::cerr << "\r\x1b[K" << std::flush;
        return true;
    };
}

ordered_json topJson(const std::vector<Prediction>& top) {
    ordered_json out = ordered_json::array();
    for (const Prediction& p : top)
        out.push_back({{"index", p.index}, {"label", p.label}, {"probability", p.probability}});
    return out;
}

void printTop(const std::string& title, const std::vector<Prediction>& top) {
    std::cout << title << "\n";
    for (size_t i = 0; i < top.size(); ++i)
        std::cout << std::setw(3) << i + 1 << "  " << std::fixed << std::setprecision(4)
                  << top[i].probability << std::defaultfloat << "  " << std::setw(4) << top[i].index
                  << "  " << shown(top[i].label) << "\n";
}

std::string shapeText(const std::vector<int64_t>& shape) {
    std::string s;
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
    return s;
}

// --json PATH as an output to check against the inputs (none if empty).
std::vector<RoleAndPath> jsonOutput(const std::string& path) {
    if (path.empty()) return {};
    return {{"--json", path}};
}

// A prepared image, or exit code 3 after saying why.
std::optional<Tensor> prepared(const Model& model, const std::string& path) {
    try {
        return model.prepare(readImage(path));
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return std::nullopt;
    }
}

}  // namespace

NetworkOptions::NetworkOptions(bool withPrecision)
    : weights("weights", "Weights file (.pth, .pt, .safetensors or .onnx).", "FILE"),
      precision("precision", "fp32, bf16 or int8 (default fp32).", "P", "fp32"),
      calibration("calibration",
                  "int8: images (a folder or files, repeatable) to calibrate on (default: the "
                  "verb's own images).",
                  "PATH"),
      threads("threads", "Inference threads (default: all cores).", "N", "0"),
      ablate("ablate",
             "Switch channels off: NODE:C1,C2,… (ranges allowed, e.g. layer3.1:0-63; "
             "repeatable). NODE is a name 'info' lists.",
             "NODE:C,…"),
      m_withPrecision(withPrecision) {}

void NetworkOptions::addTo(QCommandLineParser& p) const {
    p.addOptions({weights, threads, ablate});
    if (m_withPrecision) p.addOptions({precision, calibration});
}

NetworkArgs NetworkOptions::read(const QCommandLineParser& p) const {
    NetworkArgs a;
    if (p.isSet(weights)) a.weights = bytesOf(p.value(weights));
    a.threads = threadsOption("--threads", p.value(threads));
    for (const QString& t : p.values(ablate)) a.ablate.push_back(t.toStdString());
    if (!m_withPrecision) return a;
    const auto parsed = parsePrecision(p.value(precision).toStdString());
    if (!parsed) throw UsageError{"--precision must be fp32, bf16 or int8"};
    a.precision = *parsed;
    for (const QString& c : p.values(calibration)) a.calibration.push_back(bytesOf(c));
    if (!a.calibration.empty() && a.precision != Precision::Int8)
        throw UsageError{"--calibration is for --precision int8"};
    return a;
}

std::shared_ptr<const Model> openNetworkModel(const NetworkArgs& args,
                                              const std::vector<RoleAndPath>& outputs,
                                              std::vector<RoleAndPath> inputs) {
    if (!args.weights.empty()) inputs.push_back({"the weights", args.weights});
    for (const std::string& path : args.calibration) {
        const bool folder = fileKind(path) == FileKind::Folder;
        for (const std::string& file : folder ? findImages(path, false) : std::vector{path})
            inputs.push_back({"the calibration image", file});
    }
    refuseOutputOverInput(outputs, inputs);
    ModelOptions o;
    o.weightsPath = args.weights;
    std::shared_ptr<const Model> model = Model::open(o);
    refuseOutputOverInput(outputs, model->sourceFiles());
    for (const std::string& note : model->notes()) std::cerr << "note: " << shown(note) << "\n";
    if (model->trust() != Trust::Official)
        std::cerr << "note: " << shown(model->trustNote()) << "\n";
    return model;
}

EngineOptions networkEngineOptions(const NetworkArgs& args, const Model& model,
                                   const std::vector<Tensor>& own, int batch) {
    EngineOptions o =
        EngineOptions().with(args.precision).withBatch(batch).withThreads(args.threads);
    if (args.precision != Precision::Int8) return o;
    std::vector<Tensor> inputs;
    for (const std::string& path : args.calibration) {
        const bool folder = fileKind(path) == FileKind::Folder;
        for (const std::string& file : folder ? findImages(path, false) : std::vector{path})
            inputs.push_back(model.prepare(readImage(file)));
    }
    if (!args.calibration.empty() && inputs.empty())
        throw ImageError("--calibration: no images found in " + args.calibration.front() + ".");
    if (args.calibration.empty()) inputs = own;
    o.calibration = std::make_shared<Calibration>(
        calibrate(model.spec(), model.weights(), inputs, args.threads));
    std::cerr << "note: int8 calibrated on " << inputs.size()
              << (inputs.size() == 1 ? " image" : " images")
              << (args.calibration.empty()
                      ? " (the ones given; --calibration PATH names representative images)\n"
                      : "\n");
    return o;
}

std::vector<ChannelAblation> ablationsOf(const NetworkArgs& args, const NetworkSpec& spec) {
    std::vector<ChannelAblation> out;
    for (const std::string& text : args.ablate) {
        try {
            out.push_back(parseAblation(text, spec));
        } catch (const EngineError& e) {
            throw UsageError{std::string("--ablate ") + e.what()};
        }
    }
    return out;
}

namespace {

// The verb's JSON document, written whole (writeFileChecked: a temporary file beside `path`,
// renamed over it when complete; non-UTF-8 bytes as U+FFFD); the exit code.
int saveJson(const std::string& path, const ordered_json& doc) {
    try {
        writeFileChecked(path,
                         doc.dump(1, ' ', false, ordered_json::error_handler_t::replace) + "\n");
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    return kExitOk;
}

}  // namespace

int infoStats(const NetworkArgs& args, const std::string& image, const std::string& json) {
    std::shared_ptr<const Model> model;
    std::optional<Tensor> input;
    EngineOptions options;
    try {
        model = openNetworkModel(args, jsonOutput(json), {{"the image", image}});
        input = prepared(*model, image);
        if (!input) return kExitBadInput;
        options = networkEngineOptions(args, *model, {*input});
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    const NetworkSpec& spec = model->spec();
    RunRequest request;
    request.taps = spec.tapNames();
    request.ablations = ablationsOf(args, spec);
    std::optional<Classification> result;
    std::optional<Classification> fp32;
    try {
        Pipeline pipeline(model, options);
        result = pipeline.run(*input, request);
        if (args.precision != Precision::Fp32) {
            Pipeline reference(model, EngineOptions().withThreads(args.threads));
            fp32 = reference.run(*input, request);
        }
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    const std::vector<NodeStats> nodes =
        statsOfEveryNode(spec, result->taps, fp32 ? &fp32->taps : nullptr);

    std::cout << shown(image) << " at " << precisionName(args.precision);
    if (!request.ablations.empty()) std::cout << ", " << describeAblations(spec, request.ablations);
    std::cout << "\ntop-1   " << result->top.front().index << " ("
              << shown(result->top.front().label) << ") " << std::fixed << std::setprecision(4)
              << result->top.front().probability << "\n\n"
              << std::left << std::setw(22) << "node" << std::setw(13) << "shape" << std::right
              << std::setw(11) << "min" << std::setw(11) << "mean" << std::setw(11) << "std"
              << std::setw(11) << "max" << std::setw(8) << "zeros"
              << (fp32 ? "  rel.err  cosine" : "") << "\n";
    ordered_json list = ordered_json::array();
    for (const NodeStats& n : nodes) {
        const TapStats& s = n.stats;
        std::cout << std::left << std::setw(22) << n.node << std::setw(13) << shapeText(n.shape)
                  << std::right << std::setprecision(4) << std::setw(11) << s.min << std::setw(11)
                  << s.mean << std::setw(11) << s.std << std::setw(11) << s.max << std::setw(7)
                  << std::setprecision(1) << 100.0 * s.zeroFraction << "%";
        if (n.hasReference)
            std::cout << std::setprecision(5) << std::setw(9) << n.vsReference.relativeError
                      << std::setw(8) << n.vsReference.cosine;
        std::cout << "\n";
        ordered_json j = {
            {"node", n.node},
            {"shape", n.shape},
            {"min", s.min},
            {"mean", s.mean},
            {"std", s.std},
            {"max", s.max},
            {"zeros", s.zeroFraction},
            {"histogram",
             {{"lo", s.histogram.lo}, {"hi", s.histogram.hi}, {"counts", s.histogram.counts}}}};
        if (n.hasReference) {
            j["rel_err_vs_fp32"] = n.vsReference.relativeError;
            j["cosine_vs_fp32"] = n.vsReference.cosine;
        }
        list.push_back(std::move(j));
    }
    std::cout << std::defaultfloat;
    if (json.empty()) return kExitOk;
    ordered_json ablated = ordered_json::array();
    for (const ChannelAblation& a : request.ablations) ablated.push_back(ablationText(a));
    const ordered_json doc = {{"image", image},
                              {"precision", precisionName(args.precision)},
                              {"ablate", ablated},
                              {"top", topJson(result->top)},
                              {"nodes", list}};
    return saveJson(json, doc);
}

int compareImages(const NetworkArgs& args, const std::string& a, const std::string& b,
                  const std::string& json) {
    std::shared_ptr<const Model> model;
    std::optional<Tensor> inputA, inputB;
    EngineOptions options;
    try {
        model = openNetworkModel(args, jsonOutput(json), {{"image A", a}, {"image B", b}});
        inputA = prepared(*model, a);
        inputB = prepared(*model, b);
        if (!inputA || !inputB) return kExitBadInput;
        options = networkEngineOptions(args, *model, {*inputA, *inputB});
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    const NetworkSpec& spec = model->spec();
    RunRequest request;
    request.taps = spec.tapNames();
    request.ablations = ablationsOf(args, spec);
    std::optional<Classification> ra, rb;
    try {
        Pipeline pipeline(model, options);
        ra = pipeline.run(*inputA, request);
        rb = pipeline.run(*inputB, request);
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    const std::vector<NodeComparison> nodes = compareEveryNode(spec, ra->taps, rb->taps);
    std::cout << "A  " << shown(a) << "\nB  " << shown(b) << "\nat "
              << precisionName(args.precision)
              << (request.ablations.empty() ? ""
                                            : ", " + describeAblations(spec, request.ablations))
              << "\n";
    printTop("top-5 of A", ra->top);
    printTop("top-5 of B", rb->top);
    std::cout << "\n"
              << std::left << std::setw(22) << "node" << std::right << std::setw(10) << "cosine"
              << std::setw(14) << "max |B - A|"
              << "\n";
    ordered_json list = ordered_json::array();
    for (const NodeComparison& n : nodes) {
        std::cout << std::left << std::setw(22) << n.node << std::right << std::fixed
                  << std::setprecision(4) << std::setw(10) << n.difference.cosine << std::setw(14)
                  << n.difference.maxAbsDiff << "\n";
        list.push_back({{"node", n.node},
                        {"cosine", n.difference.cosine},
                        {"max_abs_diff", n.difference.maxAbsDiff}});
    }
    std::cout << std::defaultfloat;
    if (json.empty()) return kExitOk;
    ordered_json ablated = ordered_json::array();
    for (const ChannelAblation& x : request.ablations) ablated.push_back(ablationText(x));
    const ordered_json doc = {{"a", a},
                              {"b", b},
                              {"precision", precisionName(args.precision)},
                              {"ablate", ablated},
                              {"top_a", topJson(ra->top)},
                              {"top_b", topJson(rb->top)},
                              {"nodes", list}};
    return saveJson(json, doc);
}

int channelImportance(const NetworkArgs& args, const ImportanceArgs& importance) {
    std::shared_ptr<const Model> model;
    std::optional<Tensor> input;
    EngineOptions options;
    try {
        model =
            openNetworkModel(args, jsonOutput(importance.json), {{"the image", importance.image}});
        input = prepared(*model, importance.image);
        if (!input) return kExitBadInput;
        options = networkEngineOptions(args, *model, {*input}, importance.batch);
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    const NetworkSpec& spec = model->spec();
    if (importance.classIndex >= spec.numClasses)
        throw UsageError{"--class: the model has classes 0 … " +
                         std::to_string(spec.numClasses - 1)};
    ChannelImportanceOptions o;
    o.node = importance.layer;
    o.classIndex = importance.classIndex;
    o.ablations = ablationsOf(args, spec);
    std::optional<ChannelImportanceResult> r;
    try {
        ChannelImportance job(model, options);
        r = job.compute(*input, o, terminalProgress("channels"));
    } catch (const EngineError& e) {
        throw UsageError{e.what()};  // a layer, class or ablation that does not fit
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    const std::string label = model->labels().name(r->classIndex);
    std::cout << shown(importance.image) << "\n"
              << "layer   " << r->node << ", " << r->logits.size() << " channels, at "
              << precisionName(args.precision)
              << (o.ablations.empty() ? "" : ", " + describeAblations(spec, o.ablations)) << "\n"
              << "class   " << r->classIndex << " (" << shown(label) << "), logit " << std::fixed
              << std::setprecision(4) << r->logit << " with every channel on\n"
              << "time    " << std::setprecision(0) << r->ms << " ms, " << r->runs
              << " batched runs from " << r->node << "\n\n"
              << "most important (switched off alone, the logit drops most):\n"
              << std::setw(8) << "channel" << std::setw(12) << "logit" << std::setw(12) << "delta"
              << "\n";
    for (size_t i = 0; i < std::min<size_t>(10, r->ranked.size()); ++i) {
        const auto c = static_cast<size_t>(r->ranked[i]);
        std::cout << std::setw(8) << c << std::setprecision(4) << std::setw(12) << r->logits[c]
                  << std::setw(12) << r->deltas[c] << "\n";
    }
    std::cout << std::defaultfloat;
    if (importance.json.empty()) return kExitOk;
    ordered_json channels = ordered_json::array();
    for (size_t c = 0; c < r->logits.size(); ++c)
        channels.push_back({{"channel", c}, {"logit", r->logits[c]}, {"delta", r->deltas[c]}});
    ordered_json ablated = ordered_json::array();
    for (const ChannelAblation& x : o.ablations) ablated.push_back(ablationText(x));
    const ordered_json doc = {{"image", importance.image},
                              {"layer", r->node},
                              {"class", r->classIndex},
                              {"label", label},
                              {"precision", precisionName(args.precision)},
                              {"ablate", ablated},
                              {"logit", r->logit},
                              {"channels", channels}};
    return saveJson(importance.json, doc);
}

}  // namespace r18::cli
