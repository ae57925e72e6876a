#include "ui/insight/atlas_insight.h"

#include <opencv2/core.hpp>

#include "core/error.h"
#include "core/media/image_io.h"
#include "core/media/preprocess.h"
#include "ui/session/image_convert.h"
#include "ui/session/session.h"

namespace r18::ui {

std::vector<ChannelPatch> channelPatches(const ChannelAtlas& atlas, const std::string& layer,
                                         int64_t channel, const Model& model) {
    const LayerAtlas& l = atlas.layer(layer);
    std::vector<ChannelPatch> patches;
    if (channel < 0 || channel >= static_cast<int64_t>(l.channels.size())) return patches;
    for (const ChannelHit& hit : l.channels[static_cast<size_t>(channel)]) {
        ChannelPatch p;
        p.file = QString::fromStdString(atlas.files.at(static_cast<size_t>(hit.file)));
        p.value = hit.value;
        p.box = hit.box;
        try {
            const cv::Mat crop =
                resizeAndCropDecoded(readImage(p.file.toStdString()), model.preprocess());
            const cv::Rect r(static_cast<int>(hit.box.x0), static_cast<int>(hit.box.y0),
                             static_cast<int>(hit.box.x1 - hit.box.x0),
                             static_cast<int>(hit.box.y1 - hit.box.y0));
            if ((r & cv::Rect(0, 0, crop.cols, crop.rows)) == r && !r.empty())
                p.image = rgbImage(crop(r).clone());
        } catch (const Error&) {
            // The file changed or went away since the atlas was built: an empty tile.
        }
        patches.push_back(std::move(p));
    }
    return patches;
}

AtlasInsight::AtlasInsight(Session* session, QObject* parent)
    : Insight(session, QStringLiteral("atlas"), parent),
      m_patchJobs(new JobThread(QStringLiteral("patches"), this)) {
    connect(session, &Session::engineChanged, this, &AtlasInsight::shown);  // other weights?
}

void AtlasInsight::build(const QString& folder) {
    if (!session()->hasModel()) return;
    m_folder = folder;
    ComputedFor weights;
    weights.weightsId = session()->onScreen().weightsId;
    AtlasOptions options;
    options.threads = session()->engine().threads;
    submit<ChannelAtlas>(
        [model = session()->engine().model, folder = folder.toStdString(),
         options](const ProgressFn& progress) {
            return buildChannelAtlas(model, folder, options, progress);
        },
        [this, weights](const std::shared_ptr<const ChannelAtlas>& atlas) {
            m_atlas = atlas;
            m_atlasFor = weights;
            m_patches.clear();
        });
}

std::shared_ptr<const ChannelAtlas> AtlasInsight::atlas() const {
    return m_atlas && session()->stillShows(m_atlasFor) ? m_atlas : nullptr;
}

void AtlasInsight::requestPatches(const QString& layer, int64_t channel) {
    const std::shared_ptr<const ChannelAtlas> shown = atlas();
    const PatchKey key{layer.toStdString(), channel};
    if (!shown || !shown->layers.count(key.first) || m_patches.find(m_atlasFor, key) ||
        !m_patches.ask(m_atlasFor, key))
        return;
    m_patchJobs->submit(
        [this, shown, model = session()->engine().model, key](const JobThread::Context& ctx) {
            auto patches = std::make_shared<std::vector<ChannelPatch>>();
            try {
                *patches = channelPatches(*shown, key.first, key.second, *model);
            } catch (const std::exception&) {
                return;  // a layer the atlas does not have: nothing to show
            }
            ctx.deliver([this, shown, key, patches] {
                if (shown != m_atlas) return;  // another folder's
                m_patches.store(m_atlasFor, key, patches);
                emit patchesShown(QString::fromStdString(key.first), key.second);
            });
        });
}

std::shared_ptr<const std::vector<ChannelPatch>> AtlasInsight::patches(const QString& layer,
                                                                       int64_t channel) const {
    if (!atlas()) return nullptr;
    return m_patches.find(m_atlasFor, {layer.toStdString(), channel});
}

}  // namespace r18::ui
