#include "core/batch.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/files.h"
#include "core/media/image_io.h"

namespace r18 {
namespace {

std::string csvField(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

std::string number(double v, int digits) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

}  // namespace

std::vector<std::string> findImages(const std::string& dir, bool recursive) {
    namespace fs = std::filesystem;
    if (const std::string problem = folderProblem(dir); !problem.empty()) throw ImageError(problem);
    // Each real directory (device, inode) is visited once, however many links lead to it, so a
    // link to a parent cannot loop or multiply the images. Directories reached without passing
    // a symbolic link are walked first, so an image is named by its real path when it has one.
    std::set<std::pair<dev_t, ino_t>> visited;
    std::vector<fs::path> real{fs::path(dir)};
    std::deque<fs::path> linked;
    std::vector<std::string> files;
    while (!real.empty() || !linked.empty()) {
        fs::path folder;
        if (!real.empty()) {
            folder = std::move(real.back());
            real.pop_back();
        } else {
            folder = std::move(linked.front());
            linked.pop_front();
        }
        struct stat st {};
        if (stat(folder.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
            !visited.emplace(st.st_dev, st.st_ino).second)
            continue;
        std::error_code error;
        fs::directory_iterator it(folder, fs::directory_options::skip_permission_denied, error);
        for (; !error && it != fs::directory_iterator(); it.increment(error)) {
            const fs::directory_entry& entry = *it;
            std::error_code statError;
            const fs::file_status target = entry.status(statError);  // through links
            if (fs::is_directory(target)) {
                if (!recursive) continue;
                (entry.is_symlink(statError) ? linked.push_back(entry.path())
                                             : real.push_back(entry.path()));
            } else if (fs::is_regular_file(target) &&
                       hasImageSuffix(entry.path().filename().string())) {
                files.push_back(entry.path().string());
            }
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

BatchRow classifyRow(Pipeline& pipeline, const std::string& path, int top) {
    BatchRow row;
    row.file = path;
    try {
        RunRequest request;
        request.topK = top;
        const Classification c = pipeline.classifyFile(path, request);
        row.top = c.top;
        row.ms = c.decodeMs + c.preprocessMs + c.networkMs;
    } catch (const Error& e) {
        row.error = e.what();
    }
    return row;
}

std::string toCsv(const std::vector<BatchRow>& rows) {
    std::ostringstream out;
    out << "file,top1_index,top1_label,top1_probability,top5,error\n";
    for (const BatchRow& r : rows) {
        std::string top5;
        for (const Prediction& p : r.top)
            top5 += (top5.empty() ? "" : " | ") + std::to_string(p.index) + ":" + p.label + ":" +
                    number(p.probability, 6);
        out << csvField(r.file) << ',';
        if (r.top.empty())
            out << ",,";
        else
            out << r.top[0].index << ',' << csvField(r.top[0].label) << ','
                << number(r.top[0].probability, 6);
        out << ',' << csvField(top5) << ',' << csvField(r.error) << '\n';
    }
    return out.str();
}

std::string toJson(const std::vector<BatchRow>& rows) {
    using nlohmann::ordered_json;
    // Six decimals for probabilities and three for milliseconds, as the CSV has them.
    auto rounded = [](double v, double scale) { return std::round(v * scale) / scale; };
    std::string out = "[";
    for (size_t i = 0; i < rows.size(); ++i) {
        const BatchRow& r = rows[i];
        ordered_json row;
        row["file"] = r.file;
        row["top"] = ordered_json::array();
        for (const Prediction& p : r.top) {
            ordered_json entry = {{"index", p.index}, {"label", p.label}};
            if (!p.wordnetId.empty()) entry["wordnet_id"] = p.wordnetId;
            entry["probability"] = rounded(p.probability, 1e6);
            row["top"].push_back(std::move(entry));
        }
        if (!r.error.empty()) row["error"] = r.error;
        row["ms"] = rounded(r.ms, 1e3);
        // File names are bytes; JSON is UTF-8: bytes that are not become U+FFFD here.
        out +=
            (i ? ",\n " : "\n ") + row.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
    }
    out += rows.empty() ? "]\n" : "\n]\n";
    return out;
}

void writeText(const std::string& path, const std::string& text) {
    writeFileChecked(path, text);
}

}  // namespace r18
