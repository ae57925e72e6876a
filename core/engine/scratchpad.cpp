#include "core/engine/scratchpad.h"

namespace r18 {

dnnl::primitive_attr Scratchpad::userMode(dnnl::primitive_attr attr) {
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return attr;
}

void Scratchpad::attach(const dnnl::memory::desc& desc,
                        std::unordered_map<int, dnnl::memory>& args) {
    const size_t size = desc.get_size();
    if (size == 0) return;
    if (size > m_bytes) {
        m_buffer = dnnl::memory({{static_cast<dnnl::memory::dim>(size)},
                                 dnnl::memory::data_type::u8,
                                 dnnl::memory::format_tag::x},
                                m_engine);
        m_bytes = size;
        for (dnnl::memory& view : m_views) view.set_data_handle(m_buffer.get_data_handle());
    }
    dnnl::memory view(desc, m_engine, m_buffer.get_data_handle());
    m_views.push_back(view);
    args[DNNL_ARG_SCRATCHPAD] = view;
}

}  // namespace r18
