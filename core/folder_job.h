// FolderJob: classifies many image files as fast as the CPU allows, with the results of
// classifying them one by one (Pipeline::classifyFile()) — the same top-K, the same error rows,
// bit for bit at batch 1 (the default). Batches of B > 1 run the same network through oneDNN
// kernels that may sum in another order: logits then differ in the last bits (~1e-6 relative),
// and near-ties in the top-K may swap.
//
//   decode threads ──> bounded ring of prepared inputs ──> the calling thread: batches of B
//   (readImage + Model::prepare,                            through one Pipeline, results
//    each file into its own slot)                           handed back in file order
//
// Decoding and preprocessing overlap with inference. At most capacity() prepared images wait
// at any time (plus one decoded image per decode thread), whatever the number of files, so
// memory stays bounded. When the next image is not ready, the calling thread decodes one
// itself rather than wait. Cancel takes effect before the next batch.
//
// Like Pipeline it compiles its engine in the constructor and must run on the thread that
// constructed it (oneDNN primitives are not thread-safe).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/engine/ablation.h"
#include "core/engine/engine.h"
#include "core/model/model.h"
#include "core/tensor.h"

namespace r18 {

struct FolderJobOptions {
    Precision precision = Precision::Fp32;
    std::shared_ptr<const Calibration> calibration;  // int8
    int threads = 0;                                 // inference threads (OpenMP); 0: all cores
    int batch = 1;                                   // images per inference (see above)
    int decodeThreads = 0;  // 0: the cores inference leaves free, at least 1; capped at the cores
    int topK = 5;
    std::vector<std::string> taps;           // node outputs to hand back for every image
    std::vector<ChannelAblation> ablations;  // channels switched off, in every image
};

// One file's result.
struct FolderResult {
    size_t index = 0;                    // position in the file list
    BatchRow row;                        // file, top-K or the error, ms
    Tensor logits;                       // [1, classes]; empty for an error row
    std::map<std::string, Tensor> taps;  // the requested ones, [1,...]; empty for an error row
};

struct FolderJobStats {
    size_t images = 0;        // results handed back
    size_t errors = 0;        // of which error rows
    size_t peakBuffered = 0;  // most prepared images waiting at once (<= capacity())
    double seconds = 0.0;     // wall time of run()
};

class FolderJob {
public:
    // Compiles the engine. Throws EngineError (e.g. bf16 on a CPU without it) or WeightsError.
    FolderJob(std::shared_ptr<const Model> model, const FolderJobOptions& options);
    ~FolderJob();
    FolderJob(const FolderJob&) = delete;
    FolderJob& operator=(const FolderJob&) = delete;

    // Classifies `files` and calls onResult once per file, in file order, on this thread.
    // Returns false if `cancel` became true first (the files after it get no result).
    // Image problems become error rows; an engine failure throws EngineError.
    bool run(const std::vector<std::string>& files,
             const std::function<void(FolderResult&&)>& onResult,
             const std::atomic<bool>* cancel = nullptr);

    const FolderJobStats& stats() const;
    int batch() const;
    int decodeThreads() const;
    size_t capacity() const;  // prepared images that may wait at once
    const Model& model() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

// Classifies the files with a FolderJob and returns every row in file order (the CLI's and
// the tests' convenience).
std::vector<BatchRow> classifyFiles(const std::shared_ptr<const Model>& model,
                                    const std::vector<std::string>& files,
                                    const FolderJobOptions& options = {});

}  // namespace r18
