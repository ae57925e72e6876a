// Small building blocks shared by the window's panels: a titled panel around a view, a row of
// header controls, an opacity slider.
#pragma once

#include <QString>

#include <initializer_list>

class QLabel;
class QSlider;
class QWidget;

namespace r18::ui {

// `content` under a bold `title`, with `extra` controls at the right of the title line.
// `titleLabel` receives the title's label, for captions that change.
QWidget* titledPanel(const QString& title, QWidget* content, QLabel** titleLabel = nullptr,
                     QWidget* extra = nullptr);
// Widgets side by side, for a panel's header.
QWidget* controlRow(std::initializer_list<QWidget*> widgets);
// A 10–100 % opacity slider.
QSlider* opacitySlider(int percent, int width, const QString& tip);

}  // namespace r18::ui
