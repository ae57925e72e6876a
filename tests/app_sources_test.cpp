// Live sources that are not videos (issue 23): a still image given as the camera or video opens
// as the still image it is (the window) or is refused naming the file (bench --live); an
// unreachable stream and a video without frames fail with exit 3 and a sentence; frames over the
// live limit are refused before they fill memory.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/media/video_source.h"
#include "tests/test_util.h"

namespace r18 {
namespace {

using test::fixture;

const std::string kCli = R18_CLI;

test::Measured cli(std::vector<std::string> args) {
    const std::string home = test::tempDir();
    args.insert(args.begin(), {"/usr/bin/env", "-u", "RESNET18_WEIGHTS", "HOME=" + home,
                               "XDG_DATA_HOME=" + home, "XDG_CONFIG_HOME=" + home,
                               "QT_QPA_PLATFORM=offscreen", "/usr/bin/timeout", "120", kCli});
    return test::runMeasured(args);
}

// A 3-frame MJPG video of the given size, written by OpenCV.
std::string video(int width, int height, int frames) {
    const std::string path = test::tempDir() + "/clip.avi";
    cv::VideoWriter writer(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 30,
                           cv::Size(width, height));
    EXPECT_TRUE(writer.isOpened());
    cv::Mat frame(height, width, CV_8UC3, cv::Scalar(40, 90, 160));
    for (int i = 0; i < frames; ++i) writer.write(frame);
    writer.release();
    return path;
}

TEST(StillImageAsVideo, VideoSourceRefusesItNamingFileAndFormat) {
    const std::string dog = test::fixtureImage("dog").path;
    try {
        VideoSource::open(dog);
        FAIL() << "a JPEG opened as a video";
    } catch (const VideoError& e) {
        EXPECT_EQ(std::string(e.what()), dog +
                                             ": is a still image (JPEG), not a video; open it "
                                             "as an image.");
    }
}

TEST(StillImageAsVideo, BenchLiveExitsThreeWithASentence) {
    const std::string dog = test::fixtureImage("dog").path;
    const test::Measured m = cli({"bench", "--live", dog, "--seconds", "2"});
    EXPECT_EQ(m.exitCode, 3) << m.err;
    EXPECT_NE(m.err.find("error: " + dog + ": is a still image (JPEG)"), std::string::npos)
        << m.err;
}

// The window given a photo as its camera shows the photo, and --screenshot returns.
TEST(StillImageAsVideo, WindowOpensItAsTheImageItIs) {
    const std::string out = test::tempDir() + "/shot.png";
    const test::Measured m =
        cli({"--weights", fixture("weights/resnet18_seeded.pth"), "--camera",
             test::fixtureImage("dog").path, "--window-size", "1200x800", "--screenshot", out});
    EXPECT_EQ(m.exitCode, 0) << m.err;
    const cv::Mat shot = cv::imread(out);
    EXPECT_FALSE(shot.empty()) << "no screenshot";
}

TEST(Streams, AnUnreachableStreamIsExitThreeWithASentence) {
    const test::Measured m = cli({"bench", "--live", "rtsp://127.0.0.1:1/x", "--seconds", "2"});
    EXPECT_EQ(m.exitCode, 3) << m.err;
    EXPECT_NE(m.err.find("error: rtsp://127.0.0.1:1/x: the stream could not be opened"),
              std::string::npos)
        << m.err;
}

TEST(Videos, AVideoWithoutFramesSaysSo) {
    const std::string empty = video(320, 240, 0);
    const test::Measured m = cli({"bench", "--live", empty, "--seconds", "2"});
    EXPECT_EQ(m.exitCode, 3) << m.err;
    EXPECT_NE(m.err.find("error: " + empty + ": the video has no frames"), std::string::npos)
        << m.err;
}

// 7680×4320 frames are 100 MB each once decoded; several copies of each are alive in a live
// session. Refused from the declared size, the process stays small.
TEST(Videos, FramesOverTheLiveLimitAreRefusedBeforeTheyFillMemory) {
    const std::string big = video(7680, 4320, 3);
    const std::string small = video(320, 240, 0);  // refused at once: the baseline
    // A spawned child's peak counts what its parent held at the spawn: compare two children.
    const test::Measured base = cli({"bench", "--live", small, "--seconds", "2"});
    const test::Measured m = cli({"bench", "--live", big, "--seconds", "2"});
    EXPECT_EQ(m.exitCode, 3) << m.err;
    EXPECT_NE(m.err.find("error: " + big +
                         ": its frames are 7680×4320 (33.2 megapixels), over "
                         "the live limit of 4096×2304 (9.4 megapixels)"),
              std::string::npos)
        << m.err;
    std::printf(
        "[ memory ] bench --live, 3-frame 7680x4320 video: %.0f MB peak; a video "
        "without frames: %.0f MB\n",
        m.peakMb, base.peakMb);
    EXPECT_LT(m.peakMb - base.peakMb, 250.0);
    try {
        VideoSource::open(big);
        ADD_FAILURE() << "an 8K video opened";
    } catch (const VideoError& e) {
        EXPECT_NE(std::string(e.what()).find("over the live limit"), std::string::npos) << e.what();
    }
    // 4K still plays.
    EXPECT_NO_THROW(VideoSource::open(video(3840, 2160, 2)));
}

// bench --live --ablate: every precision measured with every channel on and with the channels
// off, two rows; a node the model does not have is a usage error naming it.
TEST(BenchLive, WithChannelsOffMeasuresBothRows) {
    const std::string clip = video(320, 240, 30);
    const test::Measured bad =
        cli({"bench", "--live", clip, "--seconds", "1", "--ablate", "layer9.9:0"});
    EXPECT_EQ(bad.exitCode, 2) << bad.err;
    EXPECT_NE(bad.err.find("layer9.9"), std::string::npos) << bad.err;
    const test::CommandResult m = test::runCommand(
        "/usr/bin/env -u RESNET18_WEIGHTS HOME=" + test::tempDir() + " QT_QPA_PLATFORM=offscreen " +
        kCli + " bench --live " + clip +
        " --precision fp32 --threads 1 --seconds 1 --json --ablate layer3.1:0-127");
    ASSERT_EQ(m.exitCode, 0) << m.err;
    const auto doc = nlohmann::json::parse(m.out);
    EXPECT_EQ(doc["ablate"], nlohmann::json::array({"layer3.1:0-127"}));
    ASSERT_EQ(doc["results"].size(), 2u) << m.out;
    EXPECT_EQ(doc["results"][0]["channels_off"], false);
    EXPECT_EQ(doc["results"][1]["channels_off"], true);
    for (const auto& row : doc["results"]) EXPECT_GT(row["processed_fps"].get<double>(), 0.0);
}

}  // namespace
}  // namespace r18
