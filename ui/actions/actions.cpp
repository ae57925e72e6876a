#include "ui/actions/actions.h"

#include <QActionGroup>
#include <QApplication>
#include <QMenu>
#include <QMenuBar>
#include <QToolBar>
#include <QWidget>

namespace r18::ui {

Actions::Actions(QWidget* window, QMenuBar* menuBar, const std::vector<ActionSpec>& table)
    : QObject(window), m_table(table) {
    std::map<QString, QActionGroup*> groups;
    for (const ActionSpec& spec : m_table) {
        QMenu* menu = spec.menu.isEmpty() ? nullptr : menuFor(menuBar, spec.menu);
        if (spec.id == QLatin1String("-")) {
            if (menu) menu->addSeparator();
            continue;
        }
        Q_ASSERT(!m_actions.count(spec.id));
        auto* action = new QAction(spec.text, window);
        action->setObjectName(spec.id);
        if (!spec.alternate.isEmpty())
            action->setShortcuts({spec.shortcut, spec.alternate});
        else if (!spec.shortcut.isEmpty())
            action->setShortcut(spec.shortcut);
        if (spec.icon >= 0)
            action->setIcon(
                window->style()->standardIcon(static_cast<QStyle::StandardPixmap>(spec.icon)));
        action->setCheckable(spec.checkable);
        if (!spec.group.isEmpty()) {
            QActionGroup*& group = groups[spec.group];
            if (!group) group = new QActionGroup(this);
            group->addAction(action);
        }
        if (spec.run) {
            const auto run = spec.run;
            connect(action, &QAction::triggered, this, [run](bool checked) { run(checked); });
        }
        QString tip = QString(spec.text).remove('&').remove(QStringLiteral("…"));
        if (!spec.shortcut.isEmpty())
            tip += QStringLiteral(" (%1)").arg(spec.shortcut.toString(QKeySequence::NativeText));
        action->setToolTip(tip);
        window->addAction(action);  // shortcuts work even when the menu bar is hidden
        if (menu) menu->addAction(action);
        m_actions[spec.id] = action;
    }
}

QMenu* Actions::menuFor(QMenuBar* bar, const QString& path) {
    if (auto it = m_menus.find(path); it != m_menus.end()) return it->second;
    const qsizetype slash = path.lastIndexOf('/');
    QMenu* menu = slash < 0 ? bar->addMenu(path)
                            : menuFor(bar, path.left(slash))->addMenu(path.mid(slash + 1));
    menu->setObjectName(QStringLiteral("menu:") + path);
    m_menus[path] = menu;
    return menu;
}

QAction* Actions::get(const QString& id) const {
    const auto it = m_actions.find(id);
    Q_ASSERT_X(it != m_actions.end(), "Actions::get", qPrintable(id));
    return it == m_actions.end() ? nullptr : it->second;
}

QMenu* Actions::menu(const QString& path) const {
    const auto it = m_menus.find(path);
    return it == m_menus.end() ? nullptr : it->second;
}

void Actions::addToolbarActions(QToolBar* toolbar) const {
    for (const ActionSpec& spec : m_table)
        if (spec.toolbar && spec.id != QLatin1String("-")) toolbar->addAction(get(spec.id));
}

QString Actions::shortcutHelpHtml() const {
    QString html = QStringLiteral("<table cellspacing='0' cellpadding='3'>");
    QString lastMenu;
    for (const ActionSpec& spec : m_table) {
        if (spec.id == QLatin1String("-") || spec.shortcut.isEmpty()) continue;
        const QString menu = QString(spec.menu.section('/', 0, 0)).remove('&');
        if (menu != lastMenu) {
            html += QStringLiteral("<tr><td colspan='2'><b>%1</b></td></tr>").arg(menu);
            lastMenu = menu;
        }
        const QString what = spec.help.isEmpty()
                                 ? QString(spec.text).remove('&').remove(QStringLiteral("…"))
                                 : spec.help;
        QString keys = spec.shortcut.toString(QKeySequence::NativeText).toHtmlEscaped();
        if (!spec.alternate.isEmpty())
            keys += QStringLiteral(", ") +
                    spec.alternate.toString(QKeySequence::NativeText).toHtmlEscaped();
        html += QStringLiteral("<tr><td><code>%1</code></td><td>%2</td></tr>")
                    .arg(keys, what.toHtmlEscaped());
    }
    return html + QStringLiteral("</table>");
}

}  // namespace r18::ui
