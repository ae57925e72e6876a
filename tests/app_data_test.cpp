// What the program finds beside itself (core/app_data.h) and what it answers without a display:
// the build tree mirrors the installed layout, the samples are there and decode, the source tree
// is known only to a build-tree binary, and --version/--help/usage errors need no display.
// tests/install_test.sh checks the same from an installed tree.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/app_data.h"
#include "core/media/image_io.h"
#include "core/model/weights.h"
#include "core/runtime_info.h"
#include "tests/test_util.h"

namespace r18 {
namespace {

namespace fs = std::filesystem;

const std::string kCli = R18_CLI;

// Restores an environment variable when the test ends.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : m_name(name) {
        if (const char* old = std::getenv(name)) m_old = old, m_had = true;
        if (value)
            setenv(name, value, 1);
        else
            unsetenv(name);
    }
    ~ScopedEnv() {
        if (m_had)
            setenv(m_name, m_old.c_str(), 1);
        else
            unsetenv(m_name);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* m_name;
    std::string m_old;
    bool m_had = false;
};

std::string buildShare() {
    return (fs::path(R18_BUILD_DIR) / "share" / "resnet18-explorer").lexically_normal().string();
}

TEST(AppData, DataIsFoundBesideTheExecutableInTheBuildTree) {
    EXPECT_EQ(fs::canonical(executableDir()), fs::canonical(fs::path(R18_BUILD_DIR) / "tests"));
    ASSERT_FALSE(dataDirCandidates().empty());
    EXPECT_EQ(fs::weakly_canonical(dataDirCandidates().front()),
              fs::weakly_canonical(buildShare()));
    EXPECT_EQ(fs::weakly_canonical(dataDir()), fs::weakly_canonical(buildShare()));
}

TEST(AppData, SamplesAreThePhotosThatShipAndTheyDecode) {
    const std::vector<std::string> samples = sampleImages();
    ASSERT_EQ(samples.size(), 3U);
    const char* expected[] = {"cat.jpg", "coffee.jpg", "rocket.jpg"};  // the cat opens first
    for (size_t i = 0; i < samples.size(); ++i) {
        EXPECT_EQ(fs::path(samples[i]).filename(), expected[i]);
        const cv::Mat image = readImage(samples[i]);
        EXPECT_GE(image.cols, 400) << samples[i];
        EXPECT_GE(image.rows, 300) << samples[i];
        EXPECT_EQ(image.channels(), 3) << samples[i];
    }
    // Each one is documented with its source and licence.
    const std::string readme =
        test::readText(std::string(R18_SOURCE_DIR) + "/resources/samples/README.md");
    for (const char* name : expected) EXPECT_NE(readme.find(name), std::string::npos) << name;
}

TEST(AppData, TheIconIsFoundBesideTheDataAndTheRuntimeIsNamed) {
    const std::vector<std::string> icons = iconFiles();
    ASSERT_EQ(icons.size(), 3U);  // the build tree has the PNGs rendered from the SVG
    const char* sizes[] = {"48x48", "128x128", "256x256"};
    for (size_t i = 0; i < icons.size(); ++i) {
        EXPECT_EQ(fs::path(icons[i]).filename(), std::string(appId()) + ".png");
        EXPECT_EQ(fs::path(icons[i]).parent_path().parent_path().filename(), sizes[i]);
        const cv::Mat png = readImage(icons[i]);
        EXPECT_EQ(png.cols, std::stoi(sizes[i])) << icons[i];
    }
    const RuntimeInfo info = runtimeInfo();
    EXPECT_EQ(info.oneDnnVersion.rfind("2.", 0), 0U) << info.oneDnnVersion;  // Debian 12: 2.6
    EXPECT_EQ(info.openCvVersion.rfind("4.", 0), 0U) << info.openCvVersion;
    EXPECT_FALSE(info.cpuIsa.empty());
    EXPECT_NE(info.cpuIsa, "unknown ISA");
    EXPECT_FALSE(info.cpuModel.empty());
}

TEST(AppData, XdgDataDirsFollowTheExecutablesOwnFolder) {
    {
        const ScopedEnv env("XDG_DATA_DIRS", "/opt/a:relative/ignored:/opt/b/:/opt/a");
        const std::vector<std::string> dirs = dataDirCandidates();
        ASSERT_EQ(dirs.size(), 3U);
        EXPECT_EQ(dirs[1], "/opt/a/resnet18-explorer");
        EXPECT_EQ(dirs[2], "/opt/b/resnet18-explorer");
    }
    const ScopedEnv env("XDG_DATA_DIRS", nullptr);  // the spec's default
    const std::vector<std::string> dirs = dataDirCandidates();
    ASSERT_EQ(dirs.size(), 3U);
    EXPECT_EQ(dirs[1], "/usr/local/share/resnet18-explorer");
    EXPECT_EQ(dirs[2], "/usr/share/resnet18-explorer");
}

TEST(AppData, WeightsAreLookedForInTheDataFoldersAndTheCheckoutOfABuildTreeBinary) {
    EXPECT_EQ(fs::canonical(sourceTreeDir()), fs::canonical(R18_SOURCE_DIR));
    EXPECT_EQ(fs::canonical(fetchWeightsScript()),
              fs::canonical(fs::path(R18_SOURCE_DIR) / "weights" / "fetch.sh"));
    const ScopedEnv env("XDG_DATA_DIRS", "/opt/a");
    const std::vector<std::string> paths = defaultWeightsCandidates();
    const auto has = [&](const std::string& p) {
        return std::find(paths.begin(), paths.end(), p) != paths.end();
    };
    EXPECT_TRUE(has(userWeightsDir() + "/resnet18-f37072fd.pth"));
    EXPECT_TRUE(has("/opt/a/resnet18-explorer/resnet18-f37072fd.pth"));
    EXPECT_TRUE(has(buildShare() + "/resnet18-f37072fd.pth"));
    EXPECT_TRUE(has(sourceTreeDir() + "/weights/resnet18-f37072fd.pth"));
}

TEST(AppData, WeightFilesAreToldApartFromImagesBySuffix) {
    for (const char* p :
         {"a.pth", "b.PT", "dir.x/c.onnx", "model.safetensors", "pytorch_model.bin"})
        EXPECT_TRUE(hasWeightsSuffix(p)) << p;
    for (const char* p : {"a.jpg", "pth", "dir.pth/photo.png", "a.pth.jpg", "a.ptx"})
        EXPECT_FALSE(hasWeightsSuffix(p)) << p;
}

// No DISPLAY, no WAYLAND_DISPLAY, no offscreen platform: a window could not open.
test::CommandResult headless(const std::string& args) {
    return test::runCommand("env -u DISPLAY -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM " + kCli + " " +
                            args);
}

TEST(Headless, VersionPrintsTheVersion) {
    for (const char* flag : {"--version", "-v"}) {
        const auto r = headless(flag);
        EXPECT_EQ(r.exitCode, 0) << flag << ": " << r.err;
        EXPECT_EQ(r.out, std::string("resnet18-explorer ") + appVersion() + "\n") << flag;
    }
}

TEST(Headless, HelpListsTheWindowOptions) {
    const auto r = headless("--help");
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.out.rfind("Usage: resnet18-explorer [options] [FILE...]", 0), 0U) << r.out;
    for (const char* option : {"--weights", "--version", "--screenshot", "FILE"})
        EXPECT_NE(r.out.find(option), std::string::npos) << option << " in\n" << r.out;
    EXPECT_EQ(r.out.find("-platform"), std::string::npos) << "Qt's options stay hidden";
}

TEST(Headless, UsageErrorsNeedNoDisplay) {
    auto r = headless("--no-such-option");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("no-such-option"), std::string::npos) << r.err;
    r = headless("a.pth b.onnx");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("more than one weights file"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace r18
