// Files a user names (images, weights, labels, calibration images, folders, outputs), opened
// in one place with the same care everywhere:
// - Anything that is not a regular file (a FIFO, a device, a socket) is refused before it is
//   opened, with a message saying what it is: open() cannot block on a pipe, a read cannot run
//   forever on /dev/zero, and no device sees an open() nobody meant. What was opened is
//   checked again with fstat(), in case the path changed in between.
// - Reads are capped: a file larger than its reader can use is refused before it is read.
// - Writes are checked after flushing and closing, so a full disk (or /dev/full) is an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace r18 {

enum class FileKind { Missing, Regular, Folder, Fifo, CharDevice, BlockDevice, Socket, Other };

// What `path` names, following symbolic links, from stat() alone (nothing is opened). For
// Missing, *error (if given) receives stat()'s errno.
FileKind fileKind(const std::string& path, int* error = nullptr);

// "a named pipe (FIFO)", "a character device", "a folder", ...
std::string describeKind(FileKind kind);

// Empty if `path` is a regular file; otherwise the finished sentence saying why it cannot be
// read as a `noun` ("image file", "weights file", "labels file"), e.g.
// "x.png: is a named pipe (FIFO), not an image file; it was not opened."
std::string regularFileProblem(const std::string& path, const std::string& noun);
// The same for a folder: empty if `path` is one.
std::string folderProblem(const std::string& path);

// Reads a whole regular file of at most maxBytes. Returns false with `problem` set (a finished
// sentence naming the path) for anything else: missing, not a regular file, too large,
// unreadable.
bool readRegularFile(const std::string& path, const std::string& noun, uint64_t maxBytes,
                     std::vector<uint8_t>& bytes, std::string& problem);

// The same, throwing E (an r18::Error subclass) with that sentence.
template <class E>
std::vector<uint8_t> readRegularFileOrThrow(const std::string& path, const std::string& noun,
                                            uint64_t maxBytes) {
    std::vector<uint8_t> bytes;
    std::string problem;
    if (!readRegularFile(path, noun, maxBytes, bytes, problem)) throw E(problem);
    return bytes;
}

// A read-only memory map of a regular file: only the pages a reader touches become resident,
// so reading a weights file costs what the reader reads, not the file's size. Move-only.
class MappedFile {
public:
    MappedFile() = default;
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    // Same refusals as readRegularFile. An empty file maps to data() == nullptr, size() == 0.
    static bool map(const std::string& path, const std::string& noun, uint64_t maxBytes,
                    MappedFile& file, std::string& problem);

    const uint8_t* data() const { return m_data; }
    size_t size() const { return m_size; }
    // Tells the kernel the pages of [offset, offset+length) will not be needed again, so they
    // stop counting as this process's memory (a whole-file hash reads each page once).
    void release(size_t offset, size_t length) const;

private:
    uint8_t* m_data = nullptr;
    size_t m_size = 0;
};

// Writes `size` bytes to `path` (created or truncated) and checks every step, including the
// flush and the close, so that a full disk is reported. Throws Error naming the path.
void writeFileChecked(const std::string& path, const void* data, size_t size);
inline void writeFileChecked(const std::string& path, const std::string& text) {
    writeFileChecked(path, text.data(), text.size());
}

}  // namespace r18
