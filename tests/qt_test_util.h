// Helpers for the Qt suites.
#pragma once

#include <QSignalSpy>
#include <QTest>

#include <memory>
#include <string>

#include "ui/main_window.h"

namespace r18::test {

// True once `spy` has recorded at least `count` signals. Unlike QSignalSpy::wait(), which waits
// for a *new* emission, this also counts signals recorded before the call: Qt 6's spy records
// signals from other threads directly, so they can arrive before wait() starts.
inline bool waitForCount(QSignalSpy& spy, int count, int ms = 30000) {
    return QTest::qWaitFor([&] { return spy.count() >= count; }, ms);
}

// A shown Explorer window running `weights`, once its model is ready.
inline std::unique_ptr<ui::MainWindow> openWindow(const std::string& weights,
                                                  const QString& select = QString(),
                                                  QSize size = QSize(1300, 850)) {
    ui::WindowOptions options;
    options.weightsPath = QString::fromStdString(weights);
    options.selectNode = select;
    options.windowSize = size;
    auto window = std::make_unique<ui::MainWindow>(options);
    QSignalSpy model(window.get(), &ui::MainWindow::modelShown);
    window->show();
    waitForCount(model, 1, 60000);
    return window;
}

}  // namespace r18::test
