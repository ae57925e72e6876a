#include "app/insight_verbs.h"

#include <QCommandLineParser>

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <iostream>

#include "app/cli.h"
#include "core/attribution.h"
#include "core/channel_atlas.h"
#include "core/error.h"
#include "core/feature_vis.h"
#include "core/formats/npy.h"
#include "core/media/image_io.h"
#include "core/media/preprocess.h"
#include "core/model/model.h"

namespace r18::cli {
namespace {

int intOption(const QCommandLineParser& p, const QCommandLineOption& o, int min) {
    bool ok = false;
    const int v = p.value(o).toInt(&ok);
    if (!ok || v < min)
        throw UsageError{"--" + o.names().first().toStdString() + " needs a whole number ≥ " +
                         std::to_string(min)};
    return v;
}

uint64_t seedOption(const QCommandLineParser& p, const QCommandLineOption& o) {
    bool ok = false;
    const qulonglong v = p.value(o).toULongLong(&ok);
    if (!ok) throw UsageError{"--seed needs a whole number ≥ 0"};
    return v;
}

std::shared_ptr<const Model> openModel(const QCommandLineParser& p,
                                       const QCommandLineOption& weights) {
    ModelOptions o;
    if (p.isSet(weights)) o.weightsPath = bytesOf(p.value(weights));
    std::shared_ptr<const Model> model = Model::open(o);
    for (const std::string& note : model->notes()) std::cerr << "note: " << shown(note) << "\n";
    if (model->trust() != Trust::Official)
        std::cerr << "note: " << shown(model->trustNote()) << "\n";
    return model;
}

// A layer whose channels can be looked at: any tap but the input.
void checkLayer(const NetworkSpec& spec, const std::string& layer) {
    std::vector<std::string> valid = spec.tapNames();
    valid.erase(std::remove(valid.begin(), valid.end(), "input"), valid.end());
    if (std::find(valid.begin(), valid.end(), layer) != valid.end()) return;
    std::string list;
    for (const std::string& v : valid) list += (list.empty() ? "" : ", ") + v;
    throw UsageError{"--layer: '" + layer + "' is not a layer with channels; valid: " + list};
}

// "[k/n]" on a terminal's stderr, nothing otherwise.
ProgressFn terminalProgress(const std::string& what) {
    if (!isatty(STDERR_FILENO)) return {};
    return [what](int done, int total) {
        std::cerr << "\r" << what << " [" << done << "/" << total << "]\x1b[K" << std::flush;
        if (done == total) std::cerr << "\r\x1b[K" << std::flush;
        return true;
    };
}

void writePng(const std::string& path, const cv::Mat& rgb) {
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    bool ok = false;
    try {
        ok = cv::imwrite(path, bgr);
    } catch (const cv::Exception&) {
        ok = false;
    }
    if (!ok) throw Error(path + ": cannot write the image.");
}

// The heat map over the crop the network saw, half and half.
cv::Mat overlay(const cv::Mat& crop, const Tensor& heat) {
    const int s = crop.rows;
    cv::Mat gray(s, s, CV_8U);
    for (int i = 0; i < s * s; ++i)
        gray.data[i] = static_cast<uint8_t>(std::lround(heat.data[static_cast<size_t>(i)] * 255));
    cv::Mat colours;
    cv::applyColorMap(gray, colours, cv::COLORMAP_INFERNO);  // BGR
    cv::cvtColor(colours, colours, cv::COLOR_BGR2RGB);
    cv::Mat out;
    cv::addWeighted(crop, 0.5, colours, 0.5, 0.0, out);
    return out;
}

int runExplain(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "Which pixels drove the decision: an attribution map for one image and one class.");
    std::string methods;
    for (AttributionMethod m : allMethods())
        methods += (methods.empty() ? "" : "|") + std::string(methodName(m));
    const QCommandLineOption methodOpt("method", QString::fromStdString(methods) + ".", "M");
    const QCommandLineOption layerOpt("layer", "cam/gradcam: stage or block (default layer4).", "L",
                                      "layer4");
    const QCommandLineOption classOpt("class", "Class index (default: the top-1 class).", "K");
    const QCommandLineOption stepsOpt("steps", "integrated-gradients: steps (default 32).", "N",
                                      "32");
    const QCommandLineOption samplesOpt("samples", "smoothgrad: samples (default 25).", "N", "25");
    const QCommandLineOption noiseOpt(
        "noise", "smoothgrad: σ as a fraction of the input's range (default 0.15).", "S", "0.15");
    const QCommandLineOption seedOpt("seed", "smoothgrad: noise seed (default 0).", "S", "0");
    const QCommandLineOption weightsOpt("weights", "Weights file (.pth or .onnx).", "FILE");
    const QCommandLineOption threadsOpt("threads", "Threads (default: all cores).", "N", "0");
    const QCommandLineOption saveOpt(
        "save", "The raw map as float32 .npy (1×3×224×224 or, cam/gradcam, 1×h×w).", "OUT.npy");
    const QCommandLineOption overlayOpt("overlay", "The heat map over the 224×224 crop, as PNG.",
                                        "OUT.png");
    const QCommandLineOption faithOpt(
        "faithfulness", "Also compute deletion and insertion curves with N steps (e.g. 32).", "N");
    p.addOptions({methodOpt, layerOpt, classOpt, stepsOpt, samplesOpt, noiseOpt, seedOpt,
                  weightsOpt, threadsOpt, saveOpt, overlayOpt, faithOpt});
    p.addPositionalArgument("IMAGE", "The image to explain.");
    if (parseVerb(p, args)) return kExitOk;

    if (!p.isSet(methodOpt)) throw UsageError{"explain needs --method " + methods};
    const auto method = parseMethod(p.value(methodOpt).toStdString());
    if (!method) throw UsageError{"--method must be one of " + methods};
    if (p.positionalArguments().size() != 1) throw UsageError{"explain needs exactly one IMAGE"};
    AttributionOptions o;
    o.method = *method;
    o.layer = p.value(layerOpt).toStdString();
    o.steps = intOption(p, stepsOpt, 1);
    o.samples = intOption(p, samplesOpt, 1);
    bool ok = false;
    o.noise = p.value(noiseOpt).toFloat(&ok);
    if (!ok || !(o.noise >= 0.0F)) throw UsageError{"--noise needs a number ≥ 0"};
    o.seed = seedOption(p, seedOpt);
    const int threads = threadsOption("--threads", p.value(threadsOpt));
    const int faithSteps = p.isSet(faithOpt) ? intOption(p, faithOpt, 1) : 0;
    if (p.isSet(classOpt)) o.classIndex = intOption(p, classOpt, 0);
    const std::string image = bytesOf(p.positionalArguments().front());

    std::shared_ptr<const Model> model;
    Tensor input;
    cv::Mat crop;
    try {
        model = openModel(p, weightsOpt);
        const cv::Mat decoded = readImage(image);
        input = model->prepare(decoded);
        crop = resizeAndCropDecoded(decoded, model->preprocess());
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    const NetworkSpec& spec = model->spec();
    if (o.classIndex >= spec.numClasses)
        throw UsageError{"--class: the model has classes 0 … " +
                         std::to_string(spec.numClasses - 1)};
    Explainer explainer(model, threads);
    std::optional<Attribution> a;
    try {
        a = explainer.explain(input, o, terminalProgress(methodName(o.method)));
    } catch (const EngineError& e) {
        throw UsageError{e.what()};  // a layer or method choice that does not fit
    }
    const Tensor& map = a->map;
    const auto [lo, hi] = std::minmax_element(map.data.begin(), map.data.end());
    std::cout << shown(image) << "\n"
              << "method  " << methodName(a->method) << "\n"
              << "class   " << a->classIndex << " (" << model->labels().name(a->classIndex)
              << "), logit " << std::fixed << std::setprecision(4) << a->logit << "\n";
    if (!a->layer.empty()) std::cout << "layer   " << a->layer << "\n";
    std::cout << "map     " << shapeToString(map.dims)
              << (inInputSpace(a->method) ? " in normalised input space" : " at the layer")
              << ", min " << std::setprecision(6) << *lo << ", max " << *hi << "\n";
    if (a->method == AttributionMethod::IntegratedGradients)
        std::cout << "completeness  sum " << std::setprecision(4) << a->attributionSum
                  << ", f(x) - f(0) " << a->logit - a->baselineLogit << " (f(0) "
                  << a->baselineLogit << "), gap " << a->completenessGap << "\n";
    std::cout << "time    " << std::setprecision(0) << a->ms << " ms, " << a->backwardPasses
              << (a->backwardPasses == 1 ? " backward pass\n" : " backward passes\n");
    if (faithSteps > 0) {
        const std::optional<Faithfulness> f = explainer.faithfulness(
            input, map, a->classIndex, faithSteps, terminalProgress("faithfulness"));
        std::cout << std::setprecision(4) << "deletion area   " << f->deletionArea
                  << " (lower is better)\ninsertion area  " << f->insertionArea
                  << " (higher is better)\n";
    }
    std::cout << std::defaultfloat;
    try {
        if (p.isSet(saveOpt)) writeNpy(bytesOf(p.value(saveOpt)), map);
        if (p.isSet(overlayOpt))
            writePng(bytesOf(p.value(overlayOpt)), overlay(crop, heatValues(map, spec.inputSize)));
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    return kExitOk;
}

int runChannels(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "What does each channel of a layer detect: the images of a folder that excite it most.");
    const QCommandLineOption layerOpt("layer", "Layer (a tap, as for classify --save-tap).", "L");
    const QCommandLineOption topOpt("top", "Images per channel (default 9).", "K", "9");
    const QCommandLineOption weightsOpt("weights", "Weights file (.pth or .onnx).", "FILE");
    const QCommandLineOption threadsOpt("threads", "Threads (default: all cores).", "N", "0");
    const QCommandLineOption jsonOpt("json", "Write the result as JSON.", "OUT.json");
    const QCommandLineOption noCacheOpt("no-cache", "Neither read nor write the cache.");
    p.addOptions({layerOpt, topOpt, weightsOpt, threadsOpt, jsonOpt, noCacheOpt});
    p.addPositionalArgument("FOLDER", "Folder of images (searched recursively).");
    if (parseVerb(p, args)) return kExitOk;
    if (!p.isSet(layerOpt)) throw UsageError{"channels needs --layer L"};
    if (!p.isSet(jsonOpt)) throw UsageError{"channels needs --json OUT.json"};
    if (p.positionalArguments().size() != 1) throw UsageError{"channels needs exactly one FOLDER"};
    AtlasOptions o;
    o.topK = intOption(p, topOpt, 1);
    o.threads = threadsOption("--threads", p.value(threadsOpt));
    o.useCache = !p.isSet(noCacheOpt);
    const std::string layer = p.value(layerOpt).toStdString();
    const std::string folder = bytesOf(p.positionalArguments().front());

    std::optional<ChannelAtlas> atlas;
    try {
        const std::shared_ptr<const Model> model = openModel(p, weightsOpt);
        checkLayer(model->spec(), layer);
        atlas = buildChannelAtlas(model, folder, o, terminalProgress("images"));
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    for (const std::string& s : atlas->skipped) std::cerr << "skipped: " << shown(s) << "\n";
    std::cerr << atlas->files.size() << (atlas->files.size() == 1 ? " image" : " images")
              << (atlas->fromCache ? " (from the cache)" : "") << "\n";
    const LayerAtlas& l = atlas->layer(layer);
    nlohmann::json channels = nlohmann::json::array();
    for (size_t c = 0; c < l.channels.size(); ++c) {
        nlohmann::json top = nlohmann::json::array();
        for (const ChannelHit& h : l.channels[c])
            top.push_back({{"file", atlas->files[static_cast<size_t>(h.file)]},
                           {"value", h.value},
                           {"y", h.y},
                           {"x", h.x},
                           {"box", {h.box.x0, h.box.y0, h.box.x1, h.box.y1}}});
        channels.push_back({{"channel", c}, {"top", top}});
    }
    const nlohmann::json out = {{"layer", layer}, {"channels", channels}};
    const std::string path = bytesOf(p.value(jsonOpt));
    std::ofstream f(path);
    f << out.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    if (!f) {
        std::cerr << "error: " << shown(path) << ": cannot write the file.\n";
        return kExitBadInput;
    }
    return atlas->files.empty() ? kExitBadInput : kExitOk;
}

int runVisualize(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "Feature visualisation: synthesise the input that maximises a channel (or, with --layer "
        "fc, a class).");
    const VisualizeOptions defaults;
    const QCommandLineOption layerOpt("layer", "Layer (a tap), or fc for a class.", "L");
    const QCommandLineOption channelOpt("channel", "Channel (or class, with fc).", "C");
    const QCommandLineOption stepsOpt(
        "steps", QString("Gradient ascent steps (default %1).").arg(defaults.steps), "N",
        QString::number(defaults.steps));
    const QCommandLineOption seedOpt("seed", "Seed (default 0).", "S", "0");
    const QCommandLineOption weightsOpt("weights", "Weights file (.pth or .onnx).", "FILE");
    const QCommandLineOption threadsOpt("threads", "Threads (default: all cores).", "N", "0");
    const QCommandLineOption rawOpt(
        "save-raw", "The input as float32 .npy, 1×3×224×224, normalised.", "OUT.npy");
    const QCommandLineOption saveOpt("save", "The picture as PNG.", "OUT.png");
    const QCommandLineOption noCacheOpt("no-cache", "Neither read nor write the cache.");
    p.addOptions({layerOpt, channelOpt, stepsOpt, seedOpt, weightsOpt, threadsOpt, rawOpt, saveOpt,
                  noCacheOpt});
    if (parseVerb(p, args)) return kExitOk;
    if (!p.isSet(layerOpt) || !p.isSet(channelOpt))
        throw UsageError{"visualize needs --layer L and --channel C"};
    if (!p.positionalArguments().isEmpty())
        throw UsageError{"visualize takes no positional arguments"};
    VisualizeOptions o;
    o.layer = p.value(layerOpt).toStdString();
    o.channel = intOption(p, channelOpt, 0);
    o.steps = intOption(p, stepsOpt, 1);
    o.seed = seedOption(p, seedOpt);
    o.useCache = !p.isSet(noCacheOpt);
    const int threads = threadsOption("--threads", p.value(threadsOpt));

    std::shared_ptr<const Model> model;
    try {
        model = openModel(p, weightsOpt);
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    checkLayer(model->spec(), o.layer);
    const int64_t channels = model->spec().node(o.layer).outShape[0];
    if (o.channel >= channels)
        throw UsageError{"--channel: '" + o.layer + "' has channels 0 … " +
                         std::to_string(channels - 1)};
    FeatureVisualizer visualizer(model, threads);
    const std::optional<Visualization> v = visualizer.visualize(o, terminalProgress("steps"));
    std::cout << o.layer << " channel " << o.channel;
    if (o.layer == "fc") std::cout << " (" << model->labels().name(o.channel) << ")";
    std::cout << ": mean activation " << std::fixed << std::setprecision(4) << v->activation
              << " after " << o.steps << " steps" << (v->fromCache ? " (from the cache)" : "")
              << ", " << std::setprecision(0) << v->ms << " ms\n"
              << std::defaultfloat;
    try {
        if (p.isSet(rawOpt)) writeNpy(bytesOf(p.value(rawOpt)), v->input);
        if (p.isSet(saveOpt)) writePng(bytesOf(p.value(saveOpt)), v->rgb);
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    return kExitOk;
}

// Usage errors end the verb with kExitUsage and a hint.
int guarded(const char* verb, int (*run)(const QStringList&), const QStringList& args) {
    try {
        return run(args);
    } catch (const UsageError& e) {
        std::cerr << "usage error: " << e.message << "\nRun 'resnet18-explorer " << verb
                  << " --help' for the options.\n";
        return kExitUsage;
    }
}

}  // namespace

int explain(const QStringList& args) {
    return guarded("explain", runExplain, args);
}

int channels(const QStringList& args) {
    return guarded("channels", runChannels, args);
}

int visualize(const QStringList& args) {
    return guarded("visualize", runVisualize, args);
}

}  // namespace r18::cli
