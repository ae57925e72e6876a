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
    if (numel > storageNumel || (numel > 0 && last >= storageNumel))
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

// The dict of tensors inside whatever torch.save stored: the state dict itself, or a
// checkpoint dict wrapping it under a usual key. Dicts may refer to each other in a cycle
// (a pickle can build any graph): each is visited once.
const PyObject& findStateDict(const PyRef& root, const std::string& label) {
    std::set<const PyObject*> seen;
    for (const PyObject* o = root; o && o->type == PyObject::Type::Dict;) {
        if (!seen.insert(o).second)
            throw WeightsError(label +
                               ": the file's dicts refer to each other in a cycle and none of "
                               "them holds tensors; it is not a state dict.");
        for (size_t i = 1; i < o->items.size(); i += 2)
            if (o->items[i]->type == PyObject::Type::Tensor) return *o;
        const PyObject* inner = nullptr;
        for (const char* key : {"state_dict", "model_state_dict", "model", "net"}) {
            const PyRef* value = o->dictGet(key);
            if (value && (*value)->type == PyObject::Type::Dict) {
                inner = *value;
                break;
            }
        }
        o = inner;
    }
    throw WeightsError(label +
                       ": the file holds no state dict (no tensors at its top level). "
                       "Save the model with torch.save(model.state_dict(), path).");
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
WeightSet collect(const PyObject& dict, const std::string& label, const StorageReader& storages) {
    WeightSet w;
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
    bool allPrefixed = true;
    for (const auto& [key, views] : byStorage) {
        const StorageBytes bytes = storages.read(key);
        if (bytes.size != available[key])
            throw WeightsError(label + ": storage '" + key + "' changed size while being read.");
        for (const View& v : views) {
            w.tensors[v.name] = materialize(*v.tensor, bytes.data);
            allPrefixed = allPrefixed && v.name.rfind("module.", 0) == 0;
        }
    }
    if (allPrefixed && !w.tensors.empty()) {  // saved from nn.DataParallel
        std::map<std::string, Tensor> stripped;
        for (auto& [name, t] : w.tensors) stripped[name.substr(7)] = std::move(t);
        w.tensors = std::move(stripped);
    }
    return w;
}

WeightSet readZipPth(const uint8_t* data, size_t size, const std::string& label) {
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
    const Unpickled root = unpickle(pickle.data(), pickle.size(), label);
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
    WeightSet w = collect(findStateDict(root.root, label), label, reader);
    w.format = "PyTorch state dict";
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

WeightSet readLegacyPth(const uint8_t* data, size_t size, const std::string& label) {
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
    WeightSet w = collect(findStateDict(root, label), label, reader);
    w.format = "PyTorch state dict (legacy format)";
    return w;
}

}  // namespace

bool looksLikeLegacyPth(const uint8_t* data, size_t size) {
    // \x80\x02 (PROTO 2), \x8a\x0a (LONG1, 10 bytes), magic
    return size > 14 && data[0] == 0x80 && data[2] == 0x8a && data[3] == 10 &&
           std::memcmp(data + 4, kLegacyMagic, sizeof kLegacyMagic) == 0;
}

WeightSet readPth(const uint8_t* data, size_t size, const std::string& label) {
    if (ZipArchive::looksLikeZip(data, size)) return readZipPth(data, size, label);
    if (looksLikeLegacyPth(data, size)) return readLegacyPth(data, size, label);
    throw WeightsError(label +
                       ": not a PyTorch file (neither a torch.save zip archive nor the "
                       "legacy format).");
}

}  // namespace r18
