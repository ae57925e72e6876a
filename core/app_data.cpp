#include "core/app_data.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <system_error>

#include "core/media/image_io.h"

// Set by core/CMakeLists.txt.
#if !defined(R18_APP_ID) || !defined(R18_VERSION)
#error "R18_APP_ID and R18_VERSION must be defined"
#endif
#ifndef R18_BIN_TO_DATA  // bindir -> datadir/resnet18-explorer, e.g. "../share/resnet18-explorer"
#error "R18_BIN_TO_DATA must be defined"
#endif

namespace fs = std::filesystem;

namespace r18 {
namespace {

bool isDir(const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(p, ec);
}

// True if `inner` is `outer` or lies below it (both canonical).
bool isWithin(const fs::path& inner, const fs::path& outer) {
    auto o = outer.begin();
    auto i = inner.begin();
    for (; o != outer.end(); ++o, ++i)
        if (i == inner.end() || *i != *o) return false;
    return true;
}

}  // namespace

const char* appId() {
    return R18_APP_ID;
}

const char* appVersion() {
    return R18_VERSION;
}

std::string executableDir() {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string() : exe.parent_path().string();
}

std::vector<std::string> dataDirCandidates() {
    std::vector<std::string> dirs;
    const std::string exeDir = executableDir();
    if (!exeDir.empty())
        dirs.push_back((fs::path(exeDir) / R18_BIN_TO_DATA).lexically_normal().string());
    const char* env = std::getenv("XDG_DATA_DIRS");
    std::istringstream list(env && *env ? env : "/usr/local/share:/usr/share");
    for (std::string entry; std::getline(list, entry, ':');) {
        if (entry.empty() || entry[0] != '/') continue;  // the spec ignores relative entries
        const std::string dir = (fs::path(entry) / "resnet18-explorer").lexically_normal();
        if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
    }
    return dirs;
}

std::string dataDir() {
    for (const std::string& dir : dataDirCandidates())
        if (isDir(fs::path(dir) / "samples")) return dir;
    return {};
}

std::vector<std::string> sampleImages() {
    std::vector<std::string> files;
    const std::string dir = dataDir();
    if (dir.empty()) return files;
    std::error_code ec;
    for (const fs::directory_entry& e : fs::directory_iterator(fs::path(dir) / "samples", ec))
        if (e.is_regular_file(ec) && hasImageSuffix(e.path().filename().string()))
            files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    return files;
}

std::vector<std::string> iconFiles() {
    std::vector<std::string> files;
    const std::string dir = dataDir();
    if (dir.empty()) return files;
    const fs::path hicolor = fs::path(dir).parent_path() / "icons" / "hicolor";
    const std::string id = appId();
    std::error_code ec;
    for (const char* size : {"48x48", "128x128", "256x256"})
        if (fs::is_regular_file(hicolor / size / "apps" / (id + ".png"), ec))
            files.push_back((hicolor / size / "apps" / (id + ".png")).string());
    if (fs::is_regular_file(hicolor / "scalable" / "apps" / (id + ".svg"), ec))
        files.push_back((hicolor / "scalable" / "apps" / (id + ".svg")).string());
    return files;
}

std::string sourceTreeDir() {
#if defined(R18_SOURCE_DIR) && defined(R18_BUILD_DIR)
    std::error_code ec;
    const fs::path exe = fs::weakly_canonical(executableDir(), ec);
    if (ec) return {};
    fs::path build = fs::weakly_canonical(R18_BUILD_DIR, ec);
    if (build.filename().empty()) build = build.parent_path();  // a trailing '/'
    if (ec || !isWithin(exe, build)) return {};
    return R18_SOURCE_DIR;
#else
    return {};
#endif
}

std::string fetchWeightsScript() {
    std::error_code ec;
    if (const std::string src = sourceTreeDir(); !src.empty()) {
        const fs::path script = fs::path(src) / "weights" / "fetch.sh";
        if (fs::exists(script, ec)) return script.string();
    }
    for (const std::string& dir : dataDirCandidates()) {
        const fs::path script = fs::path(dir) / "fetch-weights.sh";
        if (fs::exists(script, ec)) return script.string();
    }
    return {};
}

}  // namespace r18
