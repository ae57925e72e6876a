#include "ui/actions/recent_files.h"

#include <QAction>
#include <QDir>
#include <QFileInfo>
#include <QSettings>

namespace r18::ui {
namespace {

const QString kKey = QStringLiteral("files/recent");

QString absolute(const QString& path) {
    return QFileInfo(path).absoluteFilePath();
}

}  // namespace

RecentFiles::RecentFiles(QObject* parent) : QObject(parent) {
    for (const QString& path : QSettings().value(kKey).toStringList())
        if (!path.isEmpty() && !m_entries.contains(path) && m_entries.size() < kMaxEntries)
            m_entries << path;
}

void RecentFiles::setActions(const std::vector<QAction*>& entryActions, QAction* clear) {
    m_slots = entryActions;
    m_clear = clear;
    updateActions();
}

void RecentFiles::add(const QString& path) {
    if (path.isEmpty()) return;
    const QString entry = absolute(path);
    if (!m_entries.isEmpty() && m_entries.first() == entry) return;
    m_entries.removeAll(entry);
    m_entries.prepend(entry);
    while (m_entries.size() > kMaxEntries) m_entries.removeLast();
    save();
}

void RecentFiles::remove(const QString& path) {
    if (m_entries.removeAll(absolute(path)) > 0) save();
}

void RecentFiles::clear() {
    m_entries.clear();
    save();
}

void RecentFiles::open(int index) {
    if (index < 0 || index >= m_entries.size()) return;
    const QString path = m_entries[index];
    const QFileInfo info(path);
    if (!info.exists()) {
        m_entries.removeAt(index);
        save();
        emit missing(tr("%1 is gone").arg(info.fileName().isEmpty() ? path : info.fileName()),
                     tr("%1 no longer exists, so it was removed from Open Recent.")
                         .arg(QDir::toNativeSeparators(path)));
        return;
    }
    if (info.isDir())
        emit openFolder(path);
    else
        emit openFile(path);
}

void RecentFiles::save() {
    QSettings().setValue(kKey, m_entries);
    updateActions();
}

void RecentFiles::updateActions() {
    for (size_t i = 0; i < m_slots.size(); ++i) {
        QAction* slot = m_slots[i];
        const bool used = static_cast<int>(i) < m_entries.size();
        slot->setVisible(used);
        if (!used) continue;
        const QFileInfo info(m_entries[static_cast<int>(i)]);
        const QString name = info.fileName().isEmpty() ? info.filePath() : info.fileName();
        // "&1 cat.jpg", "&2 photos/" — a folder ends in a slash; && shows a literal ampersand.
        slot->setText(QStringLiteral("&%1 %2%3")
                          .arg(i + 1)
                          .arg(QString(name).replace('&', QStringLiteral("&&")),
                               info.isDir() ? QStringLiteral("/") : QString()));
        slot->setToolTip(QDir::toNativeSeparators(info.filePath()));
        slot->setStatusTip(slot->toolTip());
    }
    if (m_clear) m_clear->setEnabled(!m_entries.isEmpty());
}

}  // namespace r18::ui
