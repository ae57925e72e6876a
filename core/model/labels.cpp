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

// A JSON array of strings: ["tench", "goldfish", ...], parsed by nlohmann-json (escapes,
// surrogate pairs, UTF-8 checks); nesting deeper than the list itself is refused while parsing.
std::vector<std::string> parseJsonList(const std::string& text, const std::string& path) {
    using nlohmann::json;
    auto fail = [&](const std::string& why) {
        return Error(path + ": not a JSON list of label strings (" + why + ").");
    };
    json list;
    try {
        list = json::parse(text, [&](int depth, json::parse_event_t event, json&) {
            if (depth > 1 && event != json::parse_event_t::array_end &&
                event != json::parse_event_t::object_end)
                throw fail("an item is not a string");
            return true;
        });
    } catch (const json::exception& e) {
        std::string why = e.what();
        if (const size_t at = why.find("] ");
            why.rfind("[json.exception", 0) == 0 && at != std::string::npos)
            why = why.substr(at + 2);  // drop nlohmann's "[json.exception.parse_error.101] "
        throw fail(why);
    }
    if (!list.is_array()) throw fail("it is not a list");
    std::vector<std::string> out;
    out.reserve(list.size());
    for (const json& item : list) {
        if (!item.is_string()) throw fail("an item is not a string");
        out.push_back(item.get<std::string>());
    }
    return out;
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
    std::vector<std::string> names = json ? parseJsonList(text, path) : splitLines(text);
    if (names.empty()) throw Error(path + ": the labels file holds no labels.");
    return Labels(std::move(names));
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

std::string Labels::name(int64_t index) const {
    if (index >= 0 && static_cast<size_t>(index) < m_names.size())
        return m_names[static_cast<size_t>(index)];
    return "class " + std::to_string(index);
}

}  // namespace r18
