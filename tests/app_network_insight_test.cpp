// The verbs about the inside of the network as a user runs them — classify --ablate, info --stats,
// compare, channels --importance, explain --method scorecam, explain --video — their files, exit
// codes and numbers against PyTorch's (tests/fixtures/make_network_insight.py).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "core/engine/calibration.h"
#include "core/engine/engine.h"
#include "core/formats/npy.h"
#include "core/media/video_writer.h"
#include "core/model/model.h"
#include "tests/test_util.h"

namespace r18 {
namespace {

using test::pearson;

using test::fixture;

const std::string kCli = R18_CLI;

std::string weights() {
    return fixture("weights/resnet18_seeded.pth");
}

std::string image(const std::string& id) {
    return test::fixtureImage(id).path;
}

std::string insightFile(const std::string& name) {
    return fixture("network_insight/" + name);
}

nlohmann::json jsonFile(const std::string& path) {
    return nlohmann::json::parse(test::readText(path));
}

// The CLI with an empty HOME, the fixture weights and `args`.
test::CommandResult cli(const std::string& verb, const std::string& args) {
    const std::string home = test::tempDir();
    return test::runCommand("env -u RESNET18_WEIGHTS HOME=" + home + " XDG_DATA_HOME=" + home +
                            " XDG_CACHE_HOME=" + home + " " + kCli + " " + verb + " --weights " +
                            weights() + " " + args);
}

std::string ablateArgs(const nlohmann::json& ablate) {
    std::string args;
    for (const auto& [node, channels] : ablate.items()) {
        std::string list;
        for (int c : channels.get<std::vector<int>>())
            list += (list.empty() ? "" : ",") + std::to_string(c);
        args += " --ablate " + node + ":" + list;
    }
    return args;
}

TEST(AblateCli, ClassifyWithChannelsOffMatchesPyTorchsHooks) {
    const nlohmann::json cases = jsonFile(insightFile("ablation.json"));
    for (const nlohmann::json& c : cases) {
        const std::string name = c["name"];
        if (name != "identity_skip" && name != "two_nodes" && name != "input") continue;
        SCOPED_TRACE(name);
        const std::string dir = test::tempDir();
        const auto r = cli("classify", ablateArgs(c["ablate"]) + " --save-logits " + dir +
                                           "/l.npy " + image("dog"));
        ASSERT_EQ(r.exitCode, 0) << r.err;
        EXPECT_NE(r.err.find("channels off"), std::string::npos) << r.err;
        const Tensor expected = readNpy(insightFile("ablate_" + name + "_logits.npy"));
        const test::Comparison cmp = test::compare(expected, readNpy(dir + "/l.npy"));
        EXPECT_LE(cmp.maxAbsDiff, 1e-4 * cmp.maxAbsRef)
            << cmp.report("logits", expected, readNpy(dir + "/l.npy"));
    }
}

TEST(AblateCli, MistakesAreUsageErrors) {
    auto r = cli("classify", "--ablate layer9.9:1 " + image("dog"));
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("Valid: input, conv1"), std::string::npos) << r.err;
    r = cli("classify", "--ablate layer1.0:64 " + image("dog"));
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("channels 0 … 63"), std::string::npos) << r.err;
    r = cli("classify", "--ablate layer1.0 " + image("dog"));
    EXPECT_EQ(r.exitCode, 2);
    r = cli("explain", "--method gradient --ablate layer2.0.conv2:1 " + image("dog"));
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("'layer2.0'"), std::string::npos) << r.err;
}

TEST(StatsCli, EveryNodeMatchesPyTorch) {
    const std::string dir = test::tempDir();
    const auto r = cli("info", "--stats --json " + dir + "/s.json " + image("dog"));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("layer3.1.conv1"), std::string::npos) << r.out;
    const nlohmann::json got = jsonFile(dir + "/s.json");
    const nlohmann::json expected = jsonFile(insightFile("stats_dog.json"));
    EXPECT_EQ(got["precision"], "fp32");
    ASSERT_EQ(got["nodes"].size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        const nlohmann::json& g = got["nodes"][i];
        const nlohmann::json& e = expected[i];
        SCOPED_TRACE(e["node"].get<std::string>());
        EXPECT_EQ(g["node"], e["node"]);
        EXPECT_EQ(g["shape"], e["shape"]);
        const double scale = std::max(std::fabs(e["min"].get<double>()), e["max"].get<double>());
        for (const char* key : {"min", "mean", "std", "max"})
            EXPECT_NEAR(g[key].get<double>(), e[key].get<double>(), 1e-5 * scale) << key;
        EXPECT_NEAR(g["zeros"].get<double>(), e["zeros"].get<double>(), 1e-4);
        EXPECT_EQ(g["histogram"]["counts"].size(), 64u);
        EXPECT_FALSE(g.contains("rel_err_vs_fp32"));
    }
}

TEST(StatsCli, Int8SaysHowFarEachNodeIsFromFp32) {
    const std::string dir = test::tempDir();
    // Calibrated on the image itself, as the verb does without --calibration.
    const auto r =
        cli("info", "--stats --precision int8 --json " + dir + "/s.json " + image("dog"));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("int8 calibrated on 1 image"), std::string::npos) << r.err;
    const nlohmann::json got = jsonFile(dir + "/s.json");
    EXPECT_EQ(got["precision"], "int8");
    // The same int8 engine here, against PyTorch's fp32 activations: the CLI measures against
    // our fp32, which agrees with PyTorch to ~1e-6 of the largest value.
    ModelOptions mo;
    mo.weightsPath = weights();
    const std::shared_ptr<const Model> model = Model::open(mo);
    const Tensor x = readNpy(fixture("ref/dog/input.npy"));
    EngineOptions o = EngineOptions()
                          .with(Precision::Int8)
                          .withCalibration(std::make_shared<Calibration>(
                              calibrate(model->spec(), model->weights(), {x})));
    Engine int8(model->spec(), model->weights(), o);
    const RunResult q = int8.run(x, model->spec().tapNames());
    for (const nlohmann::json& n : got["nodes"]) {
        const std::string node = n["node"];
        SCOPED_TRACE(node);
        ASSERT_TRUE(n.contains("rel_err_vs_fp32"));
        const Tensor f = readNpy(fixture("ref/dog/" + node + ".npy"));
        const Tensor& qt = q.taps.at(node);
        double diff = 0, top = 0, dot = 0, ff = 0, qq = 0;
        for (size_t i = 0; i < f.data.size(); ++i) {
            diff = std::max(diff, std::fabs(static_cast<double>(qt.data[i]) - f.data[i]));
            top = std::max(top, std::fabs(static_cast<double>(f.data[i])));
            dot += static_cast<double>(qt.data[i]) * f.data[i];
            ff += static_cast<double>(f.data[i]) * f.data[i];
            qq += static_cast<double>(qt.data[i]) * qt.data[i];
        }
        EXPECT_NEAR(n["rel_err_vs_fp32"].get<double>(), diff / top, 1e-4);
        EXPECT_NEAR(n["cosine_vs_fp32"].get<double>(), dot / std::sqrt(ff * qq), 1e-5);
    }
}

TEST(CompareCli, TwoImagesNodeByNodeMatchPyTorch) {
    const std::string dir = test::tempDir();
    const auto r =
        cli("compare", "--json " + dir + "/c.json " + image("dog") + " " + image("eagle"));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("top-5 of B"), std::string::npos) << r.out;
    const nlohmann::json got = jsonFile(dir + "/c.json");
    const nlohmann::json expected = jsonFile(insightFile("compare_dog_eagle.json"));
    // Both top-5s: PyTorch's ranking, up to classes whose logits tie at float precision.
    for (const auto& [side, id] : {std::pair{"top_a", "dog"}, std::pair{"top_b", "eagle"}}) {
        const Tensor logits = readNpy(fixture(std::string("ref/") + id + "/logits.npy"));
        const float top = *std::max_element(logits.data.begin(), logits.data.end());
        ASSERT_EQ(got[side].size(), 5u);
        EXPECT_EQ(got[side][0]["index"].get<int>(), expected[side][0].get<int>()) << side;
        for (size_t k = 0; k < 5; ++k)
            EXPECT_NEAR(logits.data[got[side][k]["index"].get<size_t>()],
                        logits.data[expected[side][k].get<size_t>()], 1e-4 * top)
                << side << " rank " << k;
    }
    ASSERT_EQ(got["nodes"].size(), expected["nodes"].size());
    for (size_t i = 0; i < expected["nodes"].size(); ++i) {
        const nlohmann::json& g = got["nodes"][i];
        const nlohmann::json& e = expected["nodes"][i];
        SCOPED_TRACE(e["node"].get<std::string>());
        EXPECT_EQ(g["node"], e["node"]);
        EXPECT_NEAR(g["cosine"].get<double>(), e["cosine"].get<double>(), 1e-5);
        EXPECT_NEAR(g["max_abs_diff"].get<double>(), e["max_abs_diff"].get<double>(),
                    1e-4 * e["max_abs_diff"].get<double>());
    }
}

TEST(CompareCli, AnOutputThatIsAnInputIsRefused) {
    const std::string dir = test::tempDir();
    const std::string copy = dir + "/dog.jpg";
    std::ifstream in(image("dog"), std::ios::binary);
    std::ofstream(copy, std::ios::binary) << in.rdbuf();
    const std::vector<uint8_t> before = test::readBytes(copy);
    const auto r = cli("compare", "--json " + copy + " " + copy + " " + image("eagle"));
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("an output is never written over an input"), std::string::npos) << r.err;
    EXPECT_EQ(test::readBytes(copy), before);
    EXPECT_EQ(cli("compare", image("dog")).exitCode, 2);  // one image
}

TEST(ImportanceCli, EveryChannelMatchesPyTorch) {
    const nlohmann::json info = jsonFile(insightFile("importance.json"));
    for (const std::string node : {"layer4.1", "layer3.1"}) {
        SCOPED_TRACE(node);
        const std::string dir = test::tempDir();
        const auto r = cli("channels", "--importance --layer " + node + " --class 258 --json " +
                                           dir + "/i.json " + image("dog"));
        ASSERT_EQ(r.exitCode, 0) << r.err;
        EXPECT_NE(r.out.find("most important"), std::string::npos) << r.out;
        const nlohmann::json got = jsonFile(dir + "/i.json");
        EXPECT_EQ(got["layer"], node);
        EXPECT_EQ(got["class"], 258);
        const double logit = info[node]["logit"].get<double>();
        EXPECT_NEAR(got["logit"].get<double>(), logit, 1e-5 * std::fabs(logit));
        const Tensor expected = readNpy(insightFile("importance_" + node + ".npy"));
        ASSERT_EQ(got["channels"].size(), expected.data.size());
        for (size_t c = 0; c < expected.data.size(); ++c) {
            const nlohmann::json& ch = got["channels"][c];
            ASSERT_EQ(ch["channel"].get<size_t>(), c);
            ASSERT_NEAR(ch["logit"].get<double>(), expected.data[c], 1e-4 * std::fabs(logit));
            ASSERT_NEAR(ch["delta"].get<double>(), expected.data[c] - logit,
                        1e-4 * std::fabs(logit));
        }
    }
    const auto r = cli("channels", "--importance --layer layer2.0.conv2 " + image("dog"));
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("layer2.0"), std::string::npos) << r.err;
}

TEST(ScoreCamCli, MatchesPyTorchAndRunsAtInt8) {
    const std::string dir = test::tempDir();
    auto r = cli("explain", "--method scorecam --layer layer1 --save " + dir + "/m.npy --overlay " +
                                dir + "/m.png " + image("dog"));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("method  scorecam at fp32"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("layer   layer1.1"), std::string::npos) << r.out;
    const Tensor expected = readNpy(insightFile("scorecam_dog_layer1_258.npy"));
    const Tensor got = readNpy(dir + "/m.npy");
    const test::Comparison c = test::compare(expected, got);
    ASSERT_TRUE(c.sameShape) << c.report("Score-CAM", expected, got);
    EXPECT_LE(c.maxAbsDiff, 1e-4 * c.maxAbsRef) << c.report("Score-CAM", expected, got);
    EXPECT_TRUE(test::fileExists(dir + "/m.png"));
    r = cli("explain", "--method scorecam --precision int8 --layer layer1 --save " + dir +
                           "/q.npy " + image("dog"));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_GT(pearson(expected.data, readNpy(dir + "/q.npy").data), 0.95);
    r = cli("explain", "--method gradient --precision int8 " + image("dog"));
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("scorecam runs at any precision"), std::string::npos) << r.err;
}

int framesIn(const std::string& path, double* fps = nullptr) {
    cv::VideoCapture capture(path);
    if (fps) *fps = capture.get(cv::CAP_PROP_FPS);
    int n = 0;
    cv::Mat frame;
    while (capture.read(frame)) ++n;
    return n;
}

TEST(VideoCli, EveryFrameAtTheSameRateWithItsCam) {
    const nlohmann::json clip = jsonFile(insightFile("clip.json"));
    const std::string dir = test::tempDir();
    const std::string out = dir + (canWriteH264() ? "/out.mp4" : "/out.avi");
    const auto r = cli("explain", "--video " + insightFile("clip.avi") + " --out " + out +
                                      " --method cam --save " + dir + "/maps.npy");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find(canWriteH264() ? "H.264 MP4" : "MJPG AVI"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("frame 1/12"), std::string::npos) << r.err;
    double fps = 0;
    EXPECT_EQ(framesIn(out, &fps), clip["frames"].get<int>());
    EXPECT_DOUBLE_EQ(fps, clip["fps"].get<double>());
    const Tensor maps = readNpy(dir + "/maps.npy");
    const Tensor expected = readNpy(insightFile("clip_cam.npy"));
    const test::Comparison c = test::compare(expected, maps);
    ASSERT_TRUE(c.sameShape) << c.report("maps", expected, maps);
    EXPECT_LE(c.maxAbsDiff, 1e-4 * c.maxAbsRef) << c.report("maps", expected, maps);
    EXPECT_EQ(test::filesIn(dir).size(), 2u);  // the video and the maps, no temporary file
}

TEST(VideoCli, CtrlCLeavesAPlayableShorterFile) {
    const std::string dir = test::tempDir();
    const std::string in = dir + "/long.avi";
    {
        VideoFileWriter w(in, VideoFormat::MjpgAvi, 25.0, cv::Size(96, 64));
        for (int i = 0; i < 400; ++i)
            w.write(cv::Mat(64, 96, CV_8UC3, cv::Scalar(i % 255, 80, 200 - i % 200)));
        w.finish();
    }
    const std::string out = dir + "/out.avi";
    const std::string home = test::tempDir();
    // Interrupted once the third frame is reported: an event, not a timing.
    const auto r = test::runCommand(
        "env HOME=" + home + " " + kCli + " explain --weights " + weights() + " --video " + in +
        " --out " + out + " --method gradcam --layer layer2 2>" + dir +
        "/err.txt & pid=$!; while ! grep -q 'frame 3' " + dir +
        "/err.txt 2>/dev/null; do if ! kill -0 $pid 2>/dev/null; then break; fi; sleep 0.05; "
        "done; kill -INT $pid; wait $pid; echo exit=$?");
    const std::string err = test::readText(dir + "/err.txt");
    EXPECT_NE(r.out.find("exit=130"), std::string::npos) << r.out << err;
    EXPECT_NE(err.find("cancelled after"), std::string::npos) << err;
    const int frames = framesIn(out);
    EXPECT_GE(frames, 3);
    EXPECT_LT(frames, 400);
    const std::vector<std::string> files = test::filesIn(dir);
    EXPECT_EQ(files.size(), 3u) << "no temporary file left";  // long.avi, out.avi, err.txt
}

TEST(VideoCli, MistakesAreExplained) {
    const std::string dir = test::tempDir();
    auto r = cli("explain",
                 "--video " + insightFile("clip.avi") + " --out " + dir + "/o.mkv --method cam");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find(".avi (MJPG)"), std::string::npos) << r.err;
    r = cli("explain", "--video " + insightFile("clip.avi") + " --method cam");
    EXPECT_EQ(r.exitCode, 2);
    r = cli("explain",
            "--video " + insightFile("clip.avi") + " --out " + dir + "/o.avi --method gradient");
    EXPECT_EQ(r.exitCode, 2);
    r = cli("explain", "--video " + image("dog") + " --out " + dir + "/o.avi --method cam");
    EXPECT_EQ(r.exitCode, 3);
    EXPECT_NE(r.err.find("still image"), std::string::npos) << r.err;
    r = cli("explain", "--video " + insightFile("clip.avi") + " --out " + insightFile("clip.avi") +
                           " --method cam");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_TRUE(test::filesIn(dir).empty());
}

}  // namespace
}  // namespace r18
