// The Explorer window: its command line (parsed before QApplication exists, so --help,
// --version and usage errors work without a display) and its --screenshot mode. The one file of
// app/ that includes ui/.
#include "app/gui.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFile>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QTimer>
#include <QWindow>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "app/cli_args.h"
#include "core/app_data.h"
#include "core/files.h"
#include "core/model/weights.h"
#include "ui/actions/exports.h"
#include "ui/session/session.h"
#include "ui/window/app_info.h"
#include "ui/window/main_window.h"

namespace r18::app {
namespace {

// Start-up figures, off unless asked for: QT_LOGGING_RULES="r18.startup.info=true" prints when
// the window was first exposed and when the first result was on screen (bench/startup.sh).
Q_LOGGING_CATEGORY(lcStartup, "r18.startup", QtWarningMsg)

class StartupTrace : public QObject {
public:
    StartupTrace(const QElapsedTimer& clock, ui::MainWindow* window, QObject* parent)
        : QObject(parent), m_clock(clock) {
        qCInfo(lcStartup, "window built at %lld ms", m_clock.elapsed());
        window->windowHandle()->installEventFilter(this);
        QObject::connect(window->session(), &ui::Session::resultShown, this, [this] {
            if (m_resultMs >= 0) return;
            m_resultMs = m_clock.elapsed();
            qCInfo(lcStartup,
                   "first result on screen at %lld ms, %lld ms after the window "
                   "appeared",
                   m_resultMs, m_resultMs - m_exposedMs);
        });
    }

protected:
    bool eventFilter(QObject* watched, QEvent* event) override {
        if (m_exposedMs < 0 && event->type() == QEvent::Expose &&
            static_cast<QWindow*>(watched)->isExposed()) {
            m_exposedMs = m_clock.elapsed();
            qCInfo(lcStartup, "window exposed at %lld ms", m_exposedMs);
        }
        return false;
    }

private:
    QElapsedTimer m_clock;  // from the QApplication's creation
    qint64 m_exposedMs = -1;
    qint64 m_resultMs = -1;
};

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

constexpr int kScreenshotTimeoutMs = 120'000;

// --screenshot: saves the window once the first result is on screen with the selected node's
// feature maps, then quits (0; 1 if the image could not be opened or the file not written; 2 if
// nothing was shown within two minutes).
void takeScreenshotWhenShown(ui::MainWindow* window, const QString& path) {
    auto taken = std::make_shared<bool>(false);
    ui::Session* session = window->session();
    QObject::connect(session, &ui::Session::resultShown, window, [window, session, path, taken] {
        if (*taken || !session->tapResult()) return;
        *taken = true;
        QTimer::singleShot(300, window, [window, path] {
            const QString problem = ui::Exports::savePng(window->grab().toImage(), path);
            const bool ok = problem.isEmpty();
            if (!ok) qWarning("screenshot: %s", qPrintable(problem));
            QCoreApplication::exit(ok ? 0 : 1);
        });
    });
    QObject::connect(session, &ui::Session::imageFailed, window, [session] {
        if (!session->result()) QCoreApplication::exit(1);
    });
    QTimer::singleShot(kScreenshotTimeoutMs, window, [taken] {
        if (*taken) return;
        qWarning("screenshot: nothing was shown within %d s", kScreenshotTimeoutMs / 1000);
        QCoreApplication::exit(2);
    });
}

}  // namespace

int runWindow(int argc, char** argv) {
    QStringList args;
    for (int i = 0; i < argc; ++i) args << QString::fromLocal8Bit(argv[i]);
    QCommandLineParser p;
    p.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);  // Qt's -platform
    addQtOptions(p);
    p.setApplicationDescription(
        QStringLiteral("See ResNet18 at work. Without a verb, opens the Explorer window.\n"
                       "Verbs: classify, info, bench, explain, channels, compare, visualize (run "
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
    const QCommandLineOption algorithm = cli::algorithmOption();
    p.addOptions({weights, select, screenshot, size, camera, loop, algorithm});
    p.addHelpOption();
    p.addVersionOption();
    p.addPositionalArgument(
        "FILE", "Image to open, or a weights file (.pth, .pt, .bin, .safetensors, .onnx).",
        "[FILE...]");
    if (!p.parse(args)) {
        std::cerr << "usage error: " << p.errorText().toStdString() << "\n";
        return cli::kExitUsage;
    }
    if (p.isSet("help") || p.isSet("help-all")) {  // no QCoreApplication to name the binary yet
        std::cout << p.helpText()
                         .replace(QStringLiteral("<executable_name>"),
                                  QStringLiteral("resnet18-explorer"))
                         .toStdString();
        return cli::kExitOk;
    }
    if (p.isSet("version")) {
        std::cout << "resnet18-explorer " << appVersion() << "\n";
        return cli::kExitOk;
    }
    try {
        cli::applyAlgorithmOption(p, algorithm);
    } catch (const cli::UsageError& e) {
        std::cerr << "usage error: " << e.message << "\n";
        return cli::kExitUsage;
    }
    ui::WindowOptions options;
    options.weightsPath = p.value(weights);
    options.selectNode = p.value(select);
    for (const QString& file : p.positionalArguments()) {  // as the .desktop file's %F passes them
        if (!hasWeightsSuffix(file.toStdString())) {
            options.images << file;
        } else if (options.weightsPath.isEmpty()) {
            options.weightsPath = file;
        } else {
            std::cerr << "usage error: more than one weights file given\n";
            return cli::kExitUsage;
        }
    }
    const QString screenshotPath = p.value(screenshot);
    options.rememberOnClose = screenshotPath.isEmpty();
    options.offerWeights = screenshotPath.isEmpty();
    options.camera = p.value(camera);
    options.loop = p.isSet(loop);
    if (p.isSet(size)) {
        const auto m = QRegularExpression(QStringLiteral("^(\\d+)x(\\d+)$")).match(p.value(size));
        if (!m.hasMatch()) {
            std::cerr << "usage error: --window-size needs WxH, e.g. 1600x1000\n";
            return cli::kExitUsage;
        }
        options.windowSize = QSize(m.captured(1).toInt(), m.captured(2).toInt());
    }
    if (!screenshotPath.isEmpty() && options.images.isEmpty() && options.camera.isEmpty()) {
        std::cerr << "usage error: --screenshot needs an IMAGE or a --camera to show\n";
        return cli::kExitUsage;
    }
    if (!screenshotPath.isEmpty()) {  // never written over what it shows
        std::vector<RoleAndPath> inputs;
        for (const QString& image : options.images)
            inputs.push_back({"the image", QFile::encodeName(image).toStdString()});
        inputs.push_back({"the weights", QFile::encodeName(options.weightsPath).toStdString()});
        inputs.push_back({"the video", QFile::encodeName(options.camera).toStdString()});
        const std::string problem = outputOverInputProblem(
            {{"--screenshot", QFile::encodeName(screenshotPath).toStdString()}}, inputs);
        if (!problem.empty()) {
            std::cerr << "usage error: " << problem << "\n";
            return cli::kExitUsage;
        }
    }
    QApplication app(argc, argv);
    QElapsedTimer sinceStart;
    sinceStart.start();
    ui::setUpApplication();  // names, version, desktop file name, window icon
    QApplication::setStyle(QStringLiteral("Fusion"));
    ui::MainWindow window(options);
    if (!screenshotPath.isEmpty()) takeScreenshotWhenShown(&window, screenshotPath);
    window.winId();  // the native window, so the trace can watch it being exposed
    if (lcStartup().isInfoEnabled()) new StartupTrace(sinceStart, &window, &app);
    window.show();
    return QApplication::exec();
}

}  // namespace r18::app
