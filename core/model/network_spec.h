// NetworkSpec: the one description of a ResNet (basic blocks) that everything else reads.
// The engine is compiled from it, weight files are validated against it and the diagram is
// drawn from it; no other copy of the topology exists.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace r18 {

enum class NodeKind { Input, Conv, MaxPool, Add, AvgPool, Fc };

const char* kindName(NodeKind kind);

struct Node {
    std::string name;  // torchvision's module name ("layer2.0.downsample"); "input" for the input
    NodeKind kind = NodeKind::Input;
    int stage = 0;                  // 0 = stem, 1..4 = residual stages, 5 = head (avgpool, fc)
    int block = -1;                 // block index inside its stage, -1 outside the stages
    std::vector<int> inputs;        // producer node indices, in NetworkSpec::nodes
    std::vector<int64_t> inShape;   // per image: {C,H,W}; {C} for fc
    std::vector<int64_t> outShape;  // per image: {C,H,W}; {C} for avgpool and fc
    int kernel = 0;                 // conv and pooling geometry; 0 where it does not apply
    int stride = 0;
    int pad = 0;
    bool relu = false;   // ReLU applied to this node's output
    int fusedInto = -1;  // a conv feeding a residual add: that add, whose output it only
                         // exists inside (the engine fuses them); -1 otherwise
    bool tappable() const { return fusedInto < 0; }
    std::string weightName;  // module holding the weight: "layer2.0.downsample.0", "fc"
    std::string bnName;      // BatchNorm folded into this conv: "layer2.0.downsample.1"
    int64_t params = 0;      // learnable parameters, counted as torchvision counts them
    int64_t macs = 0;        // multiply-accumulates per image

    // Short caption in the style of the ResNet paper: "3×3 conv, 128, /2".
    std::string caption() const;
};

// A skip connection: the output of `from` (a block's input) is added at `to` (the block's add
// node), either directly (identity) or through the projection conv `via`.
struct ResidualEdge {
    int from = -1;
    int to = -1;
    int via = -1;  // downsample node index for a projection skip, -1 for identity
    bool projection() const { return via >= 0; }
};

struct NetworkSpec {
    std::vector<int> depths;  // basic blocks per stage: {2,2,2,2} is ResNet18
    int64_t numClasses = 0;
    int64_t inputSize = 0;    // square input side, 224
    std::vector<Node> nodes;  // in a valid execution order
    std::vector<ResidualEdge> residuals;

    std::string archName() const;                     // "ResNet18", "ResNet34", "ResNet(3,3,3,3)"
    int find(const std::string& name) const;          // node index, -1 if absent
    const Node& node(const std::string& name) const;  // throws EngineError if absent
    int64_t totalParams() const;
    int64_t totalMacs() const;
    std::vector<std::string> tapNames() const;  // names a caller may ask the engine for
};

// ResNet with basic blocks (ResNet18/34 family) as torchvision builds it.
// Throws std::invalid_argument on depths that are not four positive numbers or classes < 1.
NetworkSpec makeResNet(const std::vector<int>& depths, int64_t numClasses, int64_t inputSize = 224);

inline NetworkSpec makeResNet18(int64_t numClasses = 1000) {
    return makeResNet({2, 2, 2, 2}, numClasses);
}

}  // namespace r18
