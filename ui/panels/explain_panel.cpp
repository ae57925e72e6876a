#include "ui/panels/explain_panel.h"

#include <QComboBox>
#include <QCompleter>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QStringListModel>
#include <QVBoxLayout>

#include "ui/session/session.h"
#include "ui/views/explain_views.h"

namespace r18::ui {
namespace {

QString methodTitle(AttributionMethod method) {
    switch (method) {
        case AttributionMethod::Cam: return QObject::tr("CAM");
        case AttributionMethod::GradCam: return QObject::tr("Grad-CAM");
        case AttributionMethod::Gradient: return QObject::tr("Gradient");
        case AttributionMethod::GuidedBackprop: return QObject::tr("Guided backprop");
        case AttributionMethod::IntegratedGradients: return QObject::tr("Integrated gradients");
        case AttributionMethod::SmoothGrad: return QObject::tr("SmoothGrad");
        case AttributionMethod::ScoreCam: return QObject::tr("Score-CAM");
    }
    return {};
}

QString methodTip(AttributionMethod method) {
    switch (method) {
        case AttributionMethod::Cam:
            return QObject::tr("Class activation map: the fc weights of the class over layer4");
        case AttributionMethod::GradCam:
            return QObject::tr("Grad-CAM at the chosen stage: gradient-weighted channels");
        case AttributionMethod::Gradient:
            return QObject::tr("∂ logit / ∂ input: one backward pass");
        case AttributionMethod::GuidedBackprop:
            return QObject::tr(
                "Gradient passed back through each ReLU only where both the input "
                "and the gradient are positive");
        case AttributionMethod::IntegratedGradients:
            return QObject::tr(
                "Input × mean gradient along the path from the mean colour to the "
                "image: 32 backward passes");
        case AttributionMethod::SmoothGrad:
            return QObject::tr("Mean gradient over 25 noisy copies (σ 15 %, seed 0)");
        case AttributionMethod::ScoreCam:
            return QObject::tr(
                "Each channel of the chosen stage masks the image; weighted by the class's "
                "probability on it. Forward passes only, so at the precision chosen (int8, bf16 "
                "too)");
    }
    return {};
}

QString classText(int64_t index, const std::string& name) {
    return QStringLiteral("%1 %2").arg(index).arg(QString::fromStdString(name));
}

}  // namespace

ExplainPanel::ExplainPanel(Session* session, QObject* parent)
    : QObject(parent), m_session(session), m_insight(new ExplainInsight(session, this)) {
    m_method = new QComboBox;
    for (const AttributionMethod m : allMethods()) {
        m_method->addItem(methodTitle(m), static_cast<int>(m));
        m_method->setItemData(m_method->count() - 1, methodTip(m), Qt::ToolTipRole);
    }
    m_method->setCurrentIndex(1);
    m_method->setToolTip(tr("How the map is computed"));
    m_layer = new QComboBox;
    m_layer->addItems({"layer1", "layer2", "layer3", "layer4"});
    m_layer->setCurrentIndex(3);
    m_layer->setToolTip(tr("The stage Grad-CAM and Score-CAM read"));
    m_display = new QComboBox;
    m_display->addItems({tr("Heat map"), tr("Signed RGB")});
    m_display->setToolTip(
        tr("Heat map: |attribution|, max over colours. Signed RGB: grey where nothing matters, "
           "brighter where raising that colour raises the class"));
    m_class = new QLineEdit;
    m_class->setPlaceholderText(tr("top-1 class — type to search the labels"));
    m_class->setClearButtonEnabled(true);
    m_completer = new QCompleter(new QStringListModel(this), this);
    m_completer->setCaseSensitivity(Qt::CaseInsensitive);
    m_completer->setFilterMode(Qt::MatchContains);
    m_completer->setMaxVisibleItems(12);
    m_class->setCompleter(m_completer);
    m_top1 = new QPushButton(tr("Top-1"));
    m_top1->setToolTip(tr("Follow the image's top class"));
    m_compute = new QPushButton(tr("Cancel"));
    m_progress = new QProgressBar;
    m_progress->setRange(0, 1000);
    m_progress->setTextVisible(false);
    m_progress->setMaximumHeight(10);
    m_view = new AttributionView;
    m_deletion = new CurvePlot(tr("Deletion"), QColor(200, 70, 60));
    m_insertion = new CurvePlot(tr("Insertion"), QColor(40, 130, 200));
    m_deletion->setToolTip(
        tr("Class probability as the most important pixels are removed first (set to the mean "
           "colour). Lower area: a more faithful map."));
    m_insertion->setToolTip(
        tr("Class probability as the most important pixels are put back first into a blank "
           "image. Higher area: a more faithful map."));
    m_status = new QLabel;
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_compare = new QLabel;
    m_compare->setTextFormat(Qt::RichText);
    m_compare->setToolTip(
        tr("Every method computed for this image and class: deletion area "
           "(lower is better) and insertion area (higher is better)"));

    m_panel = new QWidget;
    auto* layout = new QVBoxLayout(m_panel);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(3);
    auto* row1 = new QHBoxLayout;
    row1->addWidget(m_method, 1);
    row1->addWidget(m_layer);
    row1->addWidget(m_display);
    layout->addLayout(row1);
    auto* row2 = new QHBoxLayout;
    row2->addWidget(m_class, 1);
    row2->addWidget(m_top1);
    layout->addLayout(row2);
    auto* row3 = new QHBoxLayout;
    row3->addWidget(m_progress, 1);
    row3->addWidget(m_compute);
    layout->addLayout(row3);
    layout->addWidget(m_view, 1);
    auto* curves = new QHBoxLayout;
    curves->addWidget(m_deletion);
    curves->addWidget(m_insertion);
    layout->addLayout(curves);
    layout->addWidget(m_status);
    layout->addWidget(m_compare);

    connect(m_method, &QComboBox::currentIndexChanged, this, [this] { pushSettings(); });
    connect(m_layer, &QComboBox::currentIndexChanged, this, [this] { pushSettings(); });
    connect(m_display, &QComboBox::currentIndexChanged, this, [this] {
        m_shown.reset();
        refresh();
    });
    connect(m_completer, qOverload<const QString&>(&QCompleter::activated), this,
            &ExplainPanel::chooseClass);
    connect(m_class, &QLineEdit::returnPressed, this, [this] { chooseClass(m_class->text()); });
    connect(m_top1, &QPushButton::clicked, this, [this] { chooseClass({}); });
    connect(m_compute, &QPushButton::clicked, this, [this] {
        if (m_insight->busy())
            m_insight->cancel();
        else
            m_insight->compute();
    });
    connect(m_insight, &ExplainInsight::shown, this, &ExplainPanel::refresh);
    connect(m_session, &Session::resultShown, this, &ExplainPanel::refresh);
    connect(m_insight, &ExplainInsight::busyChanged, this, &ExplainPanel::refreshState);
    connect(m_insight, &ExplainInsight::progress, this, [this](int done, int total) {
        m_progress->setValue(done * 1000 / std::max(total, 1));
    });
    connect(m_insight, &ExplainInsight::failed, this, [this](const QString& message) {
        m_status->setText(tr("Could not compute the map: %1").arg(message));
    });
    connect(m_session, &Session::engineChanged, this, &ExplainPanel::fillLabels);
    fillLabels();
    pushSettings();
}

void ExplainPanel::setActive(bool active) {
    m_insight->setWanted(active);
}

void ExplainPanel::fillLabels() {
    QStringList names;
    if (m_session->hasModel()) {
        const Model& model = *m_session->engine().model;
        const int64_t classes = model.spec().numClasses;
        for (int64_t c = 0; c < classes; ++c) names << classText(c, model.labels().name(c));
    }
    static_cast<QStringListModel*>(m_completer->model())->setStringList(names);
}

void ExplainPanel::chooseClass(const QString& text) {
    const QString t = text.trimmed();
    int64_t index = kTopClass;
    if (!t.isEmpty() && m_session->hasModel()) {
        const Model& model = *m_session->engine().model;
        const int64_t classes = model.spec().numClasses;
        bool number = false;
        const int64_t n = t.section(QLatin1Char(' '), 0, 0).toLongLong(&number);
        if (number && n >= 0 && n < classes) {
            index = n;
        } else {
            for (int64_t c = 0; c < classes; ++c)
                if (QString::fromStdString(model.labels().name(c))
                        .contains(t, Qt::CaseInsensitive)) {
                    index = c;
                    break;
                }
            if (index == kTopClass) {
                m_status->setText(tr("No class matches “%1”.").arg(t));
                return;
            }
        }
    }
    m_classIndex = index;
    if (index == kTopClass) m_class->clear();
    pushSettings();
}

void ExplainPanel::pushSettings() {
    ExplainSettings s = m_insight->settings();
    s.method = static_cast<AttributionMethod>(m_method->currentData().toInt());
    s.layer = m_layer->currentText().toStdString();
    s.classIndex = m_classIndex;
    m_layer->setVisible(hasLayer(s.method));
    m_display->setEnabled(inInputSpace(s.method));
    m_insight->setSettings(s);
    refresh();
}

void ExplainPanel::refreshState() {
    const bool busy = m_insight->busy();
    m_progress->setVisible(busy);
    if (!busy) m_progress->setValue(0);
    m_compute->setText(busy ? tr("Cancel") : tr("Compute"));
    m_compute->setEnabled(busy || (m_insight->blocked().isEmpty() && !m_shown));
    if (!m_shown) {
        const QString blocked = m_insight->blocked();
        const QString method = m_method->currentText();
        m_view->setMessage(!blocked.isEmpty() ? blocked
                           : busy             ? tr("Computing %1…").arg(method)
                                              : tr("%1 was cancelled: press Compute.").arg(method));
    }
}

void ExplainPanel::refresh() {
    const ExplanationPtr e = m_insight->explanation();
    const ExplainSettings wanted = m_insight->resolvedSettings();
    if (m_session->hasModel() && !m_class->hasFocus()) {
        if (m_classIndex == kTopClass && wanted.classIndex >= 0)
            m_class->setPlaceholderText(
                tr("top-1: %1 — type to search the labels")
                    .arg(classText(wanted.classIndex,
                                   m_session->engine().model->labels().name(wanted.classIndex))));
        else if (m_classIndex != kTopClass)
            m_class->setText(
                classText(m_classIndex, m_session->engine().model->labels().name(m_classIndex)));
    }
    if (e != m_shown || !e) {
        m_shown = e;
        if (e) {
            const bool rgb = m_display->currentIndex() == 1 && !e->signedRgb.isNull();
            if (rgb)
                m_view->setImages(e->signedRgb, {}, 1.0);
            else
                m_view->setImages(e->crop, e->heat, 0.75);
            m_deletion->setCurve(e->faithfulness.deletion, e->faithfulness.deletionArea);
            m_insertion->setCurve(e->faithfulness.insertion, e->faithfulness.insertionArea);
            const Attribution& a = e->attribution;
            QString text =
                tr("%1 for class %2 · %3 ms · logit %4")
                    .arg(m_method->itemText(m_method->findData(static_cast<int>(a.method))))
                    .arg(classText(a.classIndex,
                                   m_session->engine().model->labels().name(a.classIndex)))
                    .arg(a.ms + e->faithfulness.ms, 0, 'f', 0)
                    .arg(a.logit, 0, 'f', 2);
            if (a.method != AttributionMethod::ScoreCam)  // computed in fp32, whatever runs
                text += a.layer.empty() ? tr(" · fp32")
                                        : tr(" · fp32 · %1").arg(QString::fromStdString(a.layer));
            if (a.method == AttributionMethod::ScoreCam)
                text += (a.maskedPasses == 1 ? tr(" · at %1 · %2 · %3 masked image")
                                             : tr(" · at %1 · %2 · %3 masked images"))
                            .arg(QString::fromLatin1(precisionName(m_session->engine().precision)))
                            .arg(QString::fromStdString(a.layer))
                            .arg(a.maskedPasses);
            if (a.method == AttributionMethod::IntegratedGradients)
                text += tr(" · completeness gap %1 (Σ IG %2, f(x) − f(0) %3)")
                            .arg(a.completenessGap, 0, 'g', 3)
                            .arg(a.attributionSum, 0, 'g', 4)
                            .arg(a.logit - a.baselineLogit, 0, 'g', 4);
            m_status->setText(text);
        } else {
            m_deletion->clear();
            m_insertion->clear();
            m_status->clear();
        }
    }
    QString rows;
    for (const ExplanationPtr& x : m_insight->shownExplanations()) {
        const bool current = x == e;
        rows += QStringLiteral(
                    "<tr><td>%1%2%3</td><td align=right>%4</td><td align=right>%5</td>"
                    "</tr>")
                    .arg(current ? QStringLiteral("<b>") : QString())
                    .arg(methodTitle(x->attribution.method).toHtmlEscaped())
                    .arg(current ? QStringLiteral("</b>") : QString())
                    .arg(x->faithfulness.deletionArea, 0, 'f', 3)
                    .arg(x->faithfulness.insertionArea, 0, 'f', 3);
    }
    m_compare->setText(rows.isEmpty() ? QString()
                                      : tr("<table cellspacing=0 cellpadding=1><tr><th "
                                           "align=left>method</th><th>&nbsp;deletion ↓</th><th>"
                                           "&nbsp;insertion ↑</th></tr>%1</table>")
                                            .arg(rows));
    refreshState();
}

void ExplainPanel::readSettings(const QSettings& s) {
    const int method = s.value("explain/method", 1).toInt();
    const int i = m_method->findData(method);
    if (i >= 0) m_method->setCurrentIndex(i);
    const int layer = m_layer->findText(s.value("explain/layer", "layer4").toString());
    if (layer >= 0) m_layer->setCurrentIndex(layer);
    m_display->setCurrentIndex(s.value("explain/display", 0).toInt() == 1 ? 1 : 0);
}

void ExplainPanel::writeSettings(QSettings& s) const {
    s.setValue("explain/method", m_method->currentData().toInt());
    s.setValue("explain/layer", m_layer->currentText());
    s.setValue("explain/display", m_display->currentIndex());
}

}  // namespace r18::ui
