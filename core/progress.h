// Progress and cancellation for long core jobs (attribution methods with many passes, the
// channel atlas of a folder, feature visualisation): the job calls it with how much is done out
// of how much; returning false asks the job to stop, which it does at its next check.
#pragma once

#include <functional>

namespace r18 {

using ProgressFn = std::function<bool(int done, int total)>;

// Calls `progress` if there is one; true means "go on".
inline bool keepGoing(const ProgressFn& progress, int done, int total) {
    return !progress || progress(done, total);
}

}  // namespace r18
