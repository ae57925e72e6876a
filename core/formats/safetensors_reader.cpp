#include "core/formats/safetensors_reader.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <set>

#include "core/error.h"
#include "core/formats/limits.h"

namespace r18 {
namespace {

using Json = nlohmann::json;

struct DtypeInfo {
    const char* name;  // safetensors' spelling
    int bytes;
    const char* torchName;  // as TensorFile::nonFloat and the messages name it
    bool isFloat;
};

// Every dtype of the safetensors spec; the float ones are converted.
constexpr DtypeInfo kDtypes[] = {
    {"F64", 8, "float64", true},
    {"F32", 4, "float32", true},
    {"F16", 2, "float16", true},
    {"BF16", 2, "bfloat16", true},
    {"I64", 8, "int64", false},
    {"U64", 8, "uint64", false},
    {"I32", 4, "int32", false},
    {"U32", 4, "uint32", false},
    {"I16", 2, "int16", false},
    {"U16", 2, "uint16", false},
    {"I8", 1, "int8", false},
    {"U8", 1, "uint8", false},
    {"BOOL", 1, "bool", false},
    {"F8_E4M3", 1, "float8_e4m3fn", false},
    {"F8_E5M2", 1, "float8_e5m2", false},
};

const DtypeInfo* dtypeInfo(const std::string& name) {
    for (const DtypeInfo& d : kDtypes)
        if (name == d.name) return &d;
    return nullptr;
}

uint64_t readLe64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return v;
}

float toFloat(const uint8_t* p, const std::string& dtype) {
    if (dtype == "F32") {
        float v = 0.0F;
        std::memcpy(&v, p, 4);
        return v;
    }
    if (dtype == "F64") {
        double v = 0.0;
        std::memcpy(&v, p, 8);
        return static_cast<float>(v);
    }
    const uint16_t half = static_cast<uint16_t>(p[0] | (p[1] << 8));
    if (dtype == "F16") return halfToFloat(half);
    const uint32_t bits = static_cast<uint32_t>(half) << 16;  // BF16
    float v = 0.0F;
    std::memcpy(&v, &bits, 4);
    return v;
}

struct Entry {
    std::string name;
    const DtypeInfo* dtype = nullptr;
    std::vector<int64_t> shape;
    uint64_t begin = 0;
    uint64_t end = 0;
};

class Reader {
public:
    Reader(const uint8_t* data, size_t size, const std::string& label)
        : m_data(data), m_size(size), m_label(label) {}

    TensorFile read() {
        if (m_size < 8) fail("the file is shorter than a safetensors header length (8 bytes).");
        const uint64_t headerSize = readLe64(m_data);
        if (headerSize > kMaxSafetensorsHeader)
            fail("the header claims " + std::to_string(headerSize) +
                 " bytes, more than the 100 MB safetensors allows.");
        if (headerSize > m_size - 8)
            fail("the header claims " + std::to_string(headerSize) + " bytes but only " +
                 std::to_string(m_size - 8) + " follow (truncated file).");
        const char* header = reinterpret_cast<const char*>(m_data + 8);
        std::vector<Entry> entries = parseHeader(header, static_cast<size_t>(headerSize));
        checkCoverage(entries, m_size - 8 - headerSize);
        return materialize(entries, m_data + 8 + headerSize);
    }

private:
    [[noreturn]] void fail(const std::string& problem) const {
        throw WeightsError(m_label + ": safetensors file: " + problem);
    }

    std::vector<Entry> parseHeader(const char* header, size_t size) {
        // Duplicate names are refused while parsing: a JSON library would keep only the last.
        std::set<std::string> seen;
        std::string duplicate;
        const Json::parser_callback_t noDuplicates = [&](int depth, Json::parse_event_t event,
                                                         Json& parsed) {
            if (depth == 1 && event == Json::parse_event_t::key && duplicate.empty() &&
                !seen.insert(parsed.get<std::string>()).second)
                duplicate = parsed.get<std::string>();
            return true;
        };
        Json root;
        try {
            root = Json::parse(header, header + size, noDuplicates);
        } catch (const Json::exception& e) {
            fail(std::string("the header is not valid JSON (") + e.what() + ").");
        }
        if (!duplicate.empty()) fail("the header names tensor '" + duplicate + "' twice.");
        if (!root.is_object()) fail("the header is not a JSON object.");
        std::vector<Entry> entries;
        for (const auto& [name, value] : root.items()) {
            if (name == "__metadata__") {
                if (!value.is_object()) fail("'__metadata__' is not a map of strings.");
                for (const auto& [key, text] : value.items())
                    if (!text.is_string())
                        fail("'__metadata__' entry '" + key + "' is not a string.");
                continue;
            }
            entries.push_back(parseEntry(name, value));
        }
        return entries;
    }

    Entry parseEntry(const std::string& name, const Json& value) {
        if (!value.is_object()) fail("tensor '" + name + "' is not described by a JSON object.");
        const auto dtype = value.find("dtype");
        const auto shape = value.find("shape");
        const auto offsets = value.find("data_offsets");
        if (dtype == value.end() || !dtype->is_string() || shape == value.end() ||
            !shape->is_array() || offsets == value.end() || !offsets->is_array() ||
            offsets->size() != 2)
            fail("tensor '" + name + "' lacks a dtype, shape or [begin, end] data_offsets.");
        Entry e;
        e.name = name;
        e.dtype = dtypeInfo(dtype->get<std::string>());
        if (!e.dtype)
            fail("tensor '" + name + "' has dtype '" + dtype->get<std::string>() +
                 "', which safetensors does not define.");
        if (shape->size() > 8)
            fail("tensor '" + name + "' has " + std::to_string(shape->size()) +
                 " dimensions; a ResNet weight has at most 4.");
        for (const Json& d : *shape) {
            if (!d.is_number_unsigned() || d.get<uint64_t>() > (uint64_t{1} << 40))
                fail("tensor '" + name + "' has a shape that is not a list of sizes.");
            e.shape.push_back(d.get<int64_t>());
        }
        for (const Json& o : *offsets)
            if (!o.is_number_unsigned())
                fail("tensor '" + name + "' has data_offsets that are not byte positions.");
        e.begin = (*offsets)[0].get<uint64_t>();
        e.end = (*offsets)[1].get<uint64_t>();
        if (e.end < e.begin)
            fail("tensor '" + name + "' ends (byte " + std::to_string(e.end) +
                 ") before it begins (byte " + std::to_string(e.begin) + ").");
        uint64_t bytes = static_cast<uint64_t>(e.dtype->bytes);
        for (const int64_t d : e.shape)
            if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes))
                fail("tensor '" + name + "' has a shape too large to address.");
        if (bytes != e.end - e.begin)
            fail("tensor '" + name + "' of dtype " + e.dtype->name + " and shape " +
                 shapeToString(e.shape) + " needs " + std::to_string(bytes) +
                 " bytes, but its data_offsets span " + std::to_string(e.end - e.begin) + ".");
        return e;
    }

    // The reference implementation's rule: sorted by offset, the tensors tile the data exactly.
    void checkCoverage(std::vector<Entry>& entries, uint64_t dataSize) {
        std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
            return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
        });
        uint64_t at = 0;
        for (const Entry& e : entries) {
            if (e.begin < at)
                fail("tensor '" + e.name + "' (bytes " + std::to_string(e.begin) + ".." +
                     std::to_string(e.end) + ") overlaps the tensor before it.");
            if (e.begin > at)
                fail("bytes " + std::to_string(at) + ".." + std::to_string(e.begin) +
                     " before tensor '" + e.name + "' belong to no tensor.");
            if (e.end > dataSize)
                fail("tensor '" + e.name + "' (bytes " + std::to_string(e.begin) + ".." +
                     std::to_string(e.end) + ") reaches past the end of the data (" +
                     std::to_string(dataSize) + " bytes; truncated file?).");
            at = e.end;
        }
        if (at != dataSize)
            fail("the last " + std::to_string(dataSize - at) +
                 " bytes of the file belong to no tensor.");
    }

    TensorFile materialize(const std::vector<Entry>& entries, const uint8_t* data) const {
        // Bounded by the largest model the app runs, not by what the file declares.
        if (entries.size() > limits::kMaxTensors)
            fail("the file holds " + std::to_string(entries.size()) +
                 " tensors, far more than any ResNet18/34 checkpoint.");
        uint64_t values = 0;
        for (const Entry& e : entries)
            if (e.dtype->isFloat)
                values += (e.end - e.begin) / static_cast<uint64_t>(e.dtype->bytes);
        if (values > limits::kMaxWeightElements)
            fail("the file holds " + std::to_string(values) +
                 " floating-point values, far more than any ResNet18/34 needs.");
        TensorFile w;
        w.file = m_label;
        w.format = "safetensors";
        for (const Entry& e : entries) {
            if (!e.dtype->isFloat) {
                w.nonFloat[e.name] = e.dtype->torchName;
                continue;
            }
            Tensor t(e.shape);
            const uint8_t* src = data + e.begin;
            const std::string dtype = e.dtype->name;
            if (dtype == "F32") {
                if (!t.data.empty()) std::memcpy(t.ptr(), src, t.data.size() * 4);
            } else {
                const auto step = static_cast<size_t>(e.dtype->bytes);
                for (size_t i = 0; i < t.data.size(); ++i)
                    t.data[i] = toFloat(src + i * step, dtype);
            }
            w.tensors[e.name] = std::move(t);
        }
        return w;
    }

    const uint8_t* m_data;
    size_t m_size;
    const std::string& m_label;
};

}  // namespace

bool looksLikeSafetensors(const uint8_t* data, size_t size) {
    // A plausible header length (below 2^40) and the JSON's opening brace right after it.
    // Neither a zip, a legacy .pth (0x80) nor an ONNX protobuf (0x08 ...) looks like this.
    return size >= 9 && data[8] == '{' && data[5] == 0 && data[6] == 0 && data[7] == 0;
}

TensorFile readSafetensors(const uint8_t* data, size_t size, const std::string& label) {
    return Reader(data, size, label).read();
}

}  // namespace r18
