// Where the program finds what it installs beside itself: the sample images and the weights
// download script (ImageNet labels are compiled in). Everything is found relative to the
// running executable, so an installed tree works wherever it is put (`cmake --install` to any
// prefix, the .deb in /usr), and the build tree mirrors the installed layout (build/share/...),
// so the same rule works there. Nothing here depends on the source tree, except
// sourceTreeDir(), which answers only for a binary still inside its build tree.
#pragma once

#include <string>
#include <vector>

namespace r18 {

// The reverse-DNS application id that names the .desktop file, the AppStream metainfo and the
// icons ("io.github.resnet18explorer.ResNet18Explorer"; R18_APP_ID in CMakeLists.txt).
const char* appId();

// The version from CMake's project(), e.g. "0.1.0".
const char* appVersion();

// Folder of the running executable (from /proc/self/exe, symlinks resolved); empty if unknown.
std::string executableDir();

// Folders that may hold the app's data, in the order they are searched: next to the executable
// (<exe>/../share/resnet18-explorer, the layout of both the install and the build tree), then
// each $XDG_DATA_DIRS entry (default /usr/local/share:/usr/share) + /resnet18-explorer.
// Listed whether or not they exist.
std::vector<std::string> dataDirCandidates();

// The first of dataDirCandidates() that has a samples/ folder; empty if none has.
std::string dataDir();

// The sample images (dataDir()/samples), sorted by file name; empty if none are installed.
std::vector<std::string> sampleImages();

// The application icon's files beside the data folder (dataDir()/../icons/hicolor/*/apps/ID.png
// and .svg), smallest first; empty if none are installed.
std::vector<std::string> iconFiles();

// The source tree this binary was built from, if the binary is still inside that build tree
// (a build-tree binary may use weights/ of its checkout); empty for an installed binary.
std::string sourceTreeDir();

// The script that downloads the official weights: weights/fetch.sh in the source tree for a
// build-tree binary, else the installed copy (dataDir()/fetch-weights.sh); empty if neither.
std::string fetchWeightsScript();

}  // namespace r18
