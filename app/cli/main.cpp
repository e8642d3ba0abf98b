// gruq-cli: the headless entry point (scripts, clusters, CI).
#include "commands.h"

#include "gruq/base/errors.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <unistd.h>

namespace {

// Results go to stdout, which may be a file on a full disk or a closed pipe; a command whose output was
// lost must not report success. Returns the error text, or empty when everything reached stdout.
std::string standardOutputFailure() {
    // std::cout shares stdout's buffer (synced with stdio): one fflush writes both, and keeps errno.
    errno = 0;
    const bool flushed = std::fflush(stdout) == 0;
    const int error = errno;
    std::cout.flush();
    if (flushed && std::cout.good() && !std::ferror(stdout)) return {};
    return error != 0 ? std::strerror(error) : std::string("the output is incomplete");
}

}  // namespace

int main(int argc, char** argv) {
    // Results stay in one buffer until the end when stdout is a file or pipe, so that a failing write
    // (full disk) happens in the final flush below, where its reason is still known.
    if (!isatty(STDOUT_FILENO)) std::setvbuf(stdout, nullptr, _IOFBF, 1 << 20);
    CLI::App app{"gruq-cli: mixed-precision integer quantization search for GRU classifiers"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("gruq-cli ") + GRUQ_VERSION);
    gruq::cli::CommandRunner runner;
    gruq::cli::addDataCommands(app, runner);
    gruq::cli::addTrainCommand(app, runner);
    gruq::cli::addEvalCommand(app, runner);
    gruq::cli::addSearchCommands(app, runner);
    gruq::cli::addExportCommands(app, runner);
    gruq::cli::addFineTuneCommand(app, runner);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    int code = 2;
    try {
        code = runner ? runner() : 2;
    } catch (const gruq::InputError& e) {
        std::fprintf(stderr, "\ngruq-cli: error: %s\n", e.what());
        return 3;
    } catch (const gruq::Cancelled&) {
        std::fprintf(stderr, "\ngruq-cli: cancelled\n");
        return 130;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "\ngruq-cli: internal error: %s\n", e.what());
        return 4;
    } catch (...) {
        std::fprintf(stderr, "\ngruq-cli: internal error: unknown exception\n");
        return 4;
    }
    const std::string lost = standardOutputFailure();
    if (!lost.empty()) {
        std::fprintf(stderr, "\ngruq-cli: error: standard output: cannot write the result (%s)\n", lost.c_str());
        return code == 0 ? 3 : code;
    }
    return code;
}
