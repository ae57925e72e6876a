// NumPy .npy files (version 1.0, little-endian, C order): float32 out, float32/float64/int64 in.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/files.h"
#include "core/tensor.h"

namespace r18 {

// Writes a float32 array. Throws Error naming the file if it cannot be written (the stream is
// checked after closing, so a full disk is an error).
void writeNpy(const std::string& path, const Tensor& tensor);

// A float32 array written slice by slice along its first axis, so that memory does not grow with
// the number of slices (classify --save-tap over a folder). The header is written first with room
// for any count and rewritten with the final count by close(). The slices go to a temporary file
// beside the target (AtomicFile), which close() renames over it: until then, and if the writer is
// destroyed without close() or the process is killed, the target is the file it was before.
// Every method throws Error naming the file.
class NpyWriter {
public:
    // Starts writing `path` (replaced by close()) for slices of shape `sliceDims` (e.g. {C, H, W}).
    NpyWriter(std::string path, std::vector<int64_t> sliceDims);
    ~NpyWriter();
    NpyWriter(const NpyWriter&) = delete;
    NpyWriter& operator=(const NpyWriter&) = delete;

    // Appends `slices` slices of sliceDims' size from `data`.
    void append(const float* data, int64_t slices);
    // Writes the header with the count, flushes and renames over the target; checks every step.
    void close();
    int64_t count() const { return m_count; }
    const std::string& path() const { return m_path; }

private:
    std::string header(int64_t count) const;

    std::string m_path;
    std::vector<int64_t> m_sliceDims;
    int64_t m_sliceSize = 1;
    int64_t m_count = 0;
    size_t m_headerSize = 0;
    std::unique_ptr<AtomicFile> m_out;
};

// Reads a float32, float64 or int64 array as float32. Throws Error naming the file.
Tensor readNpy(const std::string& path);

}  // namespace r18
