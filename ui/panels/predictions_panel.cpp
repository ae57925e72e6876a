#include "ui/panels/predictions_panel.h"

#include "ui/panels/panel.h"
#include "ui/session/session.h"
#include "ui/views/predictions_view.h"

namespace r18::ui {

PredictionsPanel::PredictionsPanel(Session* session, QObject* parent)
    : QObject(parent),
      m_view(new PredictionsView),
      m_panel(titledPanel(tr("Top-5 predictions"), m_view)) {
    connect(session, &Session::resultShown, this, [this](const ResultPtr& r) {
        m_view->setPredictions(r ? r->top : std::vector<Prediction>{});
    });
    connect(session, &Session::engineChanged, this, [this](const EngineInfo& engine) {
        m_view->setTrusted(engine.model && engine.model->trust() == Trust::Official);
    });
}

}  // namespace r18::ui
