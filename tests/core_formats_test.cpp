// The weights files people have (safetensors from timm and Hugging Face, transformers'
// pytorch_model.bin, ...) with the configs beside them: each must load, take its labels and
// preprocessing from its config, and agree with PyTorch (make_formats.py) on the test images.
// Plus PIL-exact bicubic, the configs' edge cases, and the hostile safetensors corpus.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/formats/npy.h"
#include "core/formats/safetensors_reader.h"
#include "core/formats/sha256.h"
#include "core/media/image_io.h"
#include "core/media/preprocess.h"
#include "core/model/model.h"
#include "core/model/model_config.h"
#include "core/model/weight_names.h"
#include "core/pipeline.h"
#include "tests/test_util.h"

namespace r18 {
namespace {

using test::fixture;

// The images make_formats.py computed references for.
const char* const kImages[] = {"dog",        "eagle",      "kite",          "gray_301x187",
                               "tall_3x500", "wide_640x7", "rgb16_250x333", "exact_256x300"};

struct Variant {
    std::string id;
    std::string weights;  // relative to fixtures()/formats
    int64_t classes = 0;
    std::string labelsKind;  // "config" or "imagenet"
    std::string label3;
};

std::vector<Variant> variants() {
    std::vector<Variant> out;
    std::ifstream f(fixture("formats/manifest.tsv"));
    std::string line;
    while (std::getline(f, line)) {
        std::istringstream fields(line);
        Variant v;
        std::string classes;
        std::getline(fields, v.id, '\t');
        std::getline(fields, v.weights, '\t');
        std::getline(fields, classes, '\t');
        std::getline(fields, v.labelsKind, '\t');
        std::getline(fields, v.label3, '\t');
        v.classes = std::stoll(classes);
        out.push_back(v);
    }
    return out;
}

std::string imagePath(const std::string& id) {
    for (const test::FixtureImage& im : test::fixtureImages())
        if (im.id == id) return im.path;
    return {};
}

std::shared_ptr<const Model> openFormat(const std::string& relative) {
    ModelOptions o;
    o.weightsPath = fixture("formats/" + relative);
    return Model::open(o);
}

class Formats : public testing::TestWithParam<Variant> {};

TEST_P(Formats, LoadWithTheirConfigAndMatchPyTorch) {
    const Variant& v = GetParam();
    const auto model = openFormat(v.weights);
    EXPECT_EQ(model->spec().numClasses, v.classes);
    EXPECT_TRUE(model->notes().empty()) << model->notes().front();
    EXPECT_EQ(model->labels().name(3), v.label3);
    if (v.labelsKind == "config")
        EXPECT_NE(model->labelsSource().find("config.json"), std::string::npos)
            << model->labelsSource();
    else
        EXPECT_EQ(model->labelsSource(), "ImageNet (built in)");
    const std::string folder = v.weights.substr(0, v.weights.rfind('/'));
    if (test::fileExists(fixture("formats/" + folder + "/config.json")))
        EXPECT_NE(model->preprocessSource().find("config"), std::string::npos)
            << model->preprocessSource();
    else
        EXPECT_EQ(model->preprocessSource(), "torchvision evaluation transform");
    Pipeline pipeline(model, EngineOptions());
    for (const char* id : kImages) {
        const Classification c = pipeline.classifyFile(imagePath(id));
        const Tensor expected = readNpy(fixture("formats/ref/" + v.id + "/" + id + "/logits.npy"));
        const auto cmp = test::compare(expected, c.logits);
        EXPECT_LE(cmp.maxAbsDiff, 1e-4 * cmp.maxAbsRef)
            << v.id << " " << id << ": " << cmp.report("logits", expected, c.logits);
    }
}

// The resized and cropped 8-bit pixels against PIL's: within one step everywhere (PIL's fixed
// point reproduced, bicubic and bilinear, torchvision's and Hugging Face's crop offsets).
TEST_P(Formats, CropWithinOneStepOfPil) {
    const Variant& v = GetParam();
    const auto model = openFormat(v.weights);
    const PreprocessOptions& o = model->preprocess();
    for (const char* id : kImages) {
        const cv::Mat crop = resizeAndCrop(toRgb8(readImage(imagePath(id))), o);
        const Tensor pil = readNpy(fixture("formats/ref/" + v.id + "/" + id + "/crop.npy"));
        ASSERT_EQ(pil.dims, (std::vector<int64_t>{o.crop, o.crop, 3})) << id;
        int worst = 0;
        int64_t differing = 0;
        for (int y = 0; y < o.crop; ++y)
            for (int x = 0; x < 3 * o.crop; ++x) {
                const int got = crop.ptr<uint8_t>(y)[x];
                const int want =
                    static_cast<int>(pil.data[static_cast<size_t>(y * 3 * o.crop + x)]);
                worst = std::max(worst, std::abs(got - want));
                differing += got != want;
            }
        EXPECT_LE(worst, 1) << v.id << " " << id << ": " << differing << " values differ";
        EXPECT_EQ(differing, 0) << v.id << " " << id << " (" << interpolationName(o.interpolation)
                                << "): PIL's fixed point is meant to be reproduced exactly";
    }
}

INSTANTIATE_TEST_SUITE_P(Hub, Formats, testing::ValuesIn(variants()),
                         [](const testing::TestParamInfo<Variant>& p) { return p.param.id; });

TEST(Formats, WhatTheUserIsToldComesFromTheConfig) {
    const auto timm = openFormat("timm_r18_a1/model.safetensors");
    EXPECT_EQ(timm->preprocessSource(), "timm config: bicubic, crop 0.95 (resize 235, crop 224)");
    EXPECT_EQ(timm->labelsSource(), "label_names in " + fixture("formats/timm_r18_a1/config.json"));
    EXPECT_EQ(timm->weightsSource(), "safetensors");
    EXPECT_EQ(timm->preprocess().interpolation, Interpolation::Bicubic);
    EXPECT_EQ(timm->preprocess().resize, 235);

    const auto hf = openFormat("hf_r18/model.safetensors");
    EXPECT_EQ(hf->weightsSource(),
              "safetensors; Hugging Face transformers names mapped onto torchvision's");
    EXPECT_EQ(hf->preprocessSource(),
              "transformers preprocessor config: bicubic, crop 0.875 (resize 256, crop 224)");
    EXPECT_TRUE(hf->preprocess().floorCropOffset);
    EXPECT_EQ(hf->labelsSource(), "id2label in " + fixture("formats/hf_r18/config.json"));

    const auto bin = openFormat("hf_r34/pytorch_model.bin");
    EXPECT_EQ(bin->spec().archName(), "ResNet34");
    EXPECT_EQ(bin->weightsSource(),
              "PyTorch state dict; Hugging Face transformers names mapped onto torchvision's");

    // A 256-pixel config: the network runs at 256.
    const auto big = openFormat("timm_r18_cls10/model.safetensors");
    EXPECT_EQ(big->spec().inputSize, 256);
    EXPECT_EQ(big->preprocess().mean[0], 0.5F);

    // --labels still wins over the config.
    ModelOptions o;
    o.weightsPath = fixture("formats/timm_r18_a1/model.safetensors");
    o.labelsPath = R18_SOURCE_DIR "/resources/imagenet_classes.txt";
    EXPECT_EQ(Model::open(o)->labels().name(3), "tiger shark");
}

TEST(Formats, CheckpointsAndTorchScriptSayWhereTheStateDictWas) {
    EXPECT_EQ(openFormat("training/examples_checkpoint.pth.tar")->weightsSource(),
              "PyTorch checkpoint (state dict in 'state_dict'); prefix 'module.' stripped");
    EXPECT_EQ(openFormat("training/lightning.ckpt")->weightsSource(),
              "PyTorch checkpoint (state dict in 'state_dict'); prefix 'model.' stripped");
    EXPECT_EQ(openFormat("training/resnet18_traced.pt")->weightsSource(),
              "TorchScript (torchvision.models.resnet.ResNet; its code is not run)");
    EXPECT_EQ(openFormat("training/resnet34_scripted.pt")->weightsSource(),
              "TorchScript (torchvision.models.resnet.ResNet; its code is not run)");
    EXPECT_EQ(openFormat("training/legacy_protocol5.pth")->weightsSource(),
              "PyTorch state dict (legacy format)");
    EXPECT_EQ(openFormat("training/expanded_buffer.pth")->weightsSource(), "PyTorch state dict");
}

class BadTorchScript : public testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(BadTorchScript, RefusedSayingItIsTorchScriptAndNothingRuns) {
    const std::string path = fixture(std::string("bad/") + GetParam().first);
    try {
        const WeightSet w = loadWeights(path);
        validateWeights(inferSpec(w), w);
        FAIL() << path << " was accepted";
    } catch (const WeightsError& e) {
        const std::string what = e.what();
        EXPECT_EQ(what.rfind(path + ": ", 0), 0u) << what;
        EXPECT_NE(what.find(GetParam().second), std::string::npos) << what;
    }
    EXPECT_FALSE(test::fileExists(fixture("PWNED"))) << "the payload ran";
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, BadTorchScript,
    testing::Values(
        std::make_pair("ts_evil_global.pt",
                       "TorchScript archive: refusing to load: the pickle names the global "
                       "'posix.system'"),
        std::make_pair("ts_newobj_not_module.pt",
                       "TorchScript archive: refusing to load: the pickle creates an instance of "
                       "'collections.OrderedDict', which is not a TorchScript module"),
        std::make_pair("ts_reduce_module.pt", "calls something that is not an allowed constructor"),
        std::make_pair("ts_state_not_dict.pt",
                       "sets the state of TorchScript module '__torch__.m.M' to something other"),
        std::make_pair("ts_no_parameters.pt", "there is no tensor 'fc.weight'")),
    [](const testing::TestParamInfo<std::pair<const char*, const char*>>& p) {
        return test::identifier(p.param.first);
    });

TEST(Formats, SafetensorsWhoseHeaderLengthEndsIn0x08IsNotTakenForOnnx) {
    const std::vector<uint8_t> bytes =
        test::readBytes(fixture("formats/timm_r18_a1/model.safetensors"));
    ASSERT_EQ(bytes[0], 0x08);
    EXPECT_EQ(loadWeights(fixture("formats/timm_r18_a1/model.safetensors")).format, "safetensors");
}

TEST(Formats, TransformersBottleneckConfigIsRefusedByName) {
    try {
        openFormat("hf_bottleneck/model.safetensors");
        FAIL() << "a bottleneck config was accepted";
    } catch (const WeightsError& e) {
        const std::string what = e.what();
        EXPECT_EQ(what.rfind(fixture("formats/hf_bottleneck/config.json") + ": ", 0), 0u) << what;
        EXPECT_NE(what.find("layer_type 'bottleneck'"), std::string::npos) << what;
    }
}

TEST(ModelConfig, TimmDefaultsFollowResolveDataConfig) {
    // No interpolation: bicubic; no crop_pct: 0.875, so Resize(256) for 224.
    const ModelConfig c = parseModelConfig(
        R"({"architecture": "resnet18", "pretrained_cfg": {"input_size": [3, 224, 224]}})", "",
        "/m/");
    EXPECT_EQ(c.kind, "timm");
    ASSERT_TRUE(c.hasPreprocess);
    EXPECT_EQ(c.preprocess.interpolation, Interpolation::Bicubic);
    EXPECT_EQ(c.preprocess.resize, 256);
    EXPECT_EQ(c.preprocess.crop, 224);
    EXPECT_FALSE(c.preprocess.floorCropOffset);
    EXPECT_TRUE(c.notes.empty());
    // floor(img_size / crop_pct), as timm computes it.
    EXPECT_EQ(resizeForCropPct(224, 0.95), 235);
    EXPECT_EQ(resizeForCropPct(224, 0.875), 256);
    EXPECT_EQ(resizeForCropPct(224, 0.9), 248);
    EXPECT_EQ(resizeForCropPct(288, 1.0), 288);
}

TEST(ModelConfig, UnusablePartsAreSkippedWithANoteNamingTheFile) {
    // Preprocessing that cannot be reproduced: the labels are still used.
    ModelConfig c = parseModelConfig(
        R"({"architecture": "resnet18", "label_names": ["a", "b"],
            "pretrained_cfg": {"interpolation": "lanczos"}})",
        "", "/m/");
    EXPECT_FALSE(c.hasPreprocess);
    EXPECT_EQ(c.labels, (std::vector<std::string>{"a", "b"}));
    ASSERT_EQ(c.notes.size(), 1u);
    EXPECT_NE(c.notes[0].find("/m/config.json: interpolation 'lanczos' is not supported"),
              std::string::npos)
        << c.notes[0];
    // Not a model config at all.
    c = parseModelConfig(R"({"name": "my-app", "version": 3})", "", "/m/");
    EXPECT_EQ(c.kind, "");
    ASSERT_EQ(c.notes.size(), 1u);
    EXPECT_NE(c.notes[0].find("neither a timm nor a transformers"), std::string::npos);
    // Broken JSON, and the wrong types where numbers belong.
    c = parseModelConfig("{\"architecture\": ", "", "/m/");
    ASSERT_EQ(c.notes.size(), 1u);
    EXPECT_NE(c.notes[0].find("/m/config.json is not valid JSON"), std::string::npos);
    c = parseModelConfig(R"({"model_type": "resnet", "layer_type": 7})", "", "/m/");
    EXPECT_EQ(c.kind, "");
    ASSERT_EQ(c.notes.size(), 1u);
    c = parseModelConfig(R"({"model_type": "resnet"})", R"({"resample": "x", "size": 224})", "/m/");
    EXPECT_FALSE(c.hasPreprocess);
    ASSERT_EQ(c.notes.size(), 1u);
    EXPECT_NE(c.notes[0].find("preprocessor_config.json"), std::string::npos);
    // Found by fuzzing: a float resample was converted to int (undefined behaviour).
    c = parseModelConfig(R"({"model_type": "resnet"})", R"({"resample": 4.4e27, "size": 224})",
                         "/m/");
    EXPECT_FALSE(c.hasPreprocess);
    ASSERT_EQ(c.notes.size(), 1u);
    EXPECT_NE(c.notes[0].find("resample 4.4e+27 is not supported"), std::string::npos)
        << c.notes[0];
    // Deeply nested values are described, not serialised.
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    c = parseModelConfig(R"({"architecture": "x", "pretrained_cfg": {"crop_mode": )" + deep + "}}",
                         "", "/m/");
    ASSERT_EQ(c.notes.size(), 1u);
    EXPECT_NE(c.notes[0].find("crop_mode (a list)"), std::string::npos) << c.notes[0];
}

TEST(ModelConfig, TransformersPlaceholderLabelsAreNoLabels) {
    const ModelConfig c = parseModelConfig(
        R"({"model_type": "resnet", "id2label": {"1": "LABEL_1", "0": "LABEL_0"}})", "", "/m/");
    EXPECT_EQ(c.kind, "transformers");
    EXPECT_TRUE(c.labels.empty());
    const ModelConfig named = parseModelConfig(
        R"({"model_type": "resnet", "id2label": {"1": "cat", "0": "dog"}})", "", "/m/");
    EXPECT_EQ(named.labels, (std::vector<std::string>{"dog", "cat"}));
}

TEST(WeightNames, PrefixesAndTransformersNamesMapOntoTorchvision) {
    WeightSet w;
    for (const char* n : {"model.conv1.weight", "model.layer1.0.conv1.weight", "model.fc.weight",
                          "criterion.weight"})
        w.tensors[n] = Tensor({1});
    w.nonFloat["model.bn1.num_batches_tracked"] = "int64";
    EXPECT_EQ(mapToTorchvisionNames(w), "prefix 'model.' stripped (1 tensor outside it ignored)");
    EXPECT_EQ(w.tensors.count("layer1.0.conv1.weight"), 1u);
    EXPECT_EQ(w.tensors.count("criterion.weight"), 0u);
    EXPECT_EQ(w.nonFloat.count("bn1.num_batches_tracked"), 1u);

    WeightSet hf;
    for (const char* n : {"resnet.embedder.embedder.convolution.weight",
                          "resnet.embedder.embedder.normalization.running_var",
                          "resnet.encoder.stages.0.layers.0.layer.0.convolution.weight",
                          "resnet.encoder.stages.2.layers.0.shortcut.normalization.bias",
                          "resnet.encoder.stages.3.layers.1.layer.1.normalization.weight",
                          "classifier.1.bias", "resnet.pooler.unknown"})
        hf.tensors[n] = Tensor({1});
    EXPECT_EQ(mapToTorchvisionNames(hf),
              "Hugging Face transformers names mapped onto torchvision's");
    for (const char* n :
         {"conv1.weight", "bn1.running_var", "layer1.0.conv1.weight", "layer3.0.downsample.1.bias",
          "layer4.1.bn2.weight", "fc.bias", "resnet.pooler.unknown"})
        EXPECT_EQ(hf.tensors.count(n), 1u) << n;

    WeightSet plain;
    plain.tensors["conv1.weight"] = Tensor({1});
    plain.tensors["layer1.0.conv1.weight"] = Tensor({1});
    EXPECT_EQ(mapToTorchvisionNames(plain), "");
}

struct BadCase {
    const char* file;
    const char* expected;
};

class BadSafetensors : public testing::TestWithParam<BadCase> {};

TEST_P(BadSafetensors, RefusedNamingFileFormatAndProblem) {
    const std::string path = fixture(std::string("bad/") + GetParam().file);
    try {
        const WeightSet w = loadWeights(path);
        validateWeights(inferSpec(w), w);
        FAIL() << path << " was accepted";
    } catch (const WeightsError& e) {
        const std::string what = e.what();
        EXPECT_EQ(what.rfind(path + ": safetensors file: ", 0), 0u) << what;
        EXPECT_NE(what.find(GetParam().expected), std::string::npos) << what;
    }
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, BadSafetensors,
    testing::Values(
        BadCase{"st_overlap.safetensors", "tensor 'fc.bias' (bytes 37232..41232) overlaps"},
        BadCase{"st_out_of_range.safetensors", "reaches past the end of the data (37732 bytes"},
        BadCase{"st_gap.safetensors",
                "bytes 0..4 before tensor 'conv1.weight' belong to no tensor"},
        BadCase{"st_shape_mismatch.safetensors",
                "tensor 'fc.bias' of dtype F32 and shape [999] needs 3996 bytes"},
        BadCase{"st_unknown_dtype.safetensors", "dtype 'F12', which safetensors does not define"},
        BadCase{"st_negative_shape.safetensors", "shape that is not a list of sizes"},
        BadCase{"st_reversed_offsets.safetensors", "ends (byte 37632) before it begins"},
        BadCase{"st_huge_shape.safetensors", "a shape too large to address"},
        BadCase{"st_duplicate_name.safetensors", "names tensor 'conv1.weight' twice"},
        BadCase{"st_header_past_file.safetensors", "(truncated file)"},
        BadCase{"st_huge_header.safetensors", "more than the 100 MB safetensors allows"},
        BadCase{"st_not_json.safetensors", "the header is not valid JSON"},
        BadCase{"st_deep_json.safetensors", "lacks a dtype, shape or [begin, end] data_offsets"}),
    [](const testing::TestParamInfo<BadCase>& p) { return test::identifier(p.param.file); });

// SHA-256 recognises the official weights. The FIPS 180-2 examples, then every length around
// the block and padding boundaries and a few MiB against coreutils' sha256sum, on whichever path
// this CPU takes (SHA extensions or portable), and the portable path against it.
TEST(Sha256, MatchesTheStandardsExamplesAndSha256sum) {
    const auto hex = [](const std::string& text) {
        return sha256Hex(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    };
    EXPECT_EQ(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(hex(std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    std::vector<size_t> sizes;
    for (size_t n = 0; n <= 200; ++n) sizes.push_back(n);
    for (size_t n : {size_t{4095}, size_t{65536}, (size_t{3} << 20) + 61}) sizes.push_back(n);
    std::vector<uint8_t> bytes((size_t{3} << 20) + 61);
    uint32_t x = 2463534242U;
    for (uint8_t& b : bytes) {  // xorshift: every byte value, no pattern a block could align to
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b = static_cast<uint8_t>(x);
    }
    const std::string path = test::tempDir() + "/sha.bin";
    SCOPED_TRACE(sha256UsesShaExtensions() ? "SHA extensions" : "portable");
    for (size_t n : sizes) {
        SCOPED_TRACE("size " + std::to_string(n));
        std::ofstream(path, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(n));
        const test::CommandResult r = test::runCommand("sha256sum " + path);
        ASSERT_EQ(r.exitCode, 0) << r.err;
        const std::string expected = r.out.substr(0, 64);
        EXPECT_EQ(sha256Hex(bytes.data(), n), expected);
        EXPECT_EQ(sha256HexPortable(bytes.data(), n), expected);
    }
}

}  // namespace
}  // namespace r18
