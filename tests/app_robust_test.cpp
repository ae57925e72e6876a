// The command line against hostile arguments (issue 12): absurd thread counts, exceptions of
// every type that core or a library can throw, file names that are not UTF-8, and --save-tap over
// many images with memory that does not grow with their number.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <oneapi/dnnl/dnnl.hpp>
#include <opencv2/core.hpp>

#include <filesystem>
#include <fstream>
#include <system_error>

#include "core/engine/threads.h"
#include "core/error.h"
#include "core/formats/npy.h"
#include "core/media/image_io.h"
#include "core/model/labels.h"
#include "core/model/weights.h"
#include "tests/test_util.h"

namespace r18 {
namespace {

using test::fixture;

const std::string kCli = R18_CLI;

std::string weights() {
    return fixture("weights/resnet18_seeded.pth");
}

// The CLI with default weight locations emptied, run directly (no shell), its peak memory kept.
test::Measured cli(std::vector<std::string> args) {
    const std::string home = test::tempDir();
    args.insert(args.begin(), {"/usr/bin/env", "-u", "RESNET18_WEIGHTS", "HOME=" + home,
                               "XDG_DATA_HOME=" + home, "/usr/bin/timeout", "120", kCli});
    return test::runMeasured(args);
}

std::string coresNote(const std::string& option, const std::string& value) {
    const int cores = machineCores();
    return "note: " + option + " " + value + ": this machine has " + std::to_string(cores) +
           (cores == 1 ? " core" : " cores") + "; using " + std::to_string(cores) + "\n";
}

// --- thread counts ---------------------------------------------------------------------------

// Each verb that takes --threads, with valid arguments otherwise, and N threads.
std::vector<std::vector<std::string>> verbsWithThreads(const std::string& n) {
    const std::string dog = test::fixtureImage("dog").path;
    const std::string json = test::tempDir() + "/channels.json";
    return {
        {"classify", "--weights", weights(), dog, "--threads", n},
        {"bench", "--precision", "fp32", "--iterations", "1", "--threads", n},
        {"explain", "--method", "gradcam", "--weights", weights(), dog, "--threads", n},
        {"channels", "--layer", "layer4.1", "--top", "1", "--no-cache", "--weights", weights(),
         "--json", json, fixture("images"), "--threads", n},
        {"visualize", "--layer", "fc", "--channel", "1", "--steps", "1", "--no-cache", "--weights",
         weights(), "--threads", n},
        {"classify", "--weights", weights(), dog, "--decode-threads", n},
    };
}

// Counts no machine has are capped at the cores, saying so, in every verb.
class HugeThreads : public testing::TestWithParam<std::string> {};

TEST_P(HugeThreads, CappedAtTheCoresWithANote) {
    for (const auto& args : verbsWithThreads(GetParam())) {
        const test::Measured m = cli(args);
        const std::string& option = args[args.size() - 2];
        EXPECT_EQ(m.exitCode, 0) << args[0] << " " << option << ": " << m.err;
        EXPECT_NE(m.err.find(coresNote(option, GetParam())), std::string::npos)
            << args[0] << " " << option << ": " << m.err;
        EXPECT_LT(m.peakMb, 1024.0) << args[0];
    }
}

INSTANTIATE_TEST_SUITE_P(Values, HugeThreads,
                         testing::Values("100000", "4294967295", "99999999999",
                                         "123456789012345678901234567890"));

// What is not a count is a usage error saying what is expected, never a crash.
class BadThreads : public testing::TestWithParam<std::string> {};

TEST_P(BadThreads, UsageErrorSayingWhatIsExpected) {
    for (auto args : verbsWithThreads(GetParam())) {
        const std::string option = args[args.size() - 2];
        args[args.size() - 2] = option + "=" + GetParam();  // "--threads=-1", "--threads="
        args.pop_back();
        const test::Measured m = cli(args);
        EXPECT_EQ(m.exitCode, 2) << args[0] << ": " << m.err;
        EXPECT_NE(m.err.find("usage error: " + option +
                             " needs a whole number ≥ 0 (0: all cores), not '" + GetParam() + "'"),
                  std::string::npos)
            << args[0] << ": " << m.err;
    }
}

INSTANTIATE_TEST_SUITE_P(Values, BadThreads, testing::Values("-1", "abc", "2.5", "", "0x10", "+3"),
                         [](const testing::TestParamInfo<std::string>& p) {
                             return "v" + std::to_string(p.index);
                         });

TEST(Threads, ZeroAndTheCoresNeedNoNote) {
    const std::string dog = test::fixtureImage("dog").path;
    for (const std::string& n : std::vector<std::string>{"0", std::to_string(machineCores())}) {
        const test::Measured m = cli({"classify", "--weights", weights(), "--threads", n, dog});
        EXPECT_EQ(m.exitCode, 0) << m.err;
        EXPECT_EQ(m.err.find("this machine has"), std::string::npos) << m.err;
    }
}

TEST(Threads, CapThreads) {
    const int cores = machineCores();
    std::string note;
    EXPECT_EQ(capThreads(0, &note), cores);
    EXPECT_EQ(capThreads(-5, &note), cores);
    EXPECT_EQ(capThreads(1, &note), 1);
    EXPECT_TRUE(note.empty());
    EXPECT_EQ(capThreads(4294967295LL, &note), cores);
    EXPECT_EQ(note, "this machine has " + std::to_string(cores) +
                        (cores == 1 ? " core" : " cores") + "; using " + std::to_string(cores));
}

// --- exceptions ------------------------------------------------------------------------------

// Each type a reader or the engine could let out becomes an r18::Error naming the subject.
TEST(Exceptions, EveryTypeBecomesAnErrorNamingTheFile) {
    const std::string file = "/data/model.pth";
    const std::vector<std::pair<std::string, std::function<void()>>> throwers = {
        {"std::bad_alloc", [] { throw std::bad_alloc(); }},
        {"std::length_error", [] { throw std::length_error("vector::reserve"); }},
        {"std::out_of_range", [] { throw std::out_of_range("map::at"); }},
        {"dnnl::error", [] { throw dnnl::error(dnnl_out_of_memory, "could not allocate"); }},
        {"cv::Exception",
         [] { throw cv::Exception(cv::Error::StsNoMem, "no memory", "decode", "x.cpp", 1); }},
        {"nlohmann::json", [] { nlohmann::json::parse("{").dump(); }},
        {"std::filesystem_error",
         [] {
             throw std::filesystem::filesystem_error(
                 "walk", std::make_error_code(std::errc::permission_denied));
         }},
        {"std::system_error",
         [] {
             throw std::system_error(
                 std::make_error_code(std::errc::resource_unavailable_try_again));
         }},
        {"int", [] { throw 42; }},
    };
    for (const auto& [type, f] : throwers) {
        std::string message;
        try {
            rethrowAsError<WeightsError>(file, f);
        } catch (const WeightsError& e) {
            message = e.what();
        } catch (...) {
            ADD_FAILURE() << type << " escaped";
        }
        EXPECT_EQ(message.rfind(file + ": ", 0), 0u) << type << ": " << message;
        EXPECT_GT(message.size(), file.size() + 8) << type << ": " << message;
    }
    // An r18::Error is already a sentence and passes unchanged.
    try {
        rethrowAsError<WeightsError>(file, [] { throw ImageError("a.png: truncated."); });
    } catch (const ImageError& e) {
        EXPECT_STREQ(e.what(), "a.png: truncated.");
    }
    try {
        rethrowAsError<WeightsError>(file, [] { throw std::bad_alloc(); });
    } catch (const WeightsError& e) {
        EXPECT_EQ(std::string(e.what()), file + ": there is not enough memory for it.");
    }
}

// A folder holding a file whose name is not UTF-8: channels writes its JSON (nlohmann refuses
// invalid UTF-8 with an exception, which used to end the program) with U+FFFD in the name.
TEST(Exceptions, ChannelsWithANameThatIsNotUtf8) {
    const std::string dir = test::tempDir();
    std::filesystem::create_directory(dir + "/images");
    std::filesystem::copy_file(test::fixtureImage("dog").path, dir + "/images/dog\xff.jpg");
    const test::Measured m =
        cli({"channels", "--layer", "layer4.1", "--top", "1", "--no-cache", "--weights", weights(),
             "--json", dir + "/out.json", dir + "/images"});
    ASSERT_EQ(m.exitCode, 0) << m.err;
    nlohmann::json doc;
    ASSERT_NO_THROW(doc = nlohmann::json::parse(test::readText(dir + "/out.json")));
    EXPECT_EQ(doc["channels"][0]["top"][0]["file"], dir + "/images/dog\xEF\xBF\xBD.jpg");
}

// A batch no machine can hold: a clear error, exit 3, not std::terminate.
TEST(Exceptions, BenchBatchTooLargeForMemory) {
    const test::Measured m =
        cli({"bench", "--precision", "fp32", "--iterations", "1", "--batch", "2000000000"});
    EXPECT_EQ(m.exitCode, 3) << m.err;
    EXPECT_EQ(m.err.rfind("error: ", 0), 0u) << m.err;
    EXPECT_EQ(m.err.find("terminate"), std::string::npos) << m.err;
    EXPECT_LT(m.peakMb, 1024.0);
}

// --- file names that are not UTF-8 -----------------------------------------------------------

TEST(NonUtf8Names, OpenedByTheirBytesAndShownWithReplacementCharacters) {
    const std::string dir = test::tempDir();
    const test::FixtureImage dog = test::fixtureImage("dog");
    const std::string image = dir + "/dog\xff\xfe.jpg";
    const std::string weightsCopy = dir + "/w\xe9.pth";  // Latin-1 é
    std::filesystem::copy_file(dog.path, image);
    std::filesystem::copy_file(weights(), weightsCopy);
    const std::string tap = dir + "/tap\xff.npy";
    const test::CommandResult r = test::runCommand(
        "env -u RESNET18_WEIGHTS HOME=" + dir + " XDG_DATA_HOME=" + dir + " " + kCli +
        " classify --json --weights '" + weightsCopy + "' --save-tap 'avgpool=" + tap + "' '" +
        image + "' '" + dir + "/gone\xff.png'");
    EXPECT_EQ(r.exitCode, 3) << r.err;  // the missing one
    nlohmann::json doc;
    ASSERT_NO_THROW(doc = nlohmann::json::parse(r.out)) << r.out;
    ASSERT_EQ(doc.size(), 1u);
    EXPECT_EQ(doc[0]["file"], dir + "/dog\xEF\xBF\xBD\xEF\xBF\xBD.jpg");
    EXPECT_EQ(doc[0]["top"][0]["index"], dog.top1);
    EXPECT_EQ(readNpy(tap).dims, (std::vector<int64_t>{1, 512}));
    // The message names the missing file, readable, with U+FFFD for the byte.
    EXPECT_NE(r.err.find("error: " + dir + "/gone\xEF\xBF\xBD.png: "), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\xff'), std::string::npos);

    const test::CommandResult info =
        test::runCommand(kCli + " info --weights '" + weightsCopy + "'");
    EXPECT_EQ(info.exitCode, 0) << info.err;
    EXPECT_NE(info.out.find("weights: " + dir + "/w\xEF\xBF\xBD.pth"), std::string::npos)
        << info.out;
}

// --- --save-tap over many images -------------------------------------------------------------

// Every image's slice equals PyTorch's, in the order given, however many there are.
TEST(SaveTap, WrittenImageByImageEqualToPyTorch) {
    const std::string dir = test::tempDir();
    const test::FixtureImage dog = test::fixtureImage("dog");
    const test::FixtureImage gray = test::fixtureImage("gray_301x187");
    std::vector<std::string> args = {"classify",
                                     "--weights",
                                     weights(),
                                     "--csv",
                                     dir + "/out.csv",
                                     "--save-tap",
                                     "conv1=" + dir + "/conv1.npy",
                                     "--save-tap",
                                     "fc=" + dir + "/fc.npy"};
    const std::vector<std::string> order = {"dog", "gray_301x187", "dog", "gray_301x187", "dog"};
    for (const std::string& id : order) args.push_back(id == "dog" ? dog.path : gray.path);
    args.push_back(fixture("bad/truncated.jpg"));  // an error among them writes no slice
    const test::Measured m = cli(args);
    EXPECT_EQ(m.exitCode, 3) << m.err;
    for (const std::string tap : {"conv1", "fc"}) {
        const Tensor got = readNpy(dir + "/" + tap + ".npy");
        ASSERT_EQ(got.dims[0], static_cast<int64_t>(order.size())) << tap;
        for (size_t i = 0; i < order.size(); ++i) {
            const Tensor ref = readNpy(fixture("ref/" + order[i] + "/" + tap + ".npy"));
            Tensor slice(ref.dims);
            ASSERT_EQ(got.data.size(), ref.data.size() * order.size()) << tap;
            std::copy_n(got.data.begin() + static_cast<std::ptrdiff_t>(i * ref.data.size()),
                        ref.data.size(), slice.data.begin());
            const test::Comparison c = test::compare(ref, slice);
            EXPECT_LE(c.maxAbsDiff, 1e-4 * c.maxAbsRef) << c.report(tap, ref, slice);
        }
    }
}

// 120 images at conv1 are 385 MB of taps: written as they come, the process stays far below.
TEST(SaveTap, MemoryDoesNotGrowWithTheNumberOfImages) {
    const std::string dog = test::fixtureImage("dog").path;
    auto run = [&](int images) {
        std::vector<std::string> args = {"classify",  "--weights",  weights(),        "--csv",
                                         "/dev/null", "--save-tap", "conv1=/dev/null"};
        for (int i = 0; i < images; ++i) args.push_back(dog);
        return cli(args);
    };
    const test::Measured few = run(2);
    const test::Measured many = run(120);
    ASSERT_EQ(few.exitCode, 0) << few.err;
    ASSERT_EQ(many.exitCode, 0) << many.err;
    std::printf("[ memory ] --save-tap conv1: 2 images %.0f MB, 120 images %.0f MB peak\n",
                few.peakMb, many.peakMb);
    EXPECT_LT(many.peakMb - few.peakMb, 150.0);
}

// Every output is checked after closing: a full disk is an error naming the file.
TEST(SaveTap, FullDiskIsAnError) {
    const std::string dog = test::fixtureImage("dog").path;
    for (const std::vector<std::string>& out :
         {std::vector<std::string>{"--save-tap", "layer4.1=/dev/full"},
          std::vector<std::string>{"--save-logits", "/dev/full"},
          std::vector<std::string>{"--csv", "/dev/full"}}) {
        std::vector<std::string> args = {"classify", "--weights", weights()};
        args.insert(args.end(), out.begin(), out.end());
        args.push_back(dog);
        const test::Measured m = cli(args);
        EXPECT_EQ(m.exitCode, 3) << out[0] << ": " << m.err;
        EXPECT_NE(m.err.find("error: /dev/full: "), std::string::npos) << out[0] << ": " << m.err;
    }
}

TEST(SaveTap, NpyWriterCountsWhatWasAppended) {
    const std::string path = test::tempDir() + "/w.npy";
    {
        NpyWriter w(path, {2, 3});
        const std::vector<float> a = {1, 2, 3, 4, 5, 6};
        for (int i = 0; i < 7; ++i) w.append(a.data(), 1);
        w.close();
    }
    const Tensor t = readNpy(path);
    ASSERT_EQ(t.dims, (std::vector<int64_t>{7, 2, 3}));
    EXPECT_EQ(t.data[6 * 6 + 5], 6.0F);
    EXPECT_EQ(std::filesystem::file_size(path) % 4, 0u);
}

}  // namespace
}  // namespace r18
