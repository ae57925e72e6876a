// resnet18-explorer: the Explorer window by default; headless verbs (classify, info, bench,
// explain, channels, visualize) for scripts. See README.md for both.
#include <QApplication>
#include <QCommandLineParser>
#include <QRegularExpression>

#include <iostream>
#include <string>

#include "app/cli.h"
#include "core/app_data.h"
#include "core/engine/threads.h"
#include "core/model/weights.h"
#include "ui/window/app_info.h"
#include "ui/window/main_window.h"

namespace {

// Qt's own options (QGuiApplication, QApplication), taken out of argv by QApplication. They are
// known to the parser, hidden, because it runs before QApplication exists.
void addQtOptions(QCommandLineParser& p) {
    for (const char* name :
         {"platform", "platformpluginpath", "platformtheme", "plugin", "display", "qwindowgeometry",
          "qwindowicon", "qwindowtitle", "geometry", "style", "stylesheet", "session"}) {
        QCommandLineOption o(QString::fromLatin1(name), QString(), QStringLiteral("VALUE"));
        o.setFlags(QCommandLineOption::HiddenFromHelp);
        p.addOption(o);
    }
    for (const char* name : {"reverse", "widgetcount", "nograb", "dograb", "sync"}) {
        QCommandLineOption o(QString::fromLatin1(name));
        o.setFlags(QCommandLineOption::HiddenFromHelp);
        p.addOption(o);
    }
}

// The arguments are parsed before QApplication exists, so --help, --version and usage errors
// work without a display.
int runWindow(int argc, char** argv) {
    QStringList args;
    for (int i = 0; i < argc; ++i) args << QString::fromLocal8Bit(argv[i]);
    QCommandLineParser p;
    p.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);  // Qt's -platform
    addQtOptions(p);
    p.setApplicationDescription(
        QStringLiteral("See ResNet18 at work. Without a verb, opens the Explorer window.\n"
                       "Verbs: classify, info, bench, explain, channels, visualize (run "
                       "'resnet18-explorer VERB --help')."));
    const QCommandLineOption weights("weights", "Weights file (.pth, .pt, .safetensors or .onnx).",
                                     "FILE");
    const QCommandLineOption select("select", "Node selected at start, e.g. layer3.1.", "NODE");
    const QCommandLineOption screenshot(
        "screenshot", "Save the window as PNG once the first result is on screen, then quit.",
        "OUT.png");
    const QCommandLineOption size("window-size", "Initial window size, e.g. 1600x1000.", "WxH");
    const QCommandLineOption camera(
        "camera", "Start a camera (index or /dev/videoN), video file or stream URL.", "SOURCE");
    const QCommandLineOption loop("loop", "Loop a video file.");
    const QCommandLineOption algorithm = r18::cli::algorithmOption();
    p.addOptions({weights, select, screenshot, size, camera, loop, algorithm});
    p.addHelpOption();
    p.addVersionOption();
    p.addPositionalArgument(
        "FILE", "Image to open, or a weights file (.pth, .pt, .bin, .safetensors, .onnx).",
        "[FILE...]");
    if (!p.parse(args)) {
        std::cerr << "usage error: " << p.errorText().toStdString() << "\n";
        return r18::cli::kExitUsage;
    }
    if (p.isSet("help") || p.isSet("help-all")) {  // no QCoreApplication to name the binary yet
        std::cout << p.helpText()
                         .replace(QStringLiteral("<executable_name>"),
                                  QStringLiteral("resnet18-explorer"))
                         .toStdString();
        return r18::cli::kExitOk;
    }
    if (p.isSet("version")) {
        std::cout << "resnet18-explorer " << r18::appVersion() << "\n";
        return r18::cli::kExitOk;
    }
    try {
        r18::cli::applyAlgorithmOption(p, algorithm);
    } catch (const r18::cli::UsageError& e) {
        std::cerr << "usage error: " << e.message << "\n";
        return r18::cli::kExitUsage;
    }
    r18::ui::WindowOptions options;
    options.weightsPath = p.value(weights);
    options.selectNode = p.value(select);
    for (const QString& file : p.positionalArguments()) {  // as the .desktop file's %F passes them
        if (!r18::hasWeightsSuffix(file.toStdString())) {
            options.images << file;
        } else if (options.weightsPath.isEmpty()) {
            options.weightsPath = file;
        } else {
            std::cerr << "usage error: more than one weights file given\n";
            return r18::cli::kExitUsage;
        }
    }
    options.screenshotPath = p.value(screenshot);
    options.camera = p.value(camera);
    options.loop = p.isSet(loop);
    if (p.isSet(size)) {
        const auto m = QRegularExpression(QStringLiteral("^(\\d+)x(\\d+)$")).match(p.value(size));
        if (!m.hasMatch()) {
            std::cerr << "usage error: --window-size needs WxH, e.g. 1600x1000\n";
            return r18::cli::kExitUsage;
        }
        options.windowSize = QSize(m.captured(1).toInt(), m.captured(2).toInt());
    }
    if (!options.screenshotPath.isEmpty() && options.images.isEmpty() && options.camera.isEmpty()) {
        std::cerr << "usage error: --screenshot needs an IMAGE or a --camera to show\n";
        return r18::cli::kExitUsage;
    }
    QApplication app(argc, argv);
    r18::ui::setUpApplication();  // names, version, desktop file name, window icon
    QApplication::setStyle(QStringLiteral("Fusion"));
    r18::ui::MainWindow window(options);
    window.show();
    return QApplication::exec();
}

}  // namespace

int main(int argc, char** argv) {
    // The window shares its cores with the GUI and capture threads, classify with its decoding
    // threads: OpenMP's spinning would take them. `bench` of the engine alone measures it as
    // OpenMP leaves it (bench/wait_policy.sh compares the policies); `bench --live` measures the
    // window's pipeline, so it waits as the window does.
    bool engineBench = argc >= 2 && std::string(argv[1]) == "bench";
    for (int i = 2; i < argc && engineBench; ++i)
        if (std::string(argv[i]).rfind("--live", 0) == 0) engineBench = false;
    if (!engineBench) r18::restartWithPassiveOpenMpWaiting(argv);
    if (r18::cli::isVerb(argc, argv)) return r18::cli::run(argc, argv);
    return runWindow(argc, argv);
}
