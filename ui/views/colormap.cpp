#include "ui/views/colormap.h"

#include <QColor>

#include <algorithm>
#include <cmath>

namespace r18::ui {
namespace {

// Ten evenly spaced samples of matplotlib's viridis and magma (CC0), interpolated linearly.
constexpr std::array<QRgb, 10> kViridisStops = {0x440154, 0x482878, 0x3e4989, 0x31688e, 0x26828e,
                                                0x1f9e89, 0x35b779, 0x6ece58, 0xb5de2b, 0xfde725};
constexpr std::array<QRgb, 10> kMagmaStops = {0x000004, 0x180f3d, 0x440f76, 0x721f81, 0x9e2f7f,
                                              0xcd4071, 0xf1605d, 0xfd9668, 0xfeca8d, 0xfcfdbf};

std::array<QRgb, 256> interpolate(const std::array<QRgb, 10>& stops) {
    std::array<QRgb, 256> table{};
    for (int i = 0; i < 256; ++i) {
        const double x = i / 255.0 * (stops.size() - 1);
        const auto k = std::min(static_cast<size_t>(x), stops.size() - 2);
        const double f = x - static_cast<double>(k);
        auto mix = [&](int shift) {
            const double a = (stops[k] >> shift) & 0xff;
            const double b = (stops[k + 1] >> shift) & 0xff;
            return static_cast<int>(std::lround(a + (b - a) * f));
        };
        table[static_cast<size_t>(i)] = qRgb(mix(16), mix(8), mix(0));
    }
    return table;
}

}  // namespace

QString colormapName(Colormap map) {
    switch (map) {
        case Colormap::Viridis: return QStringLiteral("Viridis");
        case Colormap::Magma: return QStringLiteral("Magma");
        case Colormap::Gray: return QStringLiteral("Gray");
    }
    return {};
}

QStringList colormapNames() {
    return {colormapName(Colormap::Viridis), colormapName(Colormap::Magma),
            colormapName(Colormap::Gray)};
}

const std::array<QRgb, 256>& colormapTable(Colormap map) {
    static const std::array<QRgb, 256> viridis = interpolate(kViridisStops);
    static const std::array<QRgb, 256> magma = interpolate(kMagmaStops);
    static const std::array<QRgb, 256> gray = [] {
        std::array<QRgb, 256> t{};
        for (int i = 0; i < 256; ++i) t[static_cast<size_t>(i)] = qRgb(i, i, i);
        return t;
    }();
    switch (map) {
        case Colormap::Magma: return magma;
        case Colormap::Gray: return gray;
        case Colormap::Viridis: break;
    }
    return viridis;
}

QImage planeImage(const float* plane, int h, int w, float lo, float hi, Colormap map) {
    QImage image(w, h, QImage::Format_RGB32);
    const auto& table = colormapTable(map);
    const float scale = hi > lo ? 255.0F / (hi - lo) : 0.0F;
    for (int y = 0; y < h; ++y) {
        auto* row = reinterpret_cast<QRgb*>(image.scanLine(y));
        for (int x = 0; x < w; ++x) {
            const float v = (plane[y * w + x] - lo) * scale;
            row[x] = table[static_cast<size_t>(std::clamp(static_cast<int>(v + 0.5F), 0, 255))];
        }
    }
    return image;
}

QImage heatImage(const float* plane, int h, int w, float hi, Colormap map) {
    QImage image(w, h, QImage::Format_ARGB32);
    const auto& table = colormapTable(map);
    const float scale = hi > 0.0F ? 1.0F / hi : 0.0F;
    for (int y = 0; y < h; ++y) {
        auto* row = reinterpret_cast<QRgb*>(image.scanLine(y));
        for (int x = 0; x < w; ++x) {
            const float t = std::clamp(plane[y * w + x] * scale, 0.0F, 1.0F);
            const QRgb c = table[static_cast<size_t>(std::lround(t * 255.0F))];
            row[x] = qRgba(qRed(c), qGreen(c), qBlue(c),
                           static_cast<int>(std::lround(255.0F * std::pow(t, 0.7F))));
        }
    }
    return image;
}

QImage colorbarImage(Colormap map, int width, int height) {
    QImage image(width, height, QImage::Format_RGB32);
    const auto& table = colormapTable(map);
    for (int y = 0; y < height; ++y) {
        const int v = height > 1 ? 255 - y * 255 / (height - 1) : 255;
        std::fill_n(reinterpret_cast<QRgb*>(image.scanLine(y)), width,
                    table[static_cast<size_t>(v)]);
    }
    return image;
}

}  // namespace r18::ui
