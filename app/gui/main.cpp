// gruq: the desktop application. Wiring only; everything lives in gruq_ui.
#include "main_window.h"

#include <QApplication>
#include <QTimer>

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("gruq"));
    QApplication::setApplicationName(QStringLiteral("gruq"));
    QApplication::setApplicationVersion(QStringLiteral(GRUQ_VERSION));
    gruq::ui::MainWindow window;
    window.show();
    QTimer::singleShot(0, &window, &gruq::ui::MainWindow::loadCurrentTask);  // open on the default task
    return app.exec();
}
