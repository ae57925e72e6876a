// resnet18-explorer: the Explorer window by default (app/gui.h); headless verbs (classify, info,
// bench, explain, channels, visualize) for scripts (app/cli.h). See README.md for both.
#include <string>

#include "app/cli.h"
#include "app/gui.h"
#include "core/engine/threads.h"

int main(int argc, char** argv) {
    // The window shares its cores with the GUI and capture threads, classify with its decoding
    // threads: OpenMP's spinning would take them. `bench` of the engine alone measures it as
    // OpenMP leaves it (bench/wait_policy.sh compares the policies); `bench --live` measures the
    // window's pipeline, so it waits as the window does.
    bool engineBench = argc >= 2 && std::string(argv[1]) == "bench";
    for (int i = 2; i < argc && engineBench; ++i)
        if (std::string(argv[i]).rfind("--live", 0) == 0) engineBench = false;
    if (!engineBench) r18::restartWithPassiveOpenMpWaiting(argv);
    if (r18::cli::isVerb(argc, argv)) return r18::cli::run(argc, argv);
    return r18::app::runWindow(argc, argv);
}
