// Soak: 10,000 frames through the inference worker while the requested tap and the precision
// change, checking that resident memory stops growing once everything has been warmed up.
//
// Resident memory moves for reasons that are not leaks: glibc keeps freed chunks in per-thread
// arenas (the worker, OpenMP's threads, Qt's) and their fragmentation settles slowly, and on a
// busy machine it jumps up for a while around a precision switch and comes back down. So the
// test hands free memory back (malloc_trim) before every reading and compares the lowest
// reading of the last 4,000 frames with the lowest of the 4,000 before: a leak raises the floor
// linearly, by as much in one half as in the other; allocator noise only adds passing peaks.
#include <gtest/gtest.h>
#include <malloc.h>

#include <QSignalSpy>
#include <QThread>

#include <algorithm>
#include <cmath>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/process_stats.h"
#include "tests/qt_test_util.h"
#include "tests/test_util.h"
#include "ui/session/inference_worker.h"

namespace r18::ui {
namespace {

constexpr int kFrames = 10'000;
constexpr int kWarmup = 2'000;     // both precisions and every tap seen at least once by then
constexpr int kSwitchEvery = 500;  // frames between precision switches
constexpr int kMeasureEvery = 250;
// Growth of the floor allowed from the first to the second half of the measured frames (4,000
// frames apart): a leak of 1 KB per frame (one small result kept) would add 4 MB there.
constexpr double kMaxGrowthMb = 3.0;

// Resident memory once the allocator has returned what it can.
double trimmedResidentMb() {
    malloc_trim(0);
    return residentMemoryMb();
}

TEST(Soak, TenThousandFramesWithoutMemoryGrowth) {
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "AddressSanitizer's quarantine makes RSS meaningless here";
#endif
    QThread thread;
    auto* worker = new InferenceWorker;
    worker->moveToThread(&thread);
    QObject::connect(&thread, &QThread::finished, worker, &QObject::deleteLater);
    thread.start();
    QSignalSpy models(worker, &InferenceWorker::engineReady);
    QSignalSpy failures(worker, &InferenceWorker::engineFailed);
    const QString weights = QString::fromStdString(test::fixture("weights/resnet18_seeded.pth"));
    QMetaObject::invokeMethod(
        worker, [worker, weights] { worker->loadModel(1, weights, Precision::Fp32, 2); });
    ASSERT_TRUE(test::waitForCount(models, 1, 60000));

    std::vector<cv::Mat> frames;
    for (const char* id : {"dog", "eagle", "giraffe", "horses", "kite", "person"}) {
        cv::Mat f;
        cv::resize(cv::imread(test::fixtureImage(id).path), f, cv::Size(320, 240), 0, 0,
                   cv::INTER_AREA);
        frames.push_back(f);
    }
    CalibrationSet calibration;  // what the Session would hand over: some of the frames
    {
        ModelOptions options;
        options.weightsPath = weights.toStdString();
        const auto model = Model::open(options);
        for (const cv::Mat& f : frames)
            calibration.push_back(std::make_shared<const Tensor>(model->prepare(f)));
    }
    const std::vector<std::vector<std::string>> tapSets = {
        {"layer1.0"}, {"layer3.1", "conv1"}, {}, {"layer4.0.downsample"}, {"avgpool", "fc"}};
    QSignalSpy results(worker, &InferenceWorker::resultReady);
    QSignalSpy failed(worker, &InferenceWorker::failed);
    std::vector<std::pair<int, double>> readings;  // (frame, MB)
    int switches = 0;
    for (int i = 0; i < kFrames; ++i) {
        if (i > 0 && i % kSwitchEvery == 0) {
            const Precision next = (++switches % 2) ? Precision::Int8 : Precision::Fp32;
            const int before = models.count();
            QMetaObject::invokeMethod(worker, [worker, next, switches, calibration] {
                worker->configure(static_cast<quint64>(switches) + 1, next, 2, calibration);
            });
            ASSERT_TRUE(test::waitForCount(models, before + 1, 60000)) << "frame " << i;
            ASSERT_EQ(models.last().first().value<EngineInfo>().precision, next) << "frame " << i;
        }
        auto source = std::make_shared<Source>();
        source->sourceId = nextSourceId();
        source->label = QStringLiteral("soak");
        source->frame = frames[static_cast<size_t>(i) % frames.size()];
        source->live = true;
        InferenceRequest request;
        request.requestId = nextRequestId();
        request.source = source;
        request.needs.taps = tapSets[static_cast<size_t>(i) % tapSets.size()];
        request.needs.heatmap.enabled = (i % 11) == 0;
        request.profile = (i % 7) == 0;
        worker->submit(std::move(request));
        ASSERT_TRUE(test::waitForCount(results, 1, 30000)) << "frame " << i;
        results.clear();  // drop the result: only what the worker keeps may stay in memory
        if (i + 1 >= kWarmup && (i + 1) % kMeasureEvery == 0)
            readings.emplace_back(i + 1, trimmedResidentMb());
    }
    std::string trace;
    for (size_t k = 0; k < readings.size(); k += 4) {  // every 1,000 frames
        char reading[32];
        std::snprintf(reading, sizeof reading, " %d:%.1f", readings[k].first, readings[k].second);
        trace += reading;
    }
    const int middle = (kWarmup + kFrames) / 2;
    double firstFloor = INFINITY;
    double secondFloor = INFINITY;
    double peak = 0.0;
    for (const auto& [frame, mb] : readings) {
        double& floor = frame <= middle ? firstFloor : secondFloor;
        floor = std::min(floor, mb);
        peak = std::max(peak, mb);
    }
    std::printf(
        "[ soak ] %d frames, %d precision switches; trimmed RSS (frame:MB)%s\n"
        "[ soak ] lowest frames %d-%d: %.1f MB, frames %d-%d: %.1f MB (growth %.2f MB); "
        "highest %.1f MB\n",
        kFrames, switches, trace.c_str(), kWarmup, middle, firstFloor, middle, kFrames, secondFloor,
        secondFloor - firstFloor, peak);
    EXPECT_EQ(failed.count(), 0);
    EXPECT_EQ(failures.count(), 0);
    EXPECT_LT(secondFloor - firstFloor, kMaxGrowthMb)
        << "resident memory's floor still rises in the second half";
    thread.quit();
    thread.wait();
}

}  // namespace
}  // namespace r18::ui
