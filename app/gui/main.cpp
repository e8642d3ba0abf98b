// gruq: the desktop application. Argument parsing and wiring only; everything lives in gruq_ui.
#include "main_window.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("gruq"));
    QApplication::setApplicationName(QStringLiteral("gruq"));
    QApplication::setApplicationVersion(QStringLiteral(GRUQ_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Mixed-precision integer quantization search for GRU networks"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("archive"), QStringLiteral("a search archive (.gruq) to open"), QStringLiteral("[archive]"));
    const QCommandLineOption start(QStringLiteral("start-search"), QStringLiteral("start a search with the current settings"));
    const QCommandLineOption select(QStringLiteral("select"), QStringLiteral("select the individual with this id"), QStringLiteral("id"));
    parser.addOption(start);
    parser.addOption(select);
    parser.process(app);

    gruq::ui::MainWindow window;
    window.show();
    const QStringList positional = parser.positionalArguments();
    QTimer::singleShot(0, &window, [&] {
        if (!positional.isEmpty()) {
            if (window.openArchive(positional.first()) && parser.isSet(select)) window.selectIndividual(parser.value(select).toLongLong());
        } else {
            window.loadCurrentTask();  // open on the default (or last used) task
        }
        if (parser.isSet(start)) window.startSearch(QString());
    });
    return app.exec();
}
