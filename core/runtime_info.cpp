#include "core/runtime_info.h"

#include <dnnl.hpp>
#include <opencv2/core/utility.hpp>

#include <fstream>

#include "core/engine/engine.h"

namespace r18 {
namespace {

std::string cpuModelName() {
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
        if (line.rfind("model name", 0) != 0) continue;
        const size_t colon = line.find(':');
        if (colon == std::string::npos) break;
        const size_t start = line.find_first_not_of(" \t", colon + 1);
        return start == std::string::npos ? std::string() : line.substr(start);
    }
    return "unknown CPU";
}

}  // namespace

RuntimeInfo runtimeInfo() {
    RuntimeInfo info;
    const dnnl_version_t* v = dnnl_version();
    info.oneDnnVersion =
        std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
    if (v->hash && *v->hash && std::string(v->hash) != "N/A")
        info.oneDnnVersion += std::string(" (commit ") + v->hash + ")";
    info.openCvVersion = cv::getVersionString();
    info.cpuIsa = Engine::cpuIsa();
    info.convolutions = Engine::convAlgorithmSummary();
    info.cpuModel = cpuModelName();
    if (info.cpuModel.empty()) info.cpuModel = "unknown CPU";
    return info;
}

}  // namespace r18
