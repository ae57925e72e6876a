// ImageIntake: every way an image reaches the window — the Open dialog (several files at
// once), paste (an image, a file path or URL), drag and drop (files, URLs, pixels), the
// command line — and stepping through them: Previous/Next go through the files opened together,
// or through the opened image's folder, as image viewers do. Folders go to the folder job,
// weights files to the ModelController.
#pragma once

#include <QList>
#include <QObject>
#include <QStringList>
#include <QUrl>

class QMimeData;
class QNetworkAccessManager;
class QWidget;

namespace r18::ui {

// The Open dialog's filter: every suffix core decodes (imageSuffixes()), in both cases.
QString imageFileFilter();

class ModelController;
class Session;

class ImageIntake : public QObject {
    Q_OBJECT

public:
    ImageIntake(Session* session, ModelController* models, QWidget* window,
                QObject* parent = nullptr);

    void openDialog();
    // Opens the first of `paths`; Previous/Next step through them.
    void openFiles(const QStringList& paths);
    // Opens one file; Previous/Next step through the images of its folder.
    void openFile(const QString& path);
    void paste();
    // Handles what was dropped or pasted; false if there was nothing to open.
    bool openMime(const QMimeData* mime);
    void openUrls(const QList<QUrl>& urls);
    // Previous (-1) or next (+1) image; false at either end.
    bool step(int delta);
    const QStringList& sequence() const { return m_sequence; }
    int position() const { return m_position; }

signals:
    // A file the user opened (not one stepped to), for File → Open Recent.
    void opened(const QString& path);
    void folderDropped(const QString& folder);
    void message(const QString& text);
    void error(const QString& title, const QString& message);

private:
    void show(int position);

    Session* m_session;
    ModelController* m_models;
    QWidget* m_window;
    QNetworkAccessManager* m_network = nullptr;
    QStringList m_sequence;  // files to step through
    int m_position = -1;
    bool m_sequenceIsFolder = false;
};

}  // namespace r18::ui
