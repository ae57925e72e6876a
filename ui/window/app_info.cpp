#include "ui/window/app_info.h"

#include <QApplication>
#include <QGuiApplication>
#include <QtGlobal>

#include "core/app_data.h"
#include "core/engine/engine.h"
#include "core/engine/threads.h"
#include "core/runtime_info.h"

namespace r18::ui {

void setUpApplication() {
    QApplication::setOrganizationName(QStringLiteral("ResNet18Explorer"));
    QApplication::setApplicationName(QStringLiteral("resnet18-explorer"));
    QApplication::setApplicationDisplayName(QStringLiteral("ResNet18 Explorer"));
    QApplication::setApplicationVersion(QString::fromLatin1(appVersion()));
    QGuiApplication::setDesktopFileName(QString::fromLatin1(appId()));
    QApplication::setWindowIcon(appIcon());
}

QIcon appIcon() {
    QIcon icon;
    for (const std::string& file : iconFiles()) icon.addFile(QString::fromStdString(file));
    return icon.isNull() ? QIcon::fromTheme(QString::fromLatin1(appId())) : icon;
}

QString aboutHtml() {
    const RuntimeInfo info = runtimeInfo();
    const auto row = [](const QString& name, const QString& value) {  // the name on one line
        return QStringLiteral("<tr><td>%1&nbsp;&nbsp;</td><td>%2</td></tr>")
            .arg(name.toHtmlEscaped().replace(' ', QStringLiteral("&nbsp;")),
                 value.toHtmlEscaped());
    };
    return QObject::tr(
               "<h3>ResNet18 Explorer %1</h3>"
               "<p>See ResNet18 at work: the network, its top-5, the feature maps of any "
               "layer and where it looked — on your CPU.</p>")
               .arg(QString::fromLatin1(appVersion())) +
           QStringLiteral("<table cellspacing='0' cellpadding='2'>") +
           row(QObject::tr("oneDNN"), QString::fromStdString(info.oneDnnVersion)) +
           row(QObject::tr("oneDNN ISA"),
               QObject::tr("%1 (the instruction set oneDNN uses on this CPU)")
                   .arg(QString::fromStdString(info.cpuIsa))) +
           row(QObject::tr("fp32 convolutions"), QString::fromStdString(info.convolutions)) +
           row(QObject::tr("bf16 / int8"),
               QObject::tr("%1 / %2").arg(
                   Engine::supports(Precision::Bf16) ? QObject::tr("yes")
                                                     : QObject::tr("not on this CPU"),
                   Engine::supports(Precision::Int8) ? QObject::tr("yes")
                                                     : QObject::tr("not on this CPU"))) +
           row(QObject::tr("OpenCV"), QString::fromStdString(info.openCvVersion)) +
           row(QObject::tr("Qt"),
               QObject::tr("%1 (built with %2)")
                   .arg(QString::fromLatin1(qVersion()), QStringLiteral(QT_VERSION_STR))) +
           row(QObject::tr("CPU"), QObject::tr("%1, %2 cores")
                                       .arg(QString::fromStdString(info.cpuModel))
                                       .arg(machineCores())) +
           row(QObject::tr("application id"), QString::fromLatin1(appId())) +
           QStringLiteral("</table>");
}

QString viewKeysHtml() {
    return QObject::tr(
        "<p><b>In the views</b><br><code>Up/Down</code> previous/next layer (diagram)<br>"
        "<code>Arrows</code> move between channels (feature maps); <code>Ctrl+click</code>, "
        "<code>Shift+click</code> pick several, <code>Esc</code> none<br><code>Ctrl+wheel, +/−"
        "</code> zoom the diagram; drag to pan; <code>0</code> fits it</p>");
}

QString guideHtml(const QString& shortcutsHtml) {
    return QObject::tr(
               "<h2>What am I looking at?</h2>"
               "<p>ResNet18 is an image classifier: it turns a 224×224 crop of your picture into "
               "1000 numbers, one per ImageNet class, through 18 layers with weights. This "
               "window shows every step.</p>"
               "<h3>The diagram (left)</h3>"
               "<p>The network from input (top) to prediction (bottom). The <b>stem</b> (a 7×7 "
               "convolution and a max-pool) shrinks the image to 56×56; then four "
               "<b>stages</b> of two basic blocks each — stage 1 green, 2 orange, 3 blue, 4 red "
               "— each halving the size and doubling the channels (64, 128, 256, 512). Each "
               "block adds its input back to its output: a solid arc is that identity skip, a "
               "dashed arc a 1×1 projection where the shape changes. <b>avgpool</b> averages "
               "each of the 512 channels to one number and <b>fc</b> weighs them into the 1000 "
               "class scores. The small figure in each box is its time per image; the list above "
               "the diagram colours the boxes by that time, by their share of zero activations "
               "or by their mean activation instead of by stage; <b>Pictures</b> draws in each box "
               "its "
               "most active channel and its value histogram, live; <b>Error vs fp32</b> (at int8 "
               "or bf16) colours each box by how far its output is from fp32's for the same "
               "image. Click a box to look inside it; above its feature maps are its figures, "
               "and at int8 or bf16 its error and cosine against fp32.</p>"
               "<h3>Feature maps (bottom right)</h3>"
               "<p>What the selected layer computed for this image: one small grey-scale or "
               "coloured tile per channel. Bright means strongly active. Early layers respond "
               "to edges and colours at each position; later ones to textures, parts and "
               "objects, on coarser grids (56×56 down to 7×7). Click a tile to enlarge it in "
               "<b>Channel</b>, optionally blended over the input to see where it fires. One "
               "colour scale per channel shows each channel's pattern; one per layer shows "
               "which channels are strongest. avgpool and fc are drawn as bars.</p>"
               "<h3>Switching channels off</h3>"
               "<p>What does a channel contribute to the decision? Pick it in the feature maps "
               "(click; Ctrl+click adds or removes one, Shift+click a run) and press <b>O</b> "
               "(Channels menu, or right-click the tiles): its output becomes zero, and "
               "everything after it — every later layer, the top-5, the heat map, the methods "
               "panel — is computed without it, on still images and on every camera frame. "
               "<b>Shift+O</b> keeps only the picked channels. Switched-off tiles are crossed "
               "out, the diagram marks the layer in red with how many are off, and the status "
               "bar names them; <b>O</b> again, <b>R</b> (this layer) or <b>Shift+R</b> "
               "(everything) switches them back on. Copy Predictions gives the same run as a "
               "command line (<code>classify --ablate layer3.1:0,5</code>). <b>I</b> ranks the "
               "layer's channels by how much the class loses without each one; click one to pick "
               "it.</p>"
               "<h3>Two images side by side</h3>"
               "<p>Press <b>Shift+P</b> to pin the image on screen as A, then open another: B. "
               "The A / B panel (<b>D</b>) shows both top-5s and, node by node, how alike the "
               "network finds them (the cosine similarity of their activations, 1 = the same "
               "direction): early layers see colours and edges, so most photos look alike there; "
               "where the curve falls is where the network tells them apart. Click the curve to "
               "see that node's maps of A, B and their difference.</p>"
               "<h3>Top-5 and the heat map</h3>"
               "<p>The five classes with the highest probability (the softmax of fc's "
               "scores). <b>Where it looked</b> colours the input by how much each region "
               "raised the top class's score (Grad-CAM): the brighter and more opaque, the more "
               "it counted; where the photo shows through, little was found for that class. Click "
               "another of the top-5 to see where <i>it</i> was found. At "
               "layer4 the map is coarse (7×7) but faithful; at earlier layers it is finer.</p>"
               "<h3>Live</h3>"
               "<p><b>Space</b> starts the camera or video picked in the toolbar; every frame "
               "updates every view. <b>F</b> freezes a frame to browse it, <b>P</b> saves a "
               "snapshot, <b>Ctrl+R</b> records the live view — heat map and top-5 included — to "
               "a video until you press it again.</p>"
               "<h3>Precisions</h3>"
               "<p><b>fp32</b> computes in 32-bit floats, as PyTorch does: the reference. "
               "<b>bf16</b> keeps 8 bits of mantissa: faster on CPUs that compute in it "
               "(AVX-512 BF16; elsewhere it is offered disabled), and almost always the same top "
               "class. <b>int8</b> quantizes weights and activations to 8-bit integers, "
               "calibrated on the images you opened last: less memory traffic, and "
               "probabilities that drift a little. Switch in the Engine menu "
               "and watch what changes: Diagram → Error vs fp32 shows at which layer the drift "
               "starts. The gradient methods of <b>Where it looked — methods</b> (E) run in "
               "fp32; <b>Score-CAM</b> needs forward passes only, so it shows where the int8 or "
               "bf16 network itself looked.</p>"
               "<h3>Trust</h3>"
               "<p>Predictions mean something only with trained weights: a banner says when "
               "the weights are not torchvision's official ImageNet file.</p>"
               "<h3>Keyboard</h3>") +
           shortcutsHtml + viewKeysHtml();
}

}  // namespace r18::ui
