#include "core/batch.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/media/image_io.h"

namespace r18 {
namespace {

void scan(const std::string& dir, bool recursive, std::vector<std::string>& out, int depth) {
    DIR* d = opendir(dir.c_str());
    if (!d) return;
    while (dirent* e = readdir(d)) {
        const std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        const std::string path = dir + "/" + name;
        struct stat st {};
        if (stat(path.c_str(), &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            if (recursive && depth < 32) scan(path, recursive, out, depth + 1);
        } else if (S_ISREG(st.st_mode) && hasImageSuffix(name)) {
            out.push_back(path);
        }
    }
    closedir(d);
}

std::string csvField(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

std::string jsonString(const std::string& s) {
    std::string out = "\"";
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

std::string number(double v, int digits) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

}  // namespace

std::vector<std::string> findImages(const std::string& dir, bool recursive) {
    struct stat st {};
    if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw ImageError(dir + ": not a folder that can be read.");
    std::vector<std::string> files;
    scan(dir, recursive, files, 0);
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
    std::ostringstream out;
    out << "[";
    for (size_t i = 0; i < rows.size(); ++i) {
        const BatchRow& r = rows[i];
        out << (i ? ",\n " : "\n ") << "{\"file\": " << jsonString(r.file) << ", \"top\": [";
        for (size_t k = 0; k < r.top.size(); ++k)
            out << (k ? ", " : "") << "{\"index\": " << r.top[k].index
                << ", \"label\": " << jsonString(r.top[k].label)
                << ", \"probability\": " << number(r.top[k].probability, 6) << "}";
        out << "]";
        if (!r.error.empty()) out << ", \"error\": " << jsonString(r.error);
        out << ", \"ms\": " << number(r.ms, 3) << "}";
    }
    out << (rows.empty() ? "]\n" : "\n]\n");
    return out.str();
}

void writeText(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary);
    if (!f) throw Error(path + ": cannot create the file.");
    f << text;
    if (!f) throw Error(path + ": writing the file failed.");
}

}  // namespace r18
