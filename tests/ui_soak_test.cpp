// Soak: 10,000 frames through the inference worker while the requested tap and the precision
// change, checking that resident memory stops growing once everything has been warmed up.
#include <gtest/gtest.h>

#include <QSignalSpy>
#include <QThread>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/process_stats.h"
#include "tests/qt_test_util.h"
#include "tests/test_util.h"
#include "ui/inference_worker.h"

namespace r18::ui {
namespace {

constexpr int kFrames = 10'000;
constexpr int kWarmup = 2'000;     // both precisions and every tap seen at least once by then
constexpr int kSwitchEvery = 500;  // frames between precision switches
constexpr double kMaxGrowthMb = 5.0;

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
    const std::vector<std::vector<std::string>> tapSets = {
        {"layer1.0"}, {"layer3.1", "conv1"}, {}, {"layer4.0.downsample"}, {"avgpool", "fc"}};
    QSignalSpy results(worker, &InferenceWorker::resultReady);
    QSignalSpy failed(worker, &InferenceWorker::failed);
    double baseline = 0.0;
    int switches = 0;
    for (int i = 0; i < kFrames; ++i) {
        if (i > 0 && i % kSwitchEvery == 0) {
            const Precision next = (++switches % 2) ? Precision::Int8 : Precision::Fp32;
            const int before = models.count();
            QMetaObject::invokeMethod(worker, [worker, next, switches] {
                worker->configure(static_cast<quint64>(switches) + 1, next, 2);
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
        if (i == kWarmup) baseline = residentMemoryMb();
    }
    const double growth = residentMemoryMb() - baseline;
    std::printf(
        "[ soak ] %d frames, %d precision switches; RSS %.1f MB after warm-up, growth %.2f MB\n",
        kFrames, switches, baseline, growth);
    EXPECT_EQ(failed.count(), 0);
    EXPECT_EQ(failures.count(), 0);
    EXPECT_LT(growth, kMaxGrowthMb);
    thread.quit();
    thread.wait();
}

}  // namespace
}  // namespace r18::ui
