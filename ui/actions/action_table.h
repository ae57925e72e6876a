// The Explorer's action table: every menu entry, toolbar button and shortcut, what it does to
// the parts of the window and how its state (checked, enabled, label) is read from them (see
// Actions in actions.h, which builds menus, toolbar and the shortcut help from it).
#pragma once

#include <QStringList>

#include <functional>
#include <vector>

#include "core/engine/engine.h"
#include "ui/actions/actions.h"

namespace r18::ui {

class ArchitectureView;
class Exports;
class ImageIntake;
class InputPanel;
class LayerPanel;
class LiveController;
class ModelController;
class RecentFiles;
class Session;
class StatusPanel;

struct ActionTargets {
    Session* session = nullptr;
    ImageIntake* intake = nullptr;
    Exports* exports = nullptr;
    InputPanel* input = nullptr;
    LayerPanel* layers = nullptr;
    LiveController* live = nullptr;
    ModelController* models = nullptr;
    StatusPanel* status = nullptr;
    ArchitectureView* diagram = nullptr;
    RecentFiles* recent = nullptr;
    QStringList samples;  // File → Open Sample, in order (core's sampleImages())
    std::function<void(const QString& path)> openSample;
    std::function<void()> classifyFolder;
    // The insight panels: the "where it looked" methods, "what this channel detects", fp32/int8,
    // channel importance, two images side by side.
    std::function<void(bool)> showExplain;
    std::function<bool()> explainShown;
    std::function<void(bool)> showAtlas;
    std::function<bool()> atlasShown;
    std::function<void()> atlasFolder;  // ask for a folder and build its channel atlas
    std::function<void(bool)> showCompare;
    std::function<bool()> compareShown;
    std::function<void(bool)> showImportance;
    std::function<bool()> importanceShown;
    std::function<void(bool)> showPair;
    std::function<bool()> pairShown;
    std::function<void()> pinA;
    std::function<bool()> recording;        // the live view is being recorded
    std::function<void()> toggleRecording;  // asks for a file and records, or stops  // pin the
                                            // image on screen as A and show the A/B panel
    std::function<void()> showShortcuts;
    std::function<void()> showGuide;
    std::function<void()> showAbout;
    std::function<void()> quit;
    int cores = 1;  // thread choices 1..cores
};

// The precisions the Engine menu and the toolbar offer, in their order.
constexpr Precision kPrecisions[] = {Precision::Fp32, Precision::Bf16, Precision::Int8};

// The id of File → Open Sample's entry for `path` ("file.sample.cat" for .../cat.jpg).
QString sampleActionId(const QString& path);
// The id of File → Open Recent's entry `index` ("file.recent0" is the newest).
QString recentActionId(int index);

// Toolbar slots of the widgets the window puts between the table's toolbar actions.
constexpr int kPrecisionSlot = 20;
constexpr int kThreadsSlot = 21;
constexpr int kLiveSourceSlot = 30;
constexpr int kResolutionSlot = 31;

std::vector<ActionSpec> explorerActions(const ActionTargets& targets);

}  // namespace r18::ui
