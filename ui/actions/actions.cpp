#include "ui/actions/actions.h"

#include <QActionGroup>
#include <QApplication>
#include <QMenu>
#include <QMenuBar>
#include <QToolBar>
#include <QWidget>

#include <algorithm>

namespace r18::ui {
namespace {

QString plain(const QString& text) {
    return QString(text).remove('&').remove(QStringLiteral("…"));
}

}  // namespace

ActionSpec& ActionSpec::key(const QKeySequence& keys, const QKeySequence& second) {
    shortcut = keys;
    alternate = second;
    return *this;
}

ActionSpec& ActionSpec::explained(const QString& what) {
    help = what;
    return *this;
}

ActionSpec& ActionSpec::icon(QStyle::StandardPixmap standard) {
    pixmap = standard;
    return *this;
}

ActionSpec& ActionSpec::toolbar(int slot, const QString& shortText) {
    toolbarSlot = slot;
    toolbarText = shortText;
    return *this;
}

ActionSpec& ActionSpec::inGroup(const QString& name) {
    group = name;
    return *this;
}

ActionSpec& ActionSpec::enabledWhen(std::function<bool()> when) {
    enabled = std::move(when);
    return *this;
}

ActionSpec& ActionSpec::labelled(std::function<QString()> textNow, std::function<int()> standard) {
    label = std::move(textNow);
    pixmapNow = std::move(standard);
    return *this;
}

ActionSpec command(const QString& id, const QString& menu, const QString& text,
                   std::function<void()> run) {
    ActionSpec spec;
    spec.id = id;
    spec.menu = menu;
    spec.text = text;
    spec.run = [run = std::move(run)](bool) { run(); };
    return spec;
}

ActionSpec toggle(const QString& id, const QString& menu, const QString& text,
                  std::function<bool()> isOn, std::function<void(bool on)> set) {
    ActionSpec spec;
    spec.id = id;
    spec.menu = menu;
    spec.text = text;
    spec.run = std::move(set);
    spec.checkable = true;
    spec.checked = std::move(isOn);
    return spec;
}

ActionSpec separator(const QString& menu) {
    ActionSpec spec;
    spec.id = QStringLiteral("-");
    spec.menu = menu;
    return spec;
}

Actions::Actions(QWidget* window, QMenuBar* menuBar, const std::vector<ActionSpec>& table)
    : QObject(window), m_window(window), m_table(table) {
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
        if (spec.pixmap >= 0)
            action->setIcon(
                window->style()->standardIcon(static_cast<QStyle::StandardPixmap>(spec.pixmap)));
        if (!spec.toolbarText.isEmpty()) action->setIconText(spec.toolbarText);
        action->setCheckable(spec.checkable);
        if (!spec.group.isEmpty()) {
            QActionGroup*& group = groups[spec.group];
            if (!group) group = new QActionGroup(this);
            group->addAction(action);
        }
        // What triggering does, then the state of every action as it now is.
        connect(action, &QAction::triggered, this, [this, run = spec.run](bool checked) {
            if (run) run(checked);
            update();
        });
        QString tip = plain(spec.text);
        if (!spec.shortcut.isEmpty())
            tip += QStringLiteral(" (%1)").arg(spec.shortcut.toString(QKeySequence::NativeText));
        action->setToolTip(tip);
        window->addAction(action);  // shortcuts work even when the menu bar is hidden
        if (menu) menu->addAction(action);
        m_actions[spec.id] = action;
    }
    update();
}

void Actions::update() {
    for (const ActionSpec& spec : m_table) {
        if (spec.id == QLatin1String("-")) continue;
        QAction* action = m_actions.at(spec.id);
        if (spec.checked) action->setChecked(spec.checked());
        if (spec.enabled) action->setEnabled(spec.enabled());
        if (spec.label) {
            const QString text = spec.label();
            action->setText(text);
            action->setIconText(QString(text).remove('&'));
        }
        if (spec.pixmapNow)
            action->setIcon(m_window->style()->standardIcon(
                static_cast<QStyle::StandardPixmap>(spec.pixmapNow())));
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

void Actions::fillToolbar(QToolBar* toolbar,
                          const std::vector<std::pair<int, QWidget*>>& widgets) const {
    std::vector<std::pair<int, QAction*>> actions;
    for (const ActionSpec& spec : m_table)
        if (spec.toolbarSlot > 0) actions.emplace_back(spec.toolbarSlot, get(spec.id));
    std::vector<int> order;
    for (const auto& [slot, action] : actions) order.push_back(slot);
    for (const auto& [slot, widget] : widgets) order.push_back(slot);
    std::sort(order.begin(), order.end());
    order.erase(std::unique(order.begin(), order.end()), order.end());
    int lastTen = -1;
    for (const int slot : order) {
        if (lastTen >= 0 && slot / 10 != lastTen) toolbar->addSeparator();
        lastTen = slot / 10;
        for (const auto& [s, action] : actions)
            if (s == slot) toolbar->addAction(action);
        for (const auto& [s, widget] : widgets)
            if (s == slot) toolbar->addWidget(widget);
    }
}

QString Actions::shortcutHelpHtml() const {
    // One block per menu, the blocks in two columns of about equal height: in one column the
    // list is taller than a laptop's screen.
    struct Block {
        QString rows;
        int count = 0;
    };
    std::vector<Block> blocks;
    QString lastMenu;
    int total = 0;
    for (const ActionSpec& spec : m_table) {
        if (spec.id == QLatin1String("-") || spec.shortcut.isEmpty()) continue;
        const QString menu = QString(spec.menu.section('/', 0, 0)).remove('&');
        if (menu != lastMenu || blocks.empty()) {
            blocks.push_back(
                {QStringLiteral("<tr><td colspan='2'><b>%1</b></td></tr>").arg(menu), 1});
            lastMenu = menu;
            ++total;
        }
        const QString what = spec.help.isEmpty() ? plain(spec.text) : spec.help;
        QString keys = spec.shortcut.toString(QKeySequence::NativeText).toHtmlEscaped();
        if (!spec.alternate.isEmpty())
            keys += QStringLiteral(", ") +
                    spec.alternate.toString(QKeySequence::NativeText).toHtmlEscaped();
        blocks.back().rows += QStringLiteral("<tr><td><code>%1</code></td><td>%2</td></tr>")
                                  .arg(keys, what.toHtmlEscaped());
        ++blocks.back().count;
        ++total;
    }
    QString columns[2];
    int left = 0;
    for (const Block& b : blocks) {
        const bool first = left < (total + 1) / 2;
        columns[first ? 0 : 1] += b.rows;
        if (first) left += b.count;
    }
    const QString table = QStringLiteral("<table cellspacing='0' cellpadding='3'>%1</table>");
    return QStringLiteral(
               "<table cellspacing='0' cellpadding='0'><tr><td valign='top'>%1</td>"
               "<td width='24'></td><td valign='top'>%2</td></tr></table>")
        .arg(table.arg(columns[0]), table.arg(columns[1]));
}

}  // namespace r18::ui
