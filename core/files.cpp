#include "core/files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace r18 {
namespace {

FileKind kindOf(mode_t mode) {
    if (S_ISREG(mode)) return FileKind::Regular;
    if (S_ISDIR(mode)) return FileKind::Folder;
    if (S_ISFIFO(mode)) return FileKind::Fifo;
    if (S_ISCHR(mode)) return FileKind::CharDevice;
    if (S_ISBLK(mode)) return FileKind::BlockDevice;
    if (S_ISSOCK(mode)) return FileKind::Socket;
    return FileKind::Other;
}

std::string withArticle(const std::string& noun) {
    const bool vowel = !noun.empty() && std::strchr("aeiou", noun[0]) != nullptr;
    return (vowel ? "an " : "a ") + noun;
}

std::string megabytes(uint64_t bytes) {
    return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MB";
}

// Opens a regular file for reading, or returns -1 with `problem` set. O_NONBLOCK: should the
// path have become a FIFO since it was checked, open() still returns at once, and the fstat()
// that follows refuses it.
int openRegular(const std::string& path, const std::string& noun, std::string& problem,
                struct stat& st) {
    problem = regularFileProblem(path, noun);
    if (!problem.empty()) return -1;
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        problem = path + ": cannot open the " + noun + " (" + std::strerror(errno) + ").";
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        problem = path + ": changed into something that is not " + withArticle(noun) +
                  " while being opened; it was not read.";
        return -1;
    }
    return fd;
}

std::string tooLarge(const std::string& path, const std::string& noun, uint64_t size,
                     uint64_t maxBytes) {
    return path + ": the file is " + megabytes(size) + "; " + noun + "s over " +
           megabytes(maxBytes) + " are refused.";
}

}  // namespace

FileKind fileKind(const std::string& path, int* error) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
        if (error) *error = errno;
        return FileKind::Missing;
    }
    return kindOf(st.st_mode);
}

std::string describeKind(FileKind kind) {
    switch (kind) {
        case FileKind::Missing: return "missing";
        case FileKind::Regular: return "a regular file";
        case FileKind::Folder: return "a folder";
        case FileKind::Fifo: return "a named pipe (FIFO)";
        case FileKind::CharDevice: return "a character device";
        case FileKind::BlockDevice: return "a block device";
        case FileKind::Socket: return "a socket";
        case FileKind::Other: return "not a regular file";
    }
    return "not a regular file";
}

std::string regularFileProblem(const std::string& path, const std::string& noun) {
    int error = 0;
    const FileKind kind = fileKind(path, &error);
    switch (kind) {
        case FileKind::Regular: return {};
        case FileKind::Missing:
            return path + ": cannot open the " + noun + " (" + std::strerror(error) + ").";
        case FileKind::Folder: return path + ": is a folder, not " + withArticle(noun) + ".";
        default:
            return path + ": is " + describeKind(kind) + ", not " + withArticle(noun) +
                   "; it was not opened.";
    }
}

std::string folderProblem(const std::string& path) {
    int error = 0;
    const FileKind kind = fileKind(path, &error);
    if (kind == FileKind::Folder) return {};
    if (kind == FileKind::Missing)
        return path + ": cannot open the folder (" + std::strerror(error) + ").";
    return path + ": is " + describeKind(kind) + ", not a folder.";
}

bool readRegularFile(const std::string& path, const std::string& noun, uint64_t maxBytes,
                     std::vector<uint8_t>& bytes, std::string& problem) {
    struct stat st {};
    const int fd = openRegular(path, noun, problem, st);
    if (fd < 0) return false;
    if (static_cast<uint64_t>(st.st_size) > maxBytes) {
        ::close(fd);
        problem = tooLarge(path, noun, static_cast<uint64_t>(st.st_size), maxBytes);
        return false;
    }
    // st_size is a hint (files in /proc say 0): read to the end, but never past the cap.
    bytes.assign(static_cast<size_t>(st.st_size), 0);
    size_t have = 0;
    for (;;) {
        if (have == bytes.size()) {
            if (have > maxBytes) break;
            bytes.resize(static_cast<size_t>(
                std::min<uint64_t>(std::max<uint64_t>(uint64_t{have} * 2, 4096), maxBytes + 1)));
        }
        const ssize_t n = ::read(fd, bytes.data() + have, bytes.size() - have);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            problem = path + ": reading the " + noun + " failed (" + std::strerror(errno) + ").";
            ::close(fd);
            return false;
        }
        if (n == 0) break;
        have += static_cast<size_t>(n);
    }
    ::close(fd);
    if (have > maxBytes) {
        problem = tooLarge(path, noun, have, maxBytes);
        return false;
    }
    bytes.resize(have);
    return true;
}

MappedFile::MappedFile(MappedFile&& other) noexcept : m_data(other.m_data), m_size(other.m_size) {
    other.m_data = nullptr;
    other.m_size = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        if (m_data) munmap(m_data, m_size);
        m_data = other.m_data;
        m_size = other.m_size;
        other.m_data = nullptr;
        other.m_size = 0;
    }
    return *this;
}

MappedFile::~MappedFile() {
    if (m_data) munmap(m_data, m_size);
}

bool MappedFile::map(const std::string& path, const std::string& noun, uint64_t maxBytes,
                     MappedFile& file, std::string& problem) {
    struct stat st {};
    const int fd = openRegular(path, noun, problem, st);
    if (fd < 0) return false;
    const auto size = static_cast<uint64_t>(st.st_size);
    if (size > maxBytes) {
        ::close(fd);
        problem = tooLarge(path, noun, size, maxBytes);
        return false;
    }
    MappedFile mapped;
    if (size > 0) {
        void* p = mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            problem = path + ": reading the " + noun + " failed (" + std::strerror(errno) + ").";
            ::close(fd);
            return false;
        }
        mapped.m_data = static_cast<uint8_t*>(p);
        mapped.m_size = static_cast<size_t>(size);
    }
    ::close(fd);
    file = std::move(mapped);
    return true;
}

void MappedFile::release(size_t offset, size_t length) const {
    const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t begin = (offset + page - 1) / page * page;  // whole pages inside the range
    const size_t end = std::min(offset + length, m_size) / page * page;
    if (m_data && end > begin) madvise(m_data + begin, end - begin, MADV_DONTNEED);
}

void writeFileChecked(const std::string& path, const void* data, size_t size) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) throw Error(path + ": cannot create the file (" + std::strerror(errno) + ").");
    const bool written = size == 0 || std::fwrite(data, 1, size, f) == size;
    const bool flushed = std::fflush(f) == 0;
    const int error = errno;
    const bool closed = std::fclose(f) == 0;
    if (!written || !flushed || !closed)
        throw Error(path + ": writing the file failed (" +
                    std::strerror(written && flushed ? errno : error) + ").");
}

}  // namespace r18
