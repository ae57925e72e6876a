#include "core/live_pipeline.h"

#include <algorithm>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "core/error.h"

namespace r18 {

struct LivePipeline::Impl {
    Impl(std::shared_ptr<const Model> m, const EngineOptions& o, RunRequest r)
        : model(std::move(m)), options(o), request(std::move(r)) {}

    void submit(const FramePtr& frame) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            ++stats.submitted;
            if (pending) ++stats.dropped;
            pending = frame;
        }
        wake.notify_one();
    }

    void reportStopped(const std::string& reason, bool error) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (stopReported) return;
            stopReported = true;
        }
        if (onStopped) onStopped(reason, error);
    }

    // The inference thread: compiles the pipeline (an Engine runs on the thread that compiled
    // it), then takes the newest frame and runs it, until told to quit.
    void run(std::promise<void>& compiled) {
        try {
            pipeline = std::make_unique<Pipeline>(model, options);
        } catch (...) {
            compiled.set_exception(std::current_exception());
            return;
        }
        compiled.set_value();
        loop();
        pipeline.reset();
    }

    void loop() {
        for (;;) {
            FramePtr frame;
            {
                std::unique_lock<std::mutex> lock(mutex);
                wake.wait(lock, [this] { return quit || pending; });
                if (quit) return;
                frame = std::move(pending);
                pending.reset();
                ++started;
                // What arrived since and is still waiting (the mailbox holds one at most).
                const auto waiting = static_cast<int>(stats.submitted - started - stats.dropped);
                stats.maxWaiting = std::max(stats.maxWaiting, waiting);
            }
            try {
                LiveResult result;
                result.frame = frame;
                result.classification = pipeline->run(model->prepare(frame->image), request);
                {
                    std::lock_guard<std::mutex> lock(mutex);
                    ++stats.processed;
                }
                if (onResult) onResult(result);
            } catch (...) {
                capture.stop();
                reportStopped(currentExceptionMessage("live frame"), true);
                return;
            }
        }
    }

    std::shared_ptr<const Model> model;
    EngineOptions options;
    RunRequest request;
    std::unique_ptr<Pipeline> pipeline;  // made, used and destroyed on the inference thread
    OnResult onResult;
    OnStopped onStopped;
    std::thread inference;
    mutable std::mutex mutex;
    std::condition_variable wake;
    FramePtr pending;           // guarded by mutex
    bool quit = false;          // guarded by mutex
    Stats stats;                // guarded by mutex
    uint64_t started = 0;       // frames taken from the mailbox since stats were reset; guarded
    bool stopReported = false;  // guarded by mutex: onStopped is called once per start()
    Capture capture;            // last: destroyed first, so no frame arrives at a dead mailbox
};

LivePipeline::LivePipeline(std::shared_ptr<const Model> model, const EngineOptions& options,
                           RunRequest request)
    : d(std::make_unique<Impl>(std::move(model), options, std::move(request))) {}

LivePipeline::~LivePipeline() {
    stop();
}

void LivePipeline::start(const CaptureOptions& capture, OnResult onResult, OnStopped onStopped) {
    stop();
    d->onResult = std::move(onResult);
    d->onStopped = std::move(onStopped);
    {
        std::lock_guard<std::mutex> lock(d->mutex);
        d->quit = false;
        d->stopReported = false;
        d->stats = Stats{};
        d->started = 0;
        d->pending.reset();
    }
    std::promise<void> compiled;
    std::future<void> ready = compiled.get_future();
    d->inference = std::thread(
        [impl = d.get(), compiled = std::move(compiled)]() mutable { impl->run(compiled); });
    try {
        ready.get();
    } catch (...) {
        d->inference.join();
        throw;
    }
    CaptureCallbacks callbacks;
    callbacks.frame = [impl = d.get()](const FramePtr& frame, const std::string&) {
        impl->submit(frame);
    };
    callbacks.stopped = [impl = d.get()](const std::string& reason, bool error) {
        impl->reportStopped(reason, error);
    };
    d->capture.start(capture, std::move(callbacks));
}

void LivePipeline::stop() {
    d->capture.stop();
    {
        std::lock_guard<std::mutex> lock(d->mutex);
        d->quit = true;
    }
    d->wake.notify_one();
    if (d->inference.joinable()) d->inference.join();
}

LivePipeline::Stats LivePipeline::stats() const {
    std::lock_guard<std::mutex> lock(d->mutex);
    return d->stats;
}

void LivePipeline::resetStats() {
    std::lock_guard<std::mutex> lock(d->mutex);
    d->stats = Stats{};
    d->stats.submitted = d->pending ? 1 : 0;  // the frame in the mailbox counts from now
    d->started = 0;
}

}  // namespace r18
