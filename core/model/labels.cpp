#include "core/model/labels.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "core/files.h"

namespace r18 {

extern const char* const kImagenetLabelsText;  // generated from resources/imagenet_classes.txt

namespace {

constexpr uint64_t kMaxBytes = uint64_t{16} << 20;  // 100,000 classes of long names fit

std::vector<std::string> splitLines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(line);
    }
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    return lines;
}

// Where `s` stops being UTF-8 (overlong forms, surrogates and code points past U+10FFFF
// included), or npos if it is valid throughout.
size_t invalidUtf8At(const std::string& s) {
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        size_t len = 0;
        uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return i;
        }
        if (i + len > s.size()) return i;
        for (size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return i;
        i += len;
    }
    return std::string::npos;
}

// A JSON list of strings (["tench", "goldfish", ...]) or Keras' class index ({"0":
// ["n01440764", "tench"], ...}), parsed by nlohmann-json (escapes, surrogate pairs, UTF-8
// checks); nesting deeper than those is refused while parsing.
Labels parseJson(const std::string& text, const std::string& path) {
    using nlohmann::json;
    auto fail = [&](const std::string& why) {
        return Error(path +
                     ": not a JSON list of label strings, nor an ImageNet class index "
                     "{\"0\": [\"n01440764\", \"tench\"], ...} (" +
                     why + ").");
    };
    json doc;
    try {
        doc = json::parse(text, [&](int depth, json::parse_event_t event, json&) {
            if (depth > 2 && event != json::parse_event_t::array_end &&
                event != json::parse_event_t::object_end)
                throw fail("it nests deeper than that");
            return true;
        });
    } catch (const json::exception& e) {
        std::string why = e.what();
        if (const size_t at = why.find("] ");
            why.rfind("[json.exception", 0) == 0 && at != std::string::npos)
            why = why.substr(at + 2);  // drop nlohmann's "[json.exception.parse_error.101] "
        throw fail(why);
    }
    std::vector<std::string> names, ids;
    if (doc.is_array()) {
        names.reserve(doc.size());
        for (const json& item : doc) {
            if (!item.is_string()) throw fail("an item is not a string");
            names.push_back(item.get<std::string>());
        }
        return Labels(std::move(names));
    }
    if (!doc.is_object()) throw fail("it is neither a list nor an object");
    names.resize(doc.size());
    ids.resize(doc.size());
    std::vector<bool> seen(doc.size(), false);
    for (const auto& [key, value] : doc.items()) {
        size_t index = 0;
        const bool number = !key.empty() && key.size() < 10 &&
                            key.find_first_not_of("0123456789") == std::string::npos;
        if (number) index = std::stoul(key);
        if (!number || index >= doc.size() || seen[index])
            throw fail("the key \"" + key + "\" is not a class index from 0 to " +
                       std::to_string(doc.size() - 1));
        seen[index] = true;
        if (value.is_string()) {
            names[index] = value.get<std::string>();
        } else if (value.is_array() && value.size() == 2 && value[0].is_string() &&
                   value[1].is_string()) {
            ids[index] = value[0].get<std::string>();
            names[index] = value[1].get<std::string>();
        } else {
            throw fail("class " + key + " is not [\"wordnet id\", \"name\"]");
        }
    }
    const bool anyId = std::any_of(ids.begin(), ids.end(), [](auto& i) { return !i.empty(); });
    return Labels(std::move(names), anyId ? std::move(ids) : std::vector<std::string>{});
}

// "n01440764 tench, Tinca tinca" on every line: ImageNet's LOC_synset_mapping.txt.
bool isSynsetLine(const std::string& line) {
    if (line.size() < 11 || line[0] != 'n' || line[9] != ' ') return false;
    return std::all_of(line.begin() + 1, line.begin() + 9,
                       [](char c) { return c >= '0' && c <= '9'; });
}

Labels fromLines(std::vector<std::string> lines) {
    if (lines.empty() || !std::all_of(lines.begin(), lines.end(), isSynsetLine))
        return Labels(std::move(lines));
    std::vector<std::string> names, ids;
    for (const std::string& line : lines) {
        ids.push_back(line.substr(0, 9));
        const std::string synonyms = line.substr(10);
        names.push_back(synonyms.substr(0, synonyms.find(", ")));  // the first name
    }
    return Labels(std::move(names), std::move(ids));
}

}  // namespace

Labels Labels::imagenet() {
    static const Labels labels(splitLines(kImagenetLabelsText));
    return labels;
}

namespace {

Labels readLabelsFile(const std::string& path) {
    const std::vector<uint8_t> bytes =
        readRegularFileOrThrow<Error>(path, "labels file", kMaxBytes);
    std::string text(bytes.begin(), bytes.end());
    if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // a UTF-8 byte-order mark
    // Labels end up in JSON and on screen: they must be UTF-8. A file that is not is refused
    // (rather than passing its bytes on or guessing an encoding).
    if (const size_t bad = invalidUtf8At(text); bad != std::string::npos) {
        const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<long>(bad), '\n');
        throw Error(path + ": line " + std::to_string(line) +
                    " is not valid UTF-8; save the labels file as UTF-8.");
    }
    const size_t first = text.find_first_not_of(" \t\r\n");
    const bool json = (first != std::string::npos && (text[first] == '[' || text[first] == '{')) ||
                      (path.size() > 5 && path.compare(path.size() - 5, 5, ".json") == 0);
    Labels labels = json ? parseJson(text, path) : fromLines(splitLines(text));
    if (labels.empty()) throw Error(path + ": the labels file holds no labels.");
    return labels;
}

}  // namespace

Labels Labels::fromFile(const std::string& path) {
    return rethrowAsError<Error>(path, [&] { return readLabelsFile(path); });
}

std::string Labels::fileBesideWeights(const std::string& weightsPath) {
    const size_t slash = weightsPath.find_last_of('/');
    const size_t dot = weightsPath.find_last_of('.');
    const std::string stem =
        (dot != std::string::npos && (slash == std::string::npos || dot > slash))
            ? weightsPath.substr(0, dot)
            : weightsPath;
    for (const char* suffix : {".labels.txt", ".labels.json"}) {
        const std::string candidate = stem + suffix;
        // Anything there counts (a FIFO too, so that fromFile() can say what it is); nothing
        // is opened here.
        if (fileKind(candidate) != FileKind::Missing) return candidate;
    }
    return {};
}

std::string Labels::id(int64_t index) const {
    if (index >= 0 && static_cast<size_t>(index) < m_ids.size())
        return m_ids[static_cast<size_t>(index)];
    return {};
}

std::string Labels::name(int64_t index) const {
    if (index >= 0 && static_cast<size_t>(index) < m_names.size())
        return m_names[static_cast<size_t>(index)];
    return "class " + std::to_string(index);
}

}  // namespace r18
