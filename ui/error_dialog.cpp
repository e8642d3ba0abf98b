#include "error_dialog.h"

#include <QMessageBox>

namespace gruq::ui {

QMessageBox* showError(QWidget* parent, const QString& title, const QString& message) {
    auto* box = new QMessageBox(QMessageBox::Critical, title, message, QMessageBox::Ok, parent);
    box->setObjectName(QStringLiteral("errorDialog"));
    box->setTextInteractionFlags(Qt::TextSelectableByMouse);  // paths in messages can be copied
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
    return box;
}

}  // namespace gruq::ui
