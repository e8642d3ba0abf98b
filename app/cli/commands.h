#pragma once
// Each subcommand registers itself on the root app and returns the exit code when run.
#include <CLI/CLI.hpp>

#include <functional>

namespace gruq::cli {

using CommandRunner = std::function<int()>;

// Registers "data info" and "data generate-speech"; sets *runner when one of them is chosen.
void addDataCommands(CLI::App& app, CommandRunner& runner);
// Registers "search" and "front".
void addSearchCommands(CLI::App& app, CommandRunner& runner);
// Registers "eval" (one genome).
void addEvalCommand(CLI::App& app, CommandRunner& runner);
// Registers "export" (firmware folder) and "blob-info".
void addExportCommands(CLI::App& app, CommandRunner& runner);
// Registers "finetune" (full QAT of an archived scheme).
void addFineTuneCommand(CLI::App& app, CommandRunner& runner);
// Registers "train" (float baseline).
void addTrainCommand(CLI::App& app, CommandRunner& runner);

}  // namespace gruq::cli
