// main() for the Qt test suites: an offscreen QApplication (unless QT_QPA_PLATFORM says
// otherwise, so the suites also run under xvfb-run), settings kept out of the user's home, and
// OpenMP waiting passively as in the app's window.
#include <gtest/gtest.h>

#include <QApplication>
#include <QSettings>
#include <QStandardPaths>

#include <cstdlib>
#include <string>

#include "core/engine/threads.h"

int main(int argc, char** argv) {
    r18::restartWithPassiveOpenMpWaiting(argv);  // as the app's window does
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    const std::string config = std::string(R18_TEST_TMP) + "/config";
    qputenv("XDG_CONFIG_HOME", config.c_str());
    // Downloads and default weight locations go to a throwaway folder too.
    const std::string data = std::string(R18_TEST_TMP) + "/data";
    qputenv("XDG_DATA_HOME", data.c_str());
    qunsetenv("RESNET18_WEIGHTS");
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("ResNet18ExplorerTests"));
    QApplication::setApplicationName(QStringLiteral("resnet18-explorer-tests"));
    QSettings().clear();
    testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
