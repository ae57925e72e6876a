// One scratchpad buffer for the primitives of one engine, owned by it.
//
// oneDNN 2.6 gives some implementations — the fp32 Winograd convolutions, the GEMM-based ones — a
// "global" scratchpad when the library manages it: one buffer per thread with a per-thread
// reference count, counted up on the thread that creates a primitive and down on the thread that
// destroys it. A primitive made on a job thread and destroyed on the GUI thread unbalances both
// counts, and a thread's buffer can be freed while its own primitives still write into it (seen
// as a crash in a Winograd kernel on AVX-512). So every primitive that may need a scratchpad is
// created with scratchpad_mode::user and gets this buffer, which grows to the largest one asked
// for. The primitives of one engine run one after another, never at once, so they share it.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <unordered_map>
#include <vector>

namespace r18 {

class Scratchpad {
public:
    explicit Scratchpad(dnnl::engine engine) : m_engine(std::move(engine)) {}

    // `attr` with the scratchpad managed here.
    static dnnl::primitive_attr userMode(dnnl::primitive_attr attr = {});

    // Gives the primitive of `desc` (from a primitive_desc made with userMode()) the buffer as
    // its DNNL_ARG_SCRATCHPAD in `args`; nothing if it needs none. Growing the buffer re-points
    // every memory handed out before, so call it only between runs.
    void attach(const dnnl::memory::desc& desc, std::unordered_map<int, dnnl::memory>& args);

    size_t bytes() const { return m_bytes; }

private:
    dnnl::engine m_engine;
    dnnl::memory m_buffer;
    size_t m_bytes = 0;
    std::vector<dnnl::memory> m_views;  // every memory handed out, over m_buffer
};

}  // namespace r18
