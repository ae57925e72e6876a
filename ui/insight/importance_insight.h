// ImportanceInsight: which channels of the selected node the decision leans on — for the image on
// screen and a class (the heat map's: the top-1, or the prediction clicked), each channel's effect
// on the class's logit when it alone is switched off (core's ChannelImportance: one full pass,
// then the network from the node onwards, 16 channels per run). Computed on its own thread at the
// window's precision and threads, with the channels the window has switched off, while wanted
// (its panel is open), for still images and frozen frames.
#pragma once

#include <memory>
#include <string>

#include "core/channel_importance.h"
#include "ui/insight/insight.h"

namespace r18::ui {

// What one importance was asked for: the node and the class (resolved: never "the top-1").
struct ImportanceKey {
    std::string node;
    int64_t classIndex = 0;
    bool operator==(const ImportanceKey& o) const {
        return node == o.node && classIndex == o.classIndex;
    }
};

using ImportancePtr = std::shared_ptr<const ChannelImportanceResult>;

class ImportanceRunner;

class ImportanceInsight : public Insight {
    Q_OBJECT

public:
    explicit ImportanceInsight(Session* session, QObject* parent = nullptr);
    ~ImportanceInsight() override;

    // Computed only while wanted; unwanted stops the running job.
    void setWanted(bool wanted);
    bool wanted() const { return m_wanted; }
    // The importance for the image, node and class on screen, or null.
    ImportancePtr importance() const;
    // What it is computed for now: the selected node and the heat map's class (top-1 resolved);
    // an empty node when nothing is on screen to compute for.
    ImportanceKey key() const;
    // Asks again for what was cancelled.
    void compute();

private:
    void update();

    bool m_wanted = false;
    std::shared_ptr<ImportanceRunner> m_runner;  // used on the job thread only
    KeyedCache<ImportanceKey, ChannelImportanceResult> m_results{32};
};

}  // namespace r18::ui
