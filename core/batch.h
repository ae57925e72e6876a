// Classifying many files: finding the images in a folder, classifying one file into a row
// (or an error naming it), and writing rows as CSV or JSON. Shared by `classify --csv` and the
// window's folder table.
#pragma once

#include <string>
#include <vector>

#include "core/model/predictions.h"
#include "core/pipeline.h"

namespace r18 {

// Regular image files (by extension) under `dir`, recursively if asked, sorted by path. Walked
// with std::filesystem, visiting each real directory once: symbolic links that loop (to the
// folder itself, to a parent) add nothing, and an image reachable through a link and directly
// is listed once, by its real path. FIFOs and devices with image names are not listed.
// Throws ImageError if `dir` is not a folder that can be read.
std::vector<std::string> findImages(const std::string& dir, bool recursive = true);

struct BatchRow {
    std::string file;
    std::vector<Prediction> top;  // best first; empty when error is set
    std::string error;            // the reason the file could not be classified
    double ms = 0.0;              // decode + preprocess + network
};

// Decodes, preprocesses and classifies one file through a batch-1 pipeline. Never throws for a
// bad image: the row carries the error instead.
BatchRow classifyRow(Pipeline& pipeline, const std::string& path, int top = 5);

// CSV with a header: file, top1_index, top1_label, top1_probability, top5, error. top5 is
// "index:label:probability" joined by " | ". Fields are quoted as RFC 4180 wants.
std::string toCsv(const std::vector<BatchRow>& rows);
// A JSON array of {"file", "top": [{"index", "label", "probability"}], "error", "ms"}, one row
// per line, written by nlohmann-json; bytes of a file name that are not UTF-8 become U+FFFD.
std::string toJson(const std::vector<BatchRow>& rows);

// Writes text to a file, checked after flushing and closing (a full disk is an error); throws
// Error naming the file if it cannot.
void writeText(const std::string& path, const std::string& text);

}  // namespace r18
