// LiveController: the live-source controls — the source list (cameras found in /dev, recent
// video files and streams, "Video file or stream…" which asks at once), the camera resolution,
// and what the Live menu's actions do: start/stop, freeze, mirror, loop, snapshot. It changes
// the Session; the Session owns the capture thread.
#pragma once

#include <QObject>
#include <QString>

class QComboBox;
class QSettings;
class QWidget;

namespace r18::ui {

class Session;

class LiveController : public QObject {
    Q_OBJECT

public:
    LiveController(Session* session, QWidget* dialogParent, QObject* parent = nullptr);

    QComboBox* sourceBox() const { return m_sources; }
    QComboBox* resolutionBox() const { return m_resolution; }

    // The Live menu.
    void toggleRunning();  // Space: start the selected source, or stop
    void setFrozen(bool frozen);
    void setMirror(bool mirror);
    void setLoop(bool loop);
    bool mirror() const { return m_mirror; }
    bool loop() const { return m_loop; }
    // Saves the frame on screen to the Pictures folder; returns the path, "" with `error` set.
    QString snapshot(QString* error);
    // Asks for a video file or stream URL; starts it if one is given.
    void askForVideo();
    // Starts `spec` ("0", "/dev/video2", a file, a URL) now.
    void start(const QString& spec);

    void readSettings(const QSettings& settings);
    void writeSettings(QSettings& settings) const;

signals:
    void runningChanged(bool running);  // Start/Stop's text and icon follow
    void message(const QString& text);  // for the status bar

private:
    void refreshSources();
    void rememberVideo(const QString& spec);

    Session* m_session;
    QWidget* m_dialogParent;
    QComboBox* m_sources = nullptr;
    QComboBox* m_resolution = nullptr;
    QStringList m_recentVideos;
    bool m_mirror = false;
    bool m_loop = true;
    int m_lastIndex = 0;  // to go back to when the video dialog is cancelled
};

}  // namespace r18::ui
