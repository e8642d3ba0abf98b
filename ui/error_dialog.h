#pragma once
// Error dialogs: window-modal, non-blocking (open(), not exec()), so background work and tests go on.
#include <QString>

class QWidget;
class QMessageBox;

namespace gruq::ui {

QMessageBox* showError(QWidget* parent, const QString& title, const QString& message);

}  // namespace gruq::ui
