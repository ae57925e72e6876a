// Decoding and preprocessing against torchvision's transform on the same files, and the
// error paths for images that cannot be read.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <tuple>

#include "core/error.h"
#include "core/formats/npy.h"
#include "core/media/image_io.h"
#include "core/media/preprocess.h"
#include "tests/test_util.h"

namespace r18 {
namespace {

using test::fixture;

// Largest difference from torchvision, in 8-bit steps of the channel it occurs in.
double maxSteps(const Tensor& ref, const Tensor& got) {
    const PreprocessOptions o;
    const size_t plane = ref.data.size() / 3;
    double worst = 0.0;
    for (size_t i = 0; i < ref.data.size(); ++i) {
        const double step = 1.0 / 255.0 / o.std[i / plane];
        worst = std::max(worst, std::fabs(static_cast<double>(ref.data[i]) - got.data[i]) / step);
    }
    return worst;
}

class Preprocess : public testing::TestWithParam<test::FixtureImage> {};

TEST_P(Preprocess, MatchesTorchvisionWithinOneEightBitStep) {
    const test::FixtureImage& im = GetParam();
    const Tensor ref = readNpy(fixture("ref/" + im.id + "/input.npy"));
    const Tensor got = preprocess(readImage(im.path));
    ASSERT_EQ(got.dims, ref.dims);
    const double steps = maxSteps(ref, got);
    EXPECT_LE(steps, 1.0 + 1e-4) << im.id << ": max difference " << steps << " 8-bit steps";
    RecordProperty("max_steps", std::to_string(steps));
    std::printf("[ preprocess ] %-16s max |ours - torchvision| = %.3f 8-bit steps\n", im.id.c_str(),
                steps);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Preprocess, testing::ValuesIn(test::fixtureImages()),
                         [](const testing::TestParamInfo<test::FixtureImage>& p) {
                             return p.param.id;
                         });

TEST(Preprocess, AcceptsEveryLayoutAndDepth) {
    cv::Mat gray(40, 30, CV_8UC1, cv::Scalar(90));
    cv::Mat bgr;
    cv::Mat bgra;
    cv::cvtColor(gray, bgr, cv::COLOR_GRAY2BGR);
    cv::cvtColor(gray, bgra, cv::COLOR_GRAY2BGRA);
    cv::Mat gray16;
    gray.convertTo(gray16, CV_16U, 257.0);
    const Tensor a = preprocess(gray);
    EXPECT_EQ(a.dims, (std::vector<int64_t>{1, 3, 224, 224}));
    EXPECT_EQ(preprocess(bgr).data, a.data);
    EXPECT_EQ(preprocess(bgra).data, a.data);
    EXPECT_EQ(preprocess(gray16).data, a.data);
    // a flat gray image normalises to (90/255 - mean) / std in every pixel
    EXPECT_FLOAT_EQ(a.data[0], (90.0F / 255.0F - 0.485F) / 0.229F);
    EXPECT_THROW(preprocess(cv::Mat(10, 10, CV_8UC2)), ImageError);
    EXPECT_THROW(preprocess(cv::Mat()), ImageError);
}

// The window torchvision's Resize(256) + CenterCrop(224) reads (values printed by torchvision
// 0.14 on blank PIL images of these sizes); the views outline the same one.
TEST(Preprocess, CropWindowIsTorchvisions) {
    const CropWindow a = cropWindow(768, 576);
    EXPECT_EQ(std::make_tuple(a.resizedWidth, a.resizedHeight, a.left, a.top),
              std::make_tuple(341, 256, 58, 16));
    const CropWindow b = cropWindow(256, 300);  // shorter side already 256: not resized
    EXPECT_EQ(std::make_tuple(b.resizedWidth, b.resizedHeight, b.left, b.top),
              std::make_tuple(256, 300, 16, 38));
    const CropWindow c = cropWindow(301, 187);
    EXPECT_EQ(std::make_tuple(c.resizedWidth, c.resizedHeight, c.left, c.top),
              std::make_tuple(412, 256, 94, 16));
}

TEST(Preprocess, ExtremeAspectRatiosOnlyComputeTheCrop) {
    // 65535×1 would be 16776960×256 after resizing; only the 224×224 crop is computed.
    cv::Mat strip(1, 65535, CV_8UC3, cv::Scalar(10, 20, 30));
    const Tensor t = preprocess(strip);
    EXPECT_EQ(t.dims, (std::vector<int64_t>{1, 3, 224, 224}));
    EXPECT_FLOAT_EQ(t.data[0], (30.0F / 255.0F - 0.485F) / 0.229F);  // R plane
}

struct BadImage {
    const char* file;
    const char* expected;
};

class BadImages : public testing::TestWithParam<BadImage> {};

TEST_P(BadImages, ClearErrorNamingFileAndProblem) {
    const std::string path = fixture(std::string("bad/") + GetParam().file);
    try {
        readImage(path);
        FAIL() << path << " was accepted";
    } catch (const ImageError& e) {
        const std::string message = e.what();
        EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
        EXPECT_NE(message.find(GetParam().expected), std::string::npos) << message;
    }
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, BadImages,
    testing::Values(BadImage{"empty.jpg", "the file is empty"},
                    BadImage{"truncated.jpg", "JPEG file is truncated"},
                    BadImage{"truncated.png", "PNG file is truncated"},
                    BadImage{"text.jpg", "not an image"},
                    BadImage{"huge_100000x100000.png",
                             "the PNG image is 100000×100000 (10000 megapixels); images over 100 "
                             "megapixels are refused"},
                    BadImage{"../weights", "is a folder, not an image file"},
                    BadImage{"no_such_file.png",
                             "cannot open the image file (No such file or directory)"}),
    [](const testing::TestParamInfo<BadImage>& p) { return test::identifier(p.param.file); });

// Inputs the image fuzzer once broke (a PNG header whose width × height overflowed int64).
TEST(FuzzRegressions, DecodingFailsCleanly) {
    const auto files = test::fuzzRegressions("image");
    EXPECT_GE(files.size(), 1u);
    for (const std::string& path : files) {
        try {
            preprocess(readImage(path));
        } catch (const ImageError& e) {
            EXPECT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << e.what();
        }
    }
}

// Odd but valid images decode and preprocess: a 65535×1 strip, a single pixel, a CMYK JPEG.
TEST(OddImages, DecodeAndPreprocess) {
    const cv::Mat strip = readImage(fixture("odd/strip_65535x1.png"));
    EXPECT_EQ(strip.size(), cv::Size(65535, 1));
    const Tensor s = preprocess(strip);
    EXPECT_FLOAT_EQ(s.data[0], (30.0F / 255.0F - 0.485F) / 0.229F);  // uniform strip: uniform crop
    EXPECT_FLOAT_EQ(s.data[s.data.size() - 1], (10.0F / 255.0F - 0.406F) / 0.225F);
    EXPECT_EQ(readImage(fixture("odd/pixel_1x1.png")).size(), cv::Size(1, 1));
    // An animated GIF (once refused; made among the bad images): its first frame, 40×30 red.
    const cv::Mat gif = readImage(fixture("bad/animated.gif"));
    ASSERT_EQ(gif.size(), cv::Size(40, 30));
    EXPECT_EQ(gif.at<cv::Vec3b>(15, 20), cv::Vec3b(0, 0, 255));
    const cv::Mat cmyk = readImage(fixture("odd/cmyk.jpg"));
    EXPECT_EQ(cmyk.channels(), 3);
    EXPECT_EQ(cmyk.size(), cv::Size(768, 576));
    EXPECT_EQ(preprocess(cmyk).dims, (std::vector<int64_t>{1, 3, 224, 224}));
}

// A sideways phone photo (EXIF orientation 6) is decoded upright, as photo viewers and PIL's
// exif_transpose show it; the Preprocess suite compares it with torchvision pixel by pixel.
TEST(OddImages, ExifOrientationIsApplied) {
    const cv::Mat m = readImage(test::fixtureImage("exif_rotated").path);
    EXPECT_EQ(m.size(), cv::Size(200, 300));  // stored 300×200
}

TEST(ImageFiles, RecognisedBySuffixInAnyCase) {
    EXPECT_TRUE(hasImageSuffix("photos/B.JPG"));
    EXPECT_TRUE(hasImageSuffix("scan.tiff"));
    EXPECT_FALSE(hasImageSuffix("notes.txt"));
    EXPECT_FALSE(hasImageSuffix("album.png/readme"));
    EXPECT_FALSE(hasImageSuffix("jpg"));
}

TEST(ImageHeader, ReadsSizesWithoutDecoding) {
    const std::vector<uint8_t> bytes = [] {
        std::vector<uint8_t> b;
        cv::imencode(".png", cv::Mat(17, 33, CV_8UC3, cv::Scalar(1, 2, 3)), b);
        return b;
    }();
    const auto h = probeImage(bytes.data(), bytes.size());
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->format, "PNG");
    EXPECT_EQ(h->width, 33);
    EXPECT_EQ(h->height, 17);
    EXPECT_FALSE(h->truncated);
}

}  // namespace
}  // namespace r18
