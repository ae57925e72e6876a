// The insight verbs as a user runs them: explain, channels and visualize, their files, their
// exit codes, and their results against PyTorch's (tests/fixtures/make_insight.py).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "core/engine/engine.h"
#include "core/formats/npy.h"
#include "core/model/receptive_field.h"
#include "core/model/weights.h"
#include "tests/test_util.h"

namespace r18 {
namespace {

using test::fixture;

const std::string kCli = R18_CLI;

std::string weights() {
    return fixture("weights/resnet18_seeded.pth");
}

// Runs the CLI with an empty HOME and a fresh cache folder (or `cache`).
test::CommandResult cli(const std::string& args, const std::string& cache = test::tempDir()) {
    const std::string home = test::tempDir();
    return test::runCommand("env -u RESNET18_WEIGHTS HOME=" + home + " XDG_DATA_HOME=" + home +
                            " XDG_CACHE_HOME=" + cache + " " + kCli + " " + args);
}

double pearson(const std::vector<float>& a, const std::vector<float>& b) {
    const double ma = std::accumulate(a.begin(), a.end(), 0.0) / static_cast<double>(a.size());
    const double mb = std::accumulate(b.begin(), b.end(), 0.0) / static_cast<double>(b.size());
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / std::sqrt(saa * sbb);
}

TEST(InsightCli, ExplainSavesTheGradientAndAnOverlay) {
    const std::string dir = test::tempDir();
    const auto r = cli("explain --method gradient --weights " + weights() + " --save " + dir +
                       "/g.npy --overlay " + dir + "/g.png " + test::fixtureImage("dog").path);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("class   258 (Samoyed)"), std::string::npos) << r.out;  // top-1
    const Tensor got = readNpy(dir + "/g.npy");
    const Tensor ref = readNpy(fixture("insight/dog_gradient_258.npy"));
    ASSERT_EQ(got.dims, (std::vector<int64_t>{1, 3, 224, 224}));
    // One ReLU tie at float precision separates the two forward passes (core_attribution_test).
    EXPECT_GE(pearson(ref.data, got.data), 0.999);
    const cv::Mat png = cv::imread(dir + "/g.png");
    EXPECT_EQ(png.cols, 224);
    EXPECT_EQ(png.rows, 224);
}

TEST(InsightCli, ExplainGradCamAtTheLayerResolution) {
    const std::string dir = test::tempDir();
    const auto r = cli("explain --method gradcam --layer layer3 --class 22 --weights " + weights() +
                       " --save " + dir + "/gc.npy " + test::fixtureImage("dog").path);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const Tensor got = readNpy(dir + "/gc.npy");
    const Tensor ref = readNpy(fixture("ref/dog/gradcam_layer3_22.npy"));
    ASSERT_EQ(got.dims, (std::vector<int64_t>{1, 14, 14}));
    const float top = *std::max_element(ref.data.begin(), ref.data.end());
    for (size_t i = 0; i < ref.data.size(); ++i) EXPECT_NEAR(got.data[i], ref.data[i], 1e-3 * top);
}

TEST(InsightCli, ExplainIntegratedGradientsReportsCompleteness) {
    const auto r = cli("explain --method integrated-gradients --steps 4 --weights " + weights() +
                       " " + test::fixtureImage("dog").path);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("completeness  sum "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("4 backward passes"), std::string::npos) << r.out;
}

TEST(InsightCli, ExplainErrors) {
    const std::string dog = test::fixtureImage("dog").path;
    const std::string w = " --weights " + weights() + " ";
    EXPECT_EQ(cli("explain" + w + dog).exitCode, 2);  // no --method
    auto r = cli("explain --method lime" + w + dog);
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("integrated-gradients"), std::string::npos) << r.err;
    EXPECT_EQ(cli("explain --method gradient --class 1000" + w + dog).exitCode, 2);
    r = cli("explain --method cam --layer layer2" + w + dog);
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("gradcam"), std::string::npos) << r.err;
    r = cli("explain --method gradient" + w + fixture("bad/truncated.jpg"));
    EXPECT_EQ(r.exitCode, 3);
    EXPECT_NE(r.err.find("truncated.jpg"), std::string::npos) << r.err;
}

TEST(InsightCli, ChannelsWritesEveryChannelsTopImagesAndCachesThem) {
    const std::string dir = test::tempDir();
    const std::string cache = test::tempDir();
    const std::string folder = fixture("insight/folder");
    const std::string args = "channels --layer layer2.1 --top 3 --weights " + weights() +
                             " --json " + dir + "/c.json " + folder;
    const auto r = cli(args, cache);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("10 images"), std::string::npos) << r.err;
    const nlohmann::json j = nlohmann::json::parse(test::readText(dir + "/c.json"));
    EXPECT_EQ(j["layer"], "layer2.1");
    ASSERT_EQ(j["channels"].size(), 128u);

    // PyTorch's ranking of the folder's images for every channel, and its maxima.
    const Tensor max = readNpy(fixture("insight/atlas/layer2.1_max.npy"));  // [images, 128]
    std::vector<std::string> files;
    std::ifstream list(fixture("insight/atlas/files.txt"));
    for (std::string line; std::getline(list, line);) files.push_back(folder + "/" + line);
    const ReceptiveFields rf(inferSpec(loadWeights(weights())));
    const float top = *std::max_element(max.data.begin(), max.data.end());
    for (size_t c = 0; c < 128; ++c) {
        const nlohmann::json& ch = j["channels"][c];
        EXPECT_EQ(ch["channel"], c);
        ASSERT_EQ(ch["top"].size(), 3u);
        std::vector<size_t> order(files.size());
        std::iota(order.begin(), order.end(), 0U);
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            return max.data[a * 128 + c] > max.data[b * 128 + c];
        });
        for (size_t k = 0; k < 3; ++k) {
            const nlohmann::json& hit = ch["top"][k];
            EXPECT_EQ(hit["file"], files[order[k]]) << "channel " << c << " rank " << k;
            EXPECT_NEAR(hit["value"].get<float>(), max.data[order[k] * 128 + c], 1e-5F * top);
            const PixelBox box = rf.box("layer2.1", hit["y"], hit["x"]);
            EXPECT_EQ(hit["box"], (std::vector<int64_t>{box.x0, box.y0, box.x1, box.y1}));
        }
    }
    const auto again = cli(args, cache);
    ASSERT_EQ(again.exitCode, 0) << again.err;
    EXPECT_NE(again.err.find("(from the cache)"), std::string::npos) << again.err;
    EXPECT_EQ(test::readText(dir + "/c.json"), j.dump(1) + "\n");

    EXPECT_EQ(cli("channels --layer layer2.0.conv2 --weights " + weights() + " --json " + dir +
                  "/x.json " + folder)
                  .exitCode,
              2);  // fused into the add: not a tap
    EXPECT_EQ(cli("channels --layer layer2.1 --weights " + weights() + " " + folder).exitCode, 2);
}

// The synthesised input (default settings: 128 steps, seed 0) excites its channel at least 3× as
// much as the most exciting photo.
TEST(InsightCli, VisualizeBeatsEveryPhoto) {
    const std::string dir = test::tempDir();
    const std::string layer = "layer2.1";
    const int channel = 50;
    const auto r =
        cli("visualize --layer " + layer + " --channel " + std::to_string(channel) + " --weights " +
            weights() + " --save-raw " + dir + "/v.npy --save " + dir + "/v.png");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const Tensor x = readNpy(dir + "/v.npy");
    ASSERT_EQ(x.dims, (std::vector<int64_t>{1, 3, 224, 224}));
    const WeightSet w = loadWeights(weights());
    Engine engine(inferSpec(w), w);
    const Tensor tap = engine.run(x, {layer}).taps.at(layer);
    const int64_t plane = tap.dims[2] * tap.dims[3];
    const float mean =
        std::accumulate(tap.ptr() + channel * plane, tap.ptr() + (channel + 1) * plane, 0.0F) /
        static_cast<float>(plane);
    // PyTorch's per-image channel means over the folder's photos.
    const Tensor means = readNpy(fixture("insight/atlas/" + layer + "_mean.npy"));
    std::vector<std::string> files;
    std::ifstream list(fixture("insight/atlas/files.txt"));
    for (std::string line; std::getline(list, line);) files.push_back(line);
    float best = 0.0F;
    for (size_t i = 0; i < files.size(); ++i)
        if (files[i].size() > 4 && files[i].substr(files[i].size() - 4) == ".jpg")
            best = std::max(best, means.data[i * static_cast<size_t>(means.dims[1]) + channel]);
    std::printf(
        "[ insight ] visualize %s channel %d, 48 steps: mean %.3f, best photo %.3f "
        "(%.1f×)\n",
        layer.c_str(), channel, mean, best, mean / best);
    EXPECT_GT(best, 0.0F);
    EXPECT_GE(mean, 3.0F * best);
    EXPECT_NE(r.out.find("mean activation"), std::string::npos) << r.out;
    const cv::Mat png = cv::imread(dir + "/v.png");
    EXPECT_EQ(png.cols, 224);

    EXPECT_EQ(cli("visualize --layer layer2.1 --channel 128 --weights " + weights()).exitCode, 2);
    EXPECT_EQ(cli("visualize --layer input --channel 0 --weights " + weights()).exitCode, 2);
}

}  // namespace
}  // namespace r18
