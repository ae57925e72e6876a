// A restricted unpickler for PyTorch state dicts, checkpoints and TorchScript archives. It
// understands the pickle opcodes these use and knows a short whitelist of globals (OrderedDict,
// torch's tensor-rebuild functions, the storage types). It never imports or calls anything: a
// whitelisted call is interpreted by this code, and any other global is refused the moment it
// is named. TorchScript's module classes (`__torch__.torchvision.models.resnet.ResNet`, ...)
// are the one exception: NEWOBJ + BUILD of such a class makes an inert Object holding its
// attributes, and no code of the class (the archive's code/ folder) is ever looked at.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace r18 {

struct PyObject;
// Objects point at each other with plain pointers (a pickle may build cycles through its memo);
// the Unpickled result owns them all.
using PyRef = PyObject*;

struct PyObject {
    enum class Type {
        None,
        Bool,
        Int,
        BigInt,
        Float,
        String,
        Tuple,
        List,
        Dict,
        Global,
        Storage,
        Tensor,
        Object  // a TorchScript module: s is its class, items its attributes as in a Dict
    };
    Type type = Type::None;
    int64_t i = 0;   // Bool, Int
    double f = 0.0;  // Float
    std::string s;   // String (also bytes), Global and Object "module.name", BigInt bytes (LE)
    std::vector<PyRef> items;  // Tuple, List; Dict and Object as key, value, key, value, ...
    // Storage: a persistent reference to raw data stored outside the pickle.
    std::string storageKey;
    std::string dtype;  // "float32", "int64", ...
    int64_t storageNumel = 0;
    // Tensor: a strided view of a storage.
    PyRef storage;
    int64_t offset = 0;
    std::vector<int64_t> sizes;
    std::vector<int64_t> strides;

    const PyRef* dictGet(const std::string& key) const;  // Dict and Object only
};

// The objects of one pickle: `root` and everything reachable from it live as long as this.
struct Unpickled {
    std::vector<std::unique_ptr<PyObject>> arena;
    PyRef root = nullptr;
};

// Bytes per element of a storage dtype name ("float32" -> 4); 0 if unknown.
int dtypeSize(const std::string& dtype);

// Unpickles one object from data[0..size). Memory is bounded by what a state dict can need,
// whatever the input's size: at most limits::kMaxPickleObjects objects and
// limits::kMaxPickleReferences references between them (formats/limits.h). Objects may refer
// to themselves (a dict inside itself): whoever walks the result must track what it has seen.
// `label` prefixes error messages (the file name).
// Sets *consumed to the number of bytes read (pickles can be concatenated). Throws
// WeightsError on anything outside the whitelist or malformed.
Unpickled unpickle(const uint8_t* data, size_t size, const std::string& label,
                   size_t* consumed = nullptr);

}  // namespace r18
