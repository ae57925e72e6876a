// Headless verbs about what the network looks at and what its channels detect:
//   explain    an attribution map for one image (core/attribution.h)
//   channels   the top images of every channel of a layer over a folder (core/channel_atlas.h)
//   visualize  the input that maximises a channel or class (core/feature_vis.h)
// They call core only. Options and output formats: README.md, "Command line".
#pragma once

#include <QStringList>

namespace r18::cli {

// args[0] is the program name, the verb already removed. Each returns the exit code
// (kExitOk, kExitUsage, kExitBadInput from app/cli.h).
int explain(const QStringList& args);
int channels(const QStringList& args);
int visualize(const QStringList& args);

}  // namespace r18::cli
