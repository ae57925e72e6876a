#include "core/channel_importance.h"

#include <algorithm>
#include <numeric>

#include "core/clock.h"
#include "core/error.h"

namespace r18 {
struct ChannelImportance::Impl {
    std::shared_ptr<const Model> model;
    Engine single;   // the full pass, batch 1
    Engine batched;  // runs from the node, a channel per image

    Impl(std::shared_ptr<const Model> m, const EngineOptions& o)
        : model(std::move(m)),
          single(model->spec(), model->weights(), EngineOptions(o).withBatch(1)),
          batched(model->spec(), model->weights(), o) {}
};

ChannelImportance::ChannelImportance(std::shared_ptr<const Model> model,
                                     const EngineOptions& options)
    : d(std::make_unique<Impl>(std::move(model), options)) {}

ChannelImportance::~ChannelImportance() = default;

const EngineOptions& ChannelImportance::options() const {
    return d->batched.options();
}

std::optional<ChannelImportanceResult> ChannelImportance::compute(
    const Tensor& input, const ChannelImportanceOptions& options, const ProgressFn& progress) {
    const auto t0 = Clock::now();
    const NetworkSpec& spec = d->model->spec();
    const int at = spec.find(options.node);
    if (at <= 0 || !spec.nodes[static_cast<size_t>(at)].tappable()) {
        std::string valid;
        for (const std::string& t : spec.tapNames())
            if (t != "input") valid += (valid.empty() ? "" : ", ") + t;
        throw EngineError(
            "Channel importance works at a node whose channels can be switched off (" + valid +
            "), not at '" + options.node + "'.");
    }
    checkAblations(spec, options.ablations, 1);
    const int batch = d->batched.options().batch;
    const int64_t classes = spec.numClasses;
    const auto channels = static_cast<int>(spec.nodes[static_cast<size_t>(at)].outShape[0]);

    // The full pass with every ablation asked for; the runs from the node repeat those at the
    // node and after it (the earlier ones are in what the full pass cached).
    std::vector<ChannelAblation> later;
    for (const ChannelAblation& a : options.ablations)
        if (spec.find(a.node) >= at) later.push_back(a);
    const RunResult full =
        d->single.run(input, EngineRun{d->single.resumeTaps(options.node), options.ablations});
    ChannelImportanceResult r;
    r.node = options.node;
    r.classIndex = options.classIndex >= 0
                       ? options.classIndex
                       : std::max_element(full.logits.data.begin(), full.logits.data.end()) -
                             full.logits.data.begin();
    if (r.classIndex >= classes)
        throw EngineError("Class " + std::to_string(r.classIndex) +
                          " does not exist; the model has " + std::to_string(classes) +
                          " classes.");
    const auto k = static_cast<size_t>(r.classIndex);

    // Every slot with every channel on: each delta's other side, slot for slot.
    const RunResult base = d->batched.runFrom(options.node, full.taps, EngineRun{{}, later});
    std::vector<float> baseline(static_cast<size_t>(batch));
    for (size_t b = 0; b < baseline.size(); ++b)
        baseline[b] = base.logits.data[b * static_cast<size_t>(classes) + k];
    r.logit = baseline[0];
    ++r.runs;

    r.logits.assign(static_cast<size_t>(channels), 0.0F);
    r.deltas.assign(static_cast<size_t>(channels), 0.0F);
    EngineRun run{{}, later};
    for (int first = 0; first < channels; first += batch) {
        const int count = std::min(batch, channels - first);
        run.ablations.resize(later.size());
        for (int b = 0; b < count; ++b)
            run.ablations.push_back(ChannelAblation{options.node, {first + b}, b});
        const RunResult out = d->batched.runFrom(options.node, full.taps, run);
        ++r.runs;
        for (int b = 0; b < count; ++b) {
            const float logit =
                out.logits.data[static_cast<size_t>(b) * static_cast<size_t>(classes) + k];
            r.logits[static_cast<size_t>(first + b)] = logit;
            r.deltas[static_cast<size_t>(first + b)] = logit - baseline[static_cast<size_t>(b)];
        }
        if (!keepGoing(progress, first + count, channels)) return std::nullopt;
    }
    r.ranked.resize(static_cast<size_t>(channels));
    std::iota(r.ranked.begin(), r.ranked.end(), 0);
    std::stable_sort(r.ranked.begin(), r.ranked.end(), [&r](int a, int b) {
        return r.deltas[static_cast<size_t>(a)] < r.deltas[static_cast<size_t>(b)];
    });
    r.ms = msSince(t0);
    return r;
}

}  // namespace r18
