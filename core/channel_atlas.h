// What does this channel detect: for a folder of images, every tappable layer's every channel
// with the K images (default 9) that excite it most — DeepVis's "top-9 images" from the user's
// own data.
//
// For each image (found by findImages(), recursively, sorted by path) one forward pass through
// a FolderJob (decoding overlapped with inference) fills every tap; per layer and channel the
// image's score is the channel's maximum over spatial positions, found at the first such position
// in row-major order, and a channel keeps the K best images (ties: earlier file first). For avgpool
// and fc, a 1×1 "map" whose receptive field is the whole input. Images that cannot be read are
// skipped and listed.
//
// Cached per model and folder: the cache file (under cacheDir()) is named by the SHA-256 of the
// weights' SHA-256, the folder's absolute path, K and every image's relative path, size and
// modification time, so reopening an unchanged folder is instant and any change recomputes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/engine/ablation.h"
#include "core/engine/engine.h"
#include "core/model/model.h"
#include "core/model/receptive_field.h"
#include "core/progress.h"

namespace r18 {

struct ChannelHit {
    int file = -1;       // index into ChannelAtlas::files
    float value = 0.0F;  // the channel's maximum over positions on that image
    int64_t y = 0;       // where (row, column in the layer's map)
    int64_t x = 0;
    PixelBox box;  // the receptive field of (y, x) in the input crop, clipped to it
};

struct LayerAtlas {
    std::string layer;
    int64_t height = 1;  // the layer's map size (1×1 for avgpool and fc)
    int64_t width = 1;
    std::vector<std::vector<ChannelHit>> channels;  // per channel: best first, ≤ K hits
};

struct ChannelAtlas {
    std::string folder;
    int topK = 9;
    std::vector<std::string> files;            // images used, full paths, sorted
    std::vector<std::string> skipped;          // "path: reason" for images that could not be read
    std::map<std::string, LayerAtlas> layers;  // every tap except "input"
    bool fromCache = false;

    // Throws EngineError for a layer that is not in the atlas, listing those that are.
    const LayerAtlas& layer(const std::string& name) const;
};

struct AtlasOptions {
    int topK = 9;
    Precision precision = Precision::Fp32;
    std::shared_ptr<const Calibration> calibration;  // int8
    int threads = 0;                                 // inference threads; 0: all cores
    bool useCache = true;                            // read and write the cache
    std::string cacheDir;                            // empty: defaultAtlasCacheDir()
    std::vector<ChannelAblation> ablations;  // channels switched off in every image (part of
                                             // the cache key)
};

// $XDG_CACHE_HOME/resnet18-explorer/channels, or ~/.cache/resnet18-explorer/channels.
std::string defaultAtlasCacheDir();

// Builds (or loads from the cache) the atlas of `folder` for `model`. Progress counts images;
// returns nullopt if it asked to stop (nothing is cached then). Throws ImageError if `folder` is
// not a readable folder or holds no image, EngineError for topK < 1 or an engine that cannot be
// built (bf16 on a CPU without it, int8 without a calibration). Runs on the calling thread (and
// the FolderJob's decode threads).
std::optional<ChannelAtlas> buildChannelAtlas(const std::shared_ptr<const Model>& model,
                                              const std::string& folder,
                                              const AtlasOptions& options = {},
                                              const ProgressFn& progress = {});

// The cache file the atlas of `folder` would use (it may not exist yet). Throws like
// buildChannelAtlas().
std::string atlasCachePath(const Model& model, const std::string& folder,
                           const AtlasOptions& options = {});

}  // namespace r18
