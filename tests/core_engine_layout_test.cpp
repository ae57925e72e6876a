// The engine's layout and algorithm choice (Winograd on nChw16c where oneDNN has it, direct
// elsewhere), forced each way, against PyTorch: every path a CPU can take is checked on every
// CPU, and the path this CPU takes by default is reported.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "core/engine/engine.h"
#include "core/formats/npy.h"
#include "tests/test_util.h"

namespace r18 {
namespace {

using test::fixture;

constexpr double kFp32Bound = 1e-4;  // × max|reference|, for logits and every tap

struct Loaded {
    WeightSet weights;
    NetworkSpec spec;
};

const Loaded& resnet18() {
    static const Loaded l = [] {
        Loaded x;
        x.weights = loadWeights(fixture("weights/resnet18_seeded.pth"));
        x.spec = inferSpec(x.weights);
        return x;
    }();
    return l;
}

Tensor refInput(const std::string& id) {
    return readNpy(fixture("ref/" + id + "/input.npy"));
}

EngineOptions forced(ConvAlgorithm algorithm, ActivationLayout layout, int batch = 1) {
    EngineOptions o = EngineOptions().withBatch(batch);
    o.algorithm = algorithm;
    o.layout = layout;
    return o;
}

// Every tap (the logits included) of one photo and, unless `onePhoto`, the logits of another,
// against PyTorch.
void expectMatchesPyTorch(Engine& engine, const std::string& what, bool onePhoto = false) {
    const std::vector<std::string> taps = engine.spec().tapNames();
    const RunResult r = engine.run(refInput("dog"), taps);
    double worst = 0.0;
    for (const std::string& tap : taps) {
        const Tensor ref = readNpy(fixture("ref/dog/" + tap + ".npy"));
        const test::Comparison c = test::compare(ref, r.taps.at(tap));
        ASSERT_TRUE(c.sameShape) << what << " " << c.report(tap, ref, r.taps.at(tap));
        EXPECT_LE(c.maxAbsDiff, kFp32Bound * c.maxAbsRef)
            << what << " " << c.report(tap, ref, r.taps.at(tap));
        worst = std::max(worst, c.maxAbsDiff / c.maxAbsRef);
    }
    for (const char* id : {"dog", "eagle"}) {
        if (onePhoto) break;
        const Tensor ref = readNpy(fixture(std::string("ref/") + id + "/logits.npy"));
        const Tensor got = engine.run(refInput(id)).logits;
        const test::Comparison c = test::compare(ref, got);
        EXPECT_LE(c.maxAbsDiff, kFp32Bound * c.maxAbsRef) << what << " " << c.report(id, ref, got);
        worst = std::max(worst, c.maxAbsDiff / c.maxAbsRef);
    }
    std::printf("[ layout ] %-34s layout %-15s Winograd layers %2zu, worst %.2e × max|ref| (%s)\n",
                what.c_str(), engine.activationLayout().c_str(), engine.winogradLayers().size(),
                worst, engine.implementations().c_str());
}

// The default: on AVX-512, Winograd on nChw16c for every 3×3 stride-1 convolution (the fixed
// table); on AVX2, direct in oneDNN's layouts. Either way within the fidelity bound.
TEST(EngineLayout, DefaultChoiceMatchesPyTorch) {
    Engine engine(resnet18().spec, resnet18().weights, EngineOptions());
    expectMatchesPyTorch(engine, "default (" + Engine::cpuIsa() + ")");
    if (!Engine::hasWinograd()) {
        EXPECT_TRUE(engine.winogradLayers().empty());
        EXPECT_EQ(engine.activationLayout(), "oneDNN's choice");
    } else {
        EXPECT_EQ(engine.activationLayout(), "nChw16c");
    }
}

// What the default computes is decided by a table, not a timing: the convolutions it takes
// Winograd for are exactly the 3×3 stride-1 ones (where oneDNN has Winograd), and two engines
// give the same bytes for every tap even when the second is compiled while another thread keeps
// the cores busy (as the window compiles a job engine beside its running live engine). Each
// engine is compiled and run on one thread: oneDNN's scratchpad belongs to the thread.
TEST(EngineLayout, DefaultChoiceIsAFixedTableAndRepeatsBitForBit) {
    std::vector<std::string> table;
    for (const Node& n : resnet18().spec.nodes)
        if (Engine::hasWinograd() && n.kind == NodeKind::Conv && n.kernel == 3 && n.stride == 1)
            table.push_back(n.name);
    const std::vector<std::string> taps = resnet18().spec.tapNames();
    const Tensor dog = refInput("dog");
    Engine first(resnet18().spec, resnet18().weights, EngineOptions());
    EXPECT_EQ(first.winogradLayers(), table);
    const RunResult a = first.run(dog, taps);
    std::atomic<bool> stop{false};
    std::thread busy([&] {
        Engine other(resnet18().spec, resnet18().weights, EngineOptions());
        while (!stop) other.run(dog);
    });
    Engine second(resnet18().spec, resnet18().weights, EngineOptions());
    stop = true;
    busy.join();
    EXPECT_EQ(second.winogradLayers(), table);
    const RunResult b = second.run(dog, taps);
    EXPECT_EQ(a.logits.data, b.logits.data);
    for (const std::string& tap : taps) EXPECT_EQ(a.taps.at(tap).data, b.taps.at(tap).data) << tap;
}

// Winograd asked for everywhere: taken where oneDNN builds it, a clean fallback to direct
// where it does not (AVX2), and never on convolutions that are not 3×3 stride 1.
TEST(EngineLayout, ForcedWinogradFallsBackCleanly) {
    Engine engine(resnet18().spec, resnet18().weights,
                  forced(ConvAlgorithm::Winograd, ActivationLayout::Auto));
    expectMatchesPyTorch(engine, "Winograd wherever possible");
    const std::vector<std::string> wino = engine.winogradLayers();
    if (Engine::hasWinograd()) {
        EXPECT_EQ(wino.size(), 13u);  // 3×3 stride-1 convs of ResNet18
        EXPECT_NE(engine.implementations().find("wino"), std::string::npos);
    } else {
        EXPECT_TRUE(wino.empty());
        EXPECT_EQ(engine.implementations().find("wino"), std::string::npos);
    }
    for (const std::string& name : wino) {
        const Node& n = engine.spec().nodes[static_cast<size_t>(engine.spec().find(name))];
        EXPECT_EQ(n.kernel, 3) << name;
        EXPECT_EQ(n.stride, 1) << name;
    }
}

// The layout change is the risky part: every activation pinned to nChw16c, direct convolutions,
// pooling, the fused residual sum into the skip buffer, the head and the tap reorders out of
// the blocked layout. On AVX2 oneDNN has only its generic kernels for nChw16c (seconds per
// image), so one photo there.
TEST(EngineLayout, Blocked16DirectMatchesPyTorch) {
    Engine engine(resnet18().spec, resnet18().weights,
                  forced(ConvAlgorithm::Direct, ActivationLayout::Blocked16));
    EXPECT_EQ(engine.activationLayout(), "nChw16c");
    EXPECT_TRUE(engine.winogradLayers().empty());
    expectMatchesPyTorch(engine, "direct on nChw16c", !Engine::hasWinograd());
}

// The same pinning in the CPU's own block size (nChw8c on AVX2, fast kernels).
TEST(EngineLayout, NativeBlockedDirectMatchesPyTorch) {
    Engine engine(resnet18().spec, resnet18().weights,
                  forced(ConvAlgorithm::Direct, ActivationLayout::Blocked));
    EXPECT_NE(engine.activationLayout().find("nChw"), std::string::npos);
    expectMatchesPyTorch(engine, "direct on the CPU's blocked layout");
}

// Batches in a pinned layout: each image as if alone.
TEST(EngineLayout, BlockedLayoutBatchEqualsSingle) {
    Engine pair(resnet18().spec, resnet18().weights,
                forced(ConvAlgorithm::Auto, ActivationLayout::Blocked, 2));
    const Tensor a = refInput("dog");
    const Tensor b = refInput("kite");
    Tensor both({2, 3, 224, 224});
    std::copy(a.data.begin(), a.data.end(), both.data.begin());
    std::copy(b.data.begin(), b.data.end(),
              both.data.begin() + static_cast<std::ptrdiff_t>(a.data.size()));
    const Tensor logits = pair.run(both).logits;
    for (const auto& [id, offset] : {std::pair{"dog", 0}, std::pair{"kite", 1000}}) {
        const Tensor ref = readNpy(fixture(std::string("ref/") + id + "/logits.npy"));
        Tensor got({1, 1000});
        std::copy(logits.data.begin() + offset, logits.data.begin() + offset + 1000,
                  got.data.begin());
        const test::Comparison c = test::compare(ref, got);
        EXPECT_LE(c.maxAbsDiff, kFp32Bound * c.maxAbsRef) << c.report(id, ref, got);
    }
}

// bf16 and int8 ignore the fp32 choices: direct, oneDNN's layouts.
TEST(EngineLayout, OnlyFp32IsAffected) {
    if (!Engine::supports(Precision::Bf16)) GTEST_SKIP() << "no bf16 on " << Engine::cpuIsa();
    EngineOptions o = forced(ConvAlgorithm::Winograd, ActivationLayout::Blocked16);
    o.precision = Precision::Bf16;
    Engine engine(resnet18().spec, resnet18().weights, o);
    EXPECT_TRUE(engine.winogradLayers().empty());
    EXPECT_EQ(engine.activationLayout(), "oneDNN's choice");
}

}  // namespace
}  // namespace r18
