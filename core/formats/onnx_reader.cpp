#include "core/formats/onnx_reader.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "core/error.h"

namespace r18 {
namespace {

constexpr int64_t kMaxElements = int64_t{1} << 28;  // 1 GiB of float32 per tensor

const char* dataTypeName(int t) {
    switch (t) {
        case onnx::TensorProto::FLOAT: return "float32";
        case onnx::TensorProto::DOUBLE: return "float64";
        case onnx::TensorProto::FLOAT16: return "float16";
        case onnx::TensorProto::INT64: return "int64";
        case onnx::TensorProto::INT32: return "int32";
        case onnx::TensorProto::UINT8: return "uint8";
        case onnx::TensorProto::INT8: return "int8";
        default: return "another type";
    }
}

std::string describe(const onnx::NodeProto& n) {
    return "node '" +
           (n.name().empty() ? n.output_size() ? n.output(0) : std::string("?") : n.name()) +
           "' (" + n.op_type() + ")";
}

class GraphMapper {
public:
    GraphMapper(const onnx::GraphProto& g, const std::string& label) : m_g(g), m_label(label) {}

    WeightSet map();

private:
    [[noreturn]] void fail(const std::string& problem) const {
        throw WeightsError(m_label + ": " + problem);
    }
    std::string resolve(const std::string& name) const;
    std::vector<const onnx::NodeProto*> consumers(const std::string& tensor) const;
    const onnx::NodeProto& take(const std::string& tensor, const char* op, const std::string& role);
    const onnx::NodeProto* peek(const std::string& tensor, const char* op) const;
    Tensor tensor(const std::string& name, const std::string& role) const;
    std::vector<int64_t> ints(const onnx::NodeProto& n, const char* attr) const;
    int64_t intAttr(const onnx::NodeProto& n, const char* attr, int64_t fallback) const;
    float floatAttr(const onnx::NodeProto& n, const char* attr, float fallback) const;
    std::string convUnit(const onnx::NodeProto& conv, const std::string& module,
                         const std::string& bn, int kernel, int stride);
    void markUsed(const onnx::NodeProto& n);

    const onnx::GraphProto& m_g;
    const std::string& m_label;
    std::map<std::string, const onnx::TensorProto*> m_init;
    std::map<std::string, std::string> m_alias;  // Identity output -> input
    std::set<const onnx::NodeProto*> m_used;
    WeightSet m_w;
};

std::string GraphMapper::resolve(const std::string& name) const {
    std::string n = name;
    for (size_t hops = 0; hops <= m_alias.size(); ++hops) {
        auto it = m_alias.find(n);
        if (it == m_alias.end()) return n;
        n = it->second;
    }
    fail("the graph's Identity nodes form a cycle at '" + name + "'.");
}

std::vector<const onnx::NodeProto*> GraphMapper::consumers(const std::string& tensor) const {
    std::vector<const onnx::NodeProto*> out;
    for (const auto& n : m_g.node()) {
        if (n.op_type() == "Identity" || n.op_type() == "Constant") continue;
        for (const auto& in : n.input())
            if (!in.empty() && resolve(in) == tensor) {
                out.push_back(&n);
                break;
            }
    }
    return out;
}

const onnx::NodeProto* GraphMapper::peek(const std::string& tensor, const char* op) const {
    for (const onnx::NodeProto* n : consumers(tensor))
        if (n->op_type() == op && !m_used.count(n)) return n;
    return nullptr;
}

void GraphMapper::markUsed(const onnx::NodeProto& n) {
    if (!m_used.insert(&n).second) fail("the graph has a cycle through " + describe(n) + ".");
}

const onnx::NodeProto& GraphMapper::take(const std::string& tensor, const char* op,
                                         const std::string& role) {
    const onnx::NodeProto* n = peek(tensor, op);
    if (!n) {
        std::string found;
        for (const onnx::NodeProto* c : consumers(tensor))
            if (!m_used.count(c)) found += (found.empty() ? "" : ", ") + describe(*c);
        fail("expected a " + std::string(op) + " for " + role + " after '" + tensor + "', found " +
             (found.empty() ? std::string("nothing") : found) +
             "; the graph is not a basic-block ResNet.");
    }
    markUsed(*n);
    return *n;
}

std::vector<int64_t> GraphMapper::ints(const onnx::NodeProto& n, const char* attr) const {
    for (const auto& a : n.attribute())
        if (a.name() == attr) return {a.ints().begin(), a.ints().end()};
    return {};
}

int64_t GraphMapper::intAttr(const onnx::NodeProto& n, const char* attr, int64_t fallback) const {
    for (const auto& a : n.attribute())
        if (a.name() == attr) return a.i();
    return fallback;
}

float GraphMapper::floatAttr(const onnx::NodeProto& n, const char* attr, float fallback) const {
    for (const auto& a : n.attribute())
        if (a.name() == attr) return a.f();
    return fallback;
}

Tensor GraphMapper::tensor(const std::string& name, const std::string& role) const {
    auto it = m_init.find(resolve(name));
    if (it == m_init.end())
        fail("the " + role + " ('" + name +
             "') is not a constant in the file; the app needs "
             "every weight stored in the model.");
    const onnx::TensorProto& t = *it->second;
    if (t.data_location() == onnx::TensorProto::EXTERNAL || t.external_data_size() > 0)
        fail("tensor '" + name + "' (" + role +
             ") keeps its data in an external file, which "
             "is not supported; save the model with its weights inside.");
    std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
    int64_t numel = 1;
    for (int64_t d : dims) {
        if (d < 0 || d > kMaxElements || numel * std::max<int64_t>(d, 1) > kMaxElements)
            fail("tensor '" + name + "' (" + role + ") declares the shape " + shapeToString(dims) +
                 ", larger than any ResNet weight.");
        numel *= d;
    }
    const auto count = static_cast<size_t>(numel);
    const std::string& raw = t.raw_data();
    auto sizeError = [&](size_t have) {
        fail("tensor '" + name + "' (" + role + ") of shape " + shapeToString(dims) + " holds " +
             std::to_string(have) + " values, expected " + std::to_string(count) + ".");
    };
    // Check the data is really there before allocating what the shape declares.
    size_t have = 0;
    switch (t.data_type()) {
        case onnx::TensorProto::FLOAT:
            have = raw.empty() ? static_cast<size_t>(t.float_data_size()) : raw.size() / 4;
            break;
        case onnx::TensorProto::DOUBLE:
            have = raw.empty() ? static_cast<size_t>(t.double_data_size()) : raw.size() / 8;
            break;
        case onnx::TensorProto::FLOAT16:
            have = raw.empty() ? static_cast<size_t>(t.int32_data_size()) : raw.size() / 2;
            break;
        default:
            fail("tensor '" + name + "' (" + role + ") has dtype " + dataTypeName(t.data_type()) +
                 ", expected float32.");
    }
    if (have != count) sizeError(have);
    Tensor out(dims);
    switch (t.data_type()) {
        case onnx::TensorProto::FLOAT:
            if (!raw.empty()) {
                if (raw.size() != count * 4) sizeError(raw.size() / 4);
                std::memcpy(out.ptr(), raw.data(), raw.size());
            } else {
                if (static_cast<size_t>(t.float_data_size()) != count)
                    sizeError(static_cast<size_t>(t.float_data_size()));
                std::copy(t.float_data().begin(), t.float_data().end(), out.data.begin());
            }
            break;
        case onnx::TensorProto::DOUBLE:
            if (!raw.empty()) {
                if (raw.size() != count * 8) sizeError(raw.size() / 8);
                for (size_t i = 0; i < count; ++i) {
                    double v = 0;
                    std::memcpy(&v, raw.data() + 8 * i, 8);
                    out.data[i] = static_cast<float>(v);
                }
            } else {
                if (static_cast<size_t>(t.double_data_size()) != count)
                    sizeError(static_cast<size_t>(t.double_data_size()));
                for (size_t i = 0; i < count; ++i)
                    out.data[i] = static_cast<float>(t.double_data(static_cast<int>(i)));
            }
            break;
        case onnx::TensorProto::FLOAT16:
            if (!raw.empty()) {
                if (raw.size() != count * 2) sizeError(raw.size() / 2);
                for (size_t i = 0; i < count; ++i) {
                    uint16_t v = 0;
                    std::memcpy(&v, raw.data() + 2 * i, 2);
                    out.data[i] = halfToFloat(v);
                }
            } else {
                if (static_cast<size_t>(t.int32_data_size()) != count)
                    sizeError(static_cast<size_t>(t.int32_data_size()));
                for (size_t i = 0; i < count; ++i)
                    out.data[i] =
                        halfToFloat(static_cast<uint16_t>(t.int32_data(static_cast<int>(i))));
            }
            break;
        default:
            fail("tensor '" + name + "' (" + role + ") has dtype " + dataTypeName(t.data_type()) +
                 ", expected float32.");
    }
    return out;
}

// Conv [+ BatchNormalization]: stores the weights under torchvision's names and checks the
// geometry against what this position in a ResNet must have. Returns the unit's output.
std::string GraphMapper::convUnit(const onnx::NodeProto& conv, const std::string& module,
                                  const std::string& bn, int kernel, int stride) {
    const std::vector<int64_t> k = ints(conv, "kernel_shape");
    const std::vector<int64_t> s = ints(conv, "strides");
    const std::vector<int64_t> p = ints(conv, "pads");
    const std::vector<int64_t> d = ints(conv, "dilations");
    const int pad = kernel / 2;
    auto all = [](const std::vector<int64_t>& v, int64_t value, size_t n) {
        if (v.empty()) return value == (n == 4 ? 0 : 1);
        if (v.size() != n) return false;
        for (int64_t x : v)
            if (x != value) return false;
        return true;
    };
    if ((!k.empty() && !all(k, kernel, 2)) || !all(s, stride, 2) || !all(p, pad, 4) ||
        !all(d, 1, 2) || intAttr(conv, "group", 1) != 1)
        fail(describe(conv) + " is mapped to '" + module + "' but does not have its geometry (" +
             std::to_string(kernel) + "×" + std::to_string(kernel) + ", stride " +
             std::to_string(stride) + ", padding " + std::to_string(pad) + ", no groups).");
    if (conv.input_size() < 2) fail(describe(conv) + " has no weight input.");
    m_w.tensors[module + ".weight"] = tensor(conv.input(1), module + ".weight");
    if (conv.input_size() > 2 && !conv.input(2).empty())
        m_w.tensors[module + ".bias"] = tensor(conv.input(2), module + ".bias");
    std::string out = conv.output(0);
    if (const onnx::NodeProto* norm = peek(out, "BatchNormalization")) {
        markUsed(*norm);
        if (norm->input_size() < 5) fail(describe(*norm) + " has fewer than five inputs.");
        m_w.tensors[bn + ".weight"] = tensor(norm->input(1), bn + ".weight");
        m_w.tensors[bn + ".bias"] = tensor(norm->input(2), bn + ".bias");
        m_w.tensors[bn + ".running_mean"] = tensor(norm->input(3), bn + ".running_mean");
        m_w.tensors[bn + ".running_var"] = tensor(norm->input(4), bn + ".running_var");
        m_w.bnEps[bn] = floatAttr(*norm, "epsilon", 1e-5F);
        out = norm->output(0);
    }
    return out;
}

WeightSet GraphMapper::map() {
    for (const auto& n : m_g.node())
        if (n.output_size() == 0 || n.output(0).empty())
            fail(describe(n) + " has no output; the graph is malformed.");
    for (const auto& t : m_g.initializer()) m_init[t.name()] = &t;
    for (const auto& n : m_g.node()) {
        if (n.op_type() == "Identity" && n.input_size() == 1 && n.output_size() == 1) {
            m_alias[n.output(0)] = n.input(0);
        } else if (n.op_type() == "Constant" && n.output_size() == 1) {
            for (const auto& a : n.attribute())
                if (a.name() == "value" && a.has_t()) m_init[n.output(0)] = &a.t();
        }
    }
    for (const auto& [from, to] : m_alias) resolve(from);  // fails on a cycle of Identity nodes
    std::vector<std::string> inputs;
    for (const auto& in : m_g.input())
        if (!m_init.count(in.name())) inputs.push_back(in.name());
    if (inputs.size() != 1)
        fail("the graph has " + std::to_string(inputs.size()) +
             " inputs that are not weights; a ResNet has exactly one (the image).");

    std::string x = convUnit(take(inputs[0], "Conv", "the stem convolution"), "conv1", "bn1", 7, 2);
    x = take(x, "Relu", "the stem ReLU").output(0);
    const onnx::NodeProto& pool = take(x, "MaxPool", "the stem max-pool");
    const std::vector<int64_t> pk = ints(pool, "kernel_shape");
    const std::vector<int64_t> ps = ints(pool, "strides");
    const std::vector<int64_t> pp = ints(pool, "pads");
    if (pk != std::vector<int64_t>{3, 3} || ps != std::vector<int64_t>{2, 2} ||
        (pp != std::vector<int64_t>{1, 1, 1, 1}))
        fail(describe(pool) + " is not the 3×3, stride 2, padding 1 max-pool of a ResNet stem.");
    x = pool.output(0);

    int stage = 0;
    int block = 0;
    int64_t channels = 0;
    for (;;) {
        const onnx::NodeProto* main = nullptr;
        const onnx::NodeProto* down = nullptr;
        for (const onnx::NodeProto* c : consumers(x)) {
            if (c->op_type() != "Conv" || m_used.count(c)) continue;
            auto it = m_init.find(c->input_size() > 1 ? resolve(c->input(1)) : "");
            const bool oneByOne = it != m_init.end() && it->second->dims_size() == 4 &&
                                  it->second->dims(2) == 1 && it->second->dims(3) == 1;
            (oneByOne ? down : main) = c;
        }
        if (!main) break;
        auto wit = m_init.find(main->input_size() > 1 ? resolve(main->input(1)) : "");
        const int64_t width =
            (wit != m_init.end() && wit->second->dims_size() == 4) ? wit->second->dims(0) : 0;
        if (width != channels) {
            ++stage;
            block = 0;
            channels = width;
        } else {
            ++block;
        }
        if (stage > 4) fail("the graph has more than four stages of residual blocks.");
        const std::string p = "layer" + std::to_string(stage) + "." + std::to_string(block);
        const int stride = (stage > 1 && block == 0) ? 2 : 1;
        markUsed(*main);
        std::string y = convUnit(*main, p + ".conv1", p + ".bn1", 3, stride);
        y = take(y, "Relu", "'" + p + "' (after conv1)").output(0);
        y = convUnit(take(y, "Conv", "'" + p + ".conv2'"), p + ".conv2", p + ".bn2", 3, 1);
        std::string skip = x;
        if (down) {
            markUsed(*down);
            skip = convUnit(*down, p + ".downsample.0", p + ".downsample.1", 1, stride);
        }
        const onnx::NodeProto& add = take(y, "Add", "the residual add of '" + p + "'");
        if (add.input_size() != 2) fail(describe(add) + " does not add exactly two tensors.");
        const std::string other =
            resolve(add.input(0)) == y ? resolve(add.input(1)) : resolve(add.input(0));
        if (other != skip)
            fail(describe(add) + " does not add the skip connection of '" + p + "' ('" + skip +
                 "'); it adds '" + other + "'.");
        x = take(add.output(0), "Relu", "the ReLU after '" + p + "'").output(0);
    }
    if (stage != 4)
        fail("the graph has " + std::to_string(stage) +
             " stages of residual blocks; a ResNet has four.");

    // Head: global average pooling, flatten, fully connected.
    const onnx::NodeProto* gap = peek(x, "GlobalAveragePool");
    if (!gap) gap = peek(x, "AveragePool");
    if (!gap) gap = peek(x, "ReduceMean");
    if (!gap) take(x, "GlobalAveragePool", "the average pool after layer4");
    markUsed(*gap);
    x = gap->output(0);
    if (const onnx::NodeProto* flat = peek(x, "Flatten")) {
        markUsed(*flat);
        x = flat->output(0);
    } else if (const onnx::NodeProto* reshape = peek(x, "Reshape")) {
        markUsed(*reshape);
        x = reshape->output(0);
    }
    const onnx::NodeProto& gemm = take(x, "Gemm", "the fully connected layer");
    if (gemm.input_size() < 3 || intAttr(gemm, "transA", 0) != 0 ||
        floatAttr(gemm, "alpha", 1.0F) != 1.0F || floatAttr(gemm, "beta", 1.0F) != 1.0F)
        fail(describe(gemm) +
             " is not a plain fully connected layer (needs bias, alpha = beta = 1).");
    Tensor w = tensor(gemm.input(1), "fc.weight");
    if (intAttr(gemm, "transB", 0) == 0 && w.dims.size() == 2) {  // stored [in, out]
        Tensor t({w.dims[1], w.dims[0]});
        for (int64_t i = 0; i < w.dims[0]; ++i)
            for (int64_t j = 0; j < w.dims[1]; ++j)
                t.data[static_cast<size_t>(j * w.dims[0] + i)] =
                    w.data[static_cast<size_t>(i * w.dims[1] + j)];
        w = std::move(t);
    }
    m_w.tensors["fc.weight"] = std::move(w);
    m_w.tensors["fc.bias"] = tensor(gemm.input(2), "fc.bias");

    for (const auto& n : m_g.node()) {
        if (n.op_type() == "Identity" || n.op_type() == "Constant" || m_used.count(&n)) continue;
        fail(describe(n) +
             " is not part of a basic-block ResNet (expected only Conv, "
             "BatchNormalization, Relu, Add, MaxPool, GlobalAveragePool, Flatten/Reshape, Gemm).");
    }
    return std::move(m_w);
}

}  // namespace

WeightSet readOnnx(const std::vector<uint8_t>& bytes, const std::string& label) {
    if (bytes.size() > static_cast<size_t>(INT32_MAX))
        throw WeightsError(label + ": the file is larger than 2 GB, which protobuf cannot read.");
    onnx::ModelProto model;
    if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
        throw WeightsError(label +
                           ": not an ONNX model (the protobuf data does not parse; "
                           "truncated or not ONNX at all).");
    if (!model.has_graph() || model.graph().node_size() == 0)
        throw WeightsError(label + ": the ONNX model has no graph.");
    GraphMapper mapper(model.graph(), label);
    WeightSet w = mapper.map();
    w.file = label;
    w.format = "ONNX";
    return w;
}

}  // namespace r18
