// WindowDialogs: the Explorer window's message boxes — an error naming what failed and why, the
// keyboard shortcuts (Ctrl+/), the "What am I looking at?" guide (F1) and About. Each is made
// when first asked for, window-modal where it must be answered, and deleted when closed.
#pragma once

#include <QMessageBox>
#include <QObject>
#include <QPointer>
#include <QString>

class QDialog;
class QWidget;

namespace r18::ui {

class WindowDialogs : public QObject {
    Q_OBJECT

public:
    explicit WindowDialogs(QWidget* window);

    void showError(const QString& title, const QString& message);
    // `shortcutsHtml`: the action table's shortcut help, as it is now.
    void showShortcuts(const QString& shortcutsHtml);
    void showGuide(const QString& shortcutsHtml);
    void showAbout();

    // For tests: the boxes on screen, or null.
    QMessageBox* errorBox() const { return m_errorBox; }
    QMessageBox* helpBox() const { return m_helpBox; }
    QMessageBox* aboutBox() const { return m_aboutBox; }
    QDialog* guide() const { return m_guide; }
    QString guideText() const;  // the F1 page as plain text, "" if it is not open

private:
    QWidget* m_window;
    QPointer<QMessageBox> m_errorBox;
    QPointer<QMessageBox> m_helpBox;
    QPointer<QMessageBox> m_aboutBox;
    QPointer<QDialog> m_guide;
};

}  // namespace r18::ui
