// The Explorer window's entry point: parses the window's command line (images, --weights,
// --select, --camera, --window-size, --screenshot, Qt's own options) and runs the window.
#pragma once

namespace r18::app {

// Returns the process exit code.
int runWindow(int argc, char** argv);

}  // namespace r18::app
