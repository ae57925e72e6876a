#include "core/formats/pth_reader.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <set>

#include "core/error.h"
#include "core/formats/limits.h"
#include "core/formats/pickle_reader.h"
#include "core/formats/zip_reader.h"

namespace r18 {
namespace {

// pickle.dumps(0x1950a86a20f9469cfc6c) payload: the magic number of the legacy format.
const uint8_t kLegacyMagic[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

float bf16ToFloat(uint16_t b) {
    const uint32_t bits = static_cast<uint32_t>(b) << 16;
    float v = 0.0F;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}

uint64_t saturatingMul(uint64_t a, uint64_t b) {
    uint64_t r = 0;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

uint64_t saturatingAdd(uint64_t a, uint64_t b) {
    uint64_t r = 0;
    return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

using Convert = std::function<float(const uint8_t*)>;

Convert converterFor(const std::string& dtype) {
    if (dtype == "float32")
        return [](const uint8_t* p) {
            float v;
            std::memcpy(&v, p, 4);
            return v;
        };
    if (dtype == "float64")
        return [](const uint8_t* p) {
            double v;
            std::memcpy(&v, p, 8);
            return static_cast<float>(v);
        };
    if (dtype == "float16")
        return [](const uint8_t* p) {
            uint16_t v;
            std::memcpy(&v, p, 2);
            return halfToFloat(v);
        };
    if (dtype == "bfloat16")
        return [](const uint8_t* p) {
            uint16_t v;
            std::memcpy(&v, p, 2);
            return bf16ToFloat(v);
        };
    return nullptr;
}

uint64_t elementsOf(const std::vector<int64_t>& sizes) {
    uint64_t numel = 1;
    for (int64_t n : sizes) numel = saturatingMul(numel, static_cast<uint64_t>(n));
    return numel;
}

// Checks that the strided view `t` lies inside its storage, which the file holds `bytes` of,
// before anything is read. Returns the view's element count.
uint64_t checkView(const PyObject& t, uint64_t bytes, const std::string& label,
                   const std::string& name) {
    const PyObject& s = *t.storage;
    const auto elem = static_cast<uint64_t>(dtypeSize(s.dtype));
    const auto storageNumel = static_cast<uint64_t>(s.storageNumel);
    if (bytes / elem < storageNumel)
        throw WeightsError(label + ": tensor '" + name + "' needs " +
                           std::to_string(saturatingMul(storageNumel, elem)) +
                           " bytes of storage, the file has " + std::to_string(bytes) +
                           " (truncated or corrupt file).");
    if (t.sizes.size() > 8)
        throw WeightsError(label + ": tensor '" + name + "' has " + std::to_string(t.sizes.size()) +
                           " dimensions; a ResNet weight has at most 4.");
    // Saturating arithmetic: a hostile shape cannot wrap around into a small number.
    const uint64_t numel = elementsOf(t.sizes);
    uint64_t last = static_cast<uint64_t>(t.offset);
    for (size_t d = 0; d < t.sizes.size(); ++d) {
        const auto n = static_cast<uint64_t>(t.sizes[d]);
        if (n > 0)
            last = saturatingAdd(last, saturatingMul(n - 1, static_cast<uint64_t>(t.strides[d])));
    }
    // A view may hold more elements than its storage (an expanded, stride-0 tensor): only
    // where its last element lies matters.
    if (numel > 0 && last >= storageNumel)
        throw WeightsError(label + ": tensor '" + name + "' of shape " + shapeToString(t.sizes) +
                           " reaches past the end of its storage of " +
                           std::to_string(storageNumel) + " elements (corrupt file).");
    return numel;
}

// Copies the strided view `t` (checked by checkView) out of its storage bytes into a dense
// float tensor.
Tensor materialize(const PyObject& t, const uint8_t* data) {
    const PyObject& s = *t.storage;
    const auto elem = static_cast<uint64_t>(dtypeSize(s.dtype));
    const uint64_t numel = elementsOf(t.sizes);
    if (numel == 0) return Tensor(t.sizes);
    Tensor out(t.sizes);
    bool contiguous = true;
    int64_t expected = 1;
    for (size_t d = t.sizes.size(); d-- > 0;) {
        contiguous = contiguous && (t.sizes[d] == 1 || t.strides[d] == expected);
        expected *= t.sizes[d];
    }
    if (contiguous && s.dtype == "float32") {
        std::memcpy(out.ptr(), data + static_cast<uint64_t>(t.offset) * elem, numel * elem);
        return out;
    }
    const Convert convert = converterFor(s.dtype);
    std::vector<int64_t> idx(t.sizes.size(), 0);
    for (uint64_t i = 0; i < numel; ++i) {
        uint64_t at = static_cast<uint64_t>(t.offset);
        for (size_t d = 0; d < idx.size(); ++d)
            at += static_cast<uint64_t>(idx[d]) * static_cast<uint64_t>(t.strides[d]);
        out.data[i] = convert(data + at * elem);
        for (size_t d = idx.size(); d-- > 0;) {
            if (++idx[d] < t.sizes[d]) break;
            idx[d] = 0;
        }
    }
    return out;
}

// Whether a state-dict key names a weight or buffer of a network (not optimizer state).
bool looksLikeParameter(const std::string& key) {
    for (const char* suffix : {".weight", ".bias", ".running_mean", ".running_var"}) {
        const size_t n = std::strlen(suffix);
        if (key.size() > n && key.compare(key.size() - n, n, suffix) == 0) return true;
    }
    return false;
}

// Where the state dict is in what torch.save stored, and how it was found.
struct Found {
    const PyObject* dict = nullptr;
    std::string where;  // "" for the root; "'state_dict'", "'model'['ema']", ...
};

// The dict of tensors inside whatever torch.save stored, found by structure: of every dict
// reachable from the root (a state dict, a pytorch/examples or Lightning checkpoint with its
// epoch, optimizer state and metrics, a dict of several models), the one with the most tensors
// named like parameters, then with the most tensors; the first such in breadth-first order on
// a tie (so 'state_dict' wins over a later 'state_dict_ema'). Each object is visited once:
// pickles can build cycles.
Found findStateDict(const PyRef& root, const std::string& label) {
    Found best;
    std::pair<size_t, size_t> bestScore{0, 0};  // tensors named like parameters, then any
    bool cycle = false;
    std::vector<std::pair<const PyObject*, std::string>> queue{{root, ""}};
    std::set<const PyObject*> seen;
    for (size_t next = 0; next < queue.size(); ++next) {
        const auto [o, where] = queue[next];
        if (!o) continue;
        if (!seen.insert(o).second) {
            cycle = true;
            continue;
        }
        if (o->type == PyObject::Type::Dict) {
            std::pair<size_t, size_t> score{0, 0};
            for (size_t i = 0; i + 1 < o->items.size(); i += 2) {
                const PyObject& key = *o->items[i];
                const PyObject& value = *o->items[i + 1];
                if (key.type == PyObject::Type::String && value.type == PyObject::Type::Tensor) {
                    score.first += looksLikeParameter(key.s) ? 1 : 0;
                    ++score.second;
                }
                const std::string step =
                    key.type == PyObject::Type::String ? "'" + key.s.substr(0, 64) + "'"
                    : key.type == PyObject::Type::Int  ? "[" + std::to_string(key.i) + "]"
                                                       : "[?]";
                if (value.type == PyObject::Type::Dict || value.type == PyObject::Type::List ||
                    value.type == PyObject::Type::Tuple)
                    queue.emplace_back(&value, where + step);
            }
            if (score > bestScore) {
                bestScore = score;
                best = {o, where};
            }
        } else if (o->type == PyObject::Type::List || o->type == PyObject::Type::Tuple) {
            for (size_t i = 0; i < o->items.size(); ++i)
                queue.emplace_back(o->items[i], where + "[" + std::to_string(i) + "]");
        }
    }
    if (!best.dict && cycle)
        throw WeightsError(label +
                           ": the file's dicts refer to each other in a cycle and none of "
                           "them holds tensors; it is not a state dict.");
    if (!best.dict)
        throw WeightsError(label +
                           ": the file holds no state dict (no dict of tensors named like "
                           "weights, at its top level or inside). Save the model with "
                           "torch.save(model.state_dict(), path).");
    return best;
}

// "__torch__.torchvision.models.resnet.___torch_mangle_160.ResNet" as the user knows it:
// "torchvision.models.resnet.ResNet".
std::string torchScriptClassName(std::string name) {
    if (name.rfind("__torch__.", 0) == 0) name.erase(0, 10);
    for (size_t at; (at = name.find("___torch_mangle_")) != std::string::npos;) {
        const size_t dot = name.find('.', at);
        name.erase(at, dot == std::string::npos ? std::string::npos : dot - at + 1);
    }
    return name.substr(0, 120);
}

// A TorchScript module's parameters and buffers under their torchvision names, walking the
// module attributes ("layer1" -> "0" -> "conv1" -> "weight") into a state dict made in
// `scratch`. Attributes that are neither tensors nor modules (training, hooks) are skipped.
const PyObject& torchScriptStateDict(const PyObject& module, Unpickled& scratch) {
    auto make = [&](PyObject::Type type, const std::string& text) {
        scratch.arena.push_back(std::make_unique<PyObject>());
        scratch.arena.back()->type = type;
        scratch.arena.back()->s = text;
        return scratch.arena.back().get();
    };
    PyObject* dict = make(PyObject::Type::Dict, "");
    std::vector<std::pair<const PyObject*, std::string>> todo{{&module, ""}};
    std::set<const PyObject*> seen;
    while (!todo.empty()) {
        const auto [o, prefix] = todo.back();
        todo.pop_back();
        if (!seen.insert(o).second) continue;
        std::vector<std::pair<const PyObject*, std::string>> children;
        for (size_t i = 0; i + 1 < o->items.size(); i += 2) {
            const PyObject& key = *o->items[i];
            PyObject* value = o->items[i + 1];
            if (key.type != PyObject::Type::String) continue;
            if (value->type == PyObject::Type::Tensor) {
                dict->items.push_back(make(PyObject::Type::String, prefix + key.s));
                dict->items.push_back(value);
            } else if (value->type == PyObject::Type::Object) {
                children.emplace_back(value, prefix + key.s + ".");
            }
        }
        todo.insert(todo.end(), children.rbegin(), children.rend());
    }
    return *dict;
}

// A storage's bytes: a view into the file, or a buffer `keep` owns (an inflated zip entry).
struct StorageBytes {
    const uint8_t* data = nullptr;
    uint64_t size = 0;
    ZipArchive::Bytes keep;
};

// Where the storages are: how many bytes the file holds for a key (throws if none), and the
// bytes themselves.
struct StorageReader {
    std::function<uint64_t(const std::string& key)> size;
    std::function<StorageBytes(const std::string& key)> read;
};

// Walks the state dict and materialises each float tensor. Everything is checked before any
// storage is read: the number of tensors and their values against what a ResNet can need,
// every view against its storage. Each storage is then read (and CRC-checked) once, however
// many tensors view it.
TensorFile collect(const PyObject& dict, const std::string& label, const StorageReader& storages) {
    TensorFile w;
    w.file = label;
    struct View {
        std::string name;
        const PyObject* tensor;
    };
    std::map<std::string, std::vector<View>> byStorage;
    uint64_t tensors = 0;
    uint64_t elements = 0;
    for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
        const PyObject& key = *dict.items[i];
        const PyObject& value = *dict.items[i + 1];
        if (key.type != PyObject::Type::String || value.type != PyObject::Type::Tensor) continue;
        if (++tensors > limits::kMaxTensors)
            throw WeightsError(label + ": the state dict holds more than " +
                               std::to_string(limits::kMaxTensors) +
                               " tensors; a ResNet18/34 has a few hundred.");
        if (!converterFor(value.storage->dtype)) {
            w.nonFloat[key.s] = value.storage->dtype;
            continue;
        }
        elements = saturatingAdd(elements, elementsOf(value.sizes));
        if (elements > limits::kMaxWeightElements)
            throw WeightsError(label + ": the state dict's tensors hold more than " +
                               std::to_string(limits::kMaxWeightElements >> 20) +
                               " million values; a ResNet18/34 has at most 22 million (plus its "
                               "classifier). Refusing before reading them.");
        byStorage[value.storage->storageKey].push_back({key.s, &value});
    }
    std::map<std::string, uint64_t> available;
    uint64_t storageBytes = 0;
    for (const auto& [key, views] : byStorage) {
        const uint64_t have = storages.size(key);
        for (const View& v : views) checkView(*v.tensor, have, label, v.name);
        available[key] = have;
        storageBytes = saturatingAdd(storageBytes, have);
        if (storageBytes > limits::kMaxStorageBytes)
            throw WeightsError(label + ": the state dict's storages hold more than " +
                               std::to_string(limits::kMaxStorageBytes >> 20) +
                               " MB; a ResNet18/34 needs at most 175 MB (as float64). Refusing "
                               "before reading them.");
    }
    for (const auto& [key, views] : byStorage) {
        const StorageBytes bytes = storages.read(key);
        if (bytes.size != available[key])
            throw WeightsError(label + ": storage '" + key + "' changed size while being read.");
        for (const View& v : views) {
            w.tensors[v.name] = materialize(*v.tensor, bytes.data);
        }
    }
    return w;
}

TensorFile readZipPth(const uint8_t* data, size_t size, const std::string& label) {
    ZipArchive zip(label, data, size);
    const ZipArchive::Entry* pkl = nullptr;
    for (const auto& e : zip.entries()) {
        const std::string& n = e.name;
        if (n.size() >= 8 && n.compare(n.size() - 8, 8, "data.pkl") == 0 &&
            n.find('/') == n.size() - 9) {
            pkl = &e;
            break;
        }
    }
    if (!pkl)
        throw WeightsError(label +
                           ": the zip archive has no '<name>/data.pkl', so it is not a "
                           "file written by torch.save.");
    const std::string prefix = pkl->name.substr(0, pkl->name.size() - 8);
    const ZipArchive::Bytes pickle = zip.read(*pkl, limits::kMaxPickleBytes);
    // torch.jit.save writes constants.pkl beside data.pkl: say so in any refusal.
    const bool torchScript = zip.find(prefix + "constants.pkl") != nullptr;
    const Unpickled root = unpickle(pickle.data(), pickle.size(),
                                    torchScript ? label + ": TorchScript archive" : label);
    auto entry = [&](const std::string& key) {
        const ZipArchive::Entry* e = zip.find(prefix + "data/" + key);
        if (!e)
            throw WeightsError(label + ": storage '" + prefix + "data/" + key +
                               "' is missing from the archive (truncated or corrupt file).");
        return e;
    };
    StorageReader reader;
    reader.size = [&](const std::string& key) {
        const ZipArchive::Entry* e = entry(key);
        zip.locate(*e);
        return e->size;
    };
    reader.read = [&](const std::string& key) {
        StorageBytes b;
        b.keep = zip.read(*entry(key), limits::kMaxStorageBytes);
        b.data = b.keep.data();
        b.size = b.keep.size();
        return b;
    };
    if (root.root->type == PyObject::Type::Object) {  // torch.jit.save: a module, not a dict
        Unpickled scratch;
        TensorFile w = collect(torchScriptStateDict(*root.root, scratch), label, reader);
        w.format = "TorchScript (" + torchScriptClassName(root.root->s) + "; its code is not run)";
        return w;
    }
    const Found found = findStateDict(root.root, label);
    TensorFile w = collect(*found.dict, label, reader);
    w.format = found.where.empty() ? "PyTorch state dict"
                                   : "PyTorch checkpoint (state dict in " + found.where + ")";
    return w;
}

// Every storage reachable from `root`, without recursion (pickles may be cyclic).
std::map<std::string, const PyObject*> findStorages(const PyRef& root) {
    std::map<std::string, const PyObject*> storages;
    std::vector<const PyObject*> todo{root};
    std::set<const PyObject*> seen;
    while (!todo.empty()) {
        const PyObject* o = todo.back();
        todo.pop_back();
        if (!o || !seen.insert(o).second) continue;
        if (o->type == PyObject::Type::Tensor) storages[o->storage->storageKey] = o->storage;
        for (const PyRef& item : o->items) todo.push_back(item);
    }
    return storages;
}

TensorFile readLegacyPth(const uint8_t* data, size_t size, const std::string& label) {
    size_t pos = 0;
    auto next = [&]() {
        size_t used = 0;
        Unpickled o = unpickle(data + pos, size - pos, label, &used);
        pos += used;
        return o;
    };
    next();  // magic number, checked by looksLikeLegacyPth
    const Unpickled versionPickle = next();
    const PyRef version = versionPickle.root;
    if (version->type != PyObject::Type::Int || version->i != 1001)
        throw WeightsError(label + ": unsupported legacy torch.save protocol version.");
    const Unpickled sysInfo = next();
    const PyRef* little = sysInfo.root->type == PyObject::Type::Dict
                              ? sysInfo.root->dictGet("little_endian")
                              : nullptr;
    if (!little || (*little)->type != PyObject::Type::Bool || !(*little)->i)
        throw WeightsError(label + ": the file was written on a big-endian machine; re-save it.");
    const Unpickled rootPickle = next();
    const PyRef root = rootPickle.root;
    const Unpickled keysPickle = next();
    const PyRef keys = keysPickle.root;
    if (keys->type != PyObject::Type::List)
        throw WeightsError(label + ": the legacy storage list is corrupt.");

    std::map<std::string, const PyObject*> storages = findStorages(root);
    std::map<std::string, std::pair<size_t, uint64_t>> where;  // key -> (offset, bytes)
    for (const PyRef& key : keys->items) {
        if (key->type != PyObject::Type::String || !storages.count(key->s))
            throw WeightsError(label + ": the legacy storage list names an unknown storage.");
        const uint64_t elem = static_cast<uint64_t>(dtypeSize(storages[key->s]->dtype));
        if (size - pos < 8)
            throw WeightsError(label + ": the file ends before storage '" + key->s +
                               "' (truncated).");
        uint64_t count = 0;
        std::memcpy(&count, data + pos, 8);
        pos += 8;
        if (count > (size - pos) / elem)
            throw WeightsError(label + ": storage '" + key->s +
                               "' runs past the end of the file (truncated).");
        where[key->s] = {pos, count * elem};
        pos += count * elem;
    }
    auto find = [&](const std::string& key) {
        auto it = where.find(key);
        if (it == where.end())
            throw WeightsError(label + ": storage '" + key +
                               "' is missing (truncated or corrupt file).");
        return it->second;
    };
    StorageReader reader;
    reader.size = [&](const std::string& key) { return find(key).second; };
    reader.read = [&](const std::string& key) {
        StorageBytes b;
        b.data = data + find(key).first;
        b.size = find(key).second;
        return b;
    };
    const Found found = findStateDict(root, label);
    TensorFile w = collect(*found.dict, label, reader);
    w.format = found.where.empty()
                   ? "PyTorch state dict (legacy format)"
                   : "PyTorch checkpoint (legacy format; state dict in " + found.where + ")";
    return w;
}

}  // namespace

bool looksLikeLegacyPth(const uint8_t* data, size_t size) {
    // \x80 N (PROTO N), for protocols 4 and 5 a FRAME (\x95 + 8 bytes), then \x8a\x0a (LONG1,
    // 10 bytes) and the magic number.
    const size_t at = size > 11 && data[2] == 0x95 ? 11 : 2;
    return size > at + 12 && data[0] == 0x80 && data[at] == 0x8a && data[at + 1] == 10 &&
           std::memcmp(data + at + 2, kLegacyMagic, sizeof kLegacyMagic) == 0;
}

TensorFile readPth(const uint8_t* data, size_t size, const std::string& label) {
    if (ZipArchive::looksLikeZip(data, size)) return readZipPth(data, size, label);
    if (looksLikeLegacyPth(data, size)) return readLegacyPth(data, size, label);
    throw WeightsError(label +
                       ": not a PyTorch file (neither a torch.save zip archive nor the "
                       "legacy format).");
}

}  // namespace r18
