// The headless command line: output formats, .npy outputs, exit codes and messages.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <regex>
#include <sstream>

#include "core/formats/npy.h"
#include "tests/test_util.h"

namespace r18 {
namespace {

using test::fixture;

const std::string kCli = R18_CLI;

std::string weights() {
    return fixture("weights/resnet18_seeded.pth");
}

test::CommandResult cli(const std::string& args) {
    // HOME and XDG_DATA_HOME point at an empty folder so default weight locations are empty.
    const std::string home = test::tempDir();
    return test::runCommand("env -u RESNET18_WEIGHTS HOME=" + home + " XDG_DATA_HOME=" + home +
                            " " + kCli + " " + args);
}

TEST(Cli, ClassifyPrintsTopFivePerImage) {
    const test::FixtureImage dog = test::fixtureImage("dog");
    const test::FixtureImage kite = test::fixtureImage("kite");
    const auto r = cli("classify --weights " + weights() + " " + dog.path + " " + kite.path);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const std::regex line(R"(^\s*(\d)\s+(0\.\d{4}|1\.0000)\s+(\d+)\s+(.+)$)");
    std::istringstream out(r.out);
    std::string s;
    std::vector<std::string> paths;
    std::vector<std::vector<int>> indices;
    while (std::getline(out, s)) {
        std::smatch m;
        if (std::regex_match(s, m, line)) {
            ASSERT_FALSE(indices.empty()) << "rank line before a path: " << s;
            indices.back().push_back(std::stoi(m[3]));
            EXPECT_EQ(std::stoi(m[1]), static_cast<int>(indices.back().size()));
        } else {
            paths.push_back(s);
            indices.emplace_back();
        }
    }
    ASSERT_EQ(paths, (std::vector<std::string>{dog.path, kite.path})) << r.out;
    ASSERT_EQ(indices[0].size(), 5u);
    EXPECT_EQ(indices[0][0], dog.top1);  // PyTorch's top-1 for the photo
    EXPECT_EQ(indices[1][0], kite.top1);
    EXPECT_NE(r.out.find("Samoyed"), std::string::npos) << r.out;  // ImageNet label of 258
    EXPECT_NE(r.err.find("Not the official ImageNet weights"), std::string::npos) << r.err;
}

TEST(Cli, JsonOutput) {
    const test::FixtureImage eagle = test::fixtureImage("eagle");
    const auto r = cli("classify --json --top 3 --weights " + weights() + " " + eagle.path);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    nlohmann::json doc;
    ASSERT_NO_THROW(doc = nlohmann::json::parse(r.out)) << r.out;
    ASSERT_TRUE(doc.is_array()) << r.out;
    ASSERT_EQ(doc.size(), 1u) << r.out;
    const auto& row = doc[0];
    EXPECT_EQ(row["file"], eagle.path);
    ASSERT_EQ(row["top"].size(), 3u) << r.out;
    EXPECT_EQ(row["top"][0]["index"], eagle.top1);
    EXPECT_EQ(row["top"][0]["label"], "bald eagle");
    EXPECT_GT(row["top"][0]["probability"].get<double>(), 0.5);
    EXPECT_GT(row["ms"].get<double>(), 0.0);
    EXPECT_FALSE(row.contains("error"));
}

TEST(Cli, SavesLogitsAndTapsAsNpyInImageOrder) {
    const std::string dir = test::tempDir();
    const test::FixtureImage a = test::fixtureImage("giraffe");
    const test::FixtureImage b = test::fixtureImage("horses");
    const auto r = cli("classify --weights " + fixture("weights/resnet18_seeded_zoo.onnx") +
                       " --save-logits " + dir + "/logits.npy --save-tap layer3.1=" + dir +
                       "/l31.npy --save-tap avgpool=" + dir + "/pool.npy " + a.path + " " + b.path);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const Tensor logits = readNpy(dir + "/logits.npy");
    ASSERT_EQ(logits.dims, (std::vector<int64_t>{2, 1000}));
    // end to end (our decoding and preprocessing too) against PyTorch on the same files
    for (int i = 0; i < 2; ++i) {
        const Tensor ref =
            readNpy(fixture("ref/" + std::string(i ? "horses" : "giraffe") + "/logits.npy"));
        Tensor row({1, 1000});
        std::copy(logits.data.begin() + 1000 * i, logits.data.begin() + 1000 * (i + 1),
                  row.data.begin());
        const test::Comparison c = test::compare(ref, row);
        EXPECT_LE(c.maxAbsDiff, 1e-4 * c.maxAbsRef) << c.report("logits", ref, row);
    }
    EXPECT_EQ(readNpy(dir + "/l31.npy").dims, (std::vector<int64_t>{2, 256, 14, 14}));
    EXPECT_EQ(readNpy(dir + "/pool.npy").dims, (std::vector<int64_t>{2, 512}));
}

TEST(Cli, BadImagesAmongGoodOnesExitThreeButGoodOnesAreClassified) {
    const test::FixtureImage dog = test::fixtureImage("dog");
    const std::string bad = fixture("bad/truncated.jpg");
    const auto r =
        cli("classify --weights " + weights() + " " + bad + " " + dog.path + " /no/such.png");
    EXPECT_EQ(r.exitCode, 3);
    EXPECT_NE(r.out.find(dog.path), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(bad), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("error: " + bad + ": the JPEG file is truncated"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("error: /no/such.png: cannot open the image file"), std::string::npos)
        << r.err;
}

TEST(Cli, MissingWeightsExplainHowToGetThem) {
    const auto r = cli("classify " + test::fixtureImage("dog").path);
    EXPECT_EQ(r.exitCode, 3);
    EXPECT_NE(r.err.find("no weights file found"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("weights/fetch.sh"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("resnet18-f37072fd.pth"), std::string::npos) << r.err;
}

TEST(Cli, EnvironmentVariableNamesTheWeights) {
    const std::string home = test::tempDir();
    const auto r = test::runCommand("HOME=" + home + " XDG_DATA_HOME=" + home +
                                    " RESNET18_WEIGHTS=" + weights() + " " + kCli +
                                    " classify --top 1 " + test::fixtureImage("person").path);
    EXPECT_EQ(r.exitCode, 0) << r.err;
}

TEST(Cli, BrokenWeightsExitThreeNamingTheFile) {
    const std::string bad = fixture("bad/wrong_shape.pth");
    const auto r = cli("classify --weights " + bad + " " + test::fixtureImage("dog").path);
    EXPECT_EQ(r.exitCode, 3);
    EXPECT_NE(r.err.find(bad + ": tensor 'layer3.0.conv1.weight' has shape"), std::string::npos)
        << r.err;
    const auto evil = cli("classify --weights " + fixture("bad/evil_os_system.pth") + " " +
                          test::fixtureImage("dog").path);
    EXPECT_EQ(evil.exitCode, 3);
    EXPECT_NE(evil.err.find("refusing to load"), std::string::npos) << evil.err;
}

TEST(Cli, UsageErrorsExitTwo) {
    const std::string img = test::fixtureImage("dog").path;
    for (const std::string& args :
         {"classify --weights " + weights() + " --precision fp16 " + img,
          "classify --weights " + weights(), "classify --weights " + weights() + " --top 0 " + img,
          "classify --weights " + weights() + " --save-tap layer1.0.conv2=x.npy " + img,
          "classify --weights " + weights() + " --bogus " + img}) {
        const auto r = cli(args);
        EXPECT_EQ(r.exitCode, 2) << args << "\n" << r.err;
        EXPECT_NE(r.err.find("usage error"), std::string::npos) << r.err;
    }
}

TEST(Cli, FolderToCsvListsEveryImageAndEveryError) {
    const std::string dir = test::tempDir();
    for (const char* id : {"dog", "eagle"})
        ASSERT_EQ(std::system(("cp " + test::fixtureImage(id).path + " " + dir + "/").c_str()), 0);
    ASSERT_EQ(std::system(("mkdir " + dir + "/sub && cp " + test::fixtureImage("kite").path + " " +
                           dir + "/sub/ && cp " + fixture("bad/truncated.jpg") + " " + dir +
                           "/sub/broken.jpg && echo notes > " + dir + "/readme.txt")
                              .c_str()),
              0);
    const auto r = cli("classify --csv " + dir + "/out.csv --weights " + weights() + " " + dir);
    EXPECT_EQ(r.exitCode, 3);  // one file could not be read
    const std::string csv = test::readText(dir + "/out.csv");
    std::istringstream lines(csv);
    std::string line;
    std::vector<std::string> rows;
    while (std::getline(lines, line)) rows.push_back(line);
    ASSERT_EQ(rows.size(), 5u) << csv;  // header + 4 images; readme.txt is not an image
    EXPECT_EQ(rows[0], "file,top1_index,top1_label,top1_probability,top5,error");
    EXPECT_EQ(rows[1].rfind(dir + "/dog.jpg,258,Samoyed,", 0), 0u) << rows[1];
    EXPECT_EQ(rows[2].rfind(dir + "/eagle.jpg,22,bald eagle,", 0), 0u) << rows[2];
    EXPECT_NE(rows[3].find(dir + "/sub/broken.jpg,,,,," + dir +
                           "/sub/broken.jpg: the JPEG file is truncated"),
              std::string::npos)
        << rows[3];
    EXPECT_EQ(rows[4].rfind(dir + "/sub/kite.jpg,21,kite,", 0), 0u) << rows[4];
    EXPECT_NE(r.err.find("wrote 4 rows (1 errors)"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");  // rows go to the file
}

TEST(Cli, FineTunedModelsUseTheLabelsBesideThem) {
    const auto r = cli("classify --top 2 --weights " + fixture("weights/finetuned10.pth") + " " +
                       test::fixtureImage("dog").path);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\n\s+1\s+\d\.\d{4}\s+\d\s+part \d\n)")))
        << r.out;
    const auto noLabels =
        cli("classify --top 1 --weights " + fixture("weights/resnet34_seeded.onnx") + " " +
            test::fixtureImage("dog").path);
    ASSERT_EQ(noLabels.exitCode, 0) << noLabels.err;  // 1000 classes: ImageNet labels
    const auto info = cli("info --weights " + fixture("weights/resnet34_seeded.pth"));
    EXPECT_NE(info.out.find("ResNet34, 1000 classes"), std::string::npos) << info.out;
    EXPECT_NE(info.out.find("layer3.5"), std::string::npos);
    EXPECT_NE(info.out.find("21,797,672"), std::string::npos);
}

TEST(Cli, Int8NeedsACalibrationAndThenClassifies) {
    const std::string kite = test::fixtureImage("kite").path;
    const auto missing = cli("classify --precision int8 --weights " + weights() + " " + kite);
    EXPECT_EQ(missing.exitCode, 2);
    EXPECT_NE(missing.err.find("--calibration"), std::string::npos) << missing.err;
    const auto r =
        cli("classify --top 1 --precision int8 --calibration " + test::fixtureImage("dog").path +
            " --calibration " + fixture("images") + " --weights " + weights() + " " + kite);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const size_t images = 1 + test::filesIn(fixture("images")).size();  // the dog + the folder
    EXPECT_NE(r.err.find("int8 calibrated on " + std::to_string(images) + " images"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.out.find("  21  kite"), std::string::npos) << r.out;
}

TEST(Cli, InfoPrintsTheNodeTableAndTotals) {
    const auto r = cli("info");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("ResNet18, 1000 classes"), std::string::npos);
    EXPECT_TRUE(std::regex_search(
        r.out, std::regex(R"(layer2\.0\.downsample\s+conv\s+128x28x28\s+8,448\s+6,422,528)")))
        << r.out;
    EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(total\s+11,689,512\s+1,8\d\d,\d{3},\d{3})")))
        << r.out;
    const auto withWeights = cli("info --weights " + fixture("weights/resnet18_seeded.onnx"));
    EXPECT_EQ(withWeights.exitCode, 0) << withWeights.err;
    EXPECT_NE(withWeights.out.find("(ONNX)"), std::string::npos) << withWeights.out;
}

// The same image, weights, precision and threads give the same bytes in every process: nothing
// a timing or the machine's load decides goes into what is computed (logits, and a gradient map,
// where ReLU and max-pool ties turn a last-bit difference into a visible one).
TEST(Cli, SameBytesInEveryProcess) {
    const std::string dog = test::fixtureImage("dog").path;
    std::vector<std::vector<uint8_t>> logits, maps;
    for (int run = 0; run < 3; ++run) {
        const std::string dir = test::tempDir();
        const auto c = cli("classify --threads 2 --weights " + weights() + " --save-logits " + dir +
                           "/logits.npy " + dog);
        ASSERT_EQ(c.exitCode, 0) << c.err;
        logits.push_back(test::readBytes(dir + "/logits.npy"));
        const auto e =
            cli("explain --method integrated-gradients --steps 8 --threads 2 --weights " +
                weights() + " --save " + dir + "/ig.npy " + dog);
        ASSERT_EQ(e.exitCode, 0) << e.err;
        maps.push_back(test::readBytes(dir + "/ig.npy"));
    }
    ASSERT_FALSE(logits[0].empty());
    ASSERT_FALSE(maps[0].empty());
    EXPECT_EQ(logits[1], logits[0]);
    EXPECT_EQ(logits[2], logits[0]);
    EXPECT_EQ(maps[1], maps[0]);
    EXPECT_EQ(maps[2], maps[0]);
}

// --algorithm pins how fp32 3×3 convolutions are computed, on every verb; info names the
// algorithm of every convolution. Both ways agree with PyTorch.
TEST(Cli, AlgorithmCanBePinnedAndInfoNamesIt) {
    const auto automatic = cli("info");
    ASSERT_EQ(automatic.exitCode, 0) << automatic.err;
    const std::regex wino(
        R"(layer3\.1\.conv1\s+conv\s+256x14x14\s+[\d,]+\s+[\d,]+\s+3\s+winograd)");
    const std::regex direct(
        R"(layer3\.1\.conv1\s+conv\s+256x14x14\s+[\d,]+\s+[\d,]+\s+3\s+direct)");
    const std::regex stem(R"(\nconv1\s+conv\s+64x112x112\s+[\d,]+\s+[\d,]+\s+0\s+direct)");
    EXPECT_TRUE(std::regex_search(automatic.out, stem)) << automatic.out;  // 7×7 stride 2
    // Which one auto takes depends on the CPU (Winograd exists on AVX-512 only); info says which.
    const bool avx512Winograd =
        automatic.out.find("Winograd for 3×3 stride 1") != std::string::npos;
    EXPECT_TRUE(std::regex_search(automatic.out, avx512Winograd ? wino : direct)) << automatic.out;
    if (!avx512Winograd) {
        EXPECT_NE(automatic.out.find("oneDNN has no Winograd on"), std::string::npos)
            << automatic.out;
    }

    const auto pinned = cli("info --algorithm direct");
    ASSERT_EQ(pinned.exitCode, 0) << pinned.err;
    EXPECT_TRUE(std::regex_search(pinned.out, direct)) << pinned.out;
    EXPECT_EQ(pinned.out.find("winograd"), std::string::npos) << pinned.out;
    EXPECT_NE(pinned.out.find("direct (--algorithm direct)"), std::string::npos) << pinned.out;

    const test::FixtureImage dog = test::fixtureImage("dog");
    const Tensor ref = readNpy(fixture("ref/dog/logits.npy"));
    for (const char* algorithm : {"direct", "winograd", "auto"}) {
        const std::string dir = test::tempDir();
        const auto r = cli(std::string("classify --algorithm ") + algorithm + " --weights " +
                           weights() + " --save-logits " + dir + "/l.npy " + dog.path);
        ASSERT_EQ(r.exitCode, 0) << algorithm << ": " << r.err;
        const Tensor got = readNpy(dir + "/l.npy");
        const test::Comparison c = test::compare(ref, got);
        EXPECT_LE(c.maxAbsDiff, 1e-4 * c.maxAbsRef)
            << algorithm << " " << c.report("logits", ref, got);
    }
    const auto bad = cli("classify --algorithm fast --weights " + weights() + " " + dog.path);
    EXPECT_EQ(bad.exitCode, 2);
    EXPECT_NE(bad.err.find("--algorithm must be auto, direct or winograd"), std::string::npos)
        << bad.err;
}

}  // namespace
}  // namespace r18
