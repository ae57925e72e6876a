// Actions: every menu entry, toolbar button and keyboard shortcut of the window, built from one
// table (like Netron's command table). The menus, the toolbar and the shortcut help are all made
// from it, so a shortcut cannot exist without being listed, and a menu entry cannot do
// something other than its toolbar twin. Each entry also says how its state is found — whether
// it is checked, enabled, what it reads — and update() evaluates all of them at once, so no
// state is pushed into an action from elsewhere.
//
// Entries are built with the named helpers below:
//   command("file.open", file, tr("&Open Images…"), [t] { t.intake->openDialog(); })
//       .key(QKeySequence::Open).icon(QStyle::SP_DialogOpenButton).toolbar(10, tr("Open"))
//   toggle("view.sort", view, tr("&Sort Channels by Mean"), [t] { return t.layers->sortByMean(); },
//          [t](bool on) { t.layers->setSortByMean(on); }).key(Qt::Key_S)
#pragma once

#include <QAction>
#include <QKeySequence>
#include <QObject>
#include <QString>
#include <QStyle>

#include <functional>
#include <map>
#include <utility>
#include <vector>

class QMenuBar;
class QMenu;
class QToolBar;

namespace r18::ui {

struct ActionSpec {
    QString id;    // "file.open"; "-" is a separator in its menu
    QString menu;  // "&File", or "&File/Open &Sample" for a submenu
    QString text;  // "&Open Image…"
    std::function<void(bool checked)> run;
    QKeySequence shortcut;
    QKeySequence alternate;  // a second shortcut for the same action
    QString help;            // what the shortcut does, for the help page; default: the text
    int pixmap = -1;         // its icon: a QStyle::StandardPixmap, or -1
    bool checkable = false;
    QString group;        // exclusive group of checkable actions, e.g. "precision"
    int toolbarSlot = 0;  // its place on the toolbar (0: not there); see Actions::fillToolbar()
    QString toolbarText;  // its short label there

    // State, evaluated by Actions::update(); unset: unchanged.
    std::function<bool()> checked;
    std::function<bool()> enabled;
    std::function<QString()> label;  // the text now (and, without its '&', the toolbar's)
    std::function<int()> pixmapNow;  // the icon now (a QStyle::StandardPixmap)

    // Named setters, for building entries readably.
    ActionSpec& key(const QKeySequence& keys, const QKeySequence& second = {});
    ActionSpec& explained(const QString& what);
    ActionSpec& icon(QStyle::StandardPixmap standard);
    ActionSpec& toolbar(int slot, const QString& shortText);
    ActionSpec& inGroup(const QString& name);
    ActionSpec& enabledWhen(std::function<bool()> when);
    ActionSpec& labelled(std::function<QString()> textNow, std::function<int()> standard = {});
};

// An action that does `run` when triggered.
ActionSpec command(const QString& id, const QString& menu, const QString& text,
                   std::function<void()> run);
// A checkable action: `isOn` says whether it is checked, `set` what checking it does.
ActionSpec toggle(const QString& id, const QString& menu, const QString& text,
                  std::function<bool()> isOn, std::function<void(bool on)> set);
ActionSpec separator(const QString& menu);

class Actions : public QObject {
    Q_OBJECT

public:
    // Creates the actions as children of `window` (so their shortcuts work anywhere in it) and
    // the menus on `menuBar`, in table order, then evaluates their state.
    Actions(QWidget* window, QMenuBar* menuBar, const std::vector<ActionSpec>& table);

    QAction* get(const QString& id) const;  // asserts the id exists
    QMenu* menu(const QString& path) const;
    // The table's toolbar actions in slot order, and `widgets` at their slots; a separator
    // between slots of different tens (10-19, 20-29, ...).
    void fillToolbar(QToolBar* toolbar, const std::vector<std::pair<int, QWidget*>>& widgets) const;
    // Keyboard shortcuts and what they do, as an HTML table, in menu order.
    QString shortcutHelpHtml() const;
    const std::vector<ActionSpec>& table() const { return m_table; }

public slots:
    // Every action's checked, enabled, text and icon from the table's functions, at once. Runs
    // after every action triggered; connect whatever changes state to it.
    void update();

private:
    QMenu* menuFor(QMenuBar* bar, const QString& path);

    QWidget* m_window;
    std::vector<ActionSpec> m_table;
    std::map<QString, QAction*> m_actions;
    std::map<QString, QMenu*> m_menus;
};

}  // namespace r18::ui
