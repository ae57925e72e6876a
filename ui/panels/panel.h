// Small building blocks shared by the window's panels: a titled panel around a view, a row of
// header controls, an opacity slider, two top-5s side by side.
#pragma once

#include <QString>

#include <initializer_list>
#include <vector>

#include "core/model/predictions.h"

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
// Two top-5s as one rich-text table, `headA` over the left column and `headB` over the right
// (plain text; escaped here).
QString topFivesTable(const QString& headA, const std::vector<Prediction>& a, const QString& headB,
                      const std::vector<Prediction>& b);

}  // namespace r18::ui
