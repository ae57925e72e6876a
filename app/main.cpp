// resnet18-explorer: the Explorer window by default; headless verbs (classify, info, bench,
// explain, channels, visualize) for scripts. See README.md for both.
#include <QApplication>
#include <QCommandLineParser>
#include <QRegularExpression>

#include <iostream>
#include <string>

#include "app/cli.h"
#include "core/engine/threads.h"
#include "ui/main_window.h"

namespace {

int runWindow(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("ResNet18Explorer"));
    QApplication::setApplicationName(QStringLiteral("resnet18-explorer"));
    QApplication::setApplicationDisplayName(QStringLiteral("ResNet18 Explorer"));
    QApplication::setStyle(QStringLiteral("Fusion"));

    QCommandLineParser p;
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
    p.addOptions({weights, select, screenshot, size, camera, loop});
    p.addHelpOption();
    p.addPositionalArgument("IMAGE", "Image to open.", "[IMAGE...]");
    if (!p.parse(QApplication::arguments())) {
        std::cerr << "usage error: " << p.errorText().toStdString() << "\n";
        return r18::cli::kExitUsage;
    }
    if (p.isSet("help")) {
        std::cout << p.helpText().toStdString();
        return r18::cli::kExitOk;
    }
    r18::ui::WindowOptions options;
    options.weightsPath = p.value(weights);
    options.selectNode = p.value(select);
    options.images = p.positionalArguments();
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
