#include "core/formats/onnx_reader.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "core/formats/limits.h"

namespace r18 {
namespace {

constexpr auto kMaxElements = static_cast<int64_t>(limits::kMaxWeightElements);

// What parsing a protobuf message would allocate, counted on the wire format before parsing:
// the objects (messages, strings, unknown fields) and the bytes of repeated numbers. Guided by
// the messages' descriptors, so it knows which fields are sub-messages.
struct WireCost {
    uint64_t objects = 0;
    uint64_t numberBytes = 0;
    uint64_t nodes = 0;
    bool exceeded() const {
        return objects > limits::kMaxOnnxObjects || numberBytes > limits::kMaxOnnxNumberBytes ||
               nodes > limits::kMaxOnnxNodes;
    }
};

bool readVarint(const uint8_t*& p, const uint8_t* end, uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64 && p < end; shift += 7) {
        const uint8_t b = *p++;
        value |= static_cast<uint64_t>(b & 0x7F) << shift;
        if (!(b & 0x80)) return true;
    }
    return false;
}

// Returns false when the bytes are not well-formed protobuf (the parser then says so), and
// stops early once the cost is over the limits.
bool scanWire(const uint8_t* p, const uint8_t* end, const google::protobuf::Descriptor* type,
              int depth, WireCost& cost) {
    using google::protobuf::FieldDescriptor;
    if (depth > 64) return false;
    while (p < end && !cost.exceeded()) {
        uint64_t key = 0;
        if (!readVarint(p, end, key)) return false;
        const FieldDescriptor* f =
            type ? type->FindFieldByNumber(static_cast<int>(key >> 3)) : nullptr;
        const bool repeated = f && f->is_repeated();
        switch (key & 7) {
            case 0: {
                uint64_t v = 0;
                if (!readVarint(p, end, v)) return false;
                if (!f) ++cost.objects;
                if (repeated) cost.numberBytes += 8;
                break;
            }
            case 1:
            case 5: {
                const long width = (key & 7) == 1 ? 8 : 4;
                if (end - p < width) return false;
                p += width;
                if (!f) ++cost.objects;
                if (repeated) cost.numberBytes += 8;
                break;
            }
            case 2: {
                uint64_t len = 0;
                if (!readVarint(p, end, len) || len > static_cast<uint64_t>(end - p)) return false;
                const uint8_t* body = p;
                p += len;
                if (!f || f->type() == FieldDescriptor::TYPE_STRING ||
                    f->type() == FieldDescriptor::TYPE_BYTES) {
                    ++cost.objects;
                } else if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
                    ++cost.objects;
                    if (f->message_type() == onnx::NodeProto::descriptor()) ++cost.nodes;
                    if (!scanWire(body, p, f->message_type(), depth + 1, cost)) return false;
                } else if (repeated) {  // packed numbers: count them, 8 bytes each at most
                    uint64_t count = 0;
                    if (f->type() == FieldDescriptor::TYPE_DOUBLE ||
                        f->type() == FieldDescriptor::TYPE_FIXED64 ||
                        f->type() == FieldDescriptor::TYPE_SFIXED64)
                        count = len / 8;
                    else if (f->type() == FieldDescriptor::TYPE_FLOAT ||
                             f->type() == FieldDescriptor::TYPE_FIXED32 ||
                             f->type() == FieldDescriptor::TYPE_SFIXED32)
                        count = len / 4;
                    else
                        count = static_cast<uint64_t>(
                            std::count_if(body, p, [](uint8_t b) { return !(b & 0x80); }));
                    cost.numberBytes += 8 * count;
                } else {
                    ++cost.objects;
                }
                break;
            }
            default: return false;  // groups (3, 4) and invalid wire types: ONNX has none
        }
    }
    return true;
}

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
    GraphMapper(const onnx::GraphProto& g, int64_t opset, const std::string& label)
        : m_g(g), m_opset(opset), m_label(label) {}

    TensorFile map();

private:
    [[noreturn]] void fail(const std::string& problem) const {
        throw WeightsError(m_label + ": " + problem);
    }
    void resolveAliases();
    void indexConsumers();
    std::string resolve(const std::string& name) const;
    const std::vector<const onnx::NodeProto*>& consumers(const std::string& tensor) const;
    void checkNode(const onnx::NodeProto& n) const;
    const onnx::NodeProto& take(const std::string& tensor, const char* op, const std::string& role);
    const onnx::NodeProto* peek(const std::string& tensor, const char* op) const;
    Tensor tensor(const std::string& name, const std::string& role);
    std::vector<int64_t> int64Values(const std::string& name, const std::string& role) const;
    std::vector<int64_t> ints(const onnx::NodeProto& n, const char* attr) const;
    int64_t intAttr(const onnx::NodeProto& n, const char* attr, int64_t fallback) const;
    float floatAttr(const onnx::NodeProto& n, const char* attr, float fallback) const;
    std::string convUnit(const onnx::NodeProto& conv, const std::string& module,
                         const std::string& bn, int kernel, int stride);
    void markUsed(const onnx::NodeProto& n);
    void collectConstants();
    void collectPads();
    std::vector<int64_t> axesOf(const onnx::NodeProto& n, int input) const;
    std::vector<int64_t> padsBefore(const onnx::NodeProto& consumer);

    const onnx::GraphProto& m_g;
    const int64_t m_opset;  // of the default ("ai.onnx") domain
    const std::string& m_label;
    std::map<std::string, const onnx::TensorProto*> m_init;
    std::unordered_map<std::string, std::string> m_alias;     // Identity output -> input
    std::unordered_map<std::string, std::string> m_resolved;  // ... -> end of its Identity chain
    // Tensor (resolved) -> the nodes reading it, in graph order, Identity and Constant aside.
    std::unordered_map<std::string, std::vector<const onnx::NodeProto*>> m_consumers;
    std::set<const onnx::NodeProto*> m_used;
    // Tensors of Constant nodes given as value_ints / value_int / value_float(s) (opset 12+).
    std::deque<onnx::TensorProto> m_constants;
    // Tensor -> the node producing it, for messages about values computed at run time.
    std::unordered_map<std::string, const onnx::NodeProto*> m_producer;
    // A zero Pad in front of a Conv or MaxPool (an explicit-padding export): its output -> the
    // node and its [top, left, bottom, right]; the Pad is read through, and the consumer's
    // padding is checked with it added. Each must be taken up by a Conv or MaxPool.
    struct PadNode {
        const onnx::NodeProto* node = nullptr;
        std::vector<int64_t> pads;
        bool takenUp = false;
    };
    std::unordered_map<std::string, PadNode> m_pads;
    uint64_t m_elements = 0;  // values read from tensors so far
    TensorFile m_w;
};

// Follows every Identity chain once, remembering where each name ends: linear in the number
// of Identity nodes, however long the chains.
void GraphMapper::resolveAliases() {
    for (const auto& entry : m_alias) {
        if (m_resolved.count(entry.first)) continue;
        std::vector<std::string> path;
        std::unordered_set<std::string> onPath;
        std::string n = entry.first;
        std::string end;
        for (;;) {
            if (auto done = m_resolved.find(n); done != m_resolved.end()) {
                end = done->second;
                break;
            }
            auto next = m_alias.find(n);
            if (next == m_alias.end()) {
                end = n;
                break;
            }
            if (!onPath.insert(n).second)
                fail("the graph's Identity nodes form a cycle at '" + n + "'.");
            path.push_back(n);
            n = next->second;
        }
        for (const std::string& p : path) m_resolved[p] = end;
    }
}

// A node that passes its input through as far as an fp32 engine is concerned: Identity, and a
// Cast between floating-point types (an fp16 export casts its fp16 weights, or its input and
// output, to and from float; the app runs everything in float32).
bool passesThrough(const onnx::NodeProto& n) {
    if (n.input_size() != 1 || n.output_size() != 1) return false;
    if (n.op_type() == "Identity") return true;
    if (n.op_type() != "Cast") return false;
    for (const auto& a : n.attribute())
        if (a.name() == "to")
            return a.i() == onnx::TensorProto::FLOAT || a.i() == onnx::TensorProto::FLOAT16 ||
                   a.i() == onnx::TensorProto::DOUBLE || a.i() == onnx::TensorProto::BFLOAT16;
    return false;
}

void GraphMapper::indexConsumers() {
    for (const auto& n : m_g.node()) {
        if (passesThrough(n) || n.op_type() == "Constant" ||
            (n.output_size() == 1 && m_pads.count(n.output(0))))
            continue;
        for (const auto& in : n.input()) {
            if (in.empty()) continue;
            auto& readers = m_consumers[resolve(in)];
            if (readers.empty() || readers.back() != &n) readers.push_back(&n);
        }
    }
}

std::string GraphMapper::resolve(const std::string& name) const {
    auto it = m_resolved.find(name);
    return it == m_resolved.end() ? name : it->second;
}

const std::vector<const onnx::NodeProto*>& GraphMapper::consumers(const std::string& tensor) const {
    static const std::vector<const onnx::NodeProto*> kNone;
    auto it = m_consumers.find(tensor);
    return it == m_consumers.end() ? kNone : it->second;
}

const onnx::NodeProto* GraphMapper::peek(const std::string& tensor, const char* op) const {
    for (const onnx::NodeProto* n : consumers(tensor))
        if (n->op_type() == op && !m_used.count(n)) return n;
    return nullptr;
}

void GraphMapper::markUsed(const onnx::NodeProto& n) {
    if (!m_used.insert(&n).second) fail("the graph has a cycle through " + describe(n) + ".");
    checkNode(n);
}

// The attributes each op of a ResNet may carry. Any other changes what the node computes in
// a way the engine does not reproduce, so a node carrying one is refused, naming both.
const std::map<std::string, std::set<std::string>>& knownAttributes() {
    static const std::map<std::string, std::set<std::string>> table = {
        {"Conv", {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"}},
        {"BatchNormalization",
         {"epsilon", "momentum", "spatial", "is_test", "training_mode", "consumed_inputs"}},
        {"Relu", {"consumed_inputs"}},
        {"MaxPool",
         {"kernel_shape", "strides", "pads", "auto_pad", "ceil_mode", "dilations",
          "storage_order"}},
        {"Add", {"broadcast", "axis", "consumed_inputs"}},
        {"GlobalAveragePool", {}},
        {"AveragePool",
         {"kernel_shape", "strides", "pads", "auto_pad", "ceil_mode", "count_include_pad",
          "dilations"}},
        {"ReduceMean", {"axes", "keepdims", "noop_with_empty_axes"}},
        {"Squeeze", {"axes"}},
        {"Pad", {"mode", "pads", "value"}},
        {"Flatten", {"axis"}},
        {"Reshape", {"allowzero", "shape"}},
        {"Gemm", {"alpha", "beta", "transA", "transB", "broadcast"}},
        {"Identity", {}},
        {"Cast", {"to", "saturate"}},
        {"Constant",
         {"value", "value_float", "value_floats", "value_int", "value_ints", "value_string",
          "value_strings", "sparse_value"}},
    };
    return table;
}

std::string stringAttr(const onnx::NodeProto& n, const char* attr) {
    for (const auto& a : n.attribute())
        if (a.name() == attr) return a.s();
    return {};
}

// Checks what the op and its attributes mean against what the engine computes for it. Conv
// geometry, MaxPool's window and Gemm's transposes depend on the node's place in the network
// and are checked where it is mapped.
void GraphMapper::checkNode(const onnx::NodeProto& n) const {
    if (!n.domain().empty() && n.domain() != "ai.onnx")
        fail(describe(n) + " belongs to the operator set '" + n.domain() +
             "', not ONNX's own; this app runs standard ONNX operators only.");
    const auto& table = knownAttributes();
    auto known = table.find(n.op_type());
    for (const auto& a : n.attribute())
        if (known == table.end() || !known->second.count(a.name()))
            fail(describe(n) + " has the attribute '" + a.name() +
                 "', which changes what it computes and is not supported here.");
    auto refuse = [&](const char* attr, const std::string& why) {
        fail(describe(n) + ", attribute '" + attr + "': " + why);
    };
    auto allEqual = [](const std::vector<int64_t>& v, int64_t value) {
        return std::all_of(v.begin(), v.end(), [&](int64_t x) { return x == value; });
    };
    const std::string& op = n.op_type();
    if (op == "BatchNormalization") {
        const char* retrain =
            "the graph was exported in training mode, where batch norm normalises with each "
            "batch's own statistics; re-export it after model.eval() (torch.onnx.export(..., "
            "training=torch.onnx.TrainingMode.EVAL)).";
        if (intAttr(n, "training_mode", 0) != 0) refuse("training_mode", retrain);
        if (m_opset > 0 && m_opset < 7 && intAttr(n, "is_test", 0) == 0) refuse("is_test", retrain);
        if (intAttr(n, "spatial", 1) != 1)
            refuse("spatial",
                   "spatial = 0 (statistics per position) is not a ResNet's batch norm.");
        int outputs = 0;
        for (const auto& o : n.output()) outputs += o.empty() ? 0 : 1;
        if (outputs > 1) fail(describe(n) + " also outputs its running statistics, so " + retrain);
    } else if (op == "MaxPool") {
        if (intAttr(n, "ceil_mode", 0) != 0)
            refuse("ceil_mode",
                   "ceil_mode = 1 rounds the output size up (57×57 instead of ResNet's 56×56); "
                   "only ResNet's floor mode is supported.");
        if (!allEqual(ints(n, "dilations"), 1))
            refuse("dilations", "a dilated max-pool is not a ResNet's max-pool.");
        const std::string pad = stringAttr(n, "auto_pad");
        if (!pad.empty() && pad != "NOTSET")
            refuse("auto_pad", pad + " pads differently from ResNet's explicit padding of 1.");
    } else if (op == "AveragePool") {
        if (ints(n, "kernel_shape") != std::vector<int64_t>{7, 7})
            refuse("kernel_shape", "the average pool after layer4 must cover its whole 7×7 map.");
        if (!allEqual(ints(n, "pads"), 0))
            refuse("pads", "the average pool after layer4 takes no padding.");
        if (!allEqual(ints(n, "dilations"), 1))
            refuse("dilations", "a dilated average pool is not a global average.");
        const std::string pad = stringAttr(n, "auto_pad");
        if (!pad.empty() && pad != "NOTSET" && pad != "VALID")
            refuse("auto_pad", pad + " pads the average pool; a global average takes none.");
    } else if (op == "ReduceMean" || op == "Squeeze") {
        // Opset 18 (ReduceMean) and 13 (Squeeze) give the axes as an input: a constant one is as
        // good as the attribute.
        std::vector<int64_t> axes = axesOf(n, 1);
        if (axes.empty() && op == "ReduceMean" && intAttr(n, "noop_with_empty_axes", 0) != 0)
            refuse("noop_with_empty_axes", "with no axes the node would average nothing.");
        for (int64_t& a : axes) a = a < 0 ? a + 4 : a;
        std::sort(axes.begin(), axes.end());
        if (axes != std::vector<int64_t>{2, 3})
            fail(describe(n) + ": axes " + shapeToString(axes) +
                 (op == "ReduceMean"
                      ? "; the mean after layer4 must be over the spatial axes (2, 3)."
                      : "; after the average pool only the spatial axes (2, 3) can be squeezed."));
    } else if (op == "Flatten") {
        const int64_t axis = intAttr(n, "axis", 1);
        if (axis != 1 && axis != -3)
            refuse("axis", "flattening at axis " + std::to_string(axis) +
                               " mixes images of a batch; ResNet flattens at axis 1.");
    } else if (op == "Reshape") {
        std::vector<int64_t> shape = ints(n, "shape");
        if (n.input_size() > 1) shape = int64Values(n.input(1), "the shape of " + describe(n));
        const bool flat = shape.size() == 2 && (shape[1] == -1 || shape[1] == 512) &&
                          (shape[0] == -1 || shape[0] == 0 || shape[0] == 1) &&
                          !(shape[0] == -1 && shape[1] == -1);
        if (!flat)
            fail(describe(n) + " reshapes to " + shapeToString(shape) +
                 ", not to the [batch, 512] features a ResNet's classifier reads.");
        if (intAttr(n, "allowzero", 0) != 0 && shape[0] == 0)
            refuse("allowzero", "allowzero = 1 makes the 0 in the shape a real zero.");
    }
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

// A small int64 constant (a Reshape's target shape).
std::vector<int64_t> GraphMapper::int64Values(const std::string& name,
                                              const std::string& role) const {
    auto it = m_init.find(resolve(name));
    if (it == m_init.end()) {
        auto producer = m_producer.find(resolve(name));
        fail(role + " ('" + name + "') " +
             (producer != m_producer.end()
                  ? "is computed at run time by " + describe(*producer->second)
                  : std::string("is an input of the graph, given at run time")) +
             "; only a constant stored in the file is supported here.");
    }
    const onnx::TensorProto& t = *it->second;
    if (t.data_type() != onnx::TensorProto::INT64)
        fail(role + " ('" + name + "') has dtype " + dataTypeName(t.data_type()) +
             ", expected int64.");
    std::vector<int64_t> v;
    if (!t.raw_data().empty()) {
        if (t.raw_data().size() % 8 != 0 || t.raw_data().size() > 64)
            fail(role + " ('" + name + "') is not a short list of int64 values.");
        v.resize(t.raw_data().size() / 8);
        std::memcpy(v.data(), t.raw_data().data(), t.raw_data().size());
    } else {
        if (t.int64_data_size() > 8)
            fail(role + " ('" + name + "') is not a short list of int64 values.");
        v.assign(t.int64_data().begin(), t.int64_data().end());
    }
    return v;
}

// Axes given by the attribute (older opsets) or by input `input` (opset 13+ Squeeze, 18+ ReduceMean
// and Pad), which must be a constant.
std::vector<int64_t> GraphMapper::axesOf(const onnx::NodeProto& n, int input) const {
    if (n.input_size() > input && !n.input(input).empty())
        return int64Values(n.input(input),
                           "input " + std::to_string(input) + " (axes) of " + describe(n));
    return ints(n, "axes");
}

// Constant nodes: `value` holds a tensor; opset 12 added value_ints, value_int, value_float(s),
// which exporters use for axes and shapes. Each becomes a tensor like an initializer.
void GraphMapper::collectConstants() {
    for (const auto& n : m_g.node()) {
        if (n.op_type() != "Constant" || n.output_size() != 1) continue;
        for (const auto& a : n.attribute()) {
            if (a.name() == "value" && a.has_t()) {
                m_init[n.output(0)] = &a.t();
                continue;
            }
            onnx::TensorProto t;
            if (a.name() == "value_ints" || a.name() == "value_int") {
                t.set_data_type(onnx::TensorProto::INT64);
                if (a.name() == "value_ints") {
                    if (a.ints_size() > 8) continue;  // no axes or shape is longer
                    t.add_dims(a.ints_size());
                    for (const int64_t v : a.ints()) t.add_int64_data(v);
                } else {
                    t.add_int64_data(a.i());
                }
            } else if (a.name() == "value_floats" || a.name() == "value_float") {
                t.set_data_type(onnx::TensorProto::FLOAT);
                if (a.name() == "value_floats") {
                    if (a.floats_size() > 8) continue;
                    t.add_dims(a.floats_size());
                    for (const float v : a.floats()) t.add_float_data(v);
                } else {
                    t.add_float_data(a.f());
                }
            } else {
                continue;
            }
            m_constants.push_back(std::move(t));
            m_init[n.output(0)] = &m_constants.back();
        }
    }
}

// Pad nodes (opset 11+: pads, constant_value and, from 18, axes as inputs; before 11 as
// attributes). Only a zero, constant-mode padding of the spatial axes is read through (into the
// Conv or MaxPool that follows); anything else is refused, naming the node.
void GraphMapper::collectPads() {
    for (const auto& n : m_g.node()) {
        if (n.op_type() != "Pad") continue;
        checkNode(n);
        if (n.input_size() < 1 || n.output_size() != 1) fail(describe(n) + " is malformed.");
        const std::string mode = stringAttr(n, "mode");
        if (!mode.empty() && mode != "constant")
            fail(describe(n) + ", attribute 'mode': " + mode +
                 " padding is not the zero padding of a ResNet's convolutions.");
        std::vector<int64_t> pads =
            n.input_size() > 1 && !n.input(1).empty()
                ? int64Values(n.input(1), "input 1 (pads) of " + describe(n))
                : ints(n, "pads");
        float value = floatAttr(n, "value", 0.0F);
        if (n.input_size() > 2 && !n.input(2).empty()) {
            auto c = m_init.find(resolve(n.input(2)));
            if (c == m_init.end())
                fail("input 2 (constant_value) of " + describe(n) + " ('" + n.input(2) +
                     "') is computed at run time; only a constant is supported here.");
            const onnx::TensorProto& t = *c->second;
            if (t.data_type() != onnx::TensorProto::FLOAT)
                fail("input 2 (constant_value) of " + describe(n) + " is not float32.");
            if (t.float_data_size() > 0)
                value = t.float_data(0);
            else if (t.raw_data().size() >= 4)
                std::memcpy(&value, t.raw_data().data(), 4);
        }
        if (value != 0.0F)
            fail(describe(n) + " pads with " + std::to_string(value) +
                 ", not with zeros as a ResNet's convolutions do.");
        // Per axis: begin values, then end values; with an axes input only for those axes.
        std::vector<int64_t> axes = {0, 1, 2, 3};
        if (n.input_size() > 3 && !n.input(3).empty()) {
            axes = int64Values(n.input(3), "input 3 (axes) of " + describe(n));
            for (int64_t& a : axes) a = a < 0 ? a + 4 : a;
        }
        if (pads.size() != 2 * axes.size())
            fail(describe(n) + " gives " + std::to_string(pads.size()) + " pads for " +
                 std::to_string(axes.size()) + " axes.");
        std::vector<int64_t> begin(4, 0), end(4, 0);
        for (size_t i = 0; i < axes.size(); ++i) {
            if (axes[i] < 0 || axes[i] > 3) fail(describe(n) + " pads an axis the image lacks.");
            begin[static_cast<size_t>(axes[i])] = pads[i];
            end[static_cast<size_t>(axes[i])] = pads[i + axes.size()];
        }
        if (begin[0] || begin[1] || end[0] || end[1])
            fail(describe(n) +
                 " pads the batch or channel axis; a ResNet pads only height and "
                 "width.");
        for (int64_t p : {begin[2], begin[3], end[2], end[3]})
            if (p < 0 || p > 8) fail(describe(n) + " pads by " + std::to_string(p) + ".");
        m_pads[n.output(0)] = {&n, {begin[2], begin[3], end[2], end[3]}, false};
        m_alias[n.output(0)] = n.input(0);
    }
    // A Pad is read through only into a Conv or MaxPool, which adds it to its own padding.
    for (const auto& n : m_g.node())
        for (const auto& in : n.input())
            if (auto pad = m_pads.find(in);
                pad != m_pads.end() && n.op_type() != "Conv" && n.op_type() != "MaxPool")
                fail(describe(*pad->second.node) + " pads the input of " + describe(n) +
                     "; only a convolution or the stem's max-pool can take a Pad node.");
}

// The padding a Pad in front of `consumer` adds (all zeros if none), marking it taken up.
std::vector<int64_t> GraphMapper::padsBefore(const onnx::NodeProto& consumer) {
    if (consumer.input_size() < 1) return {0, 0, 0, 0};
    auto it = m_pads.find(consumer.input(0));
    if (it == m_pads.end()) return {0, 0, 0, 0};
    it->second.takenUp = true;
    return it->second.pads;
}

Tensor GraphMapper::tensor(const std::string& name, const std::string& role) {
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
    m_elements += static_cast<uint64_t>(numel);
    if (m_elements > limits::kMaxWeightElements)
        fail("the graph's weights hold more than " +
             std::to_string(limits::kMaxWeightElements >> 20) +
             " million values; a ResNet18/34 has at most 22 million (plus its classifier).");
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
    auto wrong = [&](const char* attr, const std::string& have) {
        fail(describe(conv) + " is mapped to '" + module +
             "' but does not have its geometry: attribute '" + attr + "' is " + have +
             " (expected " + std::to_string(kernel) + "×" + std::to_string(kernel) + ", stride " +
             std::to_string(stride) + ", padding " + std::to_string(pad) +
             ", no dilation, no groups).");
    };
    // Padding: the attribute's, plus a zero Pad node's in front (explicit-padding exports).
    std::vector<int64_t> padding = padsBefore(conv);
    const bool explicitPad = padding != std::vector<int64_t>{0, 0, 0, 0};
    if (p.size() == 4)
        for (size_t i = 0; i < 4; ++i) padding[i] += p[i];
    const std::string autoPad = stringAttr(conv, "auto_pad");
    if (!autoPad.empty() && autoPad != "NOTSET" &&
        !(autoPad == "VALID" && (pad == 0 || explicitPad) && p.empty()))
        wrong("auto_pad", autoPad);
    if (!k.empty() && !all(k, kernel, 2)) wrong("kernel_shape", shapeToString(k));
    if (!all(s, stride, 2)) wrong("strides", shapeToString(s));
    if ((!p.empty() && p.size() != 4) || !all(padding, pad, 4))
        wrong("pads", explicitPad ? shapeToString(padding) + " with the Pad node in front"
                                  : shapeToString(p));
    if (!all(d, 1, 2)) wrong("dilations", shapeToString(d));
    if (intAttr(conv, "group", 1) != 1) wrong("group", std::to_string(intAttr(conv, "group", 1)));
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

TensorFile GraphMapper::map() {
    for (const auto& n : m_g.node())
        if (n.output_size() == 0 || n.output(0).empty())
            fail(describe(n) + " has no output; the graph is malformed.");
    for (const auto& t : m_g.initializer()) m_init[t.name()] = &t;
    collectConstants();
    for (const auto& n : m_g.node()) {
        for (const auto& out : n.output()) m_producer.emplace(out, &n);
        if (passesThrough(n)) m_alias[n.output(0)] = n.input(0);
    }
    resolveAliases();  // fails on a cycle of Identity nodes
    collectPads();     // reads constants through Identity chains; aliases each Pad's output
    m_resolved.clear();
    resolveAliases();
    indexConsumers();
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
    std::vector<int64_t> pp = padsBefore(pool);  // a zero Pad is a max-pool's -inf after a ReLU
    if (const std::vector<int64_t> attr = ints(pool, "pads"); attr.size() == 4)
        for (size_t i = 0; i < 4; ++i) pp[i] += attr[i];
    else if (!attr.empty())
        pp = attr;
    if (pk != std::vector<int64_t>{3, 3} || ps != std::vector<int64_t>{2, 2} ||
        (pp != std::vector<int64_t>{1, 1, 1, 1}))
        fail(describe(pool) + " is not the 3×3, stride 2, padding 1 max-pool of a ResNet stem " +
             "(attributes 'kernel_shape' " + shapeToString(pk) + ", 'strides' " +
             shapeToString(ps) + ", 'pads' " + shapeToString(pp) + ").");
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
    } else if (const onnx::NodeProto* squeeze = peek(x, "Squeeze")) {
        markUsed(*squeeze);
        x = squeeze->output(0);
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
        const bool aside =
            passesThrough(n) || n.op_type() == "Constant" ||
            (n.output_size() == 1 && m_pads.count(n.output(0)) && m_pads.at(n.output(0)).takenUp);
        if (aside) checkNode(n);
        if (aside || m_used.count(&n)) continue;
        fail(describe(n) +
             " is not part of a basic-block ResNet (expected only Conv, "
             "BatchNormalization, Relu, Add, MaxPool, GlobalAveragePool or ReduceMean, "
             "Flatten/Reshape/Squeeze, Gemm, and zero Pad in front of a Conv or MaxPool).");
    }
    return std::move(m_w);
}

}  // namespace

TensorFile readOnnx(const uint8_t* data, size_t size, const std::string& label) {
    if (size > limits::kMaxOnnxFileBytes)
        throw WeightsError(label + ": the file is " + std::to_string(size >> 20) +
                           " MB; an ONNX ResNet18/34 is at most " +
                           std::to_string(limits::kMaxOnnxFileBytes >> 20) +
                           " MB (175 MB as float64).");
    WireCost cost;
    if (scanWire(data, data + size, onnx::ModelProto::descriptor(), 0, cost) && cost.exceeded()) {
        if (cost.nodes > limits::kMaxOnnxNodes)
            throw WeightsError(label + ": the ONNX graph has more than " +
                               std::to_string(limits::kMaxOnnxNodes) +
                               " nodes; a ResNet18/34 has a few hundred. Refusing to parse it.");
        throw WeightsError(label +
                           ": the ONNX file holds more protobuf objects (nodes, tensors, "
                           "attributes, names, numbers) than any ResNet18/34 needs; refusing "
                           "to parse it.");
    }
    onnx::ModelProto model;
    if (!model.ParseFromArray(data, static_cast<int>(size)))
        throw WeightsError(label +
                           ": not an ONNX model (the protobuf data does not parse; "
                           "truncated or not ONNX at all).");
    if (!model.has_graph() || model.graph().node_size() == 0)
        throw WeightsError(label + ": the ONNX model has no graph.");
    int64_t opset = 0;
    for (const auto& o : model.opset_import())
        if (o.domain().empty() || o.domain() == "ai.onnx") opset = o.version();
    GraphMapper mapper(model.graph(), opset, label);
    TensorFile w = mapper.map();
    w.file = label;
    w.format = "ONNX";
    return w;
}

}  // namespace r18
