// The oneDNN engine against PyTorch: logits and every tap, from every weight format, plus
// the tap API, batching, threads and precisions.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <thread>

#include "core/engine/calibration.h"
#include "core/engine/engine.h"
#include "core/error.h"
#include "core/formats/npy.h"
#include "core/model/predictions.h"
#include "tests/test_util.h"

namespace r18 {
namespace {

using test::fixture;

constexpr double kFp32Bound = 1e-4;  // × max|reference|, for logits and every tap
constexpr double kBf16Bound = 5e-2;  // × max|reference|, logits
constexpr double kInt8Bound = 1e-1;  // × max|reference|, logits

struct Loaded {
    WeightSet weights;
    NetworkSpec spec;
};

const Loaded& loaded(const std::string& file) {
    static std::map<std::string, std::unique_ptr<Loaded>> cache;
    auto& slot = cache[file];
    if (!slot) {
        slot = std::make_unique<Loaded>();
        slot->weights = loadWeights(fixture("weights/" + file));
        slot->spec = inferSpec(slot->weights);
    }
    return *slot;
}

Engine& engineFor(const std::string& file, Precision precision = Precision::Fp32, int batch = 1,
                  int threads = 0) {
    static std::map<std::string, std::unique_ptr<Engine>> cache;
    const std::string key =
        file + precisionName(precision) + std::to_string(batch) + "/" + std::to_string(threads);
    auto& slot = cache[key];
    if (!slot) {
        const Loaded& l = loaded(file);
        slot = std::make_unique<Engine>(
            l.spec, l.weights,
            EngineOptions().with(precision).withBatch(batch).withThreads(threads));
    }
    return *slot;
}

Tensor refInput(const std::string& id) {
    return readNpy(fixture("ref/" + id + "/input.npy"));
}

class EveryFormat : public testing::TestWithParam<const char*> {};

// Every tap of the fully-tapped images, from every weight format, within 1e-4 × max|ref|.
TEST_P(EveryFormat, EveryTapMatchesPyTorch) {
    Engine& engine = engineFor(GetParam());
    const std::vector<std::string> taps = engine.spec().tapNames();
    for (const char* id : {"dog", "gray_301x187"}) {
        const RunResult r = engine.run(refInput(id), taps);
        ASSERT_EQ(r.taps.size(), taps.size());
        double worst = 0.0;
        std::string worstTap;
        for (const std::string& tap : taps) {
            const Tensor ref = readNpy(fixture(std::string("ref/") + id + "/" + tap + ".npy"));
            const test::Comparison c = test::compare(ref, r.taps.at(tap));
            ASSERT_TRUE(c.sameShape) << c.report(tap, ref, r.taps.at(tap));
            EXPECT_LE(c.maxAbsDiff, kFp32Bound * c.maxAbsRef)
                << GetParam() << " " << id << " " << c.report(tap, ref, r.taps.at(tap));
            if (c.maxAbsDiff / c.maxAbsRef > worst) {
                worst = c.maxAbsDiff / c.maxAbsRef;
                worstTap = tap;
            }
        }
        std::printf("[ agreement ] %-28s %-13s worst tap %-20s %.2e × max|ref|\n", GetParam(), id,
                    worstTap.c_str(), worst);
    }
}

TEST_P(EveryFormat, LogitsOfEveryImageMatchPyTorch) {
    Engine& engine = engineFor(GetParam());
    double worst = 0.0;
    for (const test::FixtureImage& im : test::fixtureImages()) {
        const RunResult r = engine.run(refInput(im.id));
        const Tensor ref = readNpy(fixture("ref/" + im.id + "/logits.npy"));
        const test::Comparison c = test::compare(ref, r.logits);
        EXPECT_LE(c.maxAbsDiff, kFp32Bound * c.maxAbsRef) << c.report(im.id, ref, r.logits);
        worst = std::max(worst, c.maxAbsDiff / c.maxAbsRef);
        const auto best = topK(r.logits.ptr(), engine.spec().numClasses, 1, Labels());
        EXPECT_EQ(best[0].index, im.top1) << im.id;
    }
    std::printf("[ agreement ] %-28s logits of all images: worst %.2e × max|ref|\n", GetParam(),
                worst);
}

INSTANTIATE_TEST_SUITE_P(Weights, EveryFormat,
                         testing::Values("resnet18_seeded.pth", "resnet18_seeded_legacy.pth",
                                         "resnet18_seeded.onnx", "resnet18_seeded_zoo.onnx"),
                         [](const testing::TestParamInfo<const char*>& p) {
                             return test::identifier(p.param);
                         });

TEST(Engine, TapsDoNotChangeTheResult) {
    Engine& engine = engineFor("resnet18_seeded.pth");
    const Tensor x = refInput("eagle");
    const RunResult plain = engine.run(x);
    EXPECT_TRUE(plain.taps.empty());
    const RunResult tapped = engine.run(x, {"layer1.0", "layer2.0.downsample", "maxpool"});
    EXPECT_EQ(tapped.taps.size(), 3u);
    EXPECT_EQ(plain.logits.data, tapped.logits.data);
    EXPECT_EQ(tapped.taps.at("layer2.0.downsample").dims, (std::vector<int64_t>{1, 128, 28, 28}));
    // asking again reuses the cached list and gives the same numbers
    EXPECT_EQ(engine.run(x, {"maxpool"}).taps.at("maxpool").data, tapped.taps.at("maxpool").data);
    EXPECT_EQ(engine.run(x, {"input"}).taps.at("input").data, x.data);
    EXPECT_EQ(engine.run(x, {"fc"}).taps.at("fc").data, plain.logits.data);
}

// oneDNN's library-managed scratchpad of the Winograd and GEMM convolutions is one buffer per
// thread, counted per thread. An engine compiled on one thread and destroyed on another (an
// insight's runner: compiled on its job thread, dropped with its window on the GUI thread) must
// leave both threads' engines working; it used to free this thread's buffer under this thread's
// own engine (a crash in a Winograd kernel on AVX-512).
TEST(Engine, AnEngineMadeOnAnotherThreadCanBeDestroyedHere) {
    const Loaded& l = loaded("resnet18_seeded.pth");
    const Tensor x = refInput("eagle");
    Engine here(l.spec, l.weights, EngineOptions().withThreads(1));
    const RunResult before = here.run(x, {"layer2.1", "layer4.1"});
    for (int k = 0; k < 3; ++k) {
        std::unique_ptr<Engine> there;
        std::thread job([&] {
            there = std::make_unique<Engine>(l.spec, l.weights, EngineOptions().withThreads(1));
            there->run(x);
        });
        job.join();
        EXPECT_EQ(there->run(x).logits.data, before.logits.data);  // and run here
        there.reset();                                             // destroyed here
        const RunResult again = here.run(x, {"layer2.1", "layer4.1"});
        EXPECT_EQ(again.logits.data, before.logits.data) << "round " << k;
        EXPECT_EQ(again.taps.at("layer2.1").data, before.taps.at("layer2.1").data);
    }
}

TEST(Engine, BadTapNamesAreExplained) {
    Engine& engine = engineFor("resnet18_seeded.pth");
    const Tensor x = refInput("eagle");
    try {
        engine.run(x, {"layer9.0"});
        FAIL();
    } catch (const EngineError& e) {
        EXPECT_NE(std::string(e.what()).find(
                      "Unknown tap 'layer9.0'. Valid taps: input, conv1, maxpool,"),
                  std::string::npos)
            << e.what();
    }
    try {
        engine.run(x, {"layer1.0.conv2"});
        FAIL();
    } catch (const EngineError& e) {
        EXPECT_NE(std::string(e.what()).find("tap the block ('layer1.0')"), std::string::npos)
            << e.what();
    }
    EXPECT_THROW(engine.run(Tensor({1, 3, 100, 100})), EngineError);
}

TEST(Engine, BatchOfTwoEqualsTwoSingleRuns) {
    Engine& single = engineFor("resnet18_seeded.pth");
    Engine& pair = engineFor("resnet18_seeded.pth", Precision::Fp32, 2);
    const Tensor a = refInput("dog");
    const Tensor b = refInput("kite");
    Tensor both({2, 3, 224, 224});
    std::copy(a.data.begin(), a.data.end(), both.data.begin());
    std::copy(b.data.begin(), b.data.end(),
              both.data.begin() + static_cast<std::ptrdiff_t>(a.data.size()));
    const RunResult r = pair.run(both, {"layer4.1"});
    EXPECT_EQ(r.logits.dims, (std::vector<int64_t>{2, 1000}));
    EXPECT_EQ(r.taps.at("layer4.1").dims, (std::vector<int64_t>{2, 512, 7, 7}));
    const RunResult ra = single.run(a);
    const RunResult rb = single.run(b);
    for (size_t i = 0; i < 1000; ++i) {
        EXPECT_NEAR(r.logits.data[i], ra.logits.data[i], 1e-4F);
        EXPECT_NEAR(r.logits.data[1000 + i], rb.logits.data[i], 1e-4F);
    }
}

TEST(Engine, OneThreadAgreesWithTwo) {
    const Tensor x = refInput("person");
    const Tensor ref = readNpy(fixture("ref/person/logits.npy"));
    for (int threads : {1, 2}) {
        const RunResult r = engineFor("resnet18_seeded.pth", Precision::Fp32, 1, threads).run(x);
        const test::Comparison c = test::compare(ref, r.logits);
        EXPECT_LE(c.maxAbsDiff, kFp32Bound * c.maxAbsRef)
            << threads << " threads: " << c.report("logits", ref, r.logits);
    }
}

TEST(Engine, ProfilingChargesTimeToNodes) {
    Engine& engine = engineFor("resnet18_seeded.pth");
    const RunResult r = engine.run(refInput("dog"), {}, true);
    const NetworkSpec& spec = engine.spec();
    ASSERT_EQ(r.nodeMs.size(), spec.nodes.size());
    for (const char* conv : {"conv1", "layer1.0.conv1", "layer1.0.conv2", "layer4.1.conv2", "fc"})
        EXPECT_GT(r.nodeMs[static_cast<size_t>(spec.find(conv))], 0.0) << conv;
    EXPECT_TRUE(engine.run(refInput("dog")).nodeMs.empty());
}

// bf16: where the CPU has it, agreement with PyTorch's fp32; elsewhere, a clear refusal.
TEST(Engine, Bf16AgreesOrIsClearlyRefused) {
    const Loaded& l = loaded("resnet18_seeded.pth");
    if (!Engine::supports(Precision::Bf16)) {
        try {
            Engine e(l.spec, l.weights, EngineOptions().with(Precision::Bf16));
            FAIL() << "bf16 engine built on a CPU reported as unsupported";
        } catch (const EngineError& e) {
            const std::string m = e.what();
            EXPECT_NE(m.find("bf16 is not available on this CPU"), std::string::npos) << m;
            EXPECT_NE(m.find(Engine::cpuIsa()), std::string::npos) << m;
            EXPECT_NE(m.find("Use fp32"), std::string::npos) << m;
        }
        std::printf("[ bf16 ] not supported on this CPU (%s): refusal checked\n",
                    Engine::cpuIsa().c_str());
        return;
    }
    Engine& engine = engineFor("resnet18_seeded.pth", Precision::Bf16);
    int photos = 0;
    for (const test::FixtureImage& im : test::fixtureImages()) {
        const RunResult r = engine.run(refInput(im.id));
        const Tensor ref = readNpy(fixture("ref/" + im.id + "/logits.npy"));
        const test::Comparison c = test::compare(ref, r.logits);
        EXPECT_LE(c.maxAbsDiff, kBf16Bound * c.maxAbsRef)
            << c.report(im.id + " bf16", ref, r.logits);
        // Same top-1 on the photos: their fixture head gives each a margin larger than twice
        // the bf16 bound, so a flip means bf16 broke the bound where it matters.
        if (im.photo) {
            ASSERT_GT(im.top1Margin, 2 * kBf16Bound * im.maxAbsLogit) << im.id;
            ++photos;
            EXPECT_EQ(topK(r.logits.ptr(), 1000, 1, Labels())[0].index, im.top1) << im.id;
        }
        std::printf("[ bf16 ] %-16s max |diff| %.4f (%.2e × max|ref|), top-1 margin %.3f\n",
                    im.id.c_str(), c.maxAbsDiff, c.maxAbsDiff / c.maxAbsRef, im.top1Margin);
    }
    EXPECT_EQ(photos, 7);
}

// int8: calibrated on some images, judged on others (calibration-independent): same top-1 as
// PyTorch's fp32 on every held-out photo, logits within a bound, every tap usable.
TEST(Engine, Int8AgreesWithFp32OnImagesItWasNotCalibratedOn) {
    const Loaded& l = loaded("resnet18_seeded.pth");
    std::vector<Tensor> calibrationInputs;
    for (const char* id : {"dog", "eagle", "giraffe", "horses", "gray_301x187", "rgb16_250x333",
                           "big_2000x1500", "tall_3x500"})
        calibrationInputs.push_back(refInput(id));
    auto calibration =
        std::make_shared<Calibration>(calibrate(l.spec, l.weights, calibrationInputs));
    EXPECT_EQ(calibration->images, 8);
    EXPECT_GT(calibration->maxAbs.at("layer4.1"), 0.0F);
    Engine engine(l.spec, l.weights,
                  EngineOptions().with(Precision::Int8).withCalibration(calibration));
    int agree = 0;
    int judged = 0;
    double worst = 0.0;
    for (const char* id :
         {"kite", "person", "scream", "exact_256x300", "wide_640x7", "bgra_257x255", "tiny_1x1"}) {
        const test::FixtureImage im = test::fixtureImage(id);
        const RunResult r =
            engine.run(refInput(id), {"layer2.0.downsample", "layer3.1", "avgpool"});
        const Tensor ref = readNpy(fixture("ref/" + im.id + "/logits.npy"));
        const test::Comparison c = test::compare(ref, r.logits);
        worst = std::max(worst, c.maxAbsDiff / c.maxAbsRef);
        const int64_t top = topK(r.logits.ptr(), 1000, 1, Labels())[0].index;
        ++judged;
        agree += top == im.top1;
        if (im.photo) {
            EXPECT_EQ(top, im.top1) << id;
        }
        std::printf(
            "[ int8 ] %-14s logits max |diff| %.3f (%.2e × max|ref|), top-1 %s (fp32 margin "
            "%.3f)\n",
            id, c.maxAbsDiff, c.maxAbsDiff / c.maxAbsRef, top == im.top1 ? "same" : "DIFFERENT",
            im.top1Margin);
        EXPECT_LE(c.maxAbsDiff, kInt8Bound * c.maxAbsRef)
            << c.report(std::string(id) + " int8", ref, r.logits);
        EXPECT_EQ(r.taps.at("layer2.0.downsample").dims, (std::vector<int64_t>{1, 128, 28, 28}));
    }
    EXPECT_GE(agree, 0.97 * judged);
    std::printf(
        "[ int8 ] top-1 equal on %d of %d held-out images; worst logit error %.2e × max|ref|\n",
        agree, judged, worst);
    EXPECT_THROW(
        Engine(l.spec, l.weights, EngineOptions().with(Precision::Int8).withCalibration(nullptr)),
        EngineError);
}

TEST(Engine, RefusesWeightsThatDoNotFitTheSpec) {
    const Loaded& l = loaded("resnet18_seeded.pth");
    EXPECT_THROW(Engine(makeResNet({3, 4, 6, 3}, 1000), l.weights), WeightsError);
    EXPECT_THROW(Engine(l.spec, l.weights, EngineOptions().withBatch(0)), EngineError);
}

class OtherModels : public testing::TestWithParam<std::pair<const char*, const char*>> {};

// A fine-tuned 10-class head and a ResNet34, from .pth and ONNX, against PyTorch's logits.
TEST_P(OtherModels, MatchPyTorch) {
    const auto [file, tag] = GetParam();
    Engine& engine = engineFor(file);
    for (const char* id : {"dog", "eagle", "gray_301x187"}) {
        const Tensor ref = readNpy(fixture(std::string("ref/") + id + "/logits_" + tag + ".npy"));
        const RunResult r = engine.run(refInput(id), {"layer4.0.downsample"});
        const test::Comparison c = test::compare(ref, r.logits);
        EXPECT_LE(c.maxAbsDiff, kFp32Bound * c.maxAbsRef)
            << c.report(std::string(file) + " " + id, ref, r.logits);
        std::printf("[ agreement ] %-22s %-13s logits %.2e × max|ref|\n", file, id,
                    c.maxAbsDiff / c.maxAbsRef);
    }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, OtherModels,
                         testing::Values(std::make_pair("finetuned10.pth", "finetuned10"),
                                         std::make_pair("resnet34_seeded.pth", "resnet34"),
                                         std::make_pair("resnet34_seeded.onnx", "resnet34")),
                         [](const testing::TestParamInfo<std::pair<const char*, const char*>>& p) {
                             return test::identifier(p.param.first);
                         });

TEST(OtherModels, SpecsFollowTheFiles) {
    EXPECT_EQ(loaded("finetuned10.pth").spec.numClasses, 10);
    EXPECT_EQ(loaded("resnet34_seeded.pth").spec.depths, (std::vector<int>{3, 4, 6, 3}));
    EXPECT_EQ(loaded("resnet34_seeded.onnx").spec.archName(), "ResNet34");
    EXPECT_EQ(Labels::fileBesideWeights(fixture("weights/finetuned10.pth")),
              fixture("weights/finetuned10.labels.txt"));
    EXPECT_EQ(Labels::fileBesideWeights(fixture("weights/resnet34_seeded.pth")), "");
    const Labels labels = Labels::fromFile(fixture("weights/finetuned10.labels.txt"));
    EXPECT_EQ(labels.size(), 10u);
    EXPECT_EQ(labels.name(3), "part 3");
    EXPECT_EQ(Labels().name(17), "class 17");
}

TEST(Engine, ReportsWhatOneDnnChose) {
    Engine& engine = engineFor("resnet18_seeded.pth");
    EXPECT_NE(engine.implementations().find("conv "), std::string::npos);
    EXPECT_FALSE(Engine::cpuIsa().empty());
    std::printf("[ engine ] ISA %s; %s\n", Engine::cpuIsa().c_str(),
                engine.implementations().c_str());
}

}  // namespace
}  // namespace r18
