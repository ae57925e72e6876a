// What the program runs on, found at run time (not at build time): the oneDNN and OpenCV
// libraries actually loaded, the instruction set oneDNN dispatches to, and the CPU's name. Help →
// About shows it; a bug report needs it.
#pragma once

#include <string>

namespace r18 {

struct RuntimeInfo {
    std::string oneDnnVersion;  // "2.6.3 (commit 7daf5d5…)" from dnnl_version()
    std::string openCvVersion;  // "4.6.0" from cv::getVersionString()
    std::string cpuIsa;         // the ISA oneDNN uses here, e.g. "avx2" (Engine::cpuIsa())
    std::string convolutions;   // fp32 convolution algorithms (Engine::convAlgorithmSummary())
    std::string cpuModel;       // /proc/cpuinfo's "model name", or "unknown CPU"
};

RuntimeInfo runtimeInfo();

}  // namespace r18
