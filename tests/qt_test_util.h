// Helpers for the Qt suites.
#pragma once

#include <QSignalSpy>
#include <QTest>

namespace r18::test {

// True once `spy` has recorded at least `count` signals. Unlike QSignalSpy::wait(), which waits
// for a *new* emission, this also counts signals recorded before the call: Qt 6's spy records
// signals from other threads directly, so they can arrive before wait() starts.
inline bool waitForCount(QSignalSpy& spy, int count, int ms = 30000) {
    return QTest::qWaitFor([&] { return spy.count() >= count; }, ms);
}

}  // namespace r18::test
