// Shared helpers for the test suites: where the fixtures are, the image manifest, the seeded
// model, test videos, tensor comparison with a readable failure report, and running the CLI.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/model/model.h"
#include "core/tensor.h"

namespace r18::test {

// The folder make_fixtures.py wrote (build/fixtures).
std::string fixtures();
std::string fixture(const std::string& relative);  // fixtures() + "/" + relative

struct FixtureImage {
    std::string id;
    std::string path;
    bool photo = false;
    int64_t top1 = -1;        // PyTorch's argmax
    double top1Margin = 0.0;  // PyTorch's top-1 minus top-2 logit
    double maxAbsLogit = 0.0;
};
std::vector<FixtureImage> fixtureImages();
FixtureImage fixtureImage(const std::string& id);

// The fixtures' seeded ResNet18 (weights/resnet18_seeded.pth), opened once.
std::shared_ptr<const Model> seededModel();

// An MJPG AVI in tempDir() named `name`: `perPhoto` frames of each fixture photo (by id) in turn,
// resized to 320×240, at `fps`.
std::string makeVideo(const std::vector<std::string>& photoIds, int perPhoto, double fps,
                      const std::string& name = "clip.avi");

// Max |a-b| and where, for reporting: "node conv1: max |diff| 3e-6 at [0,5,1,2] (expected
// 0.12, got 0.12003); bound 1e-4 × max|ref| = 2e-4".
struct Comparison {
    double maxAbsDiff = 0.0;
    double maxAbsRef = 0.0;
    int64_t worstIndex = -1;
    bool sameShape = false;
    std::string report(const std::string& what, const Tensor& expected, const Tensor& got) const;
};
Comparison compare(const Tensor& expected, const Tensor& got);

// Pearson correlation of two equally long series.
double pearson(const std::vector<float>& a, const std::vector<float>& b);

struct CommandResult {
    int exitCode = -1;
    std::string out;
    std::string err;
};
// Runs a shell command line, capturing stdout and stderr.
CommandResult runCommand(const std::string& commandLine);

// A command's exit code, stderr and peak resident memory (its own, measured by wait4).
struct Measured {
    int exitCode = -1;
    std::string err;
    double peakMb = 0.0;
};
// Runs args[0] (a path) with its arguments, no shell, stdout to /dev/null.
Measured runMeasured(const std::vector<std::string>& args);

// A gtest-safe name: every character that is not a letter or digit becomes '_'.
std::string identifier(std::string text);

std::string tempDir();
// Regular files in a folder, sorted; empty if it does not exist.
std::vector<std::string> filesIn(const std::string& dir);
// Inputs that once crashed, hung or leaked in a fuzzer: tests/fuzz/regressions/<kind>/*.
std::vector<std::string> fuzzRegressions(const std::string& kind);
std::vector<uint8_t> readBytes(
    const std::string& path);  // a fresh folder per call, under the build tree
std::string readText(const std::string& path);
bool fileExists(const std::string& path);

}  // namespace r18::test
