#include "app/cli.h"

#include "app/bench_verb.h"
#include "app/cli_args.h"
#include "app/insight_verbs.h"
#include "app/network_verbs.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <limits>
#include <sstream>

#include "core/app_data.h"
#include "core/batch.h"
#include "core/engine/calibration.h"
#include "core/engine/threads.h"
#include "core/error.h"
#include "core/folder_job.h"
#include "core/formats/npy.h"
#include "core/media/image_io.h"
#include "core/model/model.h"
#include "core/pipeline.h"

namespace r18::cli {
namespace {

const char* const kVerbs[] = {"classify", "info",    "bench",    "explain",
                              "channels", "compare", "visualize"};

std::string withThousands(int64_t v) {
    std::string digits = std::to_string(v);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3)
        digits.insert(static_cast<size_t>(i), ",");
    return digits;
}

// --weights and --labels, else the default locations (Model::open()).
ModelOptions modelOptions(const QCommandLineParser& p, const QCommandLineOption& weights,
                          const QCommandLineOption* labels = nullptr) {
    ModelOptions o;
    if (p.isSet(weights)) o.weightsPath = bytesOf(p.value(weights));
    if (labels && p.isSet(*labels)) o.labelsPath = bytesOf(p.value(*labels));
    return o;
}

bool isFolder(const std::string& path) {
    std::error_code ec;
    return std::filesystem::is_directory(path, ec);
}

// A file, or the image files directly inside a folder (by extension), sorted.
std::vector<std::string> imageFilesIn(const std::string& path) {
    if (!isFolder(path)) return {path};
    return findImages(path, false);
}

int compare(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "Two images through the network: both top-5s and, per node, the cosine similarity of "
        "their outputs and max |B - A|.");
    const NetworkOptions network;
    const QCommandLineOption jsonOpt("json", "Write the comparison as JSON.", "OUT.json");
    network.addTo(p);
    p.addOption(jsonOpt);
    p.addPositionalArgument("A", "The first image.");
    p.addPositionalArgument("B", "The second image.");
    if (parseVerb(p, args)) return kExitOk;
    if (p.positionalArguments().size() != 2) throw UsageError{"compare needs two images, A and B"};
    return compareImages(network.read(p), bytesOf(p.positionalArguments()[0]),
                         bytesOf(p.positionalArguments()[1]),
                         p.isSet(jsonOpt) ? bytesOf(p.value(jsonOpt)) : std::string());
}

int classify(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription("Classify images with ResNet18.");
    const QCommandLineOption weightsOpt("weights",
                                        "Weights file (.pth, .pt, .safetensors or .onnx).", "FILE");
    const QCommandLineOption labelsOpt("labels", "Labels file (one per line, or a JSON list).",
                                       "FILE");
    const QCommandLineOption topOpt("top", "Number of classes to print (default 5).", "K", "5");
    const QCommandLineOption precisionOpt("precision", "fp32, bf16 or int8 (default fp32).", "P",
                                          "fp32");
    const QCommandLineOption calibrationOpt(
        "calibration", "int8: images (a folder or files) to calibrate on.", "PATH");
    const QCommandLineOption threadsOpt("threads", "Inference threads (default: all cores).", "N",
                                        "0");
    const QCommandLineOption batchOpt(
        "batch", "Images per inference (default 1; larger batches may change the last digits).",
        "B", "1");
    const QCommandLineOption decodeOpt(
        "decode-threads",
        "Threads decoding images while the network runs (default: the cores inference leaves "
        "free, at least 1).",
        "N", "0");
    const QCommandLineOption jsonOpt("json", "Print one JSON document.");
    const QCommandLineOption csvOpt("csv", "Write a CSV row per image, errors included.",
                                    "OUT.csv");
    const QCommandLineOption logitsOpt("save-logits", "Save N×classes logits as .npy.", "OUT.npy");
    const QCommandLineOption tapOpt("save-tap", "Save a node's output as .npy (repeatable).",
                                    "NODE=OUT.npy");
    const QCommandLineOption ablateOpt = NetworkOptions().ablate;
    p.addOptions({weightsOpt, labelsOpt, topOpt, precisionOpt, calibrationOpt, threadsOpt, batchOpt,
                  decodeOpt, jsonOpt, csvOpt, logitsOpt, tapOpt, ablateOpt});
    p.addPositionalArgument(
        "IMAGE", "Images to classify, or folders of them (searched recursively).", "IMAGE...");
    if (parseVerb(p, args)) return kExitOk;
    bool ok = false;
    const int top = p.value(topOpt).toInt(&ok);
    if (!ok || top < 1) throw UsageError{"--top needs a positive number"};
    const int threads = threadsOption("--threads", p.value(threadsOpt));
    const int batch = p.value(batchOpt).toInt(&ok);
    if (!ok || batch < 1) throw UsageError{"--batch needs a positive number"};
    const int decodeThreads = threadsOption("--decode-threads", p.value(decodeOpt));
    const auto precision = parsePrecision(p.value(precisionOpt).toStdString());
    if (!precision) throw UsageError{"--precision must be fp32, bf16 or int8"};
    if (*precision == Precision::Int8 && !p.isSet(calibrationOpt))
        throw UsageError{
            "--precision int8 needs --calibration PATH (a folder of representative images, or "
            "files)"};
    const QStringList images = p.positionalArguments();
    if (images.isEmpty()) throw UsageError{"classify needs at least one IMAGE"};

    // Folders expand to the images inside them, recursively.
    std::vector<std::string> files;
    for (const QString& arg : images) {
        const std::string path = bytesOf(arg);
        if (isFolder(path)) {
            const std::vector<std::string> found = findImages(path);
            files.insert(files.end(), found.begin(), found.end());
        } else {
            files.push_back(path);
        }
    }
    // No output may name an input: `classify --csv *.jpg` would make the first photo the CSV.
    std::vector<RoleAndPath> outputs;
    if (p.isSet(csvOpt)) outputs.push_back({"--csv", bytesOf(p.value(csvOpt))});
    if (p.isSet(logitsOpt)) outputs.push_back({"--save-logits", bytesOf(p.value(logitsOpt))});
    for (const QString& t : p.values(tapOpt))
        if (const qsizetype eq = t.indexOf('='); eq > 0)
            outputs.push_back({"--save-tap", bytesOf(t.mid(eq + 1))});
    std::vector<RoleAndPath> given;
    for (const std::string& f : files) given.push_back({"the image", f});
    for (const QString& c : p.values(calibrationOpt))
        for (const std::string& f : imageFilesIn(bytesOf(c)))
            given.push_back({"the calibration image", f});
    if (p.isSet(weightsOpt)) given.push_back({"the weights", bytesOf(p.value(weightsOpt))});
    if (p.isSet(labelsOpt)) given.push_back({"the labels", bytesOf(p.value(labelsOpt))});
    refuseOutputOverInput(outputs, given);

    std::shared_ptr<const Model> model;
    try {
        model = Model::open(modelOptions(p, weightsOpt, &labelsOpt));
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    refuseOutputOverInput(outputs, model->sourceFiles());
    const NetworkSpec& spec = model->spec();
    for (const std::string& note : model->notes()) std::cerr << "note: " << shown(note) << "\n";

    std::vector<std::pair<std::string, std::string>> tapFiles;  // node -> path
    for (const QString& t : p.values(tapOpt)) {
        const int eq = static_cast<int>(t.indexOf('='));
        if (eq <= 0 || eq == t.size() - 1) throw UsageError{"--save-tap needs NODE=OUT.npy"};
        const std::string node = t.left(eq).toStdString();
        const std::vector<std::string> valid = spec.tapNames();
        if (std::find(valid.begin(), valid.end(), node) == valid.end()) {
            std::string list;
            for (const std::string& v : valid) list += (list.empty() ? "" : ", ") + v;
            throw UsageError{"--save-tap: '" + node + "' is not a tappable node; valid: " + list};
        }
        const std::string file = bytesOf(t.mid(eq + 1));
        for (const auto& earlier : tapFiles)
            if (earlier.second == file)
                throw UsageError{"--save-tap: " + shown(file) + " is named twice"};
        tapFiles.emplace_back(node, file);
    }
    std::vector<std::string> tapNames;
    for (const auto& tf : tapFiles) tapNames.push_back(tf.first);
    NetworkArgs ablate;
    for (const QString& a : p.values(ablateOpt)) ablate.ablate.push_back(a.toStdString());
    const std::vector<ChannelAblation> ablations = ablationsOf(ablate, spec);
    if (!ablations.empty()) std::cerr << "note: " << describeAblations(spec, ablations) << "\n";

    FolderJobOptions jobOptions;
    try {
        std::shared_ptr<const Calibration> calibration;
        if (*precision == Precision::Int8) {
            std::vector<Tensor> inputs;
            for (const QString& path : p.values(calibrationOpt))
                for (const std::string& file : imageFilesIn(bytesOf(path)))
                    inputs.push_back(model->prepare(readImage(file)));
            if (inputs.empty())
                throw ImageError("--calibration: no images found in " +
                                 bytesOf(p.values(calibrationOpt).join(' ')));
            calibration =
                std::make_shared<Calibration>(calibrate(spec, model->weights(), inputs, threads));
            std::cerr << "note: int8 calibrated on " << inputs.size()
                      << (inputs.size() == 1 ? " image\n" : " images\n");
        }
        jobOptions.precision = *precision;
        jobOptions.calibration = calibration;
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    if (model->trust() != Trust::Official)
        std::cerr << "note: " << shown(model->trustNote()) << "\n";

    const bool progress = p.isSet(csvOpt) && isatty(STDERR_FILENO);
    int exitCode = kExitOk;
    std::vector<float> allLogits;
    // Taps go to their files image by image (3,000 images at layer1.0 are 2.4 GB): memory stays
    // flat however many images. A file is created with the first image classified.
    std::vector<std::unique_ptr<NpyWriter>> tapWriters(tapFiles.size());
    std::vector<BatchRow> rows;
    // Decoding overlaps with the network; results come back in file order.
    jobOptions.threads = threads;
    jobOptions.batch = std::min<int>(batch, static_cast<int>(std::max<size_t>(files.size(), 1)));
    jobOptions.decodeThreads = decodeThreads;
    jobOptions.topK = top;
    jobOptions.taps = tapNames;
    jobOptions.ablations = ablations;
    std::unique_ptr<FolderJob> job;
    try {
        job = std::make_unique<FolderJob>(model, jobOptions);
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    const auto onResult = [&](FolderResult&& r) {
        BatchRow& row = r.row;
        if (progress)
            std::cerr << "\r[" << r.index + 1 << "/" << files.size() << "] " << shown(row.file)
                      << "\x1b[K" << std::flush;
        if (!row.error.empty()) {
            std::cerr << (progress ? "\r" : "") << "error: " << shown(row.error) << "\n";
            exitCode = kExitBadInput;
            rows.push_back(std::move(row));
            return;
        }
        if (!p.isSet(jsonOpt) && !p.isSet(csvOpt)) {
            std::cout << shown(row.file) << "\n";
            for (size_t i = 0; i < row.top.size(); ++i)
                std::cout << std::setw(3) << i + 1 << "  " << std::fixed << std::setprecision(4)
                          << row.top[i].probability << std::defaultfloat << "  " << std::setw(4)
                          << row.top[i].index << "  " << row.top[i].label << "\n";
        }
        rows.push_back(std::move(row));
        allLogits.insert(allLogits.end(), r.logits.data.begin(), r.logits.data.end());
        for (size_t i = 0; i < tapFiles.size(); ++i) {
            const Tensor& t = r.taps.at(tapFiles[i].first);
            std::unique_ptr<NpyWriter>& w = tapWriters[i];
            if (!w)
                w = std::make_unique<NpyWriter>(
                    tapFiles[i].second, std::vector<int64_t>(t.dims.begin() + 1, t.dims.end()));
            w->append(t.ptr(), t.dims[0]);
        }
    };
    try {
        job->run(files, onResult);
        for (const std::unique_ptr<NpyWriter>& w : tapWriters)
            if (w) w->close();
    } catch (const Error& e) {  // a tap file that cannot be written, or the engine failing
        std::cerr << (progress ? "\r" : "") << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    if (progress) std::cerr << "\r\x1b[K";
    std::vector<BatchRow> classified;
    std::copy_if(rows.begin(), rows.end(), std::back_inserter(classified),
                 [](const BatchRow& r) { return r.error.empty(); });
    if (p.isSet(jsonOpt)) std::cout << toJson(classified);
    try {
        if (p.isSet(csvOpt)) {
            writeText(bytesOf(p.value(csvOpt)), toCsv(rows));
            const FolderJobStats& stats = job->stats();
            std::cerr << "wrote " << rows.size() << " rows (" << rows.size() - classified.size()
                      << " errors) to " << shown(bytesOf(p.value(csvOpt))) << "; " << std::fixed
                      << std::setprecision(2) << stats.seconds << " s, " << std::setprecision(1)
                      << static_cast<double>(stats.images) / std::max(stats.seconds, 1e-9)
                      << " images/s (batch " << job->batch() << ", " << job->decodeThreads()
                      << " decode threads)\n"
                      << std::defaultfloat;
        }
        if (p.isSet(logitsOpt)) {
            Tensor logits({static_cast<int64_t>(classified.size()), spec.numClasses});
            logits.data = std::move(allLogits);
            writeNpy(bytesOf(p.value(logitsOpt)), logits);
        }
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    return exitCode;
}

int info(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "Print the network's nodes: name, kind, output shape, params, MACs.\n"
        "With --stats IMAGE: every node's output for that image — shape, min, mean, std, max, "
        "fraction of zeros, histogram — and, at bf16 or int8, its error against fp32.");
    const NetworkOptions network;
    const QCommandLineOption weightsOpt = network.weights;
    const QCommandLineOption statsOpt("stats", "Statistics of every node's output for IMAGE.");
    const QCommandLineOption jsonOpt("json", "--stats: write them as JSON.", "OUT.json");
    network.addTo(p);
    p.addOptions({statsOpt, jsonOpt});
    p.addPositionalArgument("IMAGE", "--stats: the image.", "[IMAGE]");
    if (parseVerb(p, args)) return kExitOk;
    if (p.isSet(statsOpt)) {
        if (p.positionalArguments().size() != 1)
            throw UsageError{"info --stats needs exactly one IMAGE"};
        return infoStats(network.read(p), bytesOf(p.positionalArguments().front()),
                         p.isSet(jsonOpt) ? bytesOf(p.value(jsonOpt)) : std::string());
    }
    for (const QCommandLineOption* o :
         {&network.precision, &network.calibration, &network.threads, &network.ablate, &jsonOpt})
        if (p.isSet(*o))
            throw UsageError{"--" + o->names().first().toStdString() + " needs --stats IMAGE"};
    if (!p.positionalArguments().isEmpty())
        throw UsageError{"info takes no positional arguments (but --stats IMAGE)"};
    std::shared_ptr<const Model> model;
    std::string source = "no weights file: torchvision's ResNet18 with 1000 classes";
    try {
        if (p.isSet(weightsOpt) || !findDefaultWeights().empty()) {
            model = Model::open(modelOptions(p, weightsOpt));
            source = model->file() + " (" + model->weightsSource() + "). " + model->trustNote() +
                     "\nlabels: " + model->labelsSource() +
                     "\npreprocessing: " + model->preprocessSource();
            for (const std::string& note : model->notes()) source += "\nnote: " + note;
        } else {
            model = Model::demo();  // the topology is the same whatever the weights
        }
    } catch (const Error& e) {
        std::cerr << "error: " << shown(e.what()) << "\n";
        return kExitBadInput;
    }
    const NetworkSpec& spec = model->spec();
    // What the fp32 engine computes each convolution with, from compiling it (a fixed table, so
    // every process computes the same; Engine::convAlgorithmSummary()).
    const Engine fp32(spec, model->weights(), EngineOptions());
    const std::vector<std::string> winograd = fp32.winogradLayers();
    const std::vector<std::string> samples = sampleImages();
    std::cout << spec.archName() << ", " << spec.numClasses << " classes, input 3×"
              << spec.inputSize << "×" << spec.inputSize << "\nweights: " << shown(source)
              << "\nsamples: "
              << (samples.empty()
                      ? "none installed"
                      : dataDir() + "/samples (" + std::to_string(samples.size()) + " images)")
              << "\nengine: oneDNN ISA " << Engine::cpuIsa()
              << "; fp32 convolutions: " << Engine::convAlgorithmSummary() << ", activations "
              << fp32.activationLayout() << "; bf16 and int8: direct\n\n";
    std::cout << std::left << std::setw(22) << "name" << std::setw(9) << "kind" << std::setw(14)
              << "output" << std::right << std::setw(12) << "params" << std::setw(16) << "MACs"
              << "  stage  fp32 algorithm\n";
    for (const Node& n : spec.nodes) {
        std::string shape;
        for (size_t i = 0; i < n.outShape.size(); ++i)
            shape += (i ? "x" : "") + std::to_string(n.outShape[i]);
        const bool wino = std::find(winograd.begin(), winograd.end(), n.name) != winograd.end();
        std::cout << std::left << std::setw(22) << n.name << std::setw(9) << kindName(n.kind)
                  << std::setw(14) << shape << std::right << std::setw(12)
                  << withThousands(n.params) << std::setw(16) << withThousands(n.macs) << "  "
                  << n.stage << "      " << std::left << std::setw(10)
                  << (n.kind != NodeKind::Conv ? ""
                      : wino                   ? "winograd"
                                               : "direct")
                  << (n.tappable() ? "" : "(fused into the add)") << "\n";
    }
    std::cout << std::left << std::setw(45) << "total" << std::right << std::setw(12)
              << withThousands(spec.totalParams()) << std::setw(16)
              << withThousands(spec.totalMacs()) << "\n";
    return kExitOk;
}

}  // namespace

bool isVerb(int argc, char** argv) {
    if (argc < 2) return false;
    for (const char* verb : kVerbs)
        if (std::string(argv[1]) == verb) return true;
    return false;
}

int run(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName("resnet18-explorer");
    QStringList args = argumentsOf(argc, argv);  // before Qt sees them: the bytes as given
    const QString verb = args.takeAt(1);
    try {
        if (verb == "classify") return classify(args);
        if (verb == "bench") return bench(args);
        if (verb == "explain") return explain(args);
        if (verb == "channels") return channels(args);
        if (verb == "visualize") return visualize(args);
        if (verb == "compare") return compare(args);
        return info(args);
    } catch (const UsageError& e) {
        std::cerr << "usage error: " << e.message << "\nRun 'resnet18-explorer "
                  << verb.toStdString() << " --help' for the options.\n";
        return kExitUsage;
    } catch (...) {  // core names the file in what it throws; this is the last resort
        std::cerr << "error: " << shown(currentExceptionMessage(verb.toStdString())) << "\n";
        return kExitBadInput;
    }
}

}  // namespace r18::cli
