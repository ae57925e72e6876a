// One image at fp32 and int8 (core/precision_compare.h): the comparison equals what two
// pipelines of core compute for that image and node, and bad requests are errors.
#include <gtest/gtest.h>

#include "core/engine/calibration.h"
#include "core/error.h"
#include "core/media/image_io.h"
#include "core/precision_compare.h"
#include "tests/test_util.h"

namespace r18 {
namespace {

using test::seededModel;

TEST(PrecisionCompare, EqualsTwoPipelinesOnTheSameCalibration) {
    const auto model = seededModel();
    const auto dog =
        std::make_shared<const Tensor>(model->prepare(readImage(test::fixtureImage("dog").path)));
    CompareRunner runner;
    const Comparison c = runner.run(model, 1, {dog}, *dog, "layer2.0");
    EXPECT_EQ(c.node, "layer2.0");
    EXPECT_EQ(c.calibrationImages, 1);

    Pipeline fp32(model, EngineOptions().withThreads(1));
    Pipeline int8(model, EngineOptions()
                             .with(Precision::Int8)
                             .withThreads(1)
                             .withCalibration(std::make_shared<const Calibration>(
                                 calibrate(model->spec(), model->weights(), {*dog}, 1))));
    RunRequest request;
    request.taps = {"layer2.0"};
    const Classification a = fp32.run(*dog, request);
    const Classification b = int8.run(*dog, request);
    ASSERT_EQ(c.topFp32.size(), a.top.size());
    ASSERT_EQ(c.topInt8.size(), b.top.size());
    for (size_t i = 0; i < a.top.size(); ++i) {
        EXPECT_EQ(c.topFp32[i].index, a.top[i].index);
        EXPECT_EQ(c.topInt8[i].index, b.top[i].index);
    }
    const Tensor expected = absoluteDifference(a.taps.at("layer2.0"), b.taps.at("layer2.0"));
    const test::Comparison d = test::compare(expected, c.difference);
    EXPECT_TRUE(d.sameShape);
    EXPECT_LE(d.maxAbsDiff, 1e-4 * (c.maxAbsFp32 + 1e-6))
        << d.report("difference", expected, c.difference);
    EXPECT_GT(c.maxAbsDifference, 0.0);  // int8 is not fp32
    EXPECT_LE(c.meanAbsDifference, c.maxAbsDifference);
    EXPECT_EQ(c.differenceStats.channels.size(), static_cast<size_t>(c.difference.dims[1]));

    // Another node of the same image and calibration: nothing is recalibrated, the set is kept.
    const Comparison fc = runner.run(model, 1, {dog}, *dog, "fc");
    EXPECT_EQ(fc.node, "fc");
    EXPECT_EQ(fc.difference.dims, (std::vector<int64_t>{1, model->spec().numClasses}));
}

TEST(PrecisionCompare, AnUnknownNodeOrNoCalibrationIsAnError) {
    const auto model = seededModel();
    const auto dog =
        std::make_shared<const Tensor>(model->prepare(readImage(test::fixtureImage("dog").path)));
    CompareRunner runner;
    EXPECT_THROW(runner.run(model, 1, {dog}, *dog, "layer9.9"), Error);
    EXPECT_THROW(runner.run(model, 1, {}, *dog, "layer1.0"), Error);
}

}  // namespace
}  // namespace r18
