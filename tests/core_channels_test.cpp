// What does this channel detect: receptive fields from the NetworkSpec (against the published
// ResNet18 figures and against where gradients actually reach), and the channel atlas of a
// folder against PyTorch's per-image maxima (tests/fixtures/make_insight.py), with its cache.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "core/channel_atlas.h"
#include "core/engine/backprop.h"
#include "core/engine/engine.h"
#include "core/error.h"
#include "core/feature_vis.h"
#include "core/formats/npy.h"
#include "core/model/receptive_field.h"
#include "tests/test_util.h"

namespace r18 {
namespace {

namespace fs = std::filesystem;
using test::fixture;

std::shared_ptr<const Model> seededModel() {
    static const std::shared_ptr<const Model> m = [] {
        ModelOptions o;
        o.weightsPath = fixture("weights/resnet18_seeded.pth");
        return Model::open(o);
    }();
    return m;
}

Engine& engine() {
    static Engine e(seededModel()->spec(), seededModel()->weights());
    return e;
}

TEST(ReceptiveFields, SizesAndJumpsOfResNet18) {
    const ReceptiveFields rf(seededModel()->spec());
    const std::vector<std::tuple<const char*, int64_t, int64_t>> expected = {
        {"conv1", 7, 2},       {"maxpool", 11, 4},    {"layer1.0.conv1", 19, 4},
        {"layer1.0", 27, 4},   {"layer1.1", 43, 4},   {"layer2.1", 99, 8},
        {"layer3.1", 211, 16}, {"layer4.1", 435, 32}, {"layer2.0.downsample", 43, 8},
        {"avgpool", 224, 224}, {"fc", 224, 224}};
    for (const auto& [node, size, jump] : expected) {
        EXPECT_EQ(rf.size(node), size) << node;
        EXPECT_EQ(rf.jump(node), jump) << node;
    }
    EXPECT_EQ(rf.box("conv1", 0, 0), (PixelBox{0, 0, 4, 4}));  // -3 … 3, clipped
    EXPECT_EQ(rf.box("conv1", 10, 20), (PixelBox{37, 17, 44, 24}));
    EXPECT_EQ(rf.box("layer4.1", 3, 3), (PixelBox{0, 0, 224, 224}));
    EXPECT_EQ(rf.box("fc", 0, 0), (PixelBox{0, 0, 224, 224}));
    EXPECT_THROW(rf.box("layer9", 0, 0), EngineError);
}

// The gradient of one position w.r.t. the input is zero outside its receptive field, and reaches
// close to its edges (ReLU and max-pool masks may leave the outermost pixels at zero). Direct
// convolutions compute exact zeros where nothing reaches; with the default algorithm (Winograd on
// AVX-512) the same holds up to rounding residues below 1e-6 of the largest value.
TEST(ReceptiveFields, ContainWhereTheGradientOfAPositionReaches) {
    const Model& m = *seededModel();
    const ReceptiveFields rf(m.spec());
    Backprop bp(m.spec(), m.weights(), 1, ConvAlgorithm::Direct);
    Backprop byDefault(m.spec(), m.weights(), 1);
    const Tensor input = readNpy(fixture("ref/dog/input.npy"));
    for (const auto& [node, y, x] : std::vector<std::tuple<std::string, int64_t, int64_t>>{
             {"layer1.0", 20, 30}, {"layer2.0.conv1", 5, 9}, {"layer2.1", 0, 27}}) {
        BackwardRequest request;
        request.from = node;
        request.seedBeforeRelu = true;
        const std::vector<int64_t> shape = m.spec().node(node).outShape;
        request.seed = Tensor({1, shape[0], shape[1], shape[2]});
        for (int64_t c = 0; c < shape[0]; ++c)
            request.seed.data[static_cast<size_t>((c * shape[1] + y) * shape[2] + x)] = 1.0F;
        const RunResult r = engine().run(input, bp.neededTaps(node, "input", true));
        const Tensor g = bp.backward(r.taps, request);
        PixelBox reach{224, 224, 0, 0};
        for (int64_t c = 0; c < 3; ++c)
            for (int64_t yy = 0; yy < 224; ++yy)
                for (int64_t xx = 0; xx < 224; ++xx)
                    if (g.data[static_cast<size_t>((c * 224 + yy) * 224 + xx)] != 0.0F) {
                        reach.x0 = std::min(reach.x0, xx);
                        reach.y0 = std::min(reach.y0, yy);
                        reach.x1 = std::max(reach.x1, xx + 1);
                        reach.y1 = std::max(reach.y1, yy + 1);
                    }
        const PixelBox box = rf.box(node, y, x);
        const Tensor g2 = byDefault.backward(r.taps, request);
        float inside = 0.0F, outside = 0.0F;
        for (int64_t c = 0; c < 3; ++c)
            for (int64_t yy = 0; yy < 224; ++yy)
                for (int64_t xx = 0; xx < 224; ++xx) {
                    const float v =
                        std::fabs(g2.data[static_cast<size_t>((c * 224 + yy) * 224 + xx)]);
                    const bool in = xx >= box.x0 && xx < box.x1 && yy >= box.y0 && yy < box.y1;
                    float& m2 = in ? inside : outside;
                    m2 = std::max(m2, v);
                }
        EXPECT_GT(inside, 0.0F) << node;
        EXPECT_LE(outside, 1e-6F * inside) << node << " (default algorithm)";
        EXPECT_GE(reach.x0, box.x0) << node;
        EXPECT_GE(reach.y0, box.y0) << node;
        EXPECT_LE(reach.x1, box.x1) << node;
        EXPECT_LE(reach.y1, box.y1) << node;
        EXPECT_LE(reach.x0 - box.x0 + box.x1 - reach.x1, 8) << node;
        EXPECT_LE(reach.y0 - box.y0 + box.y1 - reach.y1, 8) << node;
        std::printf(
            "[ channels ] %s (%lld,%lld): field x %lld…%lld y %lld…%lld, gradient reaches "
            "x %lld…%lld y %lld…%lld\n",
            node.c_str(), static_cast<long long>(y), static_cast<long long>(x),
            static_cast<long long>(box.x0), static_cast<long long>(box.x1),
            static_cast<long long>(box.y0), static_cast<long long>(box.y1),
            static_cast<long long>(reach.x0), static_cast<long long>(reach.x1),
            static_cast<long long>(reach.y0), static_cast<long long>(reach.y1));
    }
}

std::vector<std::string> referenceFiles() {
    std::vector<std::string> files;
    std::ifstream in(fixture("insight/atlas/files.txt"));
    for (std::string line; std::getline(in, line);) files.push_back(line);
    return files;
}

// Every layer and channel: the top-K images are PyTorch's, in PyTorch's order (neighbours whose
// maxima agree within 1e-5 of the layer's largest may swap), with PyTorch's value and position.
TEST(ChannelAtlas, TopImagesOfEveryChannelAreTorchs) {
    const std::string cache = test::tempDir();
    AtlasOptions options;
    options.topK = 4;
    options.cacheDir = cache;
    const std::optional<ChannelAtlas> atlas =
        buildChannelAtlas(seededModel(), fixture("insight/folder"), options);
    ASSERT_TRUE(atlas);
    EXPECT_FALSE(atlas->fromCache);
    const std::vector<std::string> files = referenceFiles();
    ASSERT_EQ(atlas->files.size(), files.size());
    for (size_t i = 0; i < files.size(); ++i)
        EXPECT_EQ(fs::path(atlas->files[i]).filename().string(), files[i]);
    EXPECT_TRUE(atlas->skipped.empty());
    EXPECT_EQ(atlas->layers.size(), seededModel()->spec().tapNames().size() - 1);  // no input

    int channels = 0, swaps = 0, moved = 0;
    for (const auto& [name, layer] : atlas->layers) {
        const Tensor max = readNpy(fixture("insight/atlas/" + name + "_max.npy"));
        const Tensor where = readNpy(fixture("insight/atlas/" + name + "_argmax.npy"));
        const auto images = static_cast<size_t>(max.dims[0]);
        const auto count = static_cast<size_t>(max.dims[1]);
        ASSERT_EQ(layer.channels.size(), count) << name;
        const float top = std::max(1e-6F, *std::max_element(max.data.begin(), max.data.end()));
        for (size_t c = 0; c < count; ++c) {
            std::vector<size_t> order(images);
            std::iota(order.begin(), order.end(), 0U);
            std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
                return max.data[a * count + c] > max.data[b * count + c];
            });
            const std::vector<ChannelHit>& hits = layer.channels[c];
            ASSERT_EQ(hits.size(), 4u) << name << " channel " << c;
            for (size_t k = 0; k < hits.size(); ++k) {
                const size_t want = order[k];
                const auto got = static_cast<size_t>(hits[k].file);
                const float ref = max.data[got * count + c];
                EXPECT_NEAR(hits[k].value, ref, 1e-5F * top) << name << " channel " << c;
                if (got != want) {
                    EXPECT_NEAR(ref, max.data[want * count + c], 1e-5F * top)
                        << name << " channel " << c << " rank " << k << ": " << files[got]
                        << " instead of " << files[want];
                    ++swaps;
                }
                const auto flat = static_cast<int64_t>(where.data[got * count + c]);
                if (flat != hits[k].y * layer.width + hits[k].x) ++moved;
            }
            ++channels;
        }
    }
    std::printf(
        "[ channels ] %d channels over %zu layers: %d near-tie swaps, %d maxima found "
        "at another position than PyTorch's\n",
        channels, atlas->layers.size(), swaps, moved);
    EXPECT_LE(moved, channels / 100) << "positions of the maxima";

    // A hit's box is its position's receptive field.
    const ReceptiveFields rf(seededModel()->spec());
    const ChannelHit& hit = atlas->layer("layer2.0.conv1").channels[5][0];
    EXPECT_EQ(hit.box, rf.box("layer2.0.conv1", hit.y, hit.x));
    EXPECT_THROW(atlas->layer("layer2.0.conv2"), EngineError);
    fs::remove_all(cache);
}

TEST(ChannelAtlas, CachedPerModelAndFolderAndRecomputedWhenAFileChanges) {
    const std::string dir = test::tempDir();
    const std::string folder = dir + "/photos";
    fs::create_directories(folder + "/sub");
    fs::copy_file(fixture("insight/folder/dog.jpg"), folder + "/dog.jpg");
    fs::copy_file(fixture("insight/folder/kite.jpg"), folder + "/sub/kite.jpg");
    std::ofstream(folder + "/broken.png") << "not a PNG";
    AtlasOptions options;
    options.topK = 2;
    options.cacheDir = dir + "/cache";

    int lastDone = 0;
    const ChannelAtlas first =
        *buildChannelAtlas(seededModel(), folder, options, [&](int done, int) {
            lastDone = done;
            return true;
        });
    EXPECT_EQ(lastDone, 3);
    EXPECT_FALSE(first.fromCache);
    ASSERT_EQ(first.files.size(), 2u);
    EXPECT_EQ(first.files[1], folder + "/sub/kite.jpg");
    ASSERT_EQ(first.skipped.size(), 1u);
    EXPECT_NE(first.skipped[0].find("broken.png"), std::string::npos) << first.skipped[0];
    const std::string path = atlasCachePath(*seededModel(), folder, options);
    EXPECT_TRUE(fs::exists(path));

    const ChannelAtlas second = *buildChannelAtlas(seededModel(), folder, options);
    EXPECT_TRUE(second.fromCache);
    EXPECT_EQ(second.files, first.files);
    EXPECT_EQ(second.skipped, first.skipped);
    for (const auto& [name, layer] : first.layers) {
        const LayerAtlas& again = second.layer(name);
        ASSERT_EQ(again.channels.size(), layer.channels.size());
        for (size_t c = 0; c < layer.channels.size(); ++c)
            for (size_t k = 0; k < layer.channels[c].size(); ++k) {
                const ChannelHit& a = layer.channels[c][k];
                const ChannelHit& b = again.channels[c][k];
                ASSERT_TRUE(a.file == b.file && a.value == b.value && a.y == b.y && a.x == b.x &&
                            a.box == b.box)
                    << name << " channel " << c;
            }
    }

    // Another K, or a touched file, is another atlas.
    options.topK = 3;
    EXPECT_FALSE(buildChannelAtlas(seededModel(), folder, options)->fromCache);
    options.topK = 2;
    fs::last_write_time(folder + "/dog.jpg",
                        fs::last_write_time(folder + "/dog.jpg") + std::chrono::seconds(5));
    EXPECT_NE(atlasCachePath(*seededModel(), folder, options), path);
    EXPECT_FALSE(buildChannelAtlas(seededModel(), folder, options)->fromCache);

    // A damaged cache file is recomputed, not trusted.
    std::ofstream(atlasCachePath(*seededModel(), folder, options)) << "{\"version\": 1, \"key\": ";
    EXPECT_FALSE(buildChannelAtlas(seededModel(), folder, options)->fromCache);
    EXPECT_TRUE(buildChannelAtlas(seededModel(), folder, options)->fromCache);

    // Cancelled: nothing returned, nothing cached.
    options.topK = 5;
    EXPECT_FALSE(buildChannelAtlas(seededModel(), folder, options, [](int, int) { return false; }));
    EXPECT_FALSE(fs::exists(atlasCachePath(*seededModel(), folder, options)));

    EXPECT_THROW(buildChannelAtlas(seededModel(), dir + "/cache", options),
                 ImageError);  // no images
    options.topK = 0;
    EXPECT_THROW(buildChannelAtlas(seededModel(), folder, options), EngineError);
    fs::remove_all(dir);
}

// Feature visualisation's bookkeeping (its 3×-the-best-photo result is app_insight_test's):
// seeded, cached, cancellable, and checked arguments.
TEST(FeatureVisualizer, SeededCachedCancellable) {
    const std::string cache = test::tempDir();
    FeatureVisualizer fv(seededModel());
    VisualizeOptions o;
    o.layer = "layer1.1";
    o.channel = 3;
    o.steps = 3;
    o.cacheDir = cache;
    int calls = 0;
    const Visualization a = *fv.visualize(o, [&](int done, int total) {
        EXPECT_EQ(total, 3);
        EXPECT_EQ(done, ++calls);
        return true;
    });
    EXPECT_EQ(calls, 3);
    EXPECT_FALSE(a.fromCache);
    ASSERT_EQ(a.objective.size(), 3u);
    EXPECT_EQ(a.input.dims, (std::vector<int64_t>{1, 3, 224, 224}));
    EXPECT_EQ(a.rgb.cols, 224);
    EXPECT_EQ(a.rgb.type(), CV_8UC3);
    EXPECT_FLOAT_EQ(a.activation, fv.channelMean(a.input, "layer1.1", 3));
    const Visualization cached = *fv.visualize(o);
    EXPECT_TRUE(cached.fromCache);
    EXPECT_EQ(cached.input.data, a.input.data);
    o.useCache = false;
    const Visualization again = *fv.visualize(o);
    EXPECT_EQ(again.input.data, a.input.data) << "same seed, same picture";
    o.seed = 1;
    EXPECT_NE(fv.visualize(o)->input.data, a.input.data);
    EXPECT_FALSE(fv.visualize(o, [](int, int) { return false; }));
    o.layer = "fc";
    o.channel = 258;
    o.steps = 2;
    EXPECT_EQ(fv.visualize(o)->objective.size(), 2u);
    o.channel = 1000;
    EXPECT_THROW(fv.visualize(o), EngineError);
    o.layer = "input";
    o.channel = 0;
    EXPECT_THROW(fv.visualize(o), EngineError);
    o.layer = "layer2.0.conv2";  // fused into the add: no output of its own
    EXPECT_THROW(fv.visualize(o), EngineError);
    fs::remove_all(cache);
}

}  // namespace
}  // namespace r18
