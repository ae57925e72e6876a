// Headless verbs of resnet18-explorer: `classify` and `info` (and `bench`, see bench_cli.h).
// They call core only and never open a window.
#pragma once

namespace r18::cli {

// Exit codes shared by every verb.
constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitBadInput = 3;

// True if argv[1] names a headless verb.
bool isVerb(int argc, char** argv);

// Runs the verb in argv[1]; returns the process exit code.
int run(int argc, char** argv);

}  // namespace r18::cli
