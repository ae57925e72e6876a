// Colour maps for activations: perceptual (viridis, magma) and gray, as 256-entry tables.
#pragma once

#include <QImage>
#include <QString>
#include <QStringList>

#include <array>

namespace r18::ui {

enum class Colormap { Viridis, Magma, Gray };

QString colormapName(Colormap map);  // "Viridis", ...
QStringList colormapNames();         // in enum order
const std::array<QRgb, 256>& colormapTable(Colormap map);

// One h×w plane of floats as an image: lo maps to the first colour, hi to the last.
// A constant plane (hi <= lo) maps to the first colour.
QImage planeImage(const float* plane, int h, int w, float lo, float hi, Colormap map);

// A heat map for overlaying: colour from the colour map and opacity rising with the value
// (0 transparent, `hi` opaque), so cold regions leave the picture visible.
QImage heatImage(const float* plane, int h, int w, float hi, Colormap map);

// A vertical colour bar, lowest value at the bottom.
QImage colorbarImage(Colormap map, int width, int height);

}  // namespace r18::ui
