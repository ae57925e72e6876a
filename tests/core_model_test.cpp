// Model (weights + labels + preprocessing, opened in one place) and Pipeline (decoded image ->
// result): where labels come from, what the user is told, and end-to-end agreement with
// PyTorch's logits from a JPEG on disk.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "core/error.h"
#include "core/formats/npy.h"
#include "core/model/model.h"
#include "core/pipeline.h"
#include "core/tap_stats.h"
#include "tests/test_util.h"

namespace r18 {
namespace {

using test::fixture;

std::shared_ptr<const Model> open(const std::string& weights, const std::string& labels = {}) {
    ModelOptions o;
    o.weightsPath = fixture("weights/" + weights);
    o.labelsPath = labels;
    return Model::open(o);
}

TEST(Model, SeededImageNetShapedWeightsGetImageNetLabelsAndAreNotTrusted) {
    const auto model = open("resnet18_seeded.pth");
    EXPECT_EQ(model->trust(), Trust::Unverified);
    EXPECT_EQ(model->spec().numClasses, 1000);
    EXPECT_EQ(model->labels().name(258), "Samoyed");
    EXPECT_EQ(model->labelsSource(), "ImageNet (built in)");
    EXPECT_EQ(model->preprocessSource(), "torchvision evaluation transform");
    EXPECT_EQ(model->summary(), "ResNet18 · resnet18_seeded.pth · 1000 classes · not verified");
    EXPECT_TRUE(model->notes().empty());
}

TEST(Model, FineTunedWeightsTakeTheLabelsBesideThem) {
    const auto model = open("finetuned10.pth");
    EXPECT_EQ(model->spec().numClasses, 10);
    EXPECT_EQ(model->labels().name(3), "part 3");
    EXPECT_EQ(model->labelsSource(), fixture("weights/finetuned10.labels.txt"));
}

TEST(Model, TooFewLabelsAreRefusedNamingTheFileAndBothCounts) {
    const std::string labels = test::tempDir() + "/three.txt";
    std::ofstream(labels) << "a\nb\nc\n";
    try {
        open("finetuned10.pth", labels);
        FAIL() << "accepted 3 labels for 10 classes";
    } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find(labels), std::string::npos) << what;
        EXPECT_NE(what.find("3 labels"), std::string::npos) << what;
        EXPECT_NE(what.find("10 classes"), std::string::npos) << what;
    }
    // The same file chosen after opening: the model itself stays as it was.
    const auto model = open("finetuned10.pth");
    EXPECT_THROW(model->withLabels(labels), Error);
    EXPECT_EQ(model->labels().name(3), "part 3");
}

TEST(Model, AnUnusableLabelsFileBesideTheWeightsIsSkippedWithANote) {
    const std::string dir = test::tempDir();
    const std::string weights = dir + "/mine.pth";
    {
        const std::vector<uint8_t> bytes = test::readBytes(fixture("weights/finetuned10.pth"));
        std::ofstream(weights, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()),
                   static_cast<std::streamsize>(bytes.size()));
        std::ofstream(dir + "/mine.labels.txt") << "only\ntwo\n";
    }
    ModelOptions o;
    o.weightsPath = weights;
    const auto model = Model::open(o);
    ASSERT_EQ(model->notes().size(), 1U);
    EXPECT_NE(model->notes()[0].find("mine.labels.txt"), std::string::npos) << model->notes()[0];
    EXPECT_EQ(model->labels().name(3), "class 3");
}

TEST(Model, NoWeightsAnywhereIsAnErrorUnlessTheDemoIsWelcome) {
    const std::string home = test::tempDir();
    setenv("HOME", home.c_str(), 1);
    setenv("XDG_DATA_HOME", home.c_str(), 1);
    unsetenv("RESNET18_WEIGHTS");
    if (!findDefaultWeights().empty()) GTEST_SKIP() << "weights in the source tree";
    try {
        Model::open({});
        FAIL() << "opened without weights";
    } catch (const WeightsError& e) {
        EXPECT_NE(std::string(e.what()).find("weights/fetch.sh"), std::string::npos);
    }
    ModelOptions o;
    o.demoIfMissing = true;
    const auto demo = Model::open(o);
    EXPECT_EQ(demo->trust(), Trust::Untrained);
    EXPECT_EQ(demo->file(), "");
    EXPECT_EQ(demo->summary(), "ResNet18 · demo weights · 1000 classes · untrained demo weights");
}

// From a JPEG on disk to logits, the way every caller runs it, against PyTorch + PIL.
TEST(Pipeline, ClassifyFileMatchesPyTorchEndToEnd) {
    Pipeline pipeline(open("resnet18_seeded.pth"), EngineOptions());
    for (const char* id : {"dog", "eagle"}) {
        const test::FixtureImage image = test::fixtureImage(id);
        RunRequest request;
        request.taps = {"layer2.1"};
        const Classification c = pipeline.classifyFile(image.path, request);
        const Tensor expected = readNpy(fixture(std::string("ref/") + id + "/logits.npy"));
        const auto cmp = test::compare(expected, c.logits);
        EXPECT_LE(cmp.maxAbsDiff, 1e-4 * cmp.maxAbsRef) << cmp.report("logits", expected, c.logits);
        ASSERT_EQ(c.top.size(), 5U);
        EXPECT_EQ(c.top[0].index, image.top1);
        EXPECT_EQ(c.taps.count("layer2.1"), 1U);
        EXPECT_GT(c.decodeMs, 0.0);
        EXPECT_GT(c.networkMs, 0.0);
    }
    EXPECT_THROW(pipeline.classifyFile(fixture("bad/text.jpg")), ImageError);
}

TEST(TapStats, PerChannelFiguresAndOrder) {
    Tensor t({1, 3, 1, 2});
    t.data = {0.0F, 2.0F, -1.0F, -3.0F, 5.0F, 5.0F};
    const TapStats s = computeTapStats(t);
    ASSERT_EQ(s.channels.size(), 3U);
    EXPECT_FLOAT_EQ(s.channels[0].mean, 1.0F);
    EXPECT_FLOAT_EQ(s.channels[1].min, -3.0F);
    EXPECT_FLOAT_EQ(s.channels[2].max, 5.0F);
    EXPECT_FLOAT_EQ(s.min, -3.0F);
    EXPECT_FLOAT_EQ(s.max, 5.0F);
    EXPECT_FLOAT_EQ(s.zeroFraction, 1.0F / 6.0F);
    EXPECT_EQ(s.byMean, (std::vector<int>{2, 0, 1}));
}

}  // namespace
}  // namespace r18
