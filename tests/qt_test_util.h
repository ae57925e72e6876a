// Helpers for the Qt suites: waiting for signals, opening a window, and driving it as a person
// does — menus clicked with the mouse, shortcuts typed on the keyboard.
#pragma once

#include <QMenu>
#include <QMenuBar>
#include <QSignalSpy>
#include <QTest>

#include <functional>
#include <memory>
#include <string>

#include "core/engine/calibration.h"
#include "core/engine/engine.h"
#include "ui/actions/actions.h"
#include "ui/session/session.h"
#include "ui/window/main_window.h"

namespace r18::test {

// True once `spy` has recorded at least `count` signals. Unlike QSignalSpy::wait(), which waits
// for a *new* emission, this also counts signals recorded before the call: Qt 6's spy records
// signals from other threads directly, so they can arrive before wait() starts.
inline bool waitForCount(QSignalSpy& spy, int count, int ms = 30000) {
    return QTest::qWaitFor([&] { return spy.count() >= count; }, ms);
}

// The window's engine compiled again from core, independently of the window's code: its model,
// precision and threads, int8 calibrated on the images the window's engine was calibrated on.
inline EngineOptions windowEngineOptions(const ui::EngineInfo& engine, int batch = 1) {
    EngineOptions o = EngineOptions().with(engine.precision).withThreads(engine.threads);
    o.withBatch(batch);
    if (engine.precision == Precision::Int8) {
        std::vector<Tensor> inputs;
        for (const auto& t : engine.calibration) inputs.push_back(*t);
        o.withCalibration(std::make_shared<const Calibration>(
            calibrate(engine.model->spec(), engine.model->weights(), inputs, engine.threads)));
    }
    return o;
}

// A shown, active Explorer window running `weights`, once its model is ready.
inline std::unique_ptr<ui::MainWindow> openWindow(const std::string& weights,
                                                  const QString& select = QString(),
                                                  QSize size = QSize(1300, 850),
                                                  const QStringList& images = {}) {
    ui::WindowOptions options;
    options.weightsPath = QString::fromStdString(weights);
    options.selectNode = select;
    options.windowSize = size;
    options.images = images;
    auto window = std::make_unique<ui::MainWindow>(options);
    QSignalSpy model(window.get(), &ui::MainWindow::modelShown);
    window->show();
    window->activateWindow();
    if (!QTest::qWaitForWindowActive(window.get(), 5000)) qWarning("the window is not active");
    waitForCount(model, 1, 60000);
    return window;
}

// Waits until the window shows a result for which `done` holds.
inline bool waitShown(ui::MainWindow& w,
                      const std::function<bool(const ui::InferenceResult&)>& done, int ms = 30000) {
    return QTest::qWaitFor(
        [&] {
            const ui::ResultPtr r = w.session()->result();
            return r && done(*r);
        },
        ms);
}

// Waits until the feature-map panel shows `node`'s output for the result on screen.
inline bool waitForTap(ui::MainWindow& w, const QString& node, int ms = 30000);

// Opens `menuPath` ("E&ngine", or "&File/Open &Sample" for a submenu) in the menu bar, one level
// after the other, and clicks the item `actionId`, with the mouse.
inline bool clickMenu(ui::MainWindow& w, const QString& menuPath, const QString& actionId) {
    QMenu* menu = w.actions()->menu(menuPath);
    QAction* action = w.action(actionId);
    QMenu* top = w.actions()->menu(menuPath.section('/', 0, 0));
    if (!menu || !action || !top) return false;
    QMenuBar* bar = w.menuBar();
    QTest::mouseClick(bar, Qt::LeftButton, {}, bar->actionGeometry(top->menuAction()).center());
    if (!QTest::qWaitFor([&] { return top->isVisible(); }, 3000)) return false;
    QMenu* open = top;
    for (int level = 1; level < menuPath.count('/') + 1; ++level) {
        QMenu* sub = w.actions()->menu(menuPath.section('/', 0, level));
        const QPoint at = open->actionGeometry(sub->menuAction()).center();
        QTest::mouseMove(open, at);
        QTest::mouseClick(open, Qt::LeftButton, {}, at);
        if (!QTest::qWaitFor([&] { return sub->isVisible(); }, 3000)) {
            top->close();
            return false;
        }
        open = sub;
    }
    const QRect item = menu->actionGeometry(action);
    if (item.isEmpty() || !action->isEnabled() || !action->isVisible()) {
        top->close();
        return false;
    }
    QTest::mouseMove(menu, item.center());
    QTest::mouseClick(menu, Qt::LeftButton, {}, item.center());
    return QTest::qWaitFor([&] { return !menu->isVisible() && !top->isVisible(); }, 3000);
}

// Types a shortcut into the window, as a person does on the keyboard.
inline void typeShortcut(ui::MainWindow& w, const QKeySequence& keys) {
    w.activateWindow();
    QTest::keySequence(&w, keys);
}

inline bool waitForTap(ui::MainWindow& w, const QString& node, int ms) {
    return QTest::qWaitFor(
        [&] {
            const ui::ResultPtr r = w.session()->tapResult();
            return r && w.session()->selectedNode() == node && r->taps.count(node.toStdString());
        },
        ms);
}

}  // namespace r18::test
