// What the window says about itself: the application's identity for the desktop (its id, which
// names the .desktop file, and its icon), Help → About (the version, and the libraries and CPU
// found at run time), and the F1 page "What am I looking at?". The shortcut tables come from
// the action table (Actions::shortcutHelpHtml()); nothing here lists a shortcut of a menu entry.
#pragma once

#include <QIcon>
#include <QString>

namespace r18::ui {

// Names, version, desktop file name (the app id: without it Wayland shows no icon) and the
// window icon of the running QApplication.
void setUpApplication();

// The icon installed beside the app's data (core's iconFiles()), else the theme's; may be null.
QIcon appIcon();

// Help → About, as rich text.
QString aboutHtml();

// The keys of the views themselves (not actions): arrows in the diagram and the feature maps,
// zoom and pan. Shared by the shortcut help and the F1 page.
QString viewKeysHtml();

// The F1 page: what the diagram, feature maps, heat maps and precisions show, then
// `shortcutsHtml` (generated from the action table) and viewKeysHtml().
QString guideHtml(const QString& shortcutsHtml);

}  // namespace r18::ui
