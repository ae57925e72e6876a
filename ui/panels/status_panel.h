// StatusPanel: what the window says about itself — the status bar (what is happening now:
// opening, loading, live figures or the last image's timings; which channels are switched off;
// the engine; the model and where
// its weights, labels and preprocessing came from) and the two banners (weights that are not
// the official ImageNet file; a live source that stopped with an error, dismissable).
// Everything is derived from the Session's state each time it changes, so no message outlives
// the situation it describes.
#pragma once

#include <QObject>
#include <QString>

class QLabel;
class QStatusBar;
class QTimer;
class QToolButton;
class QWidget;

namespace r18::ui {

class Session;

class StatusPanel : public QObject {
    Q_OBJECT

public:
    StatusPanel(Session* session, QStatusBar* bar, QObject* parent = nullptr);

    QWidget* trustBanner() const;
    QWidget* liveBanner() const { return m_liveBanner; }
    QString bannerText() const;      // the trust banner's text, "" when hidden
    QString liveBannerText() const;  // "" when hidden
    QString activityText() const;    // the status bar's left part
    QString engineText() const;
    QString modelText() const;
    QString ablationText() const;  // "" while every channel is on
    // A short message that goes away by itself ("Saved …", "Predictions copied."): shown in the
    // left part in place of the activity for `ms`, then the activity comes back.
    void flash(const QString& message, int ms = 4000);
    QString flashText() const;  // "" when none is showing

public slots:
    void refresh();

private:
    void showLiveError(const QString& reason);

    Session* m_session;
    QLabel* m_activity = nullptr;
    QLabel* m_engine = nullptr;
    QLabel* m_model = nullptr;
    QLabel* m_ablations = nullptr;  // which channels are switched off, in red; hidden if none
    QLabel* m_banner = nullptr;
    QWidget* m_liveBanner = nullptr;
    QLabel* m_liveText = nullptr;
    QTimer* m_liveTimer = nullptr;
    QTimer* m_flashTimer = nullptr;
    QString m_flash;
};

}  // namespace r18::ui
