// The inference worker in its thread: newest request wins, errors arrive as signals, results
// match the core, models load or fall back clearly.
#include <gtest/gtest.h>

#include <QSignalSpy>
#include <QTest>
#include <QThread>

#include <opencv2/imgcodecs.hpp>

#include <algorithm>

#include "core/engine/engine.h"
#include "core/engine/threads.h"
#include "core/media/image_io.h"
#include "core/media/preprocess.h"
#include "tests/qt_test_util.h"
#include "tests/test_util.h"
#include "ui/session/inference_worker.h"
#include "ui/session/session.h"

namespace r18::ui {
namespace {

using test::fixture;

class WorkerTest : public testing::Test {
protected:
    void SetUp() override {
        worker = new InferenceWorker;
        worker->moveToThread(&thread);
        QObject::connect(&thread, &QThread::finished, worker, &QObject::deleteLater);
        thread.start();
    }
    void TearDown() override {
        thread.quit();
        thread.wait();
    }
    EngineInfo load(const QString& path, uint64_t engineId = 1) {
        QSignalSpy ready(worker, &InferenceWorker::engineReady);
        QMetaObject::invokeMethod(worker, [w = worker, path, engineId] {
            w->loadModel(engineId, path, Precision::Fp32, 1);
        });
        EXPECT_TRUE(test::waitForCount(ready, 1, 60000));
        return ready.isEmpty() ? EngineInfo{} : ready.first().first().value<EngineInfo>();
    }
    static std::shared_ptr<Source> fileSource(const std::string& path) {
        auto s = std::make_shared<Source>();
        s->sourceId = nextSourceId();
        s->path = QString::fromStdString(path);
        s->label = s->path;
        return s;
    }
    static InferenceRequest request(uint64_t id, SourcePtr source,
                                    std::vector<std::string> taps = {}, bool profile = false) {
        InferenceRequest r;
        r.requestId = id;
        r.source = std::move(source);
        r.needs.taps = std::move(taps);
        r.profile = profile;
        return r;
    }
    QThread thread;
    InferenceWorker* worker = nullptr;
};

TEST_F(WorkerTest, NewestRequestWinsAndStaleOnesAreDropped) {
    load(QString::fromStdString(fixture("weights/resnet18_seeded.pth")));
    worker->setExtraLatencyForTesting(300);
    QSignalSpy started(worker, &InferenceWorker::started);
    QSignalSpy results(worker, &InferenceWorker::resultReady);
    const auto dog = fileSource(test::fixtureImage("dog").path);
    worker->submit(request(1, dog));
    ASSERT_TRUE(test::waitForCount(started, 1, 10000));  // request 1 is running (sleeping 300 ms)
    worker->submit(request(2, dog, {"layer1.0"}));
    worker->submit(request(3, dog, {"layer3.1"}));
    ASSERT_TRUE(test::waitForCount(results, 1, 10000));
    QTest::qWait(900);  // room for a wrongly queued result to show up
    // 1 was abandoned once the user asked for something else, 2 was replaced before it started.
    ASSERT_EQ(results.count(), 1);
    const auto last = results.at(0).first().value<ResultPtr>();
    EXPECT_EQ(last->requestId, 3u);
    EXPECT_EQ(last->engineId, 1u);
    EXPECT_EQ(last->taps.count("layer3.1"), 1u);
    EXPECT_EQ(last->tapStats.count("layer3.1"), 1u);
    EXPECT_EQ(started.count(), 2);
    EXPECT_EQ(worker->droppedCount(), 2u);
}

TEST_F(WorkerTest, ResultsMatchTheCore) {
    load(QString::fromStdString(fixture("weights/resnet18_seeded.pth")));
    QSignalSpy results(worker, &InferenceWorker::resultReady);
    const std::string path = test::fixtureImage("kite").path;
    worker->submit(request(7, fileSource(path), {"layer2.0.downsample", "input"}, true));
    ASSERT_TRUE(test::waitForCount(results, 1, 30000));
    const auto r = results.first().first().value<ResultPtr>();
    EXPECT_EQ(r->requestId, 7u);
    ASSERT_EQ(r->top.size(), 5u);
    EXPECT_EQ(r->top[0].index, test::fixtureImage("kite").top1);
    EXPECT_EQ(r->top[0].label, "kite");
    EXPECT_EQ(r->taps.at("layer2.0.downsample").dims, (std::vector<int64_t>{1, 128, 28, 28}));
    EXPECT_EQ(r->taps.at("input").data, preprocess(readImage(path)).data);
    EXPECT_EQ(r->originalSize, QSize(1352, 900));    // the kite photo as decoded
    EXPECT_EQ(r->display.size(), QSize(1352, 900));  // under 2048 px: shown as is
    EXPECT_FALSE(r->display.isNull());
    EXPECT_FALSE(r->nodeMs.empty());
    // The figures the views show come with the result, computed from the tap itself.
    const TapStats& s = r->tapStats.at("layer2.0.downsample");
    const Tensor& t = r->taps.at("layer2.0.downsample");
    EXPECT_EQ(s.channels.size(), 128u);
    EXPECT_FLOAT_EQ(s.max, *std::max_element(t.data.begin(), t.data.end()));
}

// A newer live frame never abandons a running one (or nothing would ever be shown); it only
// replaces the frame waiting in the slot. Frames carry the needs set for live frames.
TEST_F(WorkerTest, LiveFramesCarryTheLiveNeedsAndNeverAbandonTheRunningOne) {
    load(QString::fromStdString(fixture("weights/resnet18_seeded.pth")));
    ViewNeeds needs;
    needs.taps = {"layer4.1"};
    worker->setLiveNeeds(needs);
    worker->setExtraLatencyForTesting(300);
    QSignalSpy started(worker, &InferenceWorker::started);
    QSignalSpy results(worker, &InferenceWorker::resultReady);
    auto frame = std::make_shared<Frame>();
    frame->image = cv::imread(test::fixtureImage("horses").path);
    frame->grabbed = Clock::now();
    worker->submitFrame(frame, QStringLiteral("clip"));
    ASSERT_TRUE(test::waitForCount(started, 1, 10000));
    worker->submitFrame(frame, QStringLiteral("clip"));
    worker->submitFrame(frame, QStringLiteral("clip"));
    ASSERT_TRUE(test::waitForCount(results, 2, 10000));
    const auto first = results.at(0).first().value<ResultPtr>();
    EXPECT_TRUE(first->source->live);
    EXPECT_EQ(first->source->label, "clip");
    EXPECT_EQ(first->taps.count("layer4.1"), 1u);
    EXPECT_EQ(worker->droppedCount(), 1u);  // the second frame, replaced by the third
    EXPECT_EQ(worker->submittedCount(), 3u);
}

// int8 calibrates on distinct images: the same image opened four times counts once. The Session
// owns the set (the A/B comparison calibrates on the same one) and hands it to the worker.
TEST(SessionCalibration, Int8CalibratesOnDistinctImages) {
    Session session;
    QSignalSpy engines(&session, &Session::engineChanged);
    QSignalSpy results(&session, &Session::resultShown);
    session.openModel(QString::fromStdString(fixture("weights/resnet18_seeded.pth")),
                      Precision::Fp32, 1);
    ASSERT_TRUE(test::waitForCount(engines, 1, 60000));
    for (int i = 1; i <= 5; ++i) {  // one after the other, each shown
        session.openFile(QString::fromStdString(test::fixtureImage(i < 5 ? "dog" : "kite").path));
        ASSERT_TRUE(test::waitForCount(results, i, 30000));
    }
    EXPECT_EQ(session.recentInputs().size(), 2u);
    session.setPrecision(Precision::Int8);
    ASSERT_TRUE(test::waitForCount(engines, 2, 60000));
    const EngineInfo info = engines.last().first().value<EngineInfo>();
    EXPECT_EQ(info.engineId, session.engine().engineId);
    EXPECT_EQ(info.precision, Precision::Int8);
    EXPECT_EQ(info.calibrationImages, 2);
}

TEST_F(WorkerTest, BadImagesArriveAsFailedSignalsAndTheWorkerGoesOn) {
    load(QString::fromStdString(fixture("weights/resnet18_seeded.pth")));
    QSignalSpy failed(worker, &InferenceWorker::failed);
    QSignalSpy results(worker, &InferenceWorker::resultReady);
    const std::string bad = fixture("bad/truncated.png");
    worker->submit(request(1, fileSource(bad)));
    ASSERT_TRUE(test::waitForCount(failed, 1, 10000));
    EXPECT_EQ(failed.first().at(0).toULongLong(), 1u);
    EXPECT_TRUE(failed.first().at(2).toString().startsWith(QString::fromStdString(bad) +
                                                           ": the PNG file is truncated"))
        << failed.first().at(2).toString().toStdString();
    worker->submit(request(2, fileSource(test::fixtureImage("eagle").path)));
    ASSERT_TRUE(test::waitForCount(results, 1, 30000));
    EXPECT_EQ(results.first().first().value<ResultPtr>()->top[0].label, "bald eagle");
}

TEST_F(WorkerTest, BrokenWeightsFallBackToDemoWeightsAndSaySo) {
    QSignalSpy failed(worker, &InferenceWorker::engineFailed);
    const EngineInfo info = load(QString::fromStdString(fixture("bad/wrong_shape.pth")));
    ASSERT_EQ(failed.count(), 1);
    EXPECT_TRUE(
        failed.first().at(1).toString().contains("has shape [256,64,3,3], expected [256,128,3,3]"));
    ASSERT_TRUE(info.model);
    EXPECT_EQ(info.model->file(), "");
    EXPECT_EQ(info.model->trust(), Trust::Untrained);
    EXPECT_NE(info.model->trustNote().find("meaningless"), std::string::npos);
    EXPECT_EQ(info.model->spec().archName(), "ResNet18");
}

// Hostile weights (a pickle whose dict contains itself, a zip64 locator past a 50-byte file)
// arrive as engineFailed naming the file; the worker runs the demo weights and goes on.
TEST_F(WorkerTest, HostileWeightsArriveAsEngineFailedNamingTheFile) {
    for (const std::string name : {"cycle_self.pth", "zip64_locator_50_bytes.pth"}) {
        const std::string path = fixture("hostile/" + name);
        QSignalSpy failed(worker, &InferenceWorker::engineFailed);
        const EngineInfo info = load(QString::fromStdString(path));
        ASSERT_GE(failed.count(), 1) << name;
        EXPECT_TRUE(failed.first().at(1).toString().startsWith(QString::fromStdString(path) + ": "))
            << failed.first().at(1).toString().toStdString();
        ASSERT_TRUE(info.model) << name;
    }
    QSignalSpy results(worker, &InferenceWorker::resultReady);
    worker->submit(request(1, fileSource(test::fixtureImage("eagle").path)));
    ASSERT_TRUE(test::waitForCount(results, 1, 30000));
}

// A thread count no machine has runs on the cores there are.
TEST_F(WorkerTest, ThreadsAreCappedAtTheCores) {
    load(QString::fromStdString(fixture("weights/resnet18_seeded.pth")), 1);
    QSignalSpy ready(worker, &InferenceWorker::engineReady);
    QMetaObject::invokeMethod(worker, [w = worker] { w->configure(2, Precision::Fp32, 100000); });
    ASSERT_TRUE(test::waitForCount(ready, 1, 60000));
    const EngineInfo info = ready.first().first().value<EngineInfo>();
    EXPECT_EQ(info.engineId, 2u);
    EXPECT_EQ(info.threads, machineCores());
}

// A change that fails leaves the engine that runs, and says so with the id that was asked for.
TEST_F(WorkerTest, Bf16IsRefusedWithAReasonOrRuns) {
    load(QString::fromStdString(fixture("weights/resnet18_seeded_zoo.onnx")), 1);
    QSignalSpy ready(worker, &InferenceWorker::engineReady);
    QSignalSpy failed(worker, &InferenceWorker::engineFailed);
    QMetaObject::invokeMethod(worker, [w = worker] { w->configure(2, Precision::Bf16, 1); });
    ASSERT_TRUE(test::waitForCount(ready, 1, 60000));
    const EngineInfo info = ready.first().first().value<EngineInfo>();
    if (Engine::supports(Precision::Bf16)) {
        EXPECT_EQ(info.precision, Precision::Bf16);
        EXPECT_EQ(info.engineId, 2u);
        EXPECT_EQ(failed.count(), 0);
    } else {
        EXPECT_EQ(info.precision, Precision::Fp32);  // kept running fp32
        EXPECT_EQ(info.engineId, 1u);
        ASSERT_EQ(failed.count(), 1);
        EXPECT_EQ(failed.first().at(0).toULongLong(), 2u);
        EXPECT_TRUE(failed.first().at(1).toString().contains("bf16 is not available on this CPU"));
    }
}

}  // namespace
}  // namespace r18::ui
