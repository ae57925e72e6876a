// LivePipeline: a camera, video file or stream through the network as the window runs it, without
// the window. The capture thread (core/media/capture.h) hands each frame to a one-slot mailbox —
// newest wins: a frame not yet started when a newer one arrives is dropped — and the inference
// thread prepares it with the model's preprocessing and runs it through the Pipeline with the
// requested taps. `bench --live` measures it. (The window's InferenceWorker keeps the same
// mailbox, and also serves still images, heat maps and the diagram's figures.)
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/media/capture.h"
#include "core/pipeline.h"

namespace r18 {

struct LiveResult {
    FramePtr frame;                 // what was captured, and when
    Classification classification;  // what the network made of it
};

class LivePipeline {
public:
    struct Stats {
        uint64_t submitted = 0;  // frames the capture thread handed over
        uint64_t dropped = 0;    // replaced in the mailbox before they started
        uint64_t processed = 0;  // run through the network
        int maxWaiting = 0;      // frames handed over but not yet started, at worst
    };
    using OnResult = std::function<void(const LiveResult& result)>;  // on the inference thread
    // The source ended (see CaptureCallbacks::stopped); on the capture thread.
    using OnStopped = std::function<void(const std::string& reason, bool error)>;

    LivePipeline(std::shared_ptr<const Model> model, const EngineOptions& options,
                 RunRequest request);
    ~LivePipeline();  // stops capture and inference, waiting for the frame being run
    LivePipeline(const LivePipeline&) = delete;
    LivePipeline& operator=(const LivePipeline&) = delete;

    // Compiles the pipeline on the inference thread (an Engine runs where it was compiled),
    // then starts the source; frames are run until stop() or the source ends. Throws like
    // Pipeline (WeightsError, EngineError) if the engine cannot be compiled. An error on the
    // inference thread (a frame that cannot be run) stops the source and arrives as OnStopped.
    void start(const CaptureOptions& capture, OnResult onResult, OnStopped onStopped);
    void stop();
    Stats stats() const;
    void resetStats();  // from now on

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace r18
