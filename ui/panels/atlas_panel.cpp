#include "ui/panels/atlas_panel.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QVBoxLayout>

#include <algorithm>

#include "ui/insight/atlas_insight.h"
#include "ui/insight/visualize_insight.h"
#include "ui/session/image_convert.h"
#include "ui/session/session.h"
#include "ui/views/explain_views.h"
#include "ui/views/feature_map_view.h"

namespace r18::ui {

AtlasPanel::AtlasPanel(Session* session, FeatureMapView* features, QObject* parent)
    : QObject(parent),
      m_session(session),
      m_atlas(new AtlasInsight(session, this)),
      m_visualizer(new VisualizeInsight(session, this)),
      m_features(features) {
    m_folderButton = new QPushButton(tr("Folder…"));
    m_folderButton->setToolTip(
        tr("Find, for every channel of every layer, the images of a folder that excite it most"));
    m_cancel = new QPushButton(tr("Cancel"));
    m_progress = new QProgressBar;
    m_progress->setTextVisible(true);
    m_progress->setMaximumHeight(14);
    m_folder = new QLabel;
    m_folder->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_title = new QLabel;
    m_title->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_channelView = new AttributionView;
    m_patches = new PatchGrid;
    m_visual = new AttributionView;
    m_visualize = new QPushButton(tr("Visualise"));
    m_visualize->setToolTip(
        tr("Synthesise the image that excites this channel most (gradient ascent, seeded)"));
    m_visualizeProgress = new QProgressBar;
    m_visualizeProgress->setTextVisible(false);
    m_visualizeProgress->setMaximumHeight(10);
    m_status = new QLabel;
    m_status->setWordWrap(true);

    m_panel = new QWidget;
    auto* layout = new QVBoxLayout(m_panel);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(3);
    auto* top = new QHBoxLayout;
    top->addWidget(m_folderButton);
    top->addWidget(m_folder, 1);
    top->addWidget(m_progress, 1);
    top->addWidget(m_cancel);
    layout->addLayout(top);
    layout->addWidget(m_title);
    // The channel and its visualisation side by side, the top-9 patches under them.
    auto* views = new QGridLayout;
    views->setSpacing(4);
    auto* visual = new QVBoxLayout;
    visual->addWidget(m_visual, 1);
    auto* visualRow = new QHBoxLayout;
    visualRow->addWidget(m_visualizeProgress, 1);
    visualRow->addWidget(m_visualize);
    visual->addLayout(visualRow);
    views->addWidget(m_channelView, 0, 0);
    views->addLayout(visual, 0, 1);
    views->addWidget(m_patches, 1, 0, 1, 2);
    views->setRowStretch(0, 2);
    views->setRowStretch(1, 3);
    layout->addLayout(views, 1);
    layout->addWidget(m_status);

    connect(m_folderButton, &QPushButton::clicked, this, [this] { chooseFolder(); });
    connect(m_cancel, &QPushButton::clicked, m_atlas, &AtlasInsight::cancel);
    connect(m_visualize, &QPushButton::clicked, this, [this] {
        if (m_visualizer->busy())
            m_visualizer->cancel();
        else
            visualizeShown();
    });
    connect(m_features, &FeatureMapView::channelHovered, this, [this](int channel) {
        follow(channel >= 0 ? channel : m_features->selectedChannel());
    });
    connect(m_features, &FeatureMapView::channelSelected, this, [this](int channel) {
        if (m_features->hoveredChannel() < 0) follow(channel);
    });
    connect(m_session, &Session::tapShown, this, [this] { follow(m_features->selectedChannel()); });
    const auto atlasChanged = [this] {
        refreshAtlasState();
        refresh();
    };
    connect(m_atlas, &AtlasInsight::shown, this, atlasChanged);
    connect(m_atlas, &AtlasInsight::busyChanged, this, atlasChanged);
    connect(m_atlas, &AtlasInsight::progress, this, [this](int done, int total) {
        m_progress->setRange(0, std::max(total, 1));
        m_progress->setValue(done);
        m_progress->setFormat(tr("%1 of %2 images").arg(done).arg(total));
    });
    connect(m_atlas, &AtlasInsight::failed, this, [this](const QString& message) {
        m_status->setText(tr("Could not build the atlas: %1").arg(message));
    });
    connect(m_atlas, &AtlasInsight::patchesShown, this, [this](const QString& layer, qint64 c) {
        if (layer == m_layer && c == m_channel) refresh();
    });
    connect(m_visualizer, &VisualizeInsight::visualizationShown, this,
            [this](const QString& layer, qint64 c) {
                if (layer == m_layer && c == m_channel) refresh();
            });
    connect(m_visualizer, &VisualizeInsight::busyChanged, this, &AtlasPanel::refresh);
    connect(m_visualizer, &VisualizeInsight::progress, this, [this](int done, int total) {
        m_visualizeProgress->setRange(0, std::max(total, 1));
        m_visualizeProgress->setValue(done);
    });
    connect(m_visualizer, &VisualizeInsight::failed, this, [this](const QString& message) {
        m_status->setText(tr("Could not visualise the channel: %1").arg(message));
    });
    refreshAtlasState();
    refresh();
}

void AtlasPanel::chooseFolder(const QString& folder) {
    QString dir = folder;
    if (dir.isEmpty()) {
        dir = QFileDialog::getExistingDirectory(m_panel, tr("Folder of Images for the Atlas"),
                                                QSettings().value("atlas/folder").toString());
        if (dir.isEmpty()) return;
    }
    QSettings().setValue("atlas/folder", dir);
    m_status->clear();
    m_progress->setValue(0);
    m_progress->setFormat(tr("starting…"));
    m_atlas->build(dir);
}

void AtlasPanel::visualizeShown() {
    if (m_layer.isEmpty() || m_channel < 0 || m_layer == QLatin1String("input")) return;
    m_visualizeProgress->setValue(0);
    m_visualizer->visualize(m_layer, m_channel);
}

void AtlasPanel::follow(int channel) {
    const QString layer = m_features->node();
    if (layer == m_layer && channel == m_channel) return;
    m_layer = layer;
    m_channel = channel;
    refresh();
}

void AtlasPanel::refreshAtlasState() {
    const bool building = m_atlas->building();
    m_progress->setVisible(building);
    m_cancel->setVisible(building);
    const auto atlas = m_atlas->atlas();
    if (building) {
        m_folder->setText(QFileInfo(m_atlas->folder()).fileName());
    } else if (atlas) {
        m_folder->setText(tr("%1 · %2 images%3%4")
                              .arg(QFileInfo(QString::fromStdString(atlas->folder)).fileName())
                              .arg(atlas->files.size())
                              .arg(atlas->skipped.empty()
                                       ? QString()
                                       : tr(" · %1 skipped").arg(atlas->skipped.size()))
                              .arg(atlas->fromCache ? tr(" · from the cache") : QString()));
        m_folder->setToolTip(QString::fromStdString(atlas->folder));
    } else {
        m_folder->setText(tr("no folder yet"));
    }
}

void AtlasPanel::refresh() {
    const bool valid =
        !m_layer.isEmpty() && m_channel >= 0 && m_channel < m_features->channelCount();
    if (!valid) {
        m_title->setText(tr("Hover over or click a channel in the feature maps."));
        m_channelView->setMessage({});
        m_patches->setMessage({});
        m_visual->setMessage({});
        m_visualize->setEnabled(false);
        m_visualizeProgress->setVisible(false);
        return;
    }
    m_title->setText(tr("%1 · channel %2").arg(m_layer).arg(m_channel));
    const QImage channel = m_features->channelImage(m_channel);
    if (channel.width() > 1)
        m_channelView->setImages(channel, {}, 1.0);
    else
        m_channelView->setMessage(tr("value %1").arg(m_features->stats(m_channel).mean, 0, 'g', 4));

    const auto atlas = m_atlas->atlas();
    const std::string name = m_layer.toStdString();
    if (!atlas) {
        m_patches->setMessage(m_atlas->building()
                                  ? tr("Finding each channel's top images…")
                                  : tr("Choose a folder of your images (Folder…) to see which "
                                       "of them excite this channel most."));
    } else if (!atlas->layers.count(name)) {
        m_patches->setMessage(tr("The atlas has no channels for %1.").arg(m_layer));
    } else if (const auto patches = m_atlas->patches(m_layer, m_channel)) {
        m_patches->setPatches(*patches);
    } else {
        m_patches->setMessage(tr("Loading the top images…"));
        m_atlas->requestPatches(m_layer, m_channel);
    }

    const bool busy = m_visualizer->busy();
    m_visualize->setText(busy ? tr("Cancel") : tr("Visualise"));
    m_visualize->setEnabled(m_layer != QLatin1String("input"));
    m_visualizeProgress->setVisible(busy);
    if (const auto v = m_visualizer->visualization(m_layer, m_channel)) {
        m_visual->setImages(rgbImage(v->rgb), {}, 1.0);
        m_visual->setToolTip(tr("Mean activation %1 on this image%2")
                                 .arg(v->activation, 0, 'g', 4)
                                 .arg(v->fromCache ? tr(" (from the cache)") : QString()));
    } else {
        m_visual->setMessage(busy ? tr("Synthesising…")
                                  : tr("Visualise: the image that excites this channel most."));
        m_visual->setToolTip({});
    }
}

}  // namespace r18::ui
