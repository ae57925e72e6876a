// The live pipeline without the window (core/live_pipeline.h, core/media/capture.h): a video's
// frames through the network on their own threads, newest frame wins, each result what the
// Pipeline gives for that frame; the end of a video and a broken one arrive as stops that say
// which file and why.
#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <mutex>

#include "core/error.h"
#include "core/live_pipeline.h"
#include "core/media/capture.h"
#include "tests/test_util.h"

namespace r18 {
namespace {

using test::seededModel;

struct Stop {
    std::mutex mutex;
    std::condition_variable cv;
    bool stopped = false;
    std::string reason;
    bool error = false;

    void operator()(const std::string& why, bool failed) {
        std::lock_guard<std::mutex> lock(mutex);
        stopped = true;
        reason = why;
        error = failed;
        cv.notify_all();
    }
    bool wait(int seconds = 60) {
        std::unique_lock<std::mutex> lock(mutex);
        return cv.wait_for(lock, std::chrono::seconds(seconds), [this] { return stopped; });
    }
};

TEST(LivePipeline, EveryResultIsThePipelinesForItsFrameUntilTheVideoEnds) {
    const auto model = seededModel();
    const std::string clip = test::makeVideo({"dog", "kite"}, 6, 25.0, "live.avi");
    RunRequest request;
    request.taps = {"layer3.1"};
    LivePipeline live(model, EngineOptions().withThreads(1), request);
    std::mutex mutex;
    std::vector<LiveResult> results;
    Stop stop;
    CaptureOptions capture;
    capture.spec = clip;
    capture.paced = false;
    live.start(
        capture,
        [&](const LiveResult& r) {
            std::lock_guard<std::mutex> lock(mutex);
            results.push_back(r);
        },
        std::ref(stop));
    ASSERT_TRUE(stop.wait());
    live.stop();
    EXPECT_FALSE(stop.error) << stop.reason;
    EXPECT_EQ(stop.reason, "live.avi: end of the video.");
    const LivePipeline::Stats stats = live.stats();
    EXPECT_EQ(stats.submitted, 12u);
    EXPECT_EQ(stats.processed, results.size());
    EXPECT_LE(stats.processed + stats.dropped, stats.submitted);
    EXPECT_LE(stats.maxWaiting, 1);  // the mailbox holds one frame, never a queue
    ASSERT_FALSE(results.empty());
    // Each result is what the Pipeline computes for its frame, and frames arrive in order.
    Pipeline reference(model, EngineOptions().withThreads(1));
    uint64_t last = 0;
    for (const LiveResult& r : results) {
        EXPECT_GT(r.frame->frameIndex, last);
        last = r.frame->frameIndex;
        const Classification expected = reference.run(model->prepare(r.frame->image), request);
        ASSERT_EQ(r.classification.taps.count("layer3.1"), 1u);
        EXPECT_EQ(r.classification.taps.at("layer3.1").data, expected.taps.at("layer3.1").data);
        EXPECT_EQ(r.classification.top.front().index, expected.top.front().index);
    }
}

TEST(LivePipeline, ABrokenVideoStopsWithAnErrorNamingTheFile) {
    const std::string broken = test::tempDir() + "/broken.avi";
    std::ofstream(broken) << "not a video at all";
    LivePipeline live(seededModel(), EngineOptions().withThreads(1), RunRequest{});
    Stop stop;
    CaptureOptions capture;
    capture.spec = broken;
    live.start(
        capture, [](const LiveResult&) {}, std::ref(stop));
    ASSERT_TRUE(stop.wait());
    EXPECT_TRUE(stop.error);
    EXPECT_NE(stop.reason.find(broken), std::string::npos) << stop.reason;
    EXPECT_EQ(live.stats().processed, 0u);
}

TEST(LivePipeline, AnEngineThatCannotBeBuiltThrowsAtStart) {
    LivePipeline live(seededModel(), EngineOptions().with(Precision::Int8), RunRequest{});
    CaptureOptions capture;
    capture.spec = "0";
    EXPECT_THROW(live.start(
                     capture, [](const LiveResult&) {}, [](const std::string&, bool) {}),
                 EngineError);  // int8 without a calibration
}

TEST(Capture, LoopsAFileAndStopsWhenAsked) {
    const std::string clip = test::makeVideo({"eagle"}, 3, 25.0, "live.avi");
    Capture capture;
    std::mutex mutex;
    std::condition_variable cv;
    uint64_t frames = 0;
    Stop stop;
    CaptureOptions options;
    options.spec = clip;
    options.loop = true;
    options.paced = false;
    CaptureCallbacks callbacks;
    callbacks.frame = [&](const FramePtr&, const std::string&) {
        std::lock_guard<std::mutex> lock(mutex);
        ++frames;
        cv.notify_all();
    };
    callbacks.stopped = std::ref(stop);
    capture.start(options, callbacks);
    {
        std::unique_lock<std::mutex> lock(mutex);
        ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return frames > 9; }));
    }
    capture.stop();
    ASSERT_TRUE(stop.wait());
    EXPECT_FALSE(stop.error);
    EXPECT_EQ(stop.reason, "live.avi stopped.");
    EXPECT_FALSE(capture.isRunning());
}

}  // namespace
}  // namespace r18
