// gruq: the desktop application. Argument parsing and wiring only; everything lives in gruq_ui.
#include "main_window.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTimer>

#include <cstring>

namespace {

struct Options {
    QCommandLineOption start{QStringLiteral("start-search"), QStringLiteral("start a search with the current settings")};
    QCommandLineOption select{QStringLiteral("select"), QStringLiteral("select the individual with this id"), QStringLiteral("id")};
};

void setUpParser(QCommandLineParser& parser, const Options& options) {
    parser.setApplicationDescription(QStringLiteral("Mixed-precision integer quantization search for GRU networks"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("archive"), QStringLiteral("a search archive (.gruq) to open"), QStringLiteral("[archive]"));
    parser.addOption(options.start);
    parser.addOption(options.select);
}

// --version and --help only print text: they are answered with a QCoreApplication, before any
// QApplication exists, so they work without a display (packaging checks, ssh sessions, CI).
bool onlyPrintsText(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        if (std::strcmp(a, "--") == 0) break;
        for (const char* flag : {"-v", "--version", "-h", "--help", "-?", "--help-all"}) {
            if (std::strcmp(a, flag) == 0) return true;
        }
    }
    return false;
}

void setApplicationInfo() {
    QCoreApplication::setOrganizationName(QStringLiteral("gruq"));
    QCoreApplication::setApplicationName(QStringLiteral("gruq"));
    QCoreApplication::setApplicationVersion(QStringLiteral(GRUQ_VERSION));
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    if (onlyPrintsText(argc, argv)) {
        QCoreApplication app(argc, argv);
        setApplicationInfo();
        QCommandLineParser parser;
        setUpParser(parser, options);
        parser.process(app);  // prints and exits for --version / --help
        return 0;
    }

    QApplication app(argc, argv);
    setApplicationInfo();
    QCommandLineParser parser;
    setUpParser(parser, options);
    parser.process(app);

    gruq::ui::MainWindow window;
    window.show();
    const QStringList positional = parser.positionalArguments();
    QTimer::singleShot(0, &window, [&] {
        if (!positional.isEmpty()) {
            if (window.openArchive(positional.first()) && parser.isSet(options.select)) {
                window.selectIndividual(parser.value(options.select).toLongLong());
            }
        } else {
            window.loadCurrentTask();  // open on the default (or last used) task
        }
        if (parser.isSet(options.start)) window.startSearch(QString());
    });
    return app.exec();
}
