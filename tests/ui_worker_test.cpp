// The inference worker in its thread: newest request wins, errors arrive as signals, results
// match the core, models load or fall back clearly.
#include <gtest/gtest.h>

#include <QSignalSpy>
#include <QTest>
#include <QThread>

#include "core/engine/engine.h"
#include "core/media/image_io.h"
#include "core/media/preprocess.h"
#include "tests/qt_test_util.h"
#include "tests/test_util.h"
#include "ui/inference_worker.h"

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
    ModelInfo load(const QString& path) {
        QSignalSpy ready(worker, &InferenceWorker::modelReady);
        QMetaObject::invokeMethod(worker,
                                  [w = worker, path] { w->loadModel(path, Precision::Fp32, 1); });
        EXPECT_TRUE(test::waitForCount(ready, 1, 60000));
        return ready.isEmpty() ? ModelInfo{} : ready.first().first().value<ModelInfo>();
    }
    std::shared_ptr<Source> fileSource(const std::string& path) {
        auto s = std::make_shared<Source>();
        s->generation = ++generation;
        s->path = QString::fromStdString(path);
        s->label = s->path;
        return s;
    }
    QThread thread;
    InferenceWorker* worker = nullptr;
    uint64_t generation = 0;
};

TEST_F(WorkerTest, NewestRequestWinsAndStaleOnesAreDropped) {
    load(QString::fromStdString(fixture("weights/resnet18_seeded.pth")));
    worker->setExtraLatencyForTesting(300);
    QSignalSpy started(worker, &InferenceWorker::started);
    QSignalSpy results(worker, &InferenceWorker::resultReady);
    const auto dog = fileSource(test::fixtureImage("dog").path);
    worker->submit({1, dog, {}, false});
    ASSERT_TRUE(test::waitForCount(started, 1, 10000));  // request 1 is running (sleeping 300 ms)
    worker->submit({2, dog, {"layer1.0"}, false});
    worker->submit({3, dog, {"layer3.1"}, false});
    ASSERT_TRUE(test::waitForCount(results, 2, 10000));
    QTest::qWait(700);  // room for a wrongly queued third result to show up
    ASSERT_EQ(results.count(), 2);
    const auto first = results.at(0).first().value<ResultPtr>();
    const auto last = results.at(1).first().value<ResultPtr>();
    EXPECT_EQ(first->id, 1u);
    EXPECT_EQ(last->id, 3u);  // 2 was replaced before it started
    EXPECT_EQ(last->taps.count("layer3.1"), 1u);
    EXPECT_EQ(started.count(), 2);
}

TEST_F(WorkerTest, ResultsMatchTheCore) {
    load(QString::fromStdString(fixture("weights/resnet18_seeded.pth")));
    QSignalSpy results(worker, &InferenceWorker::resultReady);
    const std::string path = test::fixtureImage("kite").path;
    worker->submit({7, fileSource(path), {"layer2.0.downsample", "input"}, true});
    ASSERT_TRUE(test::waitForCount(results, 1, 30000));
    const auto r = results.first().first().value<ResultPtr>();
    EXPECT_EQ(r->id, 7u);
    ASSERT_EQ(r->top.size(), 5u);
    EXPECT_EQ(r->top[0].index, test::fixtureImage("kite").top1);
    EXPECT_EQ(r->top[0].label, "kite");
    EXPECT_EQ(r->taps.at("layer2.0.downsample").dims, (std::vector<int64_t>{1, 128, 28, 28}));
    EXPECT_EQ(r->taps.at("input").data, preprocess(readImage(path)).data);
    EXPECT_EQ(r->originalSize, QSize(1352, 900));    // the kite photo as decoded
    EXPECT_EQ(r->display.size(), QSize(1352, 900));  // under 2048 px: shown as is
    EXPECT_FALSE(r->display.isNull());
    EXPECT_FALSE(r->nodeMs.empty());
}

TEST_F(WorkerTest, BadImagesArriveAsFailedSignalsAndTheWorkerGoesOn) {
    load(QString::fromStdString(fixture("weights/resnet18_seeded.pth")));
    QSignalSpy failed(worker, &InferenceWorker::failed);
    QSignalSpy results(worker, &InferenceWorker::resultReady);
    const std::string bad = fixture("bad/truncated.png");
    worker->submit({1, fileSource(bad), {}, false});
    ASSERT_TRUE(test::waitForCount(failed, 1, 10000));
    EXPECT_EQ(failed.first().at(0).toULongLong(), 1u);
    EXPECT_TRUE(failed.first().at(2).toString().startsWith(QString::fromStdString(bad) +
                                                           ": the PNG file is truncated"))
        << failed.first().at(2).toString().toStdString();
    worker->submit({2, fileSource(test::fixtureImage("eagle").path), {}, false});
    ASSERT_TRUE(test::waitForCount(results, 1, 30000));
    EXPECT_EQ(results.first().first().value<ResultPtr>()->top[0].label, "bald eagle");
}

TEST_F(WorkerTest, BrokenWeightsFallBackToDemoWeightsAndSaySo) {
    QSignalSpy failed(worker, &InferenceWorker::modelFailed);
    const ModelInfo info = load(QString::fromStdString(fixture("bad/wrong_shape.pth")));
    ASSERT_EQ(failed.count(), 1);
    EXPECT_TRUE(failed.first().first().toString().contains(
        "has shape [256,64,3,3], expected [256,128,3,3]"));
    EXPECT_TRUE(info.file.isEmpty());
    EXPECT_FALSE(info.official);
    EXPECT_TRUE(info.trustNote.contains("meaningless"));
    EXPECT_EQ(info.arch, "ResNet18");
}

TEST_F(WorkerTest, Bf16IsRefusedWithAReasonOrRuns) {
    load(QString::fromStdString(fixture("weights/resnet18_seeded_zoo.onnx")));
    QSignalSpy ready(worker, &InferenceWorker::modelReady);
    QSignalSpy failed(worker, &InferenceWorker::modelFailed);
    QMetaObject::invokeMethod(worker, [w = worker] { w->configure(Precision::Bf16, 1); });
    ASSERT_TRUE(test::waitForCount(ready, 1, 60000));
    const ModelInfo info = ready.first().first().value<ModelInfo>();
    if (Engine::supports(Precision::Bf16)) {
        EXPECT_EQ(info.precision, Precision::Bf16);
        EXPECT_EQ(failed.count(), 0);
    } else {
        EXPECT_EQ(info.precision, Precision::Fp32);  // kept running fp32
        ASSERT_EQ(failed.count(), 1);
        EXPECT_TRUE(
            failed.first().first().toString().contains("bf16 is not available on this CPU"));
    }
}

}  // namespace
}  // namespace r18::ui
