#include "ui/window/window_dialogs.h"

#include <QDialog>
#include <QDialogButtonBox>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <algorithm>

#include "ui/window/app_info.h"

namespace r18::ui {

WindowDialogs::WindowDialogs(QWidget* window) : QObject(window), m_window(window) {}

void WindowDialogs::showError(const QString& title, const QString& message) {
    if (!m_errorBox) {
        m_errorBox = new QMessageBox(QMessageBox::Warning, tr("ResNet18 Explorer"), QString(),
                                     QMessageBox::Ok, m_window);
        m_errorBox->setAttribute(Qt::WA_DeleteOnClose);
        m_errorBox->setWindowModality(Qt::WindowModal);
    }
    m_errorBox->setText(title);
    m_errorBox->setInformativeText(message);
    m_errorBox->open();
}

void WindowDialogs::showShortcuts(const QString& shortcutsHtml) {
    if (!m_helpBox) {
        m_helpBox = new QMessageBox(QMessageBox::Information, tr("Keyboard shortcuts"), {},
                                    QMessageBox::Close, m_window);
        m_helpBox->setAttribute(Qt::WA_DeleteOnClose);
        // Wide enough for the two columns of keys, so that it stays lower than the screen.
        m_helpBox->setStyleSheet(QStringLiteral("QLabel#qt_msgbox_label { min-width: 860px; }"));
    }
    m_helpBox->setText(shortcutsHtml + viewKeysHtml());
    m_helpBox->open();
}

void WindowDialogs::showGuide(const QString& shortcutsHtml) {
    if (!m_guide) {
        m_guide = new QDialog(m_window);
        m_guide->setObjectName(QStringLiteral("guide"));
        m_guide->setAttribute(Qt::WA_DeleteOnClose);
        m_guide->setWindowTitle(tr("What am I looking at?"));
        auto* text = new QTextBrowser;
        text->setObjectName(QStringLiteral("guideText"));
        text->setOpenExternalLinks(true);
        auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
        connect(buttons, &QDialogButtonBox::rejected, m_guide, &QDialog::close);
        auto* layout = new QVBoxLayout(m_guide);
        layout->addWidget(text);
        layout->addWidget(buttons);
        m_guide->resize(680, std::min(760, std::max(480, m_window->height() - 80)));
    }
    // Rebuilt each time: the shortcuts are the actions' as they are now.
    m_guide->findChild<QTextBrowser*>()->setHtml(guideHtml(shortcutsHtml));
    m_guide->show();
    m_guide->raise();
    m_guide->activateWindow();
}

QString WindowDialogs::guideText() const {
    return m_guide ? m_guide->findChild<QTextBrowser*>()->toPlainText() : QString();
}

void WindowDialogs::showAbout() {
    if (!m_aboutBox) {
        m_aboutBox = new QMessageBox(QMessageBox::NoIcon, tr("About ResNet18 Explorer"), {},
                                     QMessageBox::Close, m_window);
        m_aboutBox->setObjectName(QStringLiteral("about"));
        m_aboutBox->setAttribute(Qt::WA_DeleteOnClose);
        const QIcon icon = appIcon();
        if (!icon.isNull()) m_aboutBox->setIconPixmap(icon.pixmap(96, 96));
        m_aboutBox->setTextInteractionFlags(Qt::TextSelectableByMouse);
    }
    m_aboutBox->setText(aboutHtml());
    m_aboutBox->open();
}

}  // namespace r18::ui
