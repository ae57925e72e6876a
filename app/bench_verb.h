// `resnet18-explorer bench`: latency and throughput of the engine per precision, on seeded
// random weights unless --weights is given (speed does not depend on the values).
#pragma once

#include <QStringList>

namespace r18::cli {

// args[0] is the program name, the verb already removed. Returns the exit code.
int bench(const QStringList& args);

}  // namespace r18::cli
