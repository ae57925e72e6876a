// AtlasInsight: "what does this channel detect" — a folder's channel atlas (core's
// buildChannelAtlas: for every channel of every layer, the images of the folder that excite it
// most, cached on disk by core), built in fp32 on a thread of its own with progress and cancel,
// and the receptive-field patches of a channel's top images, decoded on a second thread. An
// atlas belongs to the weights it was built with: other weights hide it.
#pragma once

#include <QString>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/channel_atlas.h"
#include "core/model/model.h"
#include "ui/insight/insight.h"
#include "ui/views/explain_views.h"

namespace r18::ui {

// The top images of `layer`'s `channel` as their receptive-field crops (decoding each file with
// the model's preprocessing). Files that can no longer be read give a null image.
std::vector<ChannelPatch> channelPatches(const ChannelAtlas& atlas, const std::string& layer,
                                         int64_t channel, const Model& model);

class AtlasInsight : public Insight {
    Q_OBJECT

public:
    explicit AtlasInsight(Session* session, QObject* parent = nullptr);

    // Builds (or loads from its cache) the atlas of `folder` for the current model.
    void build(const QString& folder);
    bool building() const { return busy(); }
    const QString& folder() const { return m_folder; }  // the last asked for
    // The atlas for the weights on screen (null if none, or built for other weights).
    std::shared_ptr<const ChannelAtlas> atlas() const;

    // The receptive-field patches of a channel's top images, decoded off the GUI thread:
    // patchesShown follows; patches() is null until then.
    void requestPatches(const QString& layer, int64_t channel);
    std::shared_ptr<const std::vector<ChannelPatch>> patches(const QString& layer,
                                                             int64_t channel) const;

signals:
    void patchesShown(const QString& layer, qint64 channel);

private:
    using PatchKey = std::pair<std::string, int64_t>;

    QString m_folder;
    std::shared_ptr<const ChannelAtlas> m_atlas;
    ComputedFor m_atlasFor;  // the weights it was built with
    JobThread* m_patchJobs = nullptr;
    KeyedCache<PatchKey, std::vector<ChannelPatch>> m_patches{256};  // of m_atlas
};

}  // namespace r18::ui
