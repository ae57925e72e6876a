#include "app/insight_verbs.h"

#include <QCommandLineParser>

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>

#include "app/cli_args.h"
#include "app/network_verbs.h"
#include "core/attribution.h"
#include "core/batch.h"
#include "core/channel_atlas.h"
#include "core/error.h"
#include "core/feature_vis.h"
#include "core/files.h"
#include "core/formats/npy.h"
#include "core/media/image_io.h"
#include "core/media/preprocess.h"
#include "core/model/model.h"
#include "core/score_cam.h"
#include "core/video_explain.h"

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

// The outputs named (option, path) that are set.
std::vector<RoleAndPath> outputsOf(const QCommandLineParser& p,
                                   std::initializer_list<const QCommandLineOption*> options) {
    std::vector<RoleAndPath> outputs;
    for (const QCommandLineOption* o : options)
        if (p.isSet(*o))
            outputs.push_back({"--" + o->names().first().toStdString(), bytesOf(p.value(*o))});
    return outputs;
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

// Encoded in memory, then written whole (AtomicFile).
void writePng(const std::string& path, const cv::Mat& rgb) {
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    std::vector<uint8_t> png;
    bool ok = false;
    try {
        ok = cv::imencode(".png", bgr, png);
    } catch (const cv::Exception&) {
        ok = false;
    }
    if (!ok) throw Error(path + ": cannot encode the image as PNG.");
    writeFileChecked(path, png.data(), png.size());
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

// Ctrl+C while a video is written: the frames so far are finished into a playable file.
std::atomic<bool> interrupted{false};

extern "C" void onInterrupt(int) {
    interrupted = true;
}

// Progress of a video on stderr: a line that rewrites itself on a terminal; elsewhere a line for
// the first frame and for every tenth of the video (or every 100 frames when the length is not
// known).
ProgressFn videoProgress() {
    const bool terminal = isatty(STDERR_FILENO);
    return [terminal, shownTenth = -1](int done, int total) mutable {
        if (terminal) {
            std::cerr << "\rframe " << done;
            if (total > 0) std::cerr << "/" << total;
            std::cerr << "\x1b[K" << std::flush;
        } else {
            const int tenth = total > 0 ? done * 10 / total : done / 100;
            if (done == 1 || tenth != shownTenth)
                std::cerr << "frame " << done << (total > 0 ? "/" + std::to_string(total) : "")
                          << "\n";
            shownTenth = tenth;
        }
        return !interrupted.load();
    };
}

int runVideo(const QCommandLineParser& p, const NetworkArgs& network, const std::string& input,
             const std::string& output, const std::string& method) {
    if (network.precision != Precision::Fp32)
        throw UsageError{"--video runs cam and gradcam in fp32; leave --precision out"};
    if (!network.ablate.empty())
        throw UsageError{"--video does not switch channels off (--ablate)"};
    VideoExplainOptions o;
    o.input = input;
    o.output = output;
    const auto m = parseMethod(method);
    if (!m || (*m != AttributionMethod::Cam && *m != AttributionMethod::GradCam))
        throw UsageError{"--video works with --method cam or gradcam"};
    o.method = *m;
    o.layer = p.value("layer").toStdString();
    if (p.isSet("class")) o.classIndex = p.value("class").toLongLong();
    o.threads = network.threads;
    const std::string save = p.isSet("save") ? bytesOf(p.value("save")) : std::string();
    o.keepMaps = !save.empty();
    std::vector<RoleAndPath> outputs{{"--out", output}};
    if (!save.empty()) outputs.push_back({"--save", save});
    refuseOutputOverInput(outputs, {{"the video", input}});
    try {
        videoFormatForPath(output);
    } catch (const VideoError& e) {
        throw UsageError{e.what()};
    }
    std::shared_ptr<const Model> model;
    try {
        model = openNetworkModel(network, outputs, {{"the video", input}});
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    struct sigaction action {};
    struct sigaction previous {};
    action.sa_handler = onInterrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous);
    std::optional<VideoExplainReport> report;
    try {
        report = explainVideo(model, o, videoProgress());
    } catch (const EngineError& e) {
        sigaction(SIGINT, &previous, nullptr);
        throw UsageError{e.what()};  // a layer or class that does not fit
    } catch (const Error& e) {
        sigaction(SIGINT, &previous, nullptr);
        if (isatty(STDERR_FILENO)) std::cerr << "\n";
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    sigaction(SIGINT, &previous, nullptr);
    if (isatty(STDERR_FILENO)) std::cerr << "\n";
    std::cout << shown(output) << ": " << report->frames << " frames at " << report->fps << " fps"
              << (report->fpsGuessed ? " (the input states no frame rate)" : "") << ", "
              << videoFormatName(report->format) << ", " << methodName(o.method) << " at "
              << report->layer << "; " << std::fixed << std::setprecision(1) << report->seconds
              << " s\n"
              << std::defaultfloat;
    if (report->cancelled)
        std::cerr << "cancelled after " << report->frames << " of "
                  << (report->framesInInput > 0 ? std::to_string(report->framesInInput) : "?")
                  << " frames; " << shown(output) << " holds them\n";
    if (!save.empty() && !report->maps.empty()) {
        const Tensor& first = report->maps.front();
        Tensor all({static_cast<int64_t>(report->maps.size()), first.dims[1], first.dims[2]});
        for (size_t i = 0; i < report->maps.size(); ++i)
            std::copy(report->maps[i].data.begin(), report->maps[i].data.end(),
                      all.data.begin() + static_cast<std::ptrdiff_t>(i * first.data.size()));
        try {
            writeNpy(save, all);
        } catch (const Error& e) {
            std::cerr << "error: " << shown(e.what()) << "\n";
            return kExitBadInput;
        }
    }
    return report->cancelled ? kExitInterrupted : kExitOk;
}

int runExplain(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "Which pixels drove the decision: an attribution map for one image and one class; or, "
        "with --video, cam or gradcam over every frame of a video.");
    std::string methods;
    for (AttributionMethod m : allMethods())
        methods += (methods.empty() ? "" : "|") + std::string(methodName(m));
    const QCommandLineOption methodOpt("method", QString::fromStdString(methods) + ".", "M");
    const QCommandLineOption layerOpt(
        "layer", "cam/gradcam/scorecam: stage or block (default layer4); scorecam: any node.", "L",
        "layer4");
    const QCommandLineOption classOpt("class", "Class index (default: the top-1 class).", "K");
    const QCommandLineOption stepsOpt("steps", "integrated-gradients: steps (default 32).", "N",
                                      "32");
    const QCommandLineOption samplesOpt("samples", "smoothgrad: samples (default 25).", "N", "25");
    const QCommandLineOption noiseOpt(
        "noise", "smoothgrad: σ as a fraction of the input's range (default 0.15).", "S", "0.15");
    const QCommandLineOption seedOpt("seed", "smoothgrad: noise seed (default 0).", "S", "0");
    const QCommandLineOption batchOpt("batch", "scorecam: masked images per run (default 8).", "B",
                                      "8");
    const NetworkOptions network;
    const QCommandLineOption saveOpt(
        "save",
        "The raw map as float32 .npy (1×3×224×224 or, cam/gradcam/scorecam, 1×h×w; --video: "
        "frames×h×w).",
        "OUT.npy");
    const QCommandLineOption overlayOpt("overlay", "The heat map over the 224×224 crop, as PNG.",
                                        "OUT.png");
    const QCommandLineOption faithOpt(
        "faithfulness", "Also compute deletion and insertion curves with N steps (e.g. 32).", "N");
    const QCommandLineOption videoOpt(
        "video", "A video file to explain frame by frame (cam or gradcam); needs --out.", "IN");
    const QCommandLineOption outOpt(
        "out", "--video: the output, .mp4 (H.264, where OpenCV can write it) or .avi (MJPG).",
        "OUT");
    p.addOptions({methodOpt, layerOpt, classOpt, stepsOpt, samplesOpt, noiseOpt, seedOpt, batchOpt,
                  saveOpt, overlayOpt, faithOpt, videoOpt, outOpt});
    network.addTo(p);
    p.addPositionalArgument("IMAGE", "The image to explain (not with --video).");
    if (parseVerb(p, args)) return kExitOk;

    if (!p.isSet(methodOpt)) throw UsageError{"explain needs --method " + methods};
    const std::string methodText = p.value(methodOpt).toStdString();
    const NetworkArgs net = network.read(p);
    if (p.isSet(classOpt)) intOption(p, classOpt, 0);
    if (p.isSet(videoOpt) || p.isSet(outOpt)) {
        if (!p.isSet(videoOpt) || !p.isSet(outOpt))
            throw UsageError{"--video IN and --out OUT go together"};
        if (!p.positionalArguments().isEmpty()) throw UsageError{"explain --video takes no IMAGE"};
        return runVideo(p, net, bytesOf(p.value(videoOpt)), bytesOf(p.value(outOpt)), methodText);
    }
    const bool scoreCam = methodText == "scorecam";
    const auto method = parseMethod(methodText);
    if (!method && !scoreCam) throw UsageError{"--method must be one of " + methods};
    if (!scoreCam && net.precision != Precision::Fp32)
        throw UsageError{"--precision: " + methodText +
                         " runs in fp32 (its backward pass); scorecam runs at any precision"};
    if (p.positionalArguments().size() != 1) throw UsageError{"explain needs exactly one IMAGE"};
    AttributionOptions o;
    o.method = method.value_or(AttributionMethod::Cam);
    o.layer = p.value(layerOpt).toStdString();
    o.steps = intOption(p, stepsOpt, 1);
    o.samples = intOption(p, samplesOpt, 1);
    bool ok = false;
    o.noise = p.value(noiseOpt).toFloat(&ok);
    if (!ok || !(o.noise >= 0.0F)) throw UsageError{"--noise needs a number ≥ 0"};
    o.seed = seedOption(p, seedOpt);
    const int batch = intOption(p, batchOpt, 1);
    const int faithSteps = p.isSet(faithOpt) ? intOption(p, faithOpt, 1) : 0;
    if (faithSteps > 0 && !net.ablate.empty())
        throw UsageError{"--faithfulness measures with every channel on; leave --ablate out"};
    if (p.isSet(classOpt)) o.classIndex = intOption(p, classOpt, 0);
    const std::string image = bytesOf(p.positionalArguments().front());

    std::shared_ptr<const Model> model;
    Tensor input;
    cv::Mat crop;
    EngineOptions engineOptions;
    try {
        model =
            openNetworkModel(net, outputsOf(p, {&saveOpt, &overlayOpt}), {{"the image", image}});
        const cv::Mat decoded = readImage(image);
        input = model->prepare(decoded);
        crop = resizeAndCropDecoded(decoded, model->preprocess());
        if (scoreCam) engineOptions = networkEngineOptions(net, *model, {input}, batch);
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    const NetworkSpec& spec = model->spec();
    if (o.classIndex >= spec.numClasses)
        throw UsageError{"--class: the model has classes 0 … " +
                         std::to_string(spec.numClasses - 1)};
    o.ablations = ablationsOf(net, spec);
    std::unique_ptr<Explainer> explainer;  // scorecam needs it only for faithfulness
    if (!scoreCam || faithSteps > 0) explainer = std::make_unique<Explainer>(model, net.threads);
    std::optional<Attribution> a;
    std::string name = methodText;
    int passes = 0;
    try {
        if (scoreCam) {
            ScoreCam scorer(model, engineOptions);
            ScoreCamOptions so;
            so.layer = o.layer;
            so.classIndex = o.classIndex;
            so.ablations = o.ablations;
            const std::optional<ScoreCamResult> r =
                scorer.compute(input, so, terminalProgress("scorecam"));
            a.emplace();
            a->classIndex = r->classIndex;
            a->layer = r->layer;
            a->map = r->map;
            a->logits = r->logits;
            a->logit = r->logit;
            a->ms = r->ms;
            passes = r->passes;
        } else {
            a = explainer->explain(input, o, terminalProgress(methodName(o.method)));
            passes = a->backwardPasses;
        }
    } catch (const EngineError& e) {
        throw UsageError{e.what()};  // a layer or method choice that does not fit
    }
    const Tensor& map = a->map;
    const auto [lo, hi] = std::minmax_element(map.data.begin(), map.data.end());
    std::cout << shown(image) << "\n"
              << "method  " << name
              << (scoreCam ? std::string(" at ") + precisionName(net.precision) : "") << "\n";
    if (!o.ablations.empty())
        std::cout << "off     " << describeAblations(spec, o.ablations) << "\n";
    std::cout << "class   " << a->classIndex << " (" << model->labels().name(a->classIndex)
              << "), logit " << std::fixed << std::setprecision(4) << a->logit << "\n";
    if (!a->layer.empty()) std::cout << "layer   " << a->layer << "\n";
    const bool inputSpace = !scoreCam && inInputSpace(a->method);
    std::cout << "map     " << shapeToString(map.dims)
              << (inputSpace ? " in normalised input space" : " at the layer") << ", min "
              << std::setprecision(6) << *lo << ", max " << *hi << "\n";
    if (!scoreCam && a->method == AttributionMethod::IntegratedGradients)
        std::cout << "completeness  sum " << std::setprecision(4) << a->attributionSum
                  << ", f(x) - f(0) " << a->logit - a->baselineLogit << " (f(0) "
                  << a->baselineLogit << "), gap " << a->completenessGap << "\n";
    std::cout << "time    " << std::setprecision(0) << a->ms << " ms, " << passes
              << (scoreCam ? (passes == 1 ? " masked image\n" : " masked images\n")
                           : (passes == 1 ? " backward pass\n" : " backward passes\n"));
    if (faithSteps > 0) {
        const std::optional<Faithfulness> f = explainer->faithfulness(
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
        "What does each channel of a layer detect: the images of a folder that excite it most.\n"
        "With --importance: for one image and a class, each channel's effect on the class's "
        "logit when it alone is switched off.");
    const QCommandLineOption layerOpt("layer", "Layer (a tap, as for classify --save-tap).", "L");
    const QCommandLineOption topOpt("top", "Images per channel (default 9).", "K", "9");
    const NetworkOptions network;
    const QCommandLineOption jsonOpt("json", "Write the result as JSON.", "OUT.json");
    const QCommandLineOption noCacheOpt("no-cache", "Neither read nor write the cache.");
    const QCommandLineOption importanceOpt(
        "importance", "Each channel's effect on --class's logit when it alone is switched off.");
    const QCommandLineOption classOpt("class", "--importance: the class (default: the top-1).",
                                      "K");
    const QCommandLineOption batchOpt("batch", "--importance: channels per run (default 16).", "B",
                                      "16");
    p.addOptions({layerOpt, topOpt, jsonOpt, noCacheOpt, importanceOpt, classOpt, batchOpt});
    network.addTo(p);
    p.addPositionalArgument("FOLDER",
                            "Folder of images (searched recursively); --importance: "
                            "one image.");
    if (parseVerb(p, args)) return kExitOk;
    if (!p.isSet(layerOpt)) throw UsageError{"channels needs --layer L"};
    const NetworkArgs net = network.read(p);
    if (p.isSet(importanceOpt)) {
        if (p.positionalArguments().size() != 1)
            throw UsageError{"channels --importance needs exactly one IMAGE"};
        ImportanceArgs importance;
        importance.image = bytesOf(p.positionalArguments().front());
        importance.layer = p.value(layerOpt).toStdString();
        if (p.isSet(classOpt)) importance.classIndex = intOption(p, classOpt, 0);
        importance.batch = intOption(p, batchOpt, 1);
        if (p.isSet(jsonOpt)) importance.json = bytesOf(p.value(jsonOpt));
        return channelImportance(net, importance);
    }
    for (const QCommandLineOption* o :
         {&classOpt, &batchOpt, &network.precision, &network.calibration})
        if (p.isSet(*o))
            throw UsageError{"--" + o->names().first().toStdString() + " needs --importance"};
    if (!p.isSet(jsonOpt)) throw UsageError{"channels needs --json OUT.json"};
    if (p.positionalArguments().size() != 1) throw UsageError{"channels needs exactly one FOLDER"};
    AtlasOptions o;
    o.topK = intOption(p, topOpt, 1);
    o.threads = net.threads;
    o.useCache = !p.isSet(noCacheOpt);
    const std::string layer = p.value(layerOpt).toStdString();
    const std::string folder = bytesOf(p.positionalArguments().front());

    std::optional<ChannelAtlas> atlas;
    try {
        std::vector<RoleAndPath> images;
        for (const std::string& f : findImages(folder)) images.push_back({"the image", f});
        const std::shared_ptr<const Model> model =
            openNetworkModel(net, outputsOf(p, {&jsonOpt}), images);
        checkLayer(model->spec(), layer);
        o.ablations = ablationsOf(net, model->spec());
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
    try {
        writeFileChecked(path,
                         out.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
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
    const NetworkOptions network(false);
    const QCommandLineOption rawOpt(
        "save-raw", "The input as float32 .npy, 1×3×224×224, normalised.", "OUT.npy");
    const QCommandLineOption saveOpt("save", "The picture as PNG.", "OUT.png");
    const QCommandLineOption noCacheOpt("no-cache", "Neither read nor write the cache.");
    network.addTo(p);
    p.addOptions({layerOpt, channelOpt, stepsOpt, seedOpt, rawOpt, saveOpt, noCacheOpt});
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
    const NetworkArgs net = network.read(p);
    const int threads = net.threads;

    std::shared_ptr<const Model> model;
    try {
        model = openNetworkModel(net, outputsOf(p, {&rawOpt, &saveOpt}));
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    checkLayer(model->spec(), o.layer);
    o.ablations = ablationsOf(net, model->spec());
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
