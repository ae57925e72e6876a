// NetworkSpec: the one description of the network, checked against torchvision's figures.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/model/network_spec.h"

namespace r18 {
namespace {

TEST(NetworkSpec, ResNet18TotalsMatchTorchvision) {
    const NetworkSpec spec = makeResNet18();
    EXPECT_EQ(spec.archName(), "ResNet18");
    // sum(p.numel() for p in torchvision.models.resnet18().parameters())
    EXPECT_EQ(spec.totalParams(), 11'689'512);
    // Conv and fc multiply-accumulates at 224×224: the "1.82 GMACs" every table quotes.
    EXPECT_GT(spec.totalMacs(), 1'810'000'000);
    EXPECT_LT(spec.totalMacs(), 1'830'000'000);
}

TEST(NetworkSpec, OtherDepthsAndHeads) {
    EXPECT_EQ(makeResNet({3, 4, 6, 3}, 1000).totalParams(), 21'797'672);  // torchvision resnet34
    EXPECT_EQ(makeResNet({3, 4, 6, 3}, 1000).archName(), "ResNet34");
    // A fine-tuned 10-class head: only fc changes.
    EXPECT_EQ(makeResNet18(10).totalParams(), 11'689'512 - 513'000 + 5'130);
}

TEST(NetworkSpec, NodesCarryTorchvisionNamesAndShapes) {
    const NetworkSpec spec = makeResNet18();
    const Node& stem = spec.node("conv1");
    EXPECT_EQ(stem.outShape, (std::vector<int64_t>{64, 112, 112}));
    EXPECT_EQ(stem.params, 64 * 3 * 7 * 7 + 2 * 64);
    EXPECT_EQ(stem.macs, int64_t{64} * 3 * 49 * 112 * 112);
    EXPECT_EQ(spec.node("maxpool").outShape, (std::vector<int64_t>{64, 56, 56}));
    EXPECT_EQ(spec.node("layer3.1").outShape, (std::vector<int64_t>{256, 14, 14}));
    EXPECT_EQ(spec.node("layer4.1").outShape, (std::vector<int64_t>{512, 7, 7}));
    EXPECT_EQ(spec.node("avgpool").outShape, (std::vector<int64_t>{512}));
    EXPECT_EQ(spec.node("fc").outShape, (std::vector<int64_t>{1000}));
    EXPECT_EQ(spec.node("layer2.0.downsample").weightName, "layer2.0.downsample.0");
    EXPECT_EQ(spec.node("layer2.0.downsample").bnName, "layer2.0.downsample.1");
    EXPECT_EQ(spec.node("layer2.0.conv1").caption(), "3×3 conv, 128, /2");
    EXPECT_EQ(spec.node("conv1").caption(), "7×7 conv, 64, /2");
    EXPECT_EQ(spec.find("layer1.0.downsample"), -1);
    EXPECT_THROW(spec.node("layer5.0"), EngineError);
    for (const Node& n : spec.nodes) {
        for (int in : n.inputs)
            EXPECT_LT(in, spec.find(n.name)) << n.name << " is not in execution order";
        if (n.stage >= 1 && n.stage <= 4) {
            EXPECT_EQ(n.name.rfind("layer" + std::to_string(n.stage), 0), 0u);
        }
    }
}

TEST(NetworkSpec, ResidualEdgesAreIdentityOrProjection) {
    const NetworkSpec spec = makeResNet18();
    ASSERT_EQ(spec.residuals.size(), 8u);
    int projections = 0;
    for (const ResidualEdge& e : spec.residuals) {
        const Node& add = spec.nodes[static_cast<size_t>(e.to)];
        EXPECT_EQ(add.kind, NodeKind::Add);
        if (e.projection()) {
            ++projections;
            EXPECT_EQ(spec.nodes[static_cast<size_t>(e.via)].kernel, 1);
            EXPECT_EQ(add.inputs[1], e.via);
        } else {
            EXPECT_EQ(add.inputs[1], e.from);
        }
    }
    EXPECT_EQ(projections, 3);  // first block of stages 2, 3 and 4
}

TEST(NetworkSpec, TapsExcludeConvsFusedIntoTheAdd) {
    const std::vector<std::string> taps = makeResNet18().tapNames();
    auto has = [&](const std::string& n) {
        return std::find(taps.begin(), taps.end(), n) != taps.end();
    };
    for (const char* name : {"input", "conv1", "maxpool", "layer1.0.conv1", "layer2.0.downsample",
                             "layer1.0", "layer4.1", "avgpool", "fc"})
        EXPECT_TRUE(has(name)) << name;
    EXPECT_FALSE(has("layer1.0.conv2"));
    const NetworkSpec spec = makeResNet18();
    EXPECT_EQ(spec.node("layer3.0.conv2").fusedInto, spec.find("layer3.0"));
    EXPECT_EQ(spec.node("layer3.0.conv1").fusedInto, -1);
    EXPECT_EQ(spec.node("layer3.0.downsample").fusedInto, -1);
}

TEST(NetworkSpec, RejectsNonsense) {
    EXPECT_THROW(makeResNet({2, 2, 2}, 1000), std::invalid_argument);
    EXPECT_THROW(makeResNet({2, 0, 2, 2}, 1000), std::invalid_argument);
    EXPECT_THROW(makeResNet({2, 2, 2, 2}, 0), std::invalid_argument);
}

// The layering rule: nothing in core/ (any of its folders) includes a Qt header.
TEST(Layering, CoreIncludesNoQt) {
    namespace fs = std::filesystem;
    int files = 0;
    std::set<std::string> folders;
    for (const auto& e : fs::recursive_directory_iterator(std::string(R18_SOURCE_DIR) + "/core")) {
        const std::string ext = e.path().extension().string();
        if (!e.is_regular_file() || (ext != ".h" && ext != ".cpp" && ext != ".in")) continue;
        std::ifstream f(e.path());
        std::string line;
        while (std::getline(f, line)) {
            EXPECT_EQ(line.find("#include <Q"), std::string::npos) << e.path() << ": " << line;
            EXPECT_EQ(line.find("#include <qt"), std::string::npos) << e.path() << ": " << line;
        }
        folders.insert(e.path().parent_path().filename().string());
        ++files;
    }
    EXPECT_GT(files, 30);
    for (const char* folder : {"formats", "model", "media", "engine"})
        EXPECT_TRUE(folders.count(folder)) << "core/" << folder << " was not searched";
}

}  // namespace
}  // namespace r18
