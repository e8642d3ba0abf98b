// gruq-cli: the headless entry point (scripts, clusters, CI).
#include "commands.h"

#include "gruq/errors.h"

#include <cstdio>

int main(int argc, char** argv) {
    CLI::App app{"gruq-cli: mixed-precision integer quantization search for GRU classifiers"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("gruq-cli ") + GRUQ_VERSION);
    gruq::cli::CommandRunner runner;
    gruq::cli::addDataCommands(app, runner);
    gruq::cli::addTrainCommand(app, runner);
    gruq::cli::addEvalCommand(app, runner);
    gruq::cli::addSearchCommands(app, runner);
    gruq::cli::addExportCommands(app, runner);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        return runner ? runner() : 2;
    } catch (const gruq::InputError& e) {
        std::fprintf(stderr, "\ngruq-cli: error: %s\n", e.what());
        return 3;
    } catch (const gruq::Cancelled&) {
        std::fprintf(stderr, "\ngruq-cli: cancelled\n");
        return 130;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "\ngruq-cli: internal error: %s\n", e.what());
        return 4;
    }
}
