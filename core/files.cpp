#include "core/files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

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

namespace {

std::string folderOf(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string nameOf(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool writeAll(int fd, const uint8_t* p, size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, p, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : m_path(std::move(path)), m_target(m_path) {
    struct stat st {};
    const bool exists = ::stat(m_path.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode))
        throw Error(m_path + ": is a folder; cannot write a file there.");
    if (exists && !S_ISREG(st.st_mode)) {  // a device or FIFO: written in place
        m_fd = ::open(m_path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (m_fd < 0)
            throw Error(m_path + ": cannot create the file (" + std::strerror(errno) + ").");
        return;
    }
    struct stat lst {};
    if (exists && ::lstat(m_path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
        if (char* real = ::realpath(m_path.c_str(), nullptr)) {
            m_target = real;
            std::free(real);
        }
    }
    // A name no other writer picks: the process id, a counter and the clock.
    static std::atomic<unsigned> counter{0};
    const std::string base = folderOf(m_target) + "/." + nameOf(m_target) + ".";
    for (int attempt = 0; attempt < 100 && m_fd < 0; ++attempt) {
        const auto stamp = static_cast<unsigned long long>(
            std::chrono::steady_clock::now().time_since_epoch().count());
        char suffix[48];
        std::snprintf(suffix, sizeof suffix, "%d-%u-%llx.part", static_cast<int>(::getpid()),
                      counter++, stamp & 0xFFFFFFFFull);
        m_temp = base + suffix;
        m_fd = ::open(m_temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
        if (m_fd < 0 && errno != EEXIST) break;
    }
    if (m_fd < 0) {
        const int error = errno;
        m_temp.clear();
        throw Error(m_path + ": cannot create the file (" + std::strerror(error) + ").");
    }
    if (exists) (void)::fchmod(m_fd, st.st_mode & 07777);  // the replaced file's permissions
}

AtomicFile::~AtomicFile() {
    discard();
}

void AtomicFile::discard() noexcept {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
    if (!m_temp.empty()) ::unlink(m_temp.c_str());
    m_temp.clear();
}

void AtomicFile::fail(const std::string& what, int error) {
    discard();
    throw Error(m_path + ": " + what + " (" + std::strerror(error) + ").");
}

void AtomicFile::write(const void* data, size_t size) {
    if (m_fd < 0) throw Error(m_path + ": the file is already closed.");
    if (!writeAll(m_fd, static_cast<const uint8_t*>(data), size))
        fail("writing the file failed", errno ? errno : EIO);
}

void AtomicFile::writeAt(uint64_t offset, const void* data, size_t size) {
    if (m_fd < 0) throw Error(m_path + ": the file is already closed.");
    const auto* p = static_cast<const uint8_t*>(data);
    while (size > 0) {
        const ssize_t n = ::pwrite(m_fd, p, size, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            fail("writing the file failed (it must be a seekable file)", errno ? errno : EIO);
        p += n;
        size -= static_cast<size_t>(n);
        offset += static_cast<uint64_t>(n);
    }
}

void AtomicFile::commit() {
    if (m_fd < 0) throw Error(m_path + ": the file is already closed.");
    if (m_temp.empty()) {  // in place: a device or FIFO
        const int fd = m_fd;
        m_fd = -1;
        if (::close(fd) != 0)
            throw Error(m_path + ": writing the file failed (" + std::strerror(errno) + ").");
        return;
    }
    if (::fsync(m_fd) != 0) fail("writing the file failed", errno);
    const int fd = m_fd;
    m_fd = -1;
    if (::close(fd) != 0) fail("writing the file failed", errno);
    if (::rename(m_temp.c_str(), m_target.c_str()) != 0) fail("replacing the file failed", errno);
    m_temp.clear();
}

void writeFileChecked(const std::string& path, const void* data, size_t size) {
    AtomicFile file(path);
    file.write(data, size);
    file.commit();
}

bool sameFile(const std::string& a, const std::string& b) {
    struct stat sa {
    }, sb{};
    return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

std::string outputOverInputProblem(const std::vector<RoleAndPath>& outputs,
                                   const std::vector<RoleAndPath>& inputs) {
    for (const RoleAndPath& out : outputs) {
        if (out.path.empty()) continue;
        for (const RoleAndPath& in : inputs)
            if (!in.path.empty() && sameFile(out.path, in.path))
                return out.role + " " + out.path + " is " + in.role + " " + in.path +
                       ": an output is never written over an input; choose another file name.";
    }
    // Two outputs naming one file: the second would replace the first.
    const auto key = [](const std::string& path) {
        std::error_code ec;
        const std::filesystem::path p = std::filesystem::weakly_canonical(path, ec);
        return ec ? path : p.string();
    };
    for (size_t i = 0; i < outputs.size(); ++i) {
        if (outputs[i].path.empty()) continue;
        const FileKind kind = fileKind(outputs[i].path);
        if (kind != FileKind::Missing && kind != FileKind::Regular) continue;  // /dev/null twice
        for (size_t j = i + 1; j < outputs.size(); ++j)
            if (!outputs[j].path.empty() && key(outputs[i].path) == key(outputs[j].path))
                return outputs[i].role + " " + outputs[i].path + " and " + outputs[j].role + " " +
                       outputs[j].path + " name the same file; choose a file name for each.";
    }
    return {};
}

}  // namespace r18
