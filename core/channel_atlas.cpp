#include "core/channel_atlas.h"

#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <atomic>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/batch.h"
#include "core/error.h"
#include "core/files.h"
#include "core/folder_job.h"
#include "core/formats/sha256.h"

namespace r18 {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int kCacheVersion = 1;

std::string absoluteFolder(const std::string& folder) {
    std::error_code ec;
    const fs::path p = fs::weakly_canonical(fs::absolute(folder), ec);
    return ec ? fs::absolute(folder).lexically_normal().string() : p.string();
}

std::string relativeTo(const std::string& path, const std::string& folder) {
    return path.size() > folder.size() && path.compare(0, folder.size(), folder) == 0
               ? path.substr(folder.size() + 1)
               : path;
}

// The cache key: everything the atlas depends on.
std::string cacheKey(const Model& model, const AtlasOptions& options, const std::string& absolute,
                     const std::string& folder, const std::vector<std::string>& files) {
    std::ostringstream s;
    s << "channel atlas v" << kCacheVersion << "\n"
      << (model.weights().sha256.empty() ? "untrained demo " + model.spec().archName()
                                         : model.weights().sha256)
      << "\n"
      << precisionName(options.precision) << "\n"
      << absolute << "\n"
      << options.topK << "\n";
    for (const ChannelAblation& a : options.ablations) s << "off " << ablationText(a) << "\n";
    for (const std::string& f : files) {
        std::error_code ec;
        const auto size = fs::file_size(f, ec);
        const auto mtime = fs::last_write_time(f, ec).time_since_epoch().count();
        s << relativeTo(f, folder) << "\t" << size << "\t" << mtime << "\n";
    }
    const std::string text = s.str();
    return sha256Hex(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

// The hits of one tap on one image, merged into each channel's K best.
void addImage(LayerAtlas& layer, const Tensor& tap, int file, int topK) {
    const auto channels = static_cast<size_t>(tap.dims[1]);
    const int64_t h = tap.dims.size() == 4 ? tap.dims[2] : 1;
    const int64_t w = tap.dims.size() == 4 ? tap.dims[3] : 1;
    const auto plane = static_cast<size_t>(h * w);
    if (layer.channels.empty()) {
        layer.channels.resize(channels);
        layer.height = h;
        layer.width = w;
    }
    for (size_t c = 0; c < channels; ++c) {
        const float* v = tap.ptr() + c * plane;
        const size_t at = static_cast<size_t>(std::max_element(v, v + plane) - v);
        std::vector<ChannelHit>& hits = layer.channels[c];
        if (static_cast<int>(hits.size()) == topK && !(v[at] > hits.back().value)) continue;
        ChannelHit hit;
        hit.file = file;
        hit.value = v[at];
        hit.y = static_cast<int64_t>(at) / w;
        hit.x = static_cast<int64_t>(at) % w;
        // After every hit with a value ≥ this one: earlier files win ties.
        const auto pos = std::upper_bound(
            hits.begin(), hits.end(), hit,
            [](const ChannelHit& a, const ChannelHit& b) { return a.value > b.value; });
        hits.insert(pos, hit);
        if (static_cast<int>(hits.size()) > topK) hits.pop_back();
    }
}

void fillBoxes(ChannelAtlas& atlas, const ReceptiveFields& fields) {
    for (auto& [name, layer] : atlas.layers)
        for (auto& hits : layer.channels)
            for (ChannelHit& hit : hits) hit.box = fields.box(name, hit.y, hit.x);
}

json toCacheJson(const ChannelAtlas& atlas, const std::string& key) {
    json j;
    j["version"] = kCacheVersion;
    j["key"] = key;
    j["top"] = atlas.topK;
    json files = json::array();
    for (const std::string& f : atlas.files) files.push_back(relativeTo(f, atlas.folder));
    j["files"] = files;
    j["skipped"] = atlas.skipped;
    json layers = json::object();
    for (const auto& [name, layer] : atlas.layers) {
        json channels = json::array();
        for (const auto& hits : layer.channels) {
            json list = json::array();
            for (const ChannelHit& h : hits) list.push_back({h.file, h.value, h.y, h.x});
            channels.push_back(std::move(list));
        }
        layers[name] = {{"height", layer.height}, {"width", layer.width}, {"channels", channels}};
    }
    j["layers"] = layers;
    return j;
}

// The cached atlas, or nullopt when there is none or it does not match (a damaged or foreign
// file is simply recomputed).
std::optional<ChannelAtlas> readCache(const std::string& path, const std::string& key,
                                      const std::string& folder) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    try {
        const json j = json::parse(in);
        if (j.at("version").get<int>() != kCacheVersion || j.at("key").get<std::string>() != key)
            return std::nullopt;
        ChannelAtlas atlas;
        atlas.folder = folder;
        atlas.topK = j.at("top").get<int>();
        for (const auto& f : j.at("files"))
            atlas.files.push_back(folder + "/" + f.get<std::string>());
        atlas.skipped = j.at("skipped").get<std::vector<std::string>>();
        const int files = static_cast<int>(atlas.files.size());
        for (const auto& [name, lj] : j.at("layers").items()) {
            LayerAtlas& layer = atlas.layers[name];
            layer.layer = name;
            layer.height = lj.at("height").get<int64_t>();
            layer.width = lj.at("width").get<int64_t>();
            for (const auto& cj : lj.at("channels")) {
                std::vector<ChannelHit>& hits = layer.channels.emplace_back();
                for (const auto& hj : cj) {
                    ChannelHit h;
                    h.file = hj.at(0).get<int>();
                    h.value = hj.at(1).get<float>();
                    h.y = hj.at(2).get<int64_t>();
                    h.x = hj.at(3).get<int64_t>();
                    if (h.file < 0 || h.file >= files || h.y < 0 || h.y >= layer.height ||
                        h.x < 0 || h.x >= layer.width)
                        return std::nullopt;
                    hits.push_back(h);
                }
            }
        }
        atlas.fromCache = true;
        return atlas;
    } catch (const json::exception&) {
        return std::nullopt;
    }
}

// Replaced whole (AtomicFile), so a reader never sees half a cache.
void writeCache(const std::string& path, const json& j) {
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    try {
        writeFileChecked(path, j.dump(-1, ' ', false, json::error_handler_t::replace));
    } catch (const Error&) {
        // an unwritable cache only costs time
    }
}

struct FolderFiles {
    std::string folder;    // as given, without a trailing slash
    std::string absolute;  // for the cache key
    std::vector<std::string> files;
};

FolderFiles listFolder(const std::string& folder) {
    FolderFiles f;
    f.folder = folder;
    while (f.folder.size() > 1 && f.folder.back() == '/') f.folder.pop_back();
    f.absolute = absoluteFolder(f.folder);
    f.files = findImages(f.folder);
    if (f.files.empty()) throw ImageError(folder + ": no images in this folder.");
    return f;
}

std::string cachePathFor(const Model& model, const FolderFiles& f, const AtlasOptions& options) {
    if (options.topK < 1) throw EngineError("The number of top images must be at least 1.");
    const std::string dir = options.cacheDir.empty() ? defaultAtlasCacheDir() : options.cacheDir;
    return dir + "/" + cacheKey(model, options, f.absolute, f.folder, f.files) + ".json";
}

}  // namespace

const LayerAtlas& ChannelAtlas::layer(const std::string& name) const {
    const auto it = layers.find(name);
    if (it != layers.end()) return it->second;
    std::string valid;
    for (const auto& [n, l] : layers) valid += (valid.empty() ? "" : ", ") + n;
    throw EngineError("The channel atlas has no layer '" + name + "'; it has " + valid + ".");
}

std::string defaultAtlasCacheDir() {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    if (xdg && *xdg) return std::string(xdg) + "/resnet18-explorer/channels";
    const char* home = std::getenv("HOME");
    return std::string(home && *home ? home : ".") + "/.cache/resnet18-explorer/channels";
}

std::string atlasCachePath(const Model& model, const std::string& folder,
                           const AtlasOptions& options) {
    return cachePathFor(model, listFolder(folder), options);
}

std::optional<ChannelAtlas> buildChannelAtlas(const std::shared_ptr<const Model>& model,
                                              const std::string& folder,
                                              const AtlasOptions& options,
                                              const ProgressFn& progress) {
    const FolderFiles f = listFolder(folder);
    const std::string cachePath = cachePathFor(*model, f, options);
    const std::string key = fs::path(cachePath).stem().string();
    const ReceptiveFields fields(model->spec());
    const int total = static_cast<int>(f.files.size());
    if (options.useCache) {
        if (std::optional<ChannelAtlas> cached = readCache(cachePath, key, f.folder)) {
            fillBoxes(*cached, fields);
            keepGoing(progress, total, total);
            return cached;
        }
    }
    ChannelAtlas atlas;
    atlas.folder = f.folder;
    atlas.topK = options.topK;
    FolderJobOptions jobOptions;
    jobOptions.precision = options.precision;
    jobOptions.calibration = options.calibration;
    jobOptions.threads = options.threads;
    jobOptions.topK = 1;
    jobOptions.ablations = options.ablations;
    for (const std::string& tap : model->spec().tapNames())
        if (tap != "input") jobOptions.taps.push_back(tap);
    FolderJob job(model, jobOptions);
    std::atomic<bool> cancel{false};
    int done = 0;
    job.run(
        f.files,
        [&](FolderResult&& r) {
            if (!r.row.error.empty()) {
                atlas.skipped.push_back(r.row.error);
            } else {
                const int file = static_cast<int>(atlas.files.size());
                atlas.files.push_back(r.row.file);
                for (const auto& [name, tap] : r.taps) {
                    LayerAtlas& layer = atlas.layers[name];
                    layer.layer = name;
                    addImage(layer, tap, file, options.topK);
                }
            }
            if (!keepGoing(progress, ++done, total)) cancel = true;
        },
        &cancel);
    if (cancel) return std::nullopt;
    fillBoxes(atlas, fields);
    if (options.useCache) writeCache(cachePath, toCacheJson(atlas, key));
    return atlas;
}

}  // namespace r18
