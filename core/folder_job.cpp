#include "core/folder_job.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/engine/threads.h"
#include "core/error.h"
#include "core/media/image_io.h"
#include "core/pipeline.h"

namespace r18 {
namespace {

// One file's prepared input, or why there is none.
struct Slot {
    enum class State { Free, Decoding, Ready };
    State state = State::Free;
    size_t file = 0;
    Tensor input;  // [1,3,S,S]
    std::string error;
    double prepareMs = 0.0;  // decode + preprocess
};

}  // namespace

struct FolderJob::Impl {
    Impl(std::shared_ptr<const Model> m, const FolderJobOptions& o)
        : model(std::move(m)),
          opt(o),
          pipeline(model, EngineOptions()
                              .with(o.precision)
                              .withBatch(std::max(o.batch, 1))
                              .withThreads(o.threads)
                              .withCalibration(o.calibration)) {
        const int cores = machineCores();
        const int inference = capThreads(opt.threads);
        decodeThreads =
            opt.decodeThreads > 0 ? capThreads(opt.decodeThreads) : std::max(1, cores - inference);
        capacity =
            2 * static_cast<size_t>(pipeline.options().batch) + static_cast<size_t>(decodeThreads);
    }

    std::shared_ptr<const Model> model;
    FolderJobOptions opt;
    Pipeline pipeline;
    int decodeThreads = 1;
    size_t capacity = 0;
    FolderJobStats stats;

    // The ring, shared with the decode threads under `mutex`. File i uses slot i % capacity,
    // and may be claimed once every file before i - capacity + 1 has left the ring.
    std::mutex mutex;
    std::condition_variable workCv;   // a file became claimable, or stop
    std::condition_variable readyCv;  // a slot became ready
    std::vector<Slot> ring;
    const std::vector<std::string>* files = nullptr;
    size_t next = 0;      // next file to claim
    size_t released = 0;  // files before this one have left the ring
    size_t buffered = 0;  // ready slots waiting for the calling thread
    bool stop = false;

    bool claimable() const { return next < files->size() && next < released + capacity; }

    // Claims the next file (lock held), prepares it without the lock, publishes it.
    void prepareNext(std::unique_lock<std::mutex>& lock) {
        const size_t i = next++;
        Slot& slot = ring[i % capacity];
        slot.state = Slot::State::Decoding;
        slot.file = i;
        lock.unlock();
        const std::string& path = (*files)[i];
        Tensor input;
        std::string error;
        const auto t0 = Clock::now();
        try {
            input = model->prepare(readImage(path));
        } catch (...) {
            error = currentExceptionMessage(path);
        }
        const double ms = msSince(t0);
        lock.lock();
        slot.input = std::move(input);
        slot.error = std::move(error);
        slot.prepareMs = ms;
        slot.state = Slot::State::Ready;
        stats.peakBuffered = std::max(stats.peakBuffered, ++buffered);
        readyCv.notify_all();
    }

    void decodeLoop() {
        std::unique_lock<std::mutex> lock(mutex);
        for (;;) {
            workCv.wait(lock, [&] { return stop || next >= files->size() || claimable(); });
            if (stop || next >= files->size()) return;
            prepareNext(lock);
        }
    }

    // Waits for file i (decoding one itself when it can), then takes it out of the ring.
    Slot take(size_t i) {
        std::unique_lock<std::mutex> lock(mutex);
        Slot& slot = ring[i % capacity];
        while (!(slot.state == Slot::State::Ready && slot.file == i)) {
            if (claimable())
                prepareNext(lock);
            else
                readyCv.wait(lock);
        }
        Slot taken = std::move(slot);
        slot = Slot();
        --buffered;
        released = i + 1;
        workCv.notify_all();
        return taken;
    }
};

FolderJob::FolderJob(std::shared_ptr<const Model> model, const FolderJobOptions& options)
    : d(std::make_unique<Impl>(std::move(model), options)) {}

FolderJob::~FolderJob() = default;

const FolderJobStats& FolderJob::stats() const {
    return d->stats;
}
int FolderJob::batch() const {
    return d->pipeline.options().batch;
}
int FolderJob::decodeThreads() const {
    return d->decodeThreads;
}
size_t FolderJob::capacity() const {
    return d->capacity;
}
const Model& FolderJob::model() const {
    return *d->model;
}

bool FolderJob::run(const std::vector<std::string>& files,
                    const std::function<void(FolderResult&&)>& onResult,
                    const std::atomic<bool>* cancel) {
    const auto t0 = Clock::now();
    Impl& m = *d;
    m.stats = FolderJobStats();
    m.ring.assign(m.capacity, Slot());
    m.files = &files;
    m.next = 0;
    m.released = 0;
    m.buffered = 0;
    m.stop = false;
    std::vector<std::thread> decoders;
    // Stops and joins the decode threads however run() ends (cancel, an engine error).
    struct Joiner {
        Impl& m;
        std::vector<std::thread>& threads;
        ~Joiner() {
            {
                const std::lock_guard<std::mutex> lock(m.mutex);
                m.stop = true;
            }
            m.workCv.notify_all();
            for (std::thread& t : threads) t.join();
            m.files = nullptr;
        }
    } joiner{m, decoders};
    const int threads =
        static_cast<int>(std::min<size_t>(static_cast<size_t>(m.decodeThreads), files.size()));
    for (int i = 0; i < threads; ++i) decoders.emplace_back([&m] { m.decodeLoop(); });

    const size_t batch = static_cast<size_t>(m.pipeline.options().batch);
    const int64_t size = m.model->spec().inputSize;
    Tensor input({static_cast<int64_t>(batch), 3, size, size});  // reused for every batch
    const size_t per = static_cast<size_t>(3 * size * size);
    RunRequest request;
    request.taps = m.opt.taps;
    request.topK = m.opt.topK;
    request.ablations = m.opt.ablations;
    bool completed = true;
    for (size_t first = 0; first < files.size(); first += batch) {
        if (cancel && cancel->load()) {
            completed = false;
            break;
        }
        const size_t count = std::min(batch, files.size() - first);
        std::vector<Slot> slots;
        size_t good = 0;
        for (size_t j = 0; j < count; ++j) {
            slots.push_back(m.take(first + j));
            const Slot& s = slots.back();
            if (!s.error.empty()) continue;
            if (s.input.data.size() != per)
                throw EngineError(files[first + j] + ": the model prepared an input of shape " +
                                  shapeToString(s.input.dims) + ".");
            std::copy(s.input.data.begin(), s.input.data.end(),
                      input.data.begin() + static_cast<std::ptrdiff_t>(j * per));
            ++good;
        }
        // Unused places (error rows, a short last batch) keep whatever they held: every
        // image's result depends on its own input only.
        std::vector<Classification> results;
        if (good > 0) results = m.pipeline.runBatch(input, request);
        for (size_t j = 0; j < count; ++j) {
            FolderResult r;
            r.index = first + j;
            r.row.file = files[first + j];
            r.row.error = std::move(slots[j].error);
            r.row.ms = slots[j].prepareMs;
            if (r.row.error.empty()) {
                Classification& c = results[j];
                r.row.top = c.top;
                r.row.ms += c.networkMs / static_cast<double>(good);
                r.logits = std::move(c.logits);
                r.taps = std::move(c.taps);
            } else {
                ++m.stats.errors;
            }
            ++m.stats.images;
            onResult(std::move(r));
        }
    }
    m.stats.seconds = msSince(t0) / 1000.0;
    return completed;
}

std::vector<BatchRow> classifyFiles(const std::shared_ptr<const Model>& model,
                                    const std::vector<std::string>& files,
                                    const FolderJobOptions& options) {
    FolderJob job(model, options);
    std::vector<BatchRow> rows;
    rows.reserve(files.size());
    job.run(files, [&](FolderResult&& r) { rows.push_back(std::move(r.row)); });
    return rows;
}

}  // namespace r18
