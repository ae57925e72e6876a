#include "core/model/labels.h"

#include <cctype>
#include <fstream>
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

void appendUtf8(std::string& s, uint32_t cp) {
    if (cp < 0x80) {
        s += static_cast<char>(cp);
    } else if (cp < 0x800) {
        s += static_cast<char>(0xC0 | (cp >> 6));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        s += static_cast<char>(0xE0 | (cp >> 12));
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        s += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// A JSON array of strings: ["tench", "goldfish", ...].
std::vector<std::string> parseJsonList(const std::string& text, const std::string& path) {
    auto fail = [&](const std::string& why) -> void {
        throw Error(path + ": not a JSON list of label strings (" + why + ").");
    };
    std::vector<std::string> out;
    size_t i = text.find('[');
    if (i == std::string::npos) fail("no '['");
    ++i;
    for (;;) {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        if (i >= text.size()) fail("it ends early");
        if (text[i] == ']') break;
        if (text[i] != '"') fail("an item is not a string");
        std::string s;
        for (++i; i < text.size() && text[i] != '"'; ++i) {
            if (text[i] != '\\') {
                s += text[i];
                continue;
            }
            if (++i >= text.size()) fail("it ends inside a string");
            const char e = text[i];
            if (e == 'u' && i + 4 < text.size()) {
                appendUtf8(s,
                           static_cast<uint32_t>(std::stoul(text.substr(i + 1, 4), nullptr, 16)));
                i += 4;
            } else {
                s += e == 'n' ? '\n' : e == 't' ? '\t' : e;
            }
        }
        if (i >= text.size()) fail("it ends inside a string");
        out.push_back(s);
        ++i;
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        if (i < text.size() && text[i] == ',') ++i;
    }
    return out;
}

}  // namespace

Labels Labels::imagenet() {
    static const Labels labels(splitLines(kImagenetLabelsText));
    return labels;
}

Labels Labels::fromFile(const std::string& path) {
    const std::vector<uint8_t> bytes =
        readRegularFileOrThrow<Error>(path, "labels file", kMaxBytes);
    const std::string text(bytes.begin(), bytes.end());
    const size_t first = text.find_first_not_of(" \t\r\n");
    std::vector<std::string> names = (first != std::string::npos && text[first] == '[')
                                         ? parseJsonList(text, path)
                                         : splitLines(text);
    if (names.empty()) throw Error(path + ": the labels file holds no labels.");
    return Labels(std::move(names));
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
