// Files a user names (images, weights, labels, calibration images, folders, outputs), opened
// in one place with the same care everywhere:
// - Anything that is not a regular file (a FIFO, a device, a socket) is refused before it is
//   opened, with a message saying what it is: open() cannot block on a pipe, a read cannot run
//   forever on /dev/zero, and no device sees an open() nobody meant. What was opened is
//   checked again with fstat(), in case the path changed in between.
// - Reads are capped: a file larger than its reader can use is refused before it is read.
// - Outputs are replaced whole or not at all (AtomicFile): bytes go to a temporary file beside
//   the target, which is flushed to disk and renamed over the target only when complete. A
//   crash, a failure or a kill -9 at any moment leaves the old file or the complete new one.
// - Every step of a write is checked, so a full disk (or /dev/full) is an error.
// - An output that is an input (outputOverInputProblem) is refused before anything is written.
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

// An output file replaced whole or not at all, the one way core, the verbs and the window write
// files. Bytes go to a temporary file in the target's folder (".NAME.XXXXXX.part", created with
// the permissions a new file gets, or the target's own); commit() flushes it to disk (fsync) and
// renames it over the target, an atomic step. Destroyed without commit() (an error, a cancel),
// the temporary file is removed and the target is as it was; a process killed mid-write leaves
// the target as it was and, at worst, the hidden temporary file beside it.
// - A target that is a symbolic link: the file it points to is replaced, the link stays.
// - A target that exists and is not a regular file (/dev/null, /dev/stdout, a FIFO) is written
//   in place: there is nothing to keep, and a device node must not be renamed over.
// - A folder as target, an unwritable folder: Error naming the path.
// Not thread-safe; move-only.
class AtomicFile {
public:
    // Creates the temporary file. Throws Error naming `path`.
    explicit AtomicFile(std::string path);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    // Appends at the end. Throws Error naming the target.
    void write(const void* data, size_t size);
    void write(const std::string& text) { write(text.data(), text.size()); }
    // Overwrites bytes at `offset` (a header written last). Throws Error naming the target, e.g.
    // when the target is a pipe that cannot seek.
    void writeAt(uint64_t offset, const void* data, size_t size);
    // Flushes, syncs, closes and renames over the target. Throws Error naming the target; the
    // target is then untouched (and the temporary file removed).
    void commit();

    const std::string& path() const { return m_path; }  // as given

private:
    void discard() noexcept;
    [[noreturn]] void fail(const std::string& what, int error);

    std::string m_path;    // as given, for messages
    std::string m_target;  // where the rename goes: the path, or the file a link points to
    std::string m_temp;    // empty when written in place
    int m_fd = -1;
};

// Writes `size` bytes to `path` whole or not at all (AtomicFile). Throws Error naming the path.
void writeFileChecked(const std::string& path, const void* data, size_t size);
inline void writeFileChecked(const std::string& path, const std::string& text) {
    writeFileChecked(path, text.data(), text.size());
}

// True if both paths exist and name the same file (after symbolic links, hard links included).
bool sameFile(const std::string& a, const std::string& b);

// A file a command reads or writes, with what it is for the message: {"--csv", "out.csv"},
// {"the image", "photo.jpg"}, {"the weights", "model.pth"}.
struct RoleAndPath {
    std::string role;
    std::string path;
};

// Empty if no output names an input (or another output); otherwise the finished sentence naming
// both, e.g. "--csv photo.jpg is the image photo.jpg: an output is never written over an input;
// choose another file name." Outputs that are devices (/dev/null) may repeat. Checked before any
// work starts, so a shell glob (`classify --csv *.jpg`) destroys nothing.
std::string outputOverInputProblem(const std::vector<RoleAndPath>& outputs,
                                   const std::vector<RoleAndPath>& inputs);

}  // namespace r18
