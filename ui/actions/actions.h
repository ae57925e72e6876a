// Actions: every menu entry, toolbar button and keyboard shortcut of the window, built from one
// table (like Netron's menu table). The menus, the toolbar and the shortcut help are all made
// from it, so a shortcut cannot exist without being listed, and a menu entry cannot do
// something other than its toolbar twin.
#pragma once

#include <QAction>
#include <QKeySequence>
#include <QObject>
#include <QString>
#include <QStyle>

#include <functional>
#include <map>
#include <vector>

class QMenuBar;
class QMenu;
class QToolBar;

namespace r18::ui {

struct ActionSpec {
    QString id;         // "file.open"; "-" is a separator in its menu
    QString menu;       // "&File", or "&File/Open &Sample" for a submenu
    QString text = {};  // "&Open Image…"
    QKeySequence shortcut = {};
    std::function<void(bool checked)> run = {};
    bool checkable = false;
    QString group = {};  // exclusive group of checkable actions, e.g. "precision"
    QString help = {};   // what the shortcut does, for the help page; default: the text
    int icon = -1;       // a QStyle::StandardPixmap, or -1
    bool toolbar = false;
    QKeySequence alternate = {};  // a second shortcut for the same action
};

class Actions : public QObject {
    Q_OBJECT

public:
    // Creates the actions as children of `window` (so their shortcuts work anywhere in it) and
    // the menus on `menuBar`, in table order.
    Actions(QWidget* window, QMenuBar* menuBar, const std::vector<ActionSpec>& table);

    QAction* get(const QString& id) const;  // asserts the id exists
    QMenu* menu(const QString& path) const;
    // Adds the table's toolbar actions, in order, to `toolbar`.
    void addToolbarActions(QToolBar* toolbar) const;
    // Keyboard shortcuts and what they do, as an HTML table, in menu order.
    QString shortcutHelpHtml() const;
    const std::vector<ActionSpec>& table() const { return m_table; }

private:
    QMenu* menuFor(QMenuBar* bar, const QString& path);

    std::vector<ActionSpec> m_table;
    std::map<QString, QAction*> m_actions;
    std::map<QString, QMenu*> m_menus;
};

}  // namespace r18::ui
