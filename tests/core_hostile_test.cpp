// Hostile inputs, round two (issue 12): the corpus tests/fixtures/make_hostile.py writes into
// fixtures/hostile/, one class of problem per generator. Every case must end in a clear error
// naming the file and the problem -- in the library and through the command line, within a
// minute and under 1 GB -- or, for the odd-but-valid ones, load exactly what PyTorch saved.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/batch.h"
#include "core/error.h"
#include "core/files.h"
#include "core/formats/npy.h"
#include "core/media/image_io.h"
#include "core/media/preprocess.h"
#include "core/model/labels.h"
#include "core/model/model.h"
#include "core/model/weights.h"
#include "core/pipeline.h"
#include "tests/test_util.h"

namespace r18 {
namespace {

using test::fixture;

struct HostileCase {
    std::string file;
    std::string kind;
    std::string expected;
};

void PrintTo(const HostileCase& c, std::ostream* os) {
    *os << c.file;
}

std::vector<HostileCase> hostileCases(const std::string& kind) {
    std::vector<HostileCase> cases;
    std::ifstream in(fixture("hostile/cases.tsv"));
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        HostileCase c;
        std::getline(fields, c.file, '\t');
        std::getline(fields, c.kind, '\t');
        std::getline(fields, c.expected);
        if (c.kind == kind) cases.push_back(c);
    }
    return cases;
}

std::string caseName(const testing::TestParamInfo<HostileCase>& p) {
    return test::identifier(p.param.file);
}

class HostileWeights : public testing::TestWithParam<HostileCase> {};

TEST_P(HostileWeights, ClearErrorNamingFileAndProblem) {
    const std::string path = fixture("hostile/" + GetParam().file);
    std::string message;
    try {
        const WeightSet w = loadWeights(path);
        validateWeights(inferSpec(w), w);
    } catch (const WeightsError& e) {
        message = e.what();
    }
    ASSERT_FALSE(message.empty()) << path << " was accepted";
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    EXPECT_NE(message.find(GetParam().expected), std::string::npos) << message;
}

// The same through `info`: exit code 3, the message, and the memory it took.
TEST_P(HostileWeights, CommandLineRefusesWithinBoundedMemory) {
    const std::string path = fixture("hostile/" + GetParam().file);
    const test::Measured m =
        test::runMeasured({"/usr/bin/timeout", "60", R18_CLI, "info", "--weights", path});
    EXPECT_EQ(m.exitCode, 3) << m.err;
    EXPECT_NE(m.err.find("error: " + path + ": "), std::string::npos) << m.err;
    EXPECT_NE(m.err.find(GetParam().expected), std::string::npos) << m.err;
    EXPECT_LT(m.peakMb, 1024.0) << path;
    std::printf("[ memory ] %s: peak %.0f MB\n", GetParam().file.c_str(), m.peakMb);
}

INSTANTIATE_TEST_SUITE_P(Corpus, HostileWeights, testing::ValuesIn(hostileCases("weights")),
                         caseName);

// Odd but valid: every tensor a view into one flat storage, a checkpoint holding a list that
// contains itself, an 8,000-node Identity chain. They load exactly the tensors of the fixture.
class OddWeights : public testing::TestWithParam<HostileCase> {};

TEST_P(OddWeights, LoadExactlyWhatPyTorchSaved) {
    const WeightSet w = loadWeights(fixture("hostile/" + GetParam().file));
    const WeightSet ref = loadWeights(fixture(GetParam().expected));
    EXPECT_NO_THROW(validateWeights(inferSpec(w), w));
    const bool folded = w.get("bn1.weight") == nullptr;  // an ONNX export without batch norm
    int compared = 0;
    for (const auto& [name, t] : w.tensors) {
        const Tensor* r = ref.get(name);
        ASSERT_NE(r, nullptr) << name;
        EXPECT_EQ(r->dims, t.dims) << name;
        EXPECT_EQ(r->data, t.data) << name;
        ++compared;
    }
    if (!folded) {
        EXPECT_EQ(compared, static_cast<int>(ref.tensors.size()));
    }
}

INSTANTIATE_TEST_SUITE_P(Corpus, OddWeights, testing::ValuesIn(hostileCases("weights-ok")),
                         caseName);

// ONNX as PyTorch 2.x exports it (opsets 18-21: ReduceMean with axes as an input, Squeeze and
// Reshape heads with constant inputs, explicit Pad nodes): exactly the export's tensors, and
// PyTorch's logits on a photo.
class Opset18Onnx : public testing::TestWithParam<HostileCase> {};

TEST_P(Opset18Onnx, SameTensorsAsTheExportAndPyTorchsLogits) {
    const std::string path = fixture("hostile/" + GetParam().file);
    const WeightSet w = loadWeights(path);
    const WeightSet ref = loadWeights(fixture(GetParam().expected));
    ASSERT_EQ(w.tensors.size(), ref.tensors.size());
    for (const auto& [name, t] : w.tensors) {
        const Tensor* r = ref.get(name);
        ASSERT_NE(r, nullptr) << name;
        EXPECT_EQ(r->dims, t.dims) << name;
        EXPECT_EQ(r->data, t.data) << name;
    }
    ModelOptions options;
    options.weightsPath = path;
    Pipeline pipeline(Model::open(options), EngineOptions{});
    const Classification c = pipeline.classifyFile(test::fixtureImage("dog").path);
    const Tensor expected = readNpy(fixture("ref/dog/logits.npy"));
    const test::Comparison cmp = test::compare(expected, c.logits);
    EXPECT_LE(cmp.maxAbsDiff, 1e-4 * cmp.maxAbsRef) << cmp.report("logits", expected, c.logits);
}

INSTANTIATE_TEST_SUITE_P(Corpus, Opset18Onnx, testing::ValuesIn(hostileCases("weights-opset18")),
                         caseName);

// Decompression bombs in every format OpenCV decodes, formats it cannot size up front, broken
// PNM: refused from the header, before any pixel is decoded.
class HostileImages : public testing::TestWithParam<HostileCase> {};

TEST_P(HostileImages, RefusedFromTheHeader) {
    const std::string path = fixture("hostile/" + GetParam().file);
    try {
        readImage(path);
        FAIL() << path << " was decoded";
    } catch (const ImageError& e) {
        const std::string message = e.what();
        EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
        EXPECT_NE(message.find(GetParam().expected), std::string::npos) << message;
    }
}

TEST_P(HostileImages, CommandLineRefusesWithinBoundedMemory) {
    const std::string path = fixture("hostile/" + GetParam().file);
    const test::Measured m =
        test::runMeasured({"/usr/bin/timeout", "60", R18_CLI, "classify", "--weights",
                           fixture("weights/resnet18_seeded.pth"), path});
    EXPECT_EQ(m.exitCode, 3) << m.err;
    EXPECT_NE(m.err.find(path + ": "), std::string::npos) << m.err;
    EXPECT_NE(m.err.find(GetParam().expected), std::string::npos) << m.err;
    EXPECT_LT(m.peakMb, 1024.0) << path;
    std::printf("[ memory ] %s: peak %.0f MB\n", GetParam().file.c_str(), m.peakMb);
}

INSTANTIATE_TEST_SUITE_P(Corpus, HostileImages, testing::ValuesIn(hostileCases("image")), caseName);

// Images the app once read differently from PIL (PNM maxvals, 16-bit samples, EXIF orientation
// in WebP, PNG text chunks, TIFF): the network input equals torchvision's on PIL's image, and
// the logits through the command line agree with PyTorch's to 1e-4 of the largest.
class PilImages : public testing::TestWithParam<HostileCase> {};

TEST_P(PilImages, InputEqualsTorchvisionOnPil) {
    const std::string path = fixture("hostile/" + GetParam().file);
    const Tensor ref = readNpy(fixture("hostile/" + GetParam().expected + "/input.npy"));
    const Tensor got = preprocess(readImage(path));
    const test::Comparison c = test::compare(ref, got);
    ASSERT_TRUE(c.sameShape) << c.report("input", ref, got);
    EXPECT_LE(c.maxAbsDiff, 1e-5) << c.report("input", ref, got);
}

TEST_P(PilImages, LogitsAgreeWithPyTorch) {
    const std::string path = fixture("hostile/" + GetParam().file);
    const std::string out = test::tempDir() + "/logits.npy";
    const test::Measured m =
        test::runMeasured({R18_CLI, "classify", "--weights", fixture("weights/resnet18_seeded.pth"),
                           "--save-logits", out, path});
    ASSERT_EQ(m.exitCode, 0) << m.err;
    const Tensor ref = readNpy(fixture("hostile/" + GetParam().expected + "/logits.npy"));
    const Tensor got = readNpy(out);
    const test::Comparison c = test::compare(ref, got);
    EXPECT_LE(c.maxAbsDiff, 1e-4 * c.maxAbsRef) << c.report("logits", ref, got);
}

INSTANTIATE_TEST_SUITE_P(Corpus, PilImages, testing::ValuesIn(hostileCases("image-ok")), caseName);

// Special files wherever a path is taken: refused with what they are, before open() could
// block (a FIFO) or a read run forever (/dev/zero); the good images after them still run.
struct Special {
    std::string dir = test::tempDir();
    std::string fifo = dir + "/pipe.jpg";
    std::string weights = fixture("weights/resnet18_seeded.pth");
    Special() { EXPECT_EQ(mkfifo(fifo.c_str(), 0600), 0); }
    test::Measured classify(const std::vector<std::string>& args) const {
        std::vector<std::string> all = {"/usr/bin/timeout", "30", R18_CLI, "classify"};
        all.insert(all.end(), args.begin(), args.end());
        return test::runMeasured(all);
    }
};

TEST(SpecialFiles, AFifoAmongImagesIsRefusedAndTheOthersClassified) {
    const Special s;
    const std::string dog = test::fixtureImage("dog").path;
    const std::string out = s.dir + "/logits.npy";
    const test::Measured m =
        s.classify({"--weights", s.weights, "--save-logits", out, s.fifo, dog, "/dev/zero"});
    EXPECT_EQ(m.exitCode, 3) << m.err;  // not 124: nothing blocked
    EXPECT_NE(m.err.find(s.fifo + ": is a named pipe (FIFO), not an image file"), std::string::npos)
        << m.err;
    EXPECT_NE(m.err.find("/dev/zero: is a character device, not an image file"), std::string::npos)
        << m.err;
    EXPECT_EQ(readNpy(out).dims, (std::vector<int64_t>{1, 1000}));  // the dog was classified
}

TEST(SpecialFiles, WeightsLabelsAndCalibrationRefuseThem) {
    const Special s;
    const std::string dog = test::fixtureImage("dog").path;
    const test::Measured weights = s.classify({"--weights", s.fifo, dog});
    EXPECT_EQ(weights.exitCode, 3);
    EXPECT_NE(weights.err.find(s.fifo + ": is a named pipe (FIFO), not a weights file"),
              std::string::npos)
        << weights.err;
    const test::Measured device = s.classify({"--weights", "/dev/null", dog});
    EXPECT_NE(device.err.find("/dev/null: is a character device, not a weights file"),
              std::string::npos)
        << device.err;
    for (const std::string& labels : {s.fifo, std::string("/dev/zero")}) {
        const test::Measured m = s.classify({"--weights", s.weights, "--labels", labels, dog});
        EXPECT_EQ(m.exitCode, 3) << m.err;
        EXPECT_NE(m.err.find(labels + ": is a "), std::string::npos) << m.err;
        EXPECT_NE(m.err.find("not a labels file"), std::string::npos) << m.err;
        EXPECT_LT(m.peakMb, 1024.0);
    }
    const test::Measured calibration =
        s.classify({"--weights", s.weights, "--precision", "int8", "--calibration", s.fifo, dog});
    EXPECT_EQ(calibration.exitCode, 3) << calibration.err;
    EXPECT_NE(calibration.err.find(s.fifo + ": is a named pipe (FIFO)"), std::string::npos)
        << calibration.err;
}

TEST(SpecialFiles, AFifoBesideTheWeightsAsTheirLabels) {
    const Special s;
    const std::string weights = s.dir + "/model.pth";
    ASSERT_EQ(std::system(("cp " + s.weights + " " + weights).c_str()), 0);
    const std::string labels = s.dir + "/model.labels.txt";
    ASSERT_EQ(mkfifo(labels.c_str(), 0600), 0);
    // The model still opens (labels beside the weights are optional), saying why they were not
    // used, instead of blocking in open().
    const test::Measured m = s.classify({"--weights", weights, test::fixtureImage("dog").path});
    EXPECT_EQ(m.exitCode, 0) << m.err;
    EXPECT_NE(m.err.find(labels + ": is a named pipe (FIFO), not a labels file"), std::string::npos)
        << m.err;
}

TEST(SpecialFiles, KindsAreNamedWithoutOpening) {
    const Special s;
    EXPECT_EQ(fileKind(s.fifo), FileKind::Fifo);
    EXPECT_EQ(fileKind("/dev/null"), FileKind::CharDevice);
    EXPECT_EQ(fileKind(s.dir), FileKind::Folder);
    EXPECT_EQ(fileKind(s.dir + "/none"), FileKind::Missing);
    EXPECT_EQ(regularFileProblem(s.fifo, "image file"),
              s.fifo + ": is a named pipe (FIFO), not an image file; it was not opened.");
    EXPECT_EQ(folderProblem(s.fifo), s.fifo + ": is a named pipe (FIFO), not a folder.");
    std::vector<uint8_t> bytes;
    std::string problem;
    EXPECT_FALSE(readRegularFile("/dev/zero", "labels file", 1024, bytes, problem));
    EXPECT_TRUE(readRegularFile("/proc/self/status", "status", 1 << 20, bytes, problem));
    EXPECT_FALSE(bytes.empty());  // st_size is 0 there: read to the end anyway
    EXPECT_THROW(writeFileChecked("/dev/full", std::string("x")), Error);
}

// Labels files: bad JSON, nesting, text that is not UTF-8. A clear error, in the library and
// through the command line (which used to abort with exit code 134 on a bad \u escape).
class HostileLabels : public testing::TestWithParam<HostileCase> {};

TEST_P(HostileLabels, ClearErrorNamingFileAndProblem) {
    const std::string path = fixture("hostile/" + GetParam().file);
    try {
        Labels::fromFile(path);
        FAIL() << path << " was accepted";
    } catch (const Error& e) {
        const std::string message = e.what();
        EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
        EXPECT_NE(message.find(GetParam().expected), std::string::npos) << message;
    }
}

TEST_P(HostileLabels, CommandLineExitsThree) {
    const std::string path = fixture("hostile/" + GetParam().file);
    const test::Measured m = test::runMeasured({"/usr/bin/timeout", "60", R18_CLI, "classify",
                                                "--weights", fixture("weights/resnet18_seeded.pth"),
                                                "--labels", path, test::fixtureImage("dog").path});
    EXPECT_EQ(m.exitCode, 3) << m.err;
    EXPECT_NE(m.err.find(GetParam().expected), std::string::npos) << m.err;
}

INSTANTIATE_TEST_SUITE_P(Corpus, HostileLabels, testing::ValuesIn(hostileCases("labels")),
                         caseName);

// 1000 labels with quotes, backslashes, tabs, control characters, accents and a character
// outside the BMP (a surrogate pair when escaped): read exactly, and --json gives them back as
// valid JSON.
class TrickyLabels : public testing::TestWithParam<HostileCase> {};

TEST_P(TrickyLabels, ReadExactlyAndReturnedAsValidJson) {
    const std::string path = fixture("hostile/" + GetParam().file);
    const auto expected =
        nlohmann::json::parse(test::readText(fixture("hostile/" + GetParam().expected)));
    const Labels labels = Labels::fromFile(path);
    ASSERT_EQ(labels.size(), expected.size());
    for (size_t i = 0; i < labels.size(); ++i)
        ASSERT_EQ(labels.name(static_cast<int64_t>(i)), expected[i].get<std::string>()) << i;
    EXPECT_NE(labels.name(0).find("\xF0\x9F\x90\xB6"), std::string::npos);  // U+1F436, 4 bytes
    EXPECT_EQ(labels.name(0).find("\xED"), std::string::npos);              // not CESU-8

    const auto r = test::runCommand(std::string(R18_CLI) + " classify --json --weights " +
                                    fixture("weights/resnet18_seeded.pth") + " --labels " + path +
                                    " " + test::fixtureImage("dog").path);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    nlohmann::json out;
    ASSERT_NO_THROW(out = nlohmann::json::parse(r.out)) << r.out;
    ASSERT_EQ(out.size(), 1u);
    for (const auto& p : out[0]["top"])
        EXPECT_EQ(p["label"].get<std::string>(),
                  expected[p["index"].get<size_t>()].get<std::string>());
}

INSTANTIATE_TEST_SUITE_P(Corpus, TrickyLabels, testing::ValuesIn(hostileCases("labels-ok")),
                         caseName);

// The ImageNet labels files people download: the human name is the label, the WordNet id is kept
// and returned by --json.
class ImagenetLabelFiles : public testing::TestWithParam<HostileCase> {};

TEST_P(ImagenetLabelFiles, NamesAsLabelsWordNetIdsKept) {
    const std::string path = fixture("hostile/" + GetParam().file);
    const auto expected =
        nlohmann::json::parse(test::readText(fixture("hostile/" + GetParam().expected)));
    const Labels labels = Labels::fromFile(path);
    ASSERT_EQ(labels.size(), expected.size());
    for (size_t i = 0; i < labels.size(); ++i) {
        const auto index = static_cast<int64_t>(i);
        ASSERT_EQ(labels.name(index), expected[i][1].get<std::string>()) << i;
        ASSERT_EQ(labels.id(index), expected[i][0].get<std::string>()) << i;
    }
    const auto r = test::runCommand(std::string(R18_CLI) + " classify --json --weights " +
                                    fixture("weights/resnet18_seeded.pth") + " --labels " + path +
                                    " " + test::fixtureImage("dog").path);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto out = nlohmann::json::parse(r.out);
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0]["top"].size(), 5u);
    for (const auto& p : out[0]["top"]) {
        const size_t index = p["index"].get<size_t>();
        EXPECT_EQ(p["label"].get<std::string>(), expected[index][1].get<std::string>());
        EXPECT_EQ(p["wordnet_id"].get<std::string>(), expected[index][0].get<std::string>());
    }
}

INSTANTIATE_TEST_SUITE_P(Corpus, ImagenetLabelFiles, testing::ValuesIn(hostileCases("labels-ids")),
                         caseName);

// A class index or synset mapping one class short: the count mismatch is the message.
class ShortLabelFiles : public testing::TestWithParam<HostileCase> {};

TEST_P(ShortLabelFiles, CountMismatchNamesTheFile) {
    const std::string path = fixture("hostile/" + GetParam().file);
    const test::Measured m = test::runMeasured({"/usr/bin/timeout", "60", R18_CLI, "classify",
                                                "--weights", fixture("weights/resnet18_seeded.pth"),
                                                "--labels", path, test::fixtureImage("dog").path});
    EXPECT_EQ(m.exitCode, 3) << m.err;
    EXPECT_NE(m.err.find(path + ": " + GetParam().expected), std::string::npos) << m.err;
}

INSTANTIATE_TEST_SUITE_P(Corpus, ShortLabelFiles, testing::ValuesIn(hostileCases("labels-count")),
                         caseName);

// Symbolic links in folders: links to the folder itself and to a parent used to branch
// exponentially (or classify each image 33 times). Each real directory is visited once.
TEST(FolderWalk, SymbolicLinkLoopsAddNothing) {
    const std::string dir = test::tempDir();
    const std::string dog = test::fixtureImage("dog").path;
    const std::string outside = test::tempDir();
    ASSERT_EQ(
        std::system(("mkdir -p " + dir + "/sub/deeper && cp " + dog + " " + dir + "/a.jpg && cp " +
                     dog + " " + dir + "/sub/b.jpg && cp " + dog + " " + dir +
                     "/sub/deeper/c.jpg && cp " + dog + " " + outside + "/d.jpg && ln -s . " + dir +
                     "/self1 && ln -s " + dir + " " + dir + "/self2 && ln -s .. " + dir +
                     "/sub/up && ln -s ../.. " + dir + "/sub/deeper/top && ln -s " + outside + " " +
                     dir + "/elsewhere && ln -s " + dir + "/sub " + dir + "/sub_again")
                        .c_str()),
        0);
    ASSERT_EQ(mkfifo((dir + "/pipe.jpg").c_str(), 0600), 0);  // an image name, not a file
    const std::vector<std::string> found = findImages(dir);
    EXPECT_EQ(found, (std::vector<std::string>{dir + "/a.jpg", dir + "/elsewhere/d.jpg",
                                               dir + "/sub/b.jpg", dir + "/sub/deeper/c.jpg"}));
    EXPECT_EQ(findImages(dir, false), (std::vector<std::string>{dir + "/a.jpg"}));

    const std::string csv = dir + "/../rows.csv";
    const test::Measured m =
        test::runMeasured({"/usr/bin/timeout", "120", R18_CLI, "classify", "--weights",
                           fixture("weights/resnet18_seeded.pth"), "--csv", csv, dir});
    EXPECT_EQ(m.exitCode, 0) << m.err;
    EXPECT_NE(m.err.find("wrote 4 rows"), std::string::npos) << m.err;
}

TEST(FolderWalk, NotAFolderSaysWhatItIs) {
    EXPECT_THROW(findImages("/dev/null"), ImageError);
    try {
        findImages("/dev/null");
    } catch (const ImageError& e) {
        EXPECT_EQ(std::string(e.what()), "/dev/null: is a character device, not a folder.");
    }
}

TEST(HostileCorpus, CoversEveryClass) {
    EXPECT_GE(hostileCases("weights").size(), 30u);
    EXPECT_GE(hostileCases("weights-ok").size(), 4u);
    EXPECT_GE(hostileCases("image").size(), 15u);
    EXPECT_GE(hostileCases("image-ok").size(), 25u);
    EXPECT_GE(hostileCases("labels").size(), 10u);
    EXPECT_GE(hostileCases("labels-ok").size(), 2u);
}

}  // namespace
}  // namespace r18
