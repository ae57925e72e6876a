// The most a weights file can need to describe the largest network this app runs, so that every
// reader can refuse a file that claims more before allocating for it: memory is bounded by the
// model a file can possibly produce, never by what the file declares.
//
// ResNet34 (the largest supported) has 21.8 million parameters in 218 tensors, ResNet18 11.7
// million in 122; its ONNX graph has a few hundred nodes and its state-dict pickle a few
// thousand objects. The bounds below leave room for a classifier of ~80,000 classes, float64
// storage and checkpoint extras (optimizer state, metadata) that a reader walks past.
#pragma once

#include <cstdint>

namespace r18::limits {

// Values in all tensors a reader materialises, together (256 MB as float32).
constexpr uint64_t kMaxWeightElements = uint64_t{1} << 26;
// Raw storage bytes a reader reads or inflates, together (ResNet34 as float64 is 175 MB).
constexpr uint64_t kMaxStorageBytes = uint64_t{1} << 29;
// Tensors in one state dict, and entries in one zip archive.
constexpr uint64_t kMaxTensors = uint64_t{1} << 14;
constexpr uint64_t kMaxZipEntries = uint64_t{1} << 18;
// A state dict's pickle: its size, the objects it may create and the references between them.
constexpr uint64_t kMaxPickleBytes = uint64_t{64} << 20;
constexpr uint64_t kMaxPickleObjects = uint64_t{1} << 18;
constexpr uint64_t kMaxPickleReferences = uint64_t{1} << 21;
// ONNX: the file, the protobuf objects parsing it would create (nodes, tensors, attributes,
// names, unknown fields), what their repeated numbers would take, and the graph's nodes.
constexpr uint64_t kMaxOnnxFileBytes = uint64_t{256} << 20;
constexpr uint64_t kMaxOnnxObjects = uint64_t{1} << 17;
constexpr uint64_t kMaxOnnxNumberBytes = uint64_t{384} << 20;
constexpr uint64_t kMaxOnnxNodes = uint64_t{1} << 13;

}  // namespace r18::limits
