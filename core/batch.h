// Classifying many files: finding the images in a folder, classifying one file into a row
// (or an error naming it), and writing rows as CSV or JSON. Shared by `classify --csv` and the
// window's folder table.
#pragma once

#include <string>
#include <vector>

#include "core/model/predictions.h"
#include "core/pipeline.h"

namespace r18 {

// Image files (by extension) under `dir`, recursively if asked, sorted by path.
// Throws ImageError if `dir` is not a readable folder.
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
// A JSON array of {"file", "top": [{"index", "label", "probability"}], "error", "ms"}.
std::string toJson(const std::vector<BatchRow>& rows);

// Writes text to a file; throws Error naming the file if it cannot.
void writeText(const std::string& path, const std::string& text);

}  // namespace r18
