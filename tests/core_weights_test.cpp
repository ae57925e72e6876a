// Weight readers: .pth (zip and legacy), ONNX (folded export and model-zoo style), and every
// way a file can be wrong. Errors must name the file and the problem.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "core/formats/onnx_reader.h"
#include "core/formats/pickle_reader.h"
#include "core/formats/pth_reader.h"
#include "core/model/weights.h"
#include "tests/test_util.h"

namespace r18 {
namespace {

using test::fixture;

std::string errorOf(const std::string& path) {
    try {
        const WeightSet w = loadWeights(path);
        validateWeights(inferSpec(w), w);
    } catch (const WeightsError& e) {
        return e.what();
    }
    return "";
}

TEST(PthReader, ReadsTorchSaveZip) {
    const WeightSet w = loadWeights(fixture("weights/resnet18_seeded.pth"));
    EXPECT_EQ(w.format, "PyTorch state dict");
    const NetworkSpec spec = inferSpec(w);
    EXPECT_EQ(spec.archName(), "ResNet18");
    EXPECT_EQ(spec.numClasses, 1000);
    EXPECT_NO_THROW(validateWeights(spec, w));
    EXPECT_EQ(w.get("layer3.0.conv1.weight")->dims, (std::vector<int64_t>{256, 128, 3, 3}));
    EXPECT_EQ(w.nonFloat.at("bn1.num_batches_tracked"), "int64");
    // calibrated batch-norm: statistics far from the (0, 1) defaults
    const Tensor& var = *w.get("layer2.1.bn2.running_var");
    EXPECT_GT(std::fabs(var.data[0] - 1.0F), 1e-3F);
    EXPECT_FALSE(w.isOfficialImageNet());
    EXPECT_NE(w.trustNote().find("Not the official ImageNet weights"), std::string::npos);
    EXPECT_EQ(w.sha256.size(), 64u);
}

TEST(PthReader, LegacyFormatHoldsTheSameTensors) {
    const WeightSet zip = loadWeights(fixture("weights/resnet18_seeded.pth"));
    const WeightSet legacy = loadWeights(fixture("weights/resnet18_seeded_legacy.pth"));
    EXPECT_EQ(legacy.format, "PyTorch state dict (legacy format)");
    ASSERT_EQ(zip.tensors.size(), legacy.tensors.size());
    for (const auto& [name, t] : zip.tensors) {
        ASSERT_NE(legacy.get(name), nullptr) << name;
        EXPECT_EQ(legacy.get(name)->dims, t.dims) << name;
        EXPECT_EQ(legacy.get(name)->data, t.data) << name;
    }
}

TEST(OnnxReader, ModelZooStyleGraphMapsOntoTorchvisionNames) {
    const WeightSet pth = loadWeights(fixture("weights/resnet18_seeded.pth"));
    const WeightSet zoo = loadWeights(fixture("weights/resnet18_seeded_zoo.onnx"));
    EXPECT_EQ(zoo.format, "ONNX");
    const NetworkSpec spec = inferSpec(zoo);
    EXPECT_EQ(spec.archName(), "ResNet18");
    EXPECT_NO_THROW(validateWeights(spec, zoo));
    // Explicit BatchNormalization nodes: every tensor comes back under its torchvision name.
    int compared = 0;
    for (const auto& [name, t] : zoo.tensors) {
        ASSERT_NE(pth.get(name), nullptr) << name;
        EXPECT_EQ(pth.get(name)->data, t.data) << name;
        ++compared;
    }
    EXPECT_EQ(compared, static_cast<int>(pth.tensors.size()));
}

TEST(OnnxReader, TorchvisionExportWithFoldedBatchNorm) {
    const WeightSet w = loadWeights(fixture("weights/resnet18_seeded.onnx"));
    const NetworkSpec spec = inferSpec(w);
    EXPECT_EQ(spec.depths, (std::vector<int>{2, 2, 2, 2}));
    EXPECT_NO_THROW(validateWeights(spec, w));
    // folded: convs carry a bias and there is no batch-norm left
    EXPECT_NE(w.get("layer4.1.conv2.bias"), nullptr);
    EXPECT_NE(w.get("layer2.0.downsample.0.bias"), nullptr);
    EXPECT_EQ(w.get("layer4.1.bn2.weight"), nullptr);
}

TEST(Weights, HalfPrecisionValuesConvert) {
    EXPECT_EQ(halfToFloat(0x3C00), 1.0F);
    EXPECT_EQ(halfToFloat(0xC000), -2.0F);
    EXPECT_EQ(halfToFloat(0x3555), 0.333251953125F);
    EXPECT_EQ(halfToFloat(0x0001), std::ldexp(1.0F, -24));  // smallest subnormal
    EXPECT_EQ(halfToFloat(0x7BFF), 65504.0F);               // largest finite
    EXPECT_TRUE(std::isinf(halfToFloat(0x7C00)));
    EXPECT_TRUE(std::isnan(halfToFloat(0x7E00)));
}

TEST(Weights, RandomWeightsAreDeterministicAndValid) {
    const NetworkSpec spec = makeResNet18();
    const WeightSet a = makeRandomWeights(spec, 7);
    const WeightSet b = makeRandomWeights(spec, 7);
    const WeightSet c = makeRandomWeights(spec, 8);
    EXPECT_NO_THROW(validateWeights(spec, a));
    EXPECT_EQ(a.get("layer1.0.conv1.weight")->data, b.get("layer1.0.conv1.weight")->data);
    EXPECT_NE(a.get("layer1.0.conv1.weight")->data, c.get("layer1.0.conv1.weight")->data);
    EXPECT_NE(a.trustNote().find("meaningless"), std::string::npos);
}

struct BadCase {
    const char* file;
    const char* expected;  // part of the message, after the file name
};

class BadWeights : public testing::TestWithParam<BadCase> {};

TEST_P(BadWeights, ClearErrorNamingFileAndProblem) {
    const std::string path = fixture(std::string("bad/") + GetParam().file);
    const std::string message = errorOf(path);
    ASSERT_FALSE(message.empty()) << path << " was accepted";
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    EXPECT_NE(message.find(GetParam().expected), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, BadWeights,
    testing::Values(
        BadCase{"empty.pth", "the weights file is empty"}, BadCase{"truncated.pth", "truncated"},
        BadCase{"text.pth", "not a weights file"}, BadCase{"bad_crc.pth", "fails its CRC check"},
        BadCase{"wrong_shape.pth",
                "tensor 'layer3.0.conv1.weight' has shape [256,64,3,3], expected [256,128,3,3]"},
        BadCase{"missing_tensor.pth", "tensor 'fc.bias' is missing (expected shape [1000])"},
        BadCase{"nan.pth", "tensor 'layer2.1.bn2.running_var' holds a non-finite value"},
        BadCase{"int_weight.pth", "tensor 'conv1.weight' has dtype int64, expected float32"},
        BadCase{"bottleneck.pth", "bottleneck blocks"},
        BadCase{"truncated.onnx", "not an ONNX model"},
        BadCase{"wrong_shape.onnx", "does not have its geometry"},
        BadCase{"unknown_op.onnx", "node 'surprise_sigmoid' (Sigmoid)"},
        BadCase{"external_data.onnx", "external file"},
        BadCase{"huge_storage.pth",
                "tensor 'conv1.weight' needs 2147483648 bytes of storage, the file has 37632"},
        BadCase{"view_past_storage.pth", "reaches past the end of its storage of 9408 elements"},
        BadCase{"zip_bomb.pth", "refusing a likely zip bomb"},
        BadCase{"absurd_sizes.pth", "runs past the end of the file"},
        BadCase{"no_data_pkl.pth", "has no '<name>/data.pkl'"},
        BadCase{"reduce_storage.pth", "calls something that is not an allowed constructor"},
        BadCase{"build_on_tuple.pth", "sets state on an object that is not a dict or tensor"},
        BadCase{"inf.pth", "tensor 'layer3.1.conv2.weight' holds a non-finite value (inf)"},
        BadCase{"identity_cycle.onnx", "Identity nodes form a cycle"},
        BadCase{"huge_tensor.onnx",
                "declares the shape [536870912], larger than any ResNet weight"}),
    [](const testing::TestParamInfo<BadCase>& p) { return test::identifier(p.param.file); });

class EvilPickle : public testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(EvilPickle, ForbiddenGlobalIsRefusedAndNeverCalled) {
    const std::string path = fixture(std::string("bad/") + GetParam().first);
    const std::string message = errorOf(path);
    EXPECT_NE(message.find("refusing to load"), std::string::npos) << message;
    EXPECT_NE(message.find(std::string("'") + GetParam().second + "'"), std::string::npos)
        << message;
    EXPECT_FALSE(test::fileExists(fixture("PWNED"))) << "the payload ran";
}

INSTANTIATE_TEST_SUITE_P(Corpus, EvilPickle,
                         testing::Values(std::make_pair("evil_os_system.pth", "posix.system"),
                                         std::make_pair("evil_eval.pth", "builtins.eval"),
                                         std::make_pair("evil_popen.pth", "subprocess.Popen")));

TEST(Weights, MissingFileNamesTheFile) {
    const std::string message = errorOf("/nonexistent/weights.pth");
    EXPECT_EQ(
        message,
        "/nonexistent/weights.pth: cannot open the weights file (No such file or directory).");
}

// The unpickler on hand-made byte strings.
std::string unpickleError(const std::string& bytes) {
    try {
        unpickle(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "x.pkl");
    } catch (const WeightsError& e) {
        return e.what();
    }
    return "";
}

TEST(Unpickler, ParsesValuesAndDicts) {
    // {'a': (1, True, None), 'b': 3.5} at protocol 2
    static const char raw[] =
        "\x80\x02}q\x00(X\x01\x00\x00\x00"
        "a"
        "K\x01\x88N\x87X\x01\x00\x00\x00"
        "b"
        "G@\x0c\x00\x00\x00\x00\x00\x00u.";
    const std::string bytes(raw, sizeof raw - 1);
    const Unpickled u =
        unpickle(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "x.pkl");
    const PyRef o = u.root;
    ASSERT_EQ(o->type, PyObject::Type::Dict);
    const PyRef* a = o->dictGet("a");
    ASSERT_NE(a, nullptr);
    ASSERT_EQ((*a)->items.size(), 3u);
    EXPECT_EQ((*a)->items[0]->i, 1);
    EXPECT_EQ((*a)->items[1]->type, PyObject::Type::Bool);
    EXPECT_DOUBLE_EQ((*o->dictGet("b"))->f, 3.5);
}

TEST(Unpickler, RejectsMalformedStreams) {
    EXPECT_NE(unpickleError("\x80\x02X\xff\xff\xff\x7f").find("past the end"), std::string::npos);
    EXPECT_NE(unpickleError("\x80\x02h\x05.").find("memo entry 5"), std::string::npos);
    EXPECT_NE(unpickleError("\x80\x02.").find("empty stack"), std::string::npos);
    EXPECT_NE(unpickleError("\x80\x02}").find("truncated"), std::string::npos);
    EXPECT_NE(unpickleError("\x80\x02\x82\x01.").find("opcode 0x82"), std::string::npos);
    EXPECT_NE(unpickleError("\x80\x02"
                            "cbuiltins\ngetattr\n.")
                  .find("'builtins.getattr'"),
              std::string::npos);
    EXPECT_NE(unpickleError("\x80\x02t.").find("MARK"), std::string::npos);
}

// Inputs the fuzzers once broke (a self-referencing pickle that leaked, an ONNX node without
// outputs): they must now end in a clear r18::Error or load, nothing else. Under ./test.sh
// --asan this also proves they no longer leak or hit undefined behaviour.
TEST(FuzzRegressions, WeightReadersFailCleanly) {
    int files = 0;
    for (const char* kind : {"pth", "onnx"})
        for (const std::string& path : test::fuzzRegressions(kind)) {
            ++files;
            const std::vector<uint8_t> bytes = test::readBytes(path);
            try {
                const WeightSet w =
                    std::string(kind) == "pth" ? readPth(bytes, path) : readOnnx(bytes, path);
                validateWeights(inferSpec(w), w);
            } catch (const Error& e) {
                EXPECT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << e.what();
            }
        }
    EXPECT_GE(files, 2);
}

TEST(Unpickler, CyclesThroughTheMemoEndCleanly) {
    // d = {}; d["state_dict"] = d; d["x"] = d  -- a dict inside itself
    static const char raw[] =
        "\x80\x02}q\x00(X\x0a\x00\x00\x00state_dicth\x00X\x01\x00\x00\x00xh\x00u.";
    const Unpickled u =
        unpickle(reinterpret_cast<const uint8_t*>(raw), sizeof raw - 1, "cycle.pkl");
    ASSERT_EQ(u.root->type, PyObject::Type::Dict);
    EXPECT_EQ(*u.root->dictGet("state_dict"), u.root);
}

}  // namespace
}  // namespace r18
