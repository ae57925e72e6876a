#include "core/formats/pth_reader.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <set>

#include "core/error.h"
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

// Copies the strided view `t` out of its storage bytes into a dense float tensor.
Tensor materialize(const PyObject& t, const uint8_t* data, uint64_t bytes, const std::string& label,
                   const std::string& name) {
    const PyObject& s = *t.storage;
    const auto elem = static_cast<uint64_t>(dtypeSize(s.dtype));
    const auto storageNumel = static_cast<uint64_t>(s.storageNumel);
    if (bytes / elem < storageNumel)
        throw WeightsError(label + ": tensor '" + name + "' needs " +
                           std::to_string(storageNumel * elem) +
                           " bytes of storage, the file has " + std::to_string(bytes) +
                           " (truncated or corrupt file).");
    if (t.sizes.size() > 8)
        throw WeightsError(label + ": tensor '" + name + "' has " + std::to_string(t.sizes.size()) +
                           " dimensions; a ResNet weight has at most 4.");
    // Saturating arithmetic: a hostile shape cannot wrap around into a small number.
    uint64_t numel = 1;
    uint64_t last = static_cast<uint64_t>(t.offset);
    for (size_t d = 0; d < t.sizes.size(); ++d) {
        const auto n = static_cast<uint64_t>(t.sizes[d]);
        numel = saturatingMul(numel, n);
        if (n > 0)
            last = saturatingAdd(last, saturatingMul(n - 1, static_cast<uint64_t>(t.strides[d])));
    }
    if (numel > storageNumel || (numel > 0 && last >= storageNumel))
        throw WeightsError(label + ": tensor '" + name + "' of shape " + shapeToString(t.sizes) +
                           " reaches past the end of its storage of " +
                           std::to_string(storageNumel) + " elements (corrupt file).");
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
// checkpoint dict wrapping it under a usual key.
const PyObject& findStateDict(const PyRef& root, const std::string& label) {
    if (root->type == PyObject::Type::Dict) {
        for (size_t i = 1; i < root->items.size(); i += 2)
            if (root->items[i]->type == PyObject::Type::Tensor) return *root;
        for (const char* key : {"state_dict", "model_state_dict", "model", "net"}) {
            const PyRef* inner = root->dictGet(key);
            if (inner && (*inner)->type == PyObject::Type::Dict)
                return findStateDict(*inner, label);
        }
    }
    throw WeightsError(label +
                       ": the file holds no state dict (no tensors at its top level). "
                       "Save the model with torch.save(model.state_dict(), path).");
}

// Walks the state dict and materialises each tensor from `storageBytes(key)`.
WeightSet collect(const PyObject& dict, const std::string& label,
                  const std::function<std::vector<uint8_t>(const std::string& key)>& storageBytes) {
    WeightSet w;
    w.file = label;
    bool allPrefixed = true;
    for (size_t i = 0; i + 1 < dict.items.size(); i += 2) {
        const PyObject& key = *dict.items[i];
        const PyObject& value = *dict.items[i + 1];
        if (key.type != PyObject::Type::String || value.type != PyObject::Type::Tensor) continue;
        if (!converterFor(value.storage->dtype)) {
            w.nonFloat[key.s] = value.storage->dtype;
            continue;
        }
        const std::vector<uint8_t> bytes = storageBytes(value.storage->storageKey);
        w.tensors[key.s] = materialize(value, bytes.data(), bytes.size(), label, key.s);
        allPrefixed = allPrefixed && key.s.rfind("module.", 0) == 0;
    }
    if (allPrefixed && !w.tensors.empty()) {  // saved from nn.DataParallel
        std::map<std::string, Tensor> stripped;
        for (auto& [name, t] : w.tensors) stripped[name.substr(7)] = std::move(t);
        w.tensors = std::move(stripped);
    }
    return w;
}

WeightSet readZipPth(const std::vector<uint8_t>& bytes, const std::string& label) {
    ZipArchive zip(label, bytes);
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
    const std::vector<uint8_t> pickle = zip.read(*pkl);
    const Unpickled root = unpickle(pickle.data(), pickle.size(), label);
    WeightSet w = collect(findStateDict(root.root, label), label, [&](const std::string& key) {
        const ZipArchive::Entry* e = zip.find(prefix + "data/" + key);
        if (!e)
            throw WeightsError(label + ": storage '" + prefix + "data/" + key +
                               "' is missing from the archive (truncated or corrupt file).");
        return zip.read(*e);
    });
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

WeightSet readLegacyPth(const std::vector<uint8_t>& bytes, const std::string& label) {
    size_t pos = 0;
    auto next = [&]() {
        size_t used = 0;
        Unpickled o = unpickle(bytes.data() + pos, bytes.size() - pos, label, &used);
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
        if (bytes.size() - pos < 8)
            throw WeightsError(label + ": the file ends before storage '" + key->s +
                               "' (truncated).");
        uint64_t count = 0;
        std::memcpy(&count, bytes.data() + pos, 8);
        pos += 8;
        if (count > (bytes.size() - pos) / elem)
            throw WeightsError(label + ": storage '" + key->s +
                               "' runs past the end of the file (truncated).");
        where[key->s] = {pos, count * elem};
        pos += count * elem;
    }
    WeightSet w = collect(findStateDict(root, label), label, [&](const std::string& key) {
        auto it = where.find(key);
        if (it == where.end())
            throw WeightsError(label + ": storage '" + key +
                               "' is missing (truncated or corrupt file).");
        const uint8_t* at = bytes.data() + it->second.first;
        return std::vector<uint8_t>(at, at + it->second.second);
    });
    w.format = "PyTorch state dict (legacy format)";
    return w;
}

}  // namespace

bool looksLikeLegacyPth(const std::vector<uint8_t>& bytes) {
    // \x80\x02 (PROTO 2), \x8a\x0a (LONG1, 10 bytes), magic
    return bytes.size() > 14 && bytes[0] == 0x80 && bytes[2] == 0x8a && bytes[3] == 10 &&
           std::memcmp(bytes.data() + 4, kLegacyMagic, sizeof kLegacyMagic) == 0;
}

WeightSet readPth(const std::vector<uint8_t>& bytes, const std::string& label) {
    if (ZipArchive::looksLikeZip(bytes)) return readZipPth(bytes, label);
    if (looksLikeLegacyPth(bytes)) return readLegacyPth(bytes, label);
    throw WeightsError(label +
                       ": not a PyTorch file (neither a torch.save zip archive nor the "
                       "legacy format).");
}

}  // namespace r18
