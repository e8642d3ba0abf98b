// gruq-cli finetune: full QAT of a chosen archived scheme with early stopping, stored in the archive as
// a new individual linked to its source (gruq/search/fine_tune.h).
#include "cli_common.h"
#include "commands.h"

#include "gruq/base/errors.h"
#include "gruq/search/fine_tune.h"

#include <cstdio>
#include <memory>

namespace gruq::cli {
namespace {

struct FineTuneArgs {
    std::string archive;
    int64_t pick = 0;
    FineTuneSettings settings;
};

void printFigures(const char* what, const ArchivedIndividual& i) {
    std::printf("  %-22s #%-5lld validation %s, test %s\n", what, static_cast<long long>(i.id),
                formatPercent(i.validationAccuracy).c_str(), i.testAccuracy >= 0 ? formatPercent(i.testAccuracy).c_str() : "not measured");
}

int runFineTune(const FineTuneArgs& a) {
    if (a.pick <= 0) throw InputError("arguments", "give the individual to fine-tune with --pick ID (see gruq-cli front " + a.archive + ")");
    ProgressBar bar;
    const FineTuneResult r = fineTuneArchivedIndividual(a.archive, a.pick, a.settings, std::ref(bar), interruptFlag());
    bar.finish();
    if (r.tuned.id == 0) {  // only a cancel ends a run before its first epoch is stored
        std::fprintf(stderr, "cancelled before the first epoch ended: nothing stored\n");
        return 130;
    }
    std::printf("fine-tuned %s (%.1f%% of 8-bit) in %.0f s: %d of %d epochs, best epoch %d (%s)\n", r.source.genome.c_str(),
                100 * r.source.sizeFraction, r.seconds, r.tuned.fineTune.epochsRun, r.tuned.fineTune.epochsPlanned,
                r.tuned.fineTune.bestEpoch, r.tuned.fineTune.status.c_str());
    printFigures("search (small QAT budget)", r.source);
    printFigures("fine-tuned", r.tuned);
    if (r.tuned.validationAccuracy <= r.source.validationAccuracy) {
        // The search's figure is the best of many short, noisy evaluations; say so rather than let a
        // "fine-tuned" label suggest the better model.
        std::printf("note: no epoch beat the search's own model on validation; #%lld stays the better choice\n",
                    static_cast<long long>(r.source.id));
    }
    if (r.cancelled) {
        std::fprintf(stderr, "cancelled: the best epoch so far is kept as #%lld\n", static_cast<long long>(r.tuned.id));
        return 130;
    }
    std::printf("stored as #%lld in %s: gruq-cli export %s --pick %lld --out DIR\n", static_cast<long long>(r.tuned.id),
                a.archive.c_str(), a.archive.c_str(), static_cast<long long>(r.tuned.id));
    return 0;
}

}  // namespace

void addFineTuneCommand(CLI::App& app, CommandRunner& runner) {
    auto a = std::make_shared<FineTuneArgs>();
    CLI::App* cmd = app.add_subcommand(
        "finetune", "QAT of an archived scheme over full epochs (cosine learning rate, early stopping on validation); "
                    "the result is stored in the archive as a new individual linked to its source");
    cmd->add_option("archive", a->archive, "search archive (.gruq)")->required();
    cmd->add_option("--pick", a->pick, "id of the individual to fine-tune (gruq-cli front lists them)")->required();
    cmd->add_option("--epochs", a->settings.epochs, "most epochs over the whole training split")->capture_default_str();
    cmd->add_option("--patience", a->settings.patience, "stop after this many epochs without a better validation accuracy")
        ->capture_default_str();
    cmd->add_option("--learning-rate", a->settings.learningRate, "Adam learning rate (0 = the search's QAT rate)")
        ->capture_default_str();
    cmd->callback([&runner, a] { runner = [a] { return runFineTune(*a); }; });
}

}  // namespace gruq::cli
