#include "core/model/network_spec.h"

#include <numeric>
#include <stdexcept>

#include "core/error.h"

namespace r18 {
namespace {

constexpr int64_t kStemChannels = 64;

int64_t convOut(int64_t size, int kernel, int stride, int pad) {
    return (size + 2 * pad - kernel) / stride + 1;
}

// A convolution with its batch-norm, as Builder::conv() adds it.
struct ConvNode {
    std::string name;    // the node: torchvision's module name, "layer1.0.conv1"
    std::string weight;  // the module holding its weight ("layer2.0.downsample.0")
    std::string bn;      // the batch-norm module after it ("layer2.0.downsample.1")
    int src = 0;         // index of the input node
    int64_t channels = 0;
    int kernel = 3;
    int stride = 1;
    bool relu = false;  // followed by a ReLU of its own (not the block's, after the add)
    int stage = 0;
    int block = -1;
};

ConvNode convNode(const std::string& name, const std::string& weight, const std::string& bn) {
    ConvNode c;
    c.name = name;
    c.weight = weight;
    c.bn = bn;
    return c;
}

class Builder {
public:
    explicit Builder(NetworkSpec& spec) : m_spec(spec) {}

    int add(Node n) {
        m_spec.nodes.push_back(std::move(n));
        return static_cast<int>(m_spec.nodes.size()) - 1;
    }

    int conv(const ConvNode& c) {
        const Node& in = m_spec.nodes[static_cast<size_t>(c.src)];
        Node n;
        n.name = c.name;
        n.kind = NodeKind::Conv;
        n.stage = c.stage;
        n.block = c.block;
        n.inputs = {c.src};
        n.inShape = in.outShape;
        n.kernel = c.kernel;
        n.stride = c.stride;
        n.pad = c.kernel / 2;
        const int64_t h = convOut(in.outShape[1], c.kernel, c.stride, n.pad);
        const int64_t w = convOut(in.outShape[2], c.kernel, c.stride, n.pad);
        n.outShape = {c.channels, h, w};
        n.relu = c.relu;
        n.weightName = c.weight;
        n.bnName = c.bn;
        const int64_t weights = c.channels * in.outShape[0] * c.kernel * c.kernel;
        n.params = weights + 2 * c.channels;  // conv weight + BN gamma and beta
        n.macs = weights * h * w;
        return add(std::move(n));
    }

private:
    NetworkSpec& m_spec;
};

}  // namespace

const char* kindName(NodeKind kind) {
    switch (kind) {
        case NodeKind::Input: return "input";
        case NodeKind::Conv: return "conv";
        case NodeKind::MaxPool: return "maxpool";
        case NodeKind::Add: return "add";
        case NodeKind::AvgPool: return "avgpool";
        case NodeKind::Fc: return "fc";
    }
    return "?";
}

std::string Node::caption() const {
    const std::string k = std::to_string(kernel);
    const std::string down = stride > 1 ? ", /" + std::to_string(stride) : "";
    switch (kind) {
        case NodeKind::Input:
            return "image " + std::to_string(outShape[1]) + "×" + std::to_string(outShape[2]);
        case NodeKind::Conv: return k + "×" + k + " conv, " + std::to_string(outShape[0]) + down;
        case NodeKind::MaxPool: return k + "×" + k + " max pool" + down;
        case NodeKind::Add: return "+ , relu";
        case NodeKind::AvgPool: return "avg pool";
        case NodeKind::Fc: return "fc " + std::to_string(outShape[0]);
    }
    return name;
}

std::string NetworkSpec::archName() const {
    const int layers = 2 + 2 * std::accumulate(depths.begin(), depths.end(), 0);
    if (depths == std::vector<int>{2, 2, 2, 2} || depths == std::vector<int>{3, 4, 6, 3})
        return "ResNet" + std::to_string(layers);
    std::string s = "ResNet(";
    for (size_t i = 0; i < depths.size(); ++i) s += (i ? "," : "") + std::to_string(depths[i]);
    return s + ")";
}

int NetworkSpec::find(const std::string& name) const {
    for (size_t i = 0; i < nodes.size(); ++i)
        if (nodes[i].name == name) return static_cast<int>(i);
    return -1;
}

const Node& NetworkSpec::node(const std::string& name) const {
    const int i = find(name);
    if (i < 0) throw EngineError("The network has no node named '" + name + "'.");
    return nodes[static_cast<size_t>(i)];
}

int64_t NetworkSpec::totalParams() const {
    int64_t total = 0;
    for (const Node& n : nodes) total += n.params;
    return total;
}

int64_t NetworkSpec::totalMacs() const {
    int64_t total = 0;
    for (const Node& n : nodes) total += n.macs;
    return total;
}

std::vector<std::string> NetworkSpec::tapNames() const {
    std::vector<std::string> names;
    for (const Node& n : nodes)
        if (n.tappable()) names.push_back(n.name);
    return names;
}

NetworkSpec makeResNet(const std::vector<int>& depths, int64_t numClasses, int64_t inputSize) {
    if (depths.size() != 4)
        throw std::invalid_argument("A ResNet needs exactly four stage depths.");
    for (int d : depths)
        if (d < 1) throw std::invalid_argument("Every ResNet stage needs at least one block.");
    if (numClasses < 1) throw std::invalid_argument("A classifier needs at least one class.");
    if (inputSize < 32) throw std::invalid_argument("The input must be at least 32×32.");

    NetworkSpec spec;
    spec.depths = depths;
    spec.numClasses = numClasses;
    spec.inputSize = inputSize;
    Builder b(spec);

    Node input;
    input.name = "input";
    input.kind = NodeKind::Input;
    input.outShape = {3, inputSize, inputSize};
    int prev = b.add(input);

    ConvNode stem = convNode("conv1", "conv1", "bn1");
    stem.src = prev;
    stem.channels = kStemChannels;
    stem.kernel = 7;
    stem.stride = 2;
    stem.relu = true;
    prev = b.conv(stem);

    Node pool;
    pool.name = "maxpool";
    pool.kind = NodeKind::MaxPool;
    pool.inputs = {prev};
    pool.inShape = spec.nodes[static_cast<size_t>(prev)].outShape;
    pool.kernel = 3;
    pool.stride = 2;
    pool.pad = 1;
    pool.outShape = {pool.inShape[0], convOut(pool.inShape[1], 3, 2, 1),
                     convOut(pool.inShape[2], 3, 2, 1)};
    prev = b.add(pool);

    int64_t channels = kStemChannels;
    for (int s = 0; s < 4; ++s) {
        const int stage = s + 1;
        const int64_t width = kStemChannels << s;
        for (int blk = 0; blk < depths[static_cast<size_t>(s)]; ++blk) {
            const std::string p = "layer" + std::to_string(stage) + "." + std::to_string(blk);
            const int stride = (blk == 0 && s > 0) ? 2 : 1;
            const int blockInput = prev;
            ConvNode first = convNode(p + ".conv1", p + ".conv1", p + ".bn1");
            first.src = blockInput;
            first.channels = width;
            first.stride = stride;
            first.relu = true;
            first.stage = stage;
            first.block = blk;
            const int c1 = b.conv(first);
            int skip = blockInput;
            int via = -1;
            if (stride != 1 || channels != width) {
                ConvNode projection =
                    convNode(p + ".downsample", p + ".downsample.0", p + ".downsample.1");
                projection.src = blockInput;
                projection.channels = width;
                projection.kernel = 1;
                projection.stride = stride;
                projection.stage = stage;
                projection.block = blk;
                via = b.conv(projection);
                skip = via;
            }
            ConvNode second = convNode(p + ".conv2", p + ".conv2", p + ".bn2");
            second.src = c1;
            second.channels = width;
            second.stage = stage;
            second.block = blk;
            const int c2 = b.conv(second);

            Node add;
            add.name = p;
            add.kind = NodeKind::Add;
            add.stage = stage;
            add.block = blk;
            add.inputs = {c2, skip};
            add.inShape = spec.nodes[static_cast<size_t>(c2)].outShape;
            add.outShape = add.inShape;
            add.relu = true;
            prev = b.add(add);
            spec.nodes[static_cast<size_t>(c2)].fusedInto = prev;
            spec.residuals.push_back({blockInput, prev, via});
            channels = width;
        }
    }

    Node avg;
    avg.name = "avgpool";
    avg.kind = NodeKind::AvgPool;
    avg.stage = 5;
    avg.inputs = {prev};
    avg.inShape = spec.nodes[static_cast<size_t>(prev)].outShape;
    avg.kernel = static_cast<int>(avg.inShape[1]);
    avg.stride = 1;
    avg.outShape = {channels};
    prev = b.add(avg);

    Node fc;
    fc.name = "fc";
    fc.kind = NodeKind::Fc;
    fc.stage = 5;
    fc.inputs = {prev};
    fc.inShape = {channels};
    fc.outShape = {numClasses};
    fc.weightName = "fc";
    fc.params = numClasses * channels + numClasses;
    fc.macs = numClasses * channels;
    b.add(fc);
    return spec;
}

}  // namespace r18
