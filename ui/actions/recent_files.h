// RecentFiles: File → Open Recent — the images and folders opened last, newest first, kept in
// QSettings ("files/recent") as soon as they change, so they survive a crash as well as a
// restart. The menu entries are fixed slots of the action table (like Qt's Recent Files
// example): this class sets their text and visibility, and says what opening one means.
// An entry whose file or folder has gone is removed when chosen, with a message saying so.
#pragma once

#include <QObject>
#include <QStringList>

#include <vector>

class QAction;

namespace r18::ui {

class RecentFiles : public QObject {
    Q_OBJECT

public:
    static constexpr int kMaxEntries = 8;  // the table's "file.recent0".."file.recent7"

    explicit RecentFiles(QObject* parent = nullptr);  // reads the list from QSettings

    // The slots (kMaxEntries of them) and the Clear action they keep up to date.
    void setActions(const std::vector<QAction*>& entryActions, QAction* clear);

    // Puts a file or folder first (absolute paths; an entry already listed moves up).
    void add(const QString& path);
    void remove(const QString& path);
    void clear();
    const QStringList& entries() const { return m_entries; }

    // What the slot `index` does: openFile/openFolder, or, if it has gone, `missing`.
    void open(int index);

signals:
    void openFile(const QString& path);
    void openFolder(const QString& path);
    void missing(const QString& title, const QString& message);

private:
    void save();
    void updateActions();

    QStringList m_entries;
    std::vector<QAction*> m_slots;  // one per entry, hidden while unused
    QAction* m_clear = nullptr;
};

}  // namespace r18::ui
