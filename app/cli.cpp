#include "app/cli.h"

#include "app/bench_verb.h"
#include "app/insight_verbs.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFileInfo>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <sstream>

#include "core/app_data.h"
#include "core/batch.h"
#include "core/engine/calibration.h"
#include "core/error.h"
#include "core/folder_job.h"
#include "core/formats/npy.h"
#include "core/media/image_io.h"
#include "core/model/model.h"
#include "core/pipeline.h"

namespace r18::cli {
namespace {

const char* const kVerbs[] = {"classify", "info", "bench", "explain", "channels", "visualize"};

struct UsageError {
    std::string message;
};

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
    if (p.isSet(weights)) o.weightsPath = p.value(weights).toStdString();
    if (labels && p.isSet(*labels)) o.labelsPath = p.value(*labels).toStdString();
    return o;
}

// A file, or the image files directly inside a folder (by extension), sorted.
std::vector<std::string> imageFilesIn(const std::string& path) {
    const QFileInfo info(QString::fromStdString(path));
    if (!info.isDir()) return {path};
    return findImages(path, false);
}

void parseOrThrow(QCommandLineParser& p, const QStringList& args) {
    if (!p.parse(args)) throw UsageError{p.errorText().toStdString()};
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
    p.addOptions({weightsOpt, labelsOpt, topOpt, precisionOpt, calibrationOpt, threadsOpt, batchOpt,
                  decodeOpt, jsonOpt, csvOpt, logitsOpt, tapOpt});
    p.addHelpOption();
    p.addPositionalArgument(
        "IMAGE", "Images to classify, or folders of them (searched recursively).", "IMAGE...");
    parseOrThrow(p, args);
    if (p.isSet("help")) {
        std::cout << p.helpText().toStdString();
        return kExitOk;
    }
    bool ok = false;
    const int top = p.value(topOpt).toInt(&ok);
    if (!ok || top < 1) throw UsageError{"--top needs a positive number"};
    const int threads = p.value(threadsOpt).toInt(&ok);
    if (!ok || threads < 0) throw UsageError{"--threads needs a number >= 0"};
    const int batch = p.value(batchOpt).toInt(&ok);
    if (!ok || batch < 1) throw UsageError{"--batch needs a positive number"};
    const int decodeThreads = p.value(decodeOpt).toInt(&ok);
    if (!ok || decodeThreads < 0) throw UsageError{"--decode-threads needs a number >= 0"};
    const auto precision = parsePrecision(p.value(precisionOpt).toStdString());
    if (!precision) throw UsageError{"--precision must be fp32, bf16 or int8"};
    if (*precision == Precision::Int8 && !p.isSet(calibrationOpt))
        throw UsageError{
            "--precision int8 needs --calibration PATH (a folder of representative images, or "
            "files)"};
    const QStringList images = p.positionalArguments();
    if (images.isEmpty()) throw UsageError{"classify needs at least one IMAGE"};

    std::shared_ptr<const Model> model;
    try {
        model = Model::open(modelOptions(p, weightsOpt, &labelsOpt));
    } catch (const Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return kExitBadInput;
    }
    const NetworkSpec& spec = model->spec();
    for (const std::string& note : model->notes()) std::cerr << "note: " << note << "\n";

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
        tapFiles.emplace_back(node, t.mid(eq + 1).toStdString());
    }
    std::vector<std::string> tapNames;
    for (const auto& tf : tapFiles) tapNames.push_back(tf.first);

    FolderJobOptions jobOptions;
    try {
        std::shared_ptr<const Calibration> calibration;
        if (*precision == Precision::Int8) {
            std::vector<Tensor> inputs;
            for (const QString& path : p.values(calibrationOpt))
                for (const std::string& file : imageFilesIn(path.toStdString()))
                    inputs.push_back(model->prepare(readImage(file)));
            if (inputs.empty())
                throw ImageError("--calibration: no images found in " +
                                 p.values(calibrationOpt).join(' ').toStdString());
            calibration =
                std::make_shared<Calibration>(calibrate(spec, model->weights(), inputs, threads));
            std::cerr << "note: int8 calibrated on " << inputs.size()
                      << (inputs.size() == 1 ? " image\n" : " images\n");
        }
        jobOptions.precision = *precision;
        jobOptions.calibration = calibration;
    } catch (const Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return kExitBadInput;
    }
    if (model->trust() != Trust::Official) std::cerr << "note: " << model->trustNote() << "\n";

    // Folders expand to the images inside them, recursively.
    std::vector<std::string> files;
    for (const QString& arg : images) {
        if (QFileInfo(arg).isDir()) {
            const std::vector<std::string> found = findImages(arg.toStdString());
            files.insert(files.end(), found.begin(), found.end());
        } else {
            files.push_back(arg.toStdString());
        }
    }
    const bool progress = p.isSet(csvOpt) && isatty(STDERR_FILENO);
    int exitCode = kExitOk;
    std::vector<float> allLogits;
    std::map<std::string, Tensor> allTaps;
    std::vector<BatchRow> rows;
    // Decoding overlaps with the network; results come back in file order.
    jobOptions.threads = threads;
    jobOptions.batch = std::min<int>(batch, static_cast<int>(std::max<size_t>(files.size(), 1)));
    jobOptions.decodeThreads = decodeThreads;
    jobOptions.topK = top;
    jobOptions.taps = tapNames;
    std::unique_ptr<FolderJob> job;
    try {
        job = std::make_unique<FolderJob>(model, jobOptions);
    } catch (const Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return kExitBadInput;
    }
    job->run(files, [&](FolderResult&& r) {
        BatchRow& row = r.row;
        if (progress)
            std::cerr << "\r[" << r.index + 1 << "/" << files.size() << "] " << row.file << "\x1b[K"
                      << std::flush;
        if (!row.error.empty()) {
            std::cerr << (progress ? "\r" : "") << "error: " << row.error << "\n";
            exitCode = kExitBadInput;
            rows.push_back(std::move(row));
            return;
        }
        if (!p.isSet(jsonOpt) && !p.isSet(csvOpt)) {
            std::cout << row.file << "\n";
            for (size_t i = 0; i < row.top.size(); ++i)
                std::cout << std::setw(3) << i + 1 << "  " << std::fixed << std::setprecision(4)
                          << row.top[i].probability << std::defaultfloat << "  " << std::setw(4)
                          << row.top[i].index << "  " << row.top[i].label << "\n";
        }
        rows.push_back(std::move(row));
        allLogits.insert(allLogits.end(), r.logits.data.begin(), r.logits.data.end());
        for (auto& [name, t] : r.taps) {
            Tensor& acc = allTaps[name];
            if (acc.dims.empty()) acc.dims = t.dims, acc.dims[0] = 0;
            acc.data.insert(acc.data.end(), t.data.begin(), t.data.end());
            acc.dims[0] += 1;
        }
    });
    if (progress) std::cerr << "\r\x1b[K";
    std::vector<BatchRow> classified;
    std::copy_if(rows.begin(), rows.end(), std::back_inserter(classified),
                 [](const BatchRow& r) { return r.error.empty(); });
    if (p.isSet(jsonOpt)) std::cout << toJson(classified);
    try {
        if (p.isSet(csvOpt)) {
            writeText(p.value(csvOpt).toStdString(), toCsv(rows));
            const FolderJobStats& stats = job->stats();
            std::cerr << "wrote " << rows.size() << " rows (" << rows.size() - classified.size()
                      << " errors) to " << p.value(csvOpt).toStdString() << "; " << std::fixed
                      << std::setprecision(2) << stats.seconds << " s, " << std::setprecision(1)
                      << static_cast<double>(stats.images) / std::max(stats.seconds, 1e-9)
                      << " images/s (batch " << job->batch() << ", " << job->decodeThreads()
                      << " decode threads)\n"
                      << std::defaultfloat;
        }
        if (p.isSet(logitsOpt)) {
            Tensor logits({static_cast<int64_t>(classified.size()), spec.numClasses});
            logits.data = std::move(allLogits);
            writeNpy(p.value(logitsOpt).toStdString(), logits);
        }
        for (const auto& [node, file] : tapFiles)
            if (allTaps.count(node)) writeNpy(file, allTaps[node]);
    } catch (const Error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return kExitBadInput;
    }
    return exitCode;
}

int info(const QStringList& args) {
    QCommandLineParser p;
    p.setApplicationDescription(
        "Print the network's nodes: name, kind, output shape, params, MACs.");
    const QCommandLineOption weightsOpt("weights",
                                        "Weights file (.pth, .pt, .safetensors or .onnx).", "FILE");
    p.addOption(weightsOpt);
    p.addHelpOption();
    parseOrThrow(p, args);
    if (p.isSet("help")) {
        std::cout << p.helpText().toStdString();
        return kExitOk;
    }
    if (!p.positionalArguments().isEmpty()) throw UsageError{"info takes no positional arguments"};
    NetworkSpec spec = makeResNet18();
    std::string source = "no weights file: torchvision's ResNet18 with 1000 classes";
    if (p.isSet(weightsOpt) || !findDefaultWeights().empty()) {
        try {
            const std::shared_ptr<const Model> model = Model::open(modelOptions(p, weightsOpt));
            spec = model->spec();
            source = model->file() + " (" + model->weightsSource() + "). " + model->trustNote() +
                     "\nlabels: " + model->labelsSource() +
                     "\npreprocessing: " + model->preprocessSource();
            for (const std::string& note : model->notes()) source += "\nnote: " + note;
        } catch (const Error& e) {
            std::cerr << "error: " << e.what() << "\n";
            return kExitBadInput;
        }
    }
    const std::vector<std::string> samples = sampleImages();
    std::cout << spec.archName() << ", " << spec.numClasses << " classes, input 3×"
              << spec.inputSize << "×" << spec.inputSize << "\nweights: " << source << "\nsamples: "
              << (samples.empty()
                      ? "none installed"
                      : dataDir() + "/samples (" + std::to_string(samples.size()) + " images)")
              << "\n\n";
    std::cout << std::left << std::setw(22) << "name" << std::setw(9) << "kind" << std::setw(14)
              << "output" << std::right << std::setw(12) << "params" << std::setw(16) << "MACs"
              << "  stage\n";
    for (const Node& n : spec.nodes) {
        std::string shape;
        for (size_t i = 0; i < n.outShape.size(); ++i)
            shape += (i ? "x" : "") + std::to_string(n.outShape[i]);
        std::cout << std::left << std::setw(22) << n.name << std::setw(9) << kindName(n.kind)
                  << std::setw(14) << shape << std::right << std::setw(12)
                  << withThousands(n.params) << std::setw(16) << withThousands(n.macs) << "  "
                  << n.stage << (n.tappable() ? "" : "  (fused into the add)") << "\n";
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
    QStringList args = QCoreApplication::arguments();
    const QString verb = args.takeAt(1);
    try {
        if (verb == "classify") return classify(args);
        if (verb == "bench") return bench(args);
        if (verb == "explain") return explain(args);
        if (verb == "channels") return channels(args);
        if (verb == "visualize") return visualize(args);
        return info(args);
    } catch (const UsageError& e) {
        std::cerr << "usage error: " << e.message << "\nRun 'resnet18-explorer "
                  << verb.toStdString() << " --help' for the options.\n";
        return kExitUsage;
    }
}

}  // namespace r18::cli
