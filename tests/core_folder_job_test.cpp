// The folder job (decode threads, a bounded ring, batched inference) gives exactly the rows of
// classifying the files one by one, in order, error rows included; cancels; stays bounded.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/engine/threads.h"
#include "core/folder_job.h"
#include "core/pipeline.h"
#include "tests/test_util.h"

namespace r18 {
namespace {

using test::fixture;

std::shared_ptr<const Model> seededModel() {
    static const std::shared_ptr<const Model> model = [] {
        ModelOptions o;
        o.weightsPath = fixture("weights/resnet18_seeded.pth");
        return Model::open(o);
    }();
    return model;
}

// Every fixture image with broken files among them.
std::vector<std::string> mixedFiles() {
    std::vector<std::string> files;
    const std::vector<std::string> bad = {fixture("bad/empty.jpg"), fixture("bad/truncated.jpg"),
                                          fixture("bad/text.jpg"), fixture("bad/no_such_file.png")};
    size_t b = 0;
    for (const test::FixtureImage& im : test::fixtureImages()) {
        files.push_back(im.path);
        if (files.size() % 4 == 1 && b < bad.size()) files.push_back(bad[b++]);
    }
    return files;
}

std::vector<BatchRow> serialRows(const std::vector<std::string>& files) {
    Pipeline pipeline(seededModel(), EngineOptions());
    std::vector<BatchRow> rows;
    for (const std::string& f : files) rows.push_back(classifyRow(pipeline, f));
    return rows;
}

// Batch 1: the same bytes. Larger batches: the same top-1 and probabilities to 1e-5 (later
// places can be near-ties that swap).
void expectSameRows(const std::vector<BatchRow>& serial, const std::vector<BatchRow>& job,
                    const std::string& what, bool exact) {
    ASSERT_EQ(serial.size(), job.size()) << what;
    for (size_t i = 0; i < serial.size(); ++i) {
        const BatchRow& a = serial[i];
        const BatchRow& b = job[i];
        EXPECT_EQ(a.file, b.file) << what << " row " << i;
        EXPECT_EQ(a.error, b.error) << what << " " << a.file;
        ASSERT_EQ(a.top.size(), b.top.size()) << what << " " << a.file;
        for (size_t k = 0; k < a.top.size(); ++k) {
            if (exact || k == 0) {
                EXPECT_EQ(a.top[k].index, b.top[k].index) << what << " " << a.file << " top " << k;
                EXPECT_EQ(a.top[k].label, b.top[k].label) << what << " " << a.file;
            }
            const double tolerance = exact ? 0.0 : 1e-5;
            EXPECT_NEAR(a.top[k].probability, b.top[k].probability, tolerance)
                << what << " " << a.file << " top " << k;
        }
    }
    if (exact) {
        EXPECT_EQ(toCsv(serial), toCsv(job)) << what;
    }
}

TEST(FolderJob, RowsEqualSerialClassification) {
    const std::vector<std::string> files = mixedFiles();
    ASSERT_GE(files.size(), 15u);
    const std::vector<BatchRow> serial = serialRows(files);
    size_t errors = 0;
    for (const BatchRow& r : serial) errors += r.error.empty() ? 0 : 1;
    EXPECT_EQ(errors, 4u);
    // The default (batch 1) with the default and with three decode threads: identical rows.
    // Batches that do and do not divide the file count: the same classes.
    for (const auto& [batch, decoders] :
         {std::pair{1, 0}, std::pair{1, 3}, std::pair{3, 2}, std::pair{8, 1}}) {
        FolderJobOptions o;
        o.batch = batch;
        o.decodeThreads = decoders;
        expectSameRows(
            serial, classifyFiles(seededModel(), files, o),
            "batch " + std::to_string(batch) + ", " + std::to_string(decoders) + " decode threads",
            batch == 1);
    }
}

TEST(FolderJob, LogitsAndTapsEqualSingleRuns) {
    const std::vector<std::string> files = {test::fixtureImage("dog").path,
                                            test::fixtureImage("kite").path,
                                            test::fixtureImage("gray_301x187").path};
    FolderJobOptions o;
    o.batch = 2;
    o.taps = {"layer4.1", "maxpool"};
    FolderJob job(seededModel(), o);
    Pipeline single(seededModel(), EngineOptions());
    RunRequest request;
    request.taps = o.taps;
    size_t seen = 0;
    job.run(files, [&](FolderResult&& r) {
        ASSERT_EQ(r.index, seen++);
        const Classification c = single.classifyFile(files[r.index], request);
        const test::Comparison logits = test::compare(c.logits, r.logits);
        EXPECT_LE(logits.maxAbsDiff, 1e-5 * logits.maxAbsRef)
            << logits.report("logits", c.logits, r.logits);
        for (const std::string& tap : o.taps) {
            const test::Comparison t = test::compare(c.taps.at(tap), r.taps.at(tap));
            EXPECT_TRUE(t.sameShape) << tap;
            EXPECT_LE(t.maxAbsDiff, 1e-5 * t.maxAbsRef)
                << t.report(tap, c.taps.at(tap), r.taps.at(tap));
        }
    });
    EXPECT_EQ(seen, files.size());
}

TEST(FolderJob, CancelStopsBeforeTheNextBatch) {
    std::vector<std::string> files(40, test::fixtureImage("dog").path);
    FolderJobOptions o;
    o.batch = 4;
    FolderJob job(seededModel(), o);
    std::atomic<bool> cancel{false};
    std::vector<size_t> order;
    const bool completed = job.run(
        files,
        [&](FolderResult&& r) {
            order.push_back(r.index);
            if (r.index == 5) cancel = true;
        },
        &cancel);
    EXPECT_FALSE(completed);
    ASSERT_EQ(order.size(), 8u);  // the batch holding file 5 finishes, the next never starts
    for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], i);
    // The job can run again afterwards.
    EXPECT_TRUE(job.run({files[0]}, [](FolderResult&&) {}));
}

// However many files and however slow the consumer, at most capacity() prepared images wait.
TEST(FolderJob, MemoryStaysBounded) {
    std::vector<std::string> files(48, test::fixtureImage("tiny_1x1").path);
    FolderJobOptions o;
    o.batch = 4;
    o.decodeThreads = 3;
    FolderJob job(seededModel(), o);
    EXPECT_EQ(job.decodeThreads(), std::min(3, machineCores()));  // capped at the cores
    EXPECT_EQ(job.capacity(), 2u * 4u + static_cast<size_t>(job.decodeThreads()));
    size_t n = 0;
    job.run(files, [&](FolderResult&&) {
        if (++n % 8 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    });
    EXPECT_EQ(job.stats().images, files.size());
    EXPECT_GE(job.stats().peakBuffered, 1u);
    EXPECT_LE(job.stats().peakBuffered, job.capacity());
}

TEST(FolderJob, EmptyListAndDecodeThreadDefault) {
    FolderJob job(seededModel(), FolderJobOptions{});
    EXPECT_GE(job.decodeThreads(), 1);
    EXPECT_TRUE(job.run({}, [](FolderResult&&) { FAIL() << "no files, no results"; }));
    EXPECT_EQ(job.stats().images, 0u);
}

}  // namespace
}  // namespace r18
