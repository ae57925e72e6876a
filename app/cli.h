// Headless verbs of resnet18-explorer: `classify` and `info` here, `bench` in bench_verb.h,
// `explain`, `channels` and `visualize` in insight_verbs.h; what they share is in cli_args.h.
// They call core only and never open a window.
#pragma once

namespace r18::cli {

// True if argv[1] names a headless verb.
bool isVerb(int argc, char** argv);

// Runs the verb in argv[1]; returns the process exit code.
int run(int argc, char** argv);

}  // namespace r18::cli
