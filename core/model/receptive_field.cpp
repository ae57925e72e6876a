#include "core/model/receptive_field.h"

#include <algorithm>

#include "core/error.h"

namespace r18 {

ReceptiveFields::ReceptiveFields(const NetworkSpec& spec) : m_spec(spec) {
    m_fields.resize(spec.nodes.size());
    for (size_t i = 0; i < spec.nodes.size(); ++i) {
        const Node& n = spec.nodes[i];
        Field& f = m_fields[i];
        switch (n.kind) {
            case NodeKind::Input: break;  // jump 1, [i, i]
            case NodeKind::Conv:
            case NodeKind::MaxPool: {
                const Field& in = m_fields[static_cast<size_t>(n.inputs[0])];
                f.jump = in.jump * n.stride;
                f.lo = in.lo - in.jump * n.pad;
                f.hi = in.hi + in.jump * (n.kernel - 1 - n.pad);
                f.whole = in.whole;
                break;
            }
            case NodeKind::Add: {
                const Field& a = m_fields[static_cast<size_t>(n.inputs[0])];
                const Field& b = m_fields[static_cast<size_t>(n.inputs[1])];
                f.jump = a.jump;
                f.lo = std::min(a.lo, b.lo);
                f.hi = std::max(a.hi, b.hi);
                f.whole = a.whole || b.whole;
                break;
            }
            case NodeKind::AvgPool:
            case NodeKind::Fc: f.whole = true; break;
        }
    }
}

const ReceptiveFields::Field& ReceptiveFields::field(const std::string& node) const {
    const int i = m_spec.find(node);
    if (i < 0) throw EngineError("The network has no node '" + node + "'.");
    return m_fields[static_cast<size_t>(i)];
}

PixelBox ReceptiveFields::box(const std::string& node, int64_t y, int64_t x) const {
    const Field& f = field(node);
    const int64_t s = m_spec.inputSize;
    if (f.whole) return {0, 0, s, s};
    auto clip = [s](int64_t v) { return std::clamp<int64_t>(v, 0, s); };
    return {clip(f.jump * x + f.lo), clip(f.jump * y + f.lo), clip(f.jump * x + f.hi + 1),
            clip(f.jump * y + f.hi + 1)};
}

int64_t ReceptiveFields::size(const std::string& node) const {
    const Field& f = field(node);
    return f.whole ? m_spec.inputSize : f.hi - f.lo + 1;
}

int64_t ReceptiveFields::jump(const std::string& node) const {
    const Field& f = field(node);
    return f.whole ? m_spec.inputSize : f.jump;
}

}  // namespace r18
