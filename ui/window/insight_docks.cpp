#include "ui/window/insight_docks.h"

#include <QDockWidget>
#include <QMainWindow>

#include <algorithm>

#include "ui/panels/atlas_panel.h"
#include "ui/panels/compare_panel.h"
#include "ui/panels/explain_panel.h"
#include "ui/panels/importance_panel.h"
#include "ui/panels/pair_panel.h"

namespace r18::ui {
namespace {

constexpr int kDockedMinWidth = 1360;  // narrower windows float the insight panels

QDockWidget* hiddenDock(QMainWindow* window, const QString& title, const QString& name,
                        QWidget* content) {
    auto* dock = new QDockWidget(title, window);
    dock->setObjectName(name);
    dock->setWidget(content);
    dock->setAllowedAreas(Qt::AllDockWidgetAreas);
    window->addDockWidget(Qt::RightDockWidgetArea, dock);
    dock->hide();
    return dock;
}

}  // namespace

InsightDocks::InsightDocks(QMainWindow* window, ExplainPanel* explain, AtlasPanel* atlas,
                           ComparePanel* compare, ImportancePanel* importance, PairPanel* pair)
    : QObject(window),
      m_window(window),
      m_explain(hiddenDock(window, tr("Where it looked — methods"), QStringLiteral("explainDock"),
                           explain->panel())),
      m_atlas(hiddenDock(window, tr("What this channel detects"), QStringLiteral("atlasDock"),
                         atlas->panel())),
      m_compare(hiddenDock(window, tr("Compare fp32 / int8"), QStringLiteral("compareDock"),
                           compare->panel())),
      m_importance(hiddenDock(window, tr("Channel importance"), QStringLiteral("importanceDock"),
                              importance->panel())),
      m_pair(
          hiddenDock(window, tr("Two images: A / B"), QStringLiteral("pairDock"), pair->panel())) {
    window->tabifyDockWidget(m_explain, m_atlas);
    window->tabifyDockWidget(m_atlas, m_compare);
    window->tabifyDockWidget(m_compare, m_importance);
    window->tabifyDockWidget(m_importance, m_pair);
    connect(m_explain, &QDockWidget::visibilityChanged, this, [this, explain](bool visible) {
        explain->setActive(visible);
        emit visibilityChanged();
    });
    connect(m_atlas, &QDockWidget::visibilityChanged, this, &InsightDocks::visibilityChanged);
    connect(m_compare, &QDockWidget::visibilityChanged, this, [this, compare](bool visible) {
        compare->setActive(visible);
        emit visibilityChanged();
    });
    connect(m_importance, &QDockWidget::visibilityChanged, this, [this, importance](bool visible) {
        importance->setActive(visible);
        emit visibilityChanged();
    });
    connect(m_pair, &QDockWidget::visibilityChanged, this, [this, pair](bool visible) {
        pair->setActive(visible);
        emit visibilityChanged();
    });
}

void InsightDocks::show(QDockWidget* dock, bool on) {
    if (!on) return dock->hide();
    const int wanted = std::clamp(m_window->width() / 4, 340, 480);
    if (!dock->isFloating() && m_window->width() < kDockedMinWidth) {
        // Docked, the panel would push the window wider than a small laptop's screen: it floats
        // over the window's right side instead (and can be docked by dragging its title), below
        // the menu and the toolbar so that Start, Freeze and Mirror stay in reach.
        dock->setFloating(true);
        const QRect frame = m_window->geometry();
        const QWidget* central = m_window->centralWidget();
        const int top = central ? central->mapToGlobal(QPoint(0, 0)).y() + 4 : frame.top() + 64;
        const int bottom =
            central ? central->mapToGlobal(QPoint(0, central->height())).y() : frame.bottom() - 20;
        dock->setGeometry(frame.right() - wanted, top, wanted, std::max(240, bottom - top));
    }
    dock->show();
    dock->raise();  // in front of the others when they share a tab bar
    if (!dock->isFloating() && dock->width() < wanted)
        m_window->resizeDocks({dock}, {wanted}, Qt::Horizontal);
}

}  // namespace r18::ui
