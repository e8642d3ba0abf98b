// gruq-cli export: a firmware folder (blob, C arrays, runtime, README) from an archived individual or
// from a genome given directly; gruq-cli blob-info: validate and describe a blob.
#include "cli_common.h"
#include "commands.h"

#include "gruq/search/archive_model.h"
#include "gruq/export/blob.h"
#include "gruq/base/errors.h"
#include "gruq/export/firmware_export.h"
#include "gruq/quant/size_metric.h"

#include <cstdio>
#include <filesystem>
#include <memory>

namespace gruq::cli {
namespace {

struct ExportArgs {
    std::string archive;
    int64_t pick = 0;
    std::string out;
    double rawScale = 0;  // 0 = the task's default
    bool force = false;
    // Direct export from a genome:
    std::string task = defaultTaskName();
    TaskLoadOptions load;
    FloatTrainConfig floatConfig;
    QatConfig qat;
    GenomeArgs genome;
};

void refuseToOverwrite(const ExportArgs& a) {
    const std::filesystem::path blob = std::filesystem::path(a.out) / "model.bin";
    if (!a.force && std::filesystem::exists(blob)) {
        throw InputError(a.out, "already holds an export (model.bin); choose another folder or pass --force");
    }
}

int report(const FirmwareExport& what, const ExportSummary& s) {
    std::printf("exported %s (%s) to %s\n", what.genome.toText().c_str(), what.model.shape.key().c_str(), s.directory.c_str());
    std::printf("  integer engine: validation %s, test %s\n", formatPercent(what.facts.validationAccuracy).c_str(),
                formatPercent(what.facts.testAccuracy).c_str());
    std::printf("  model.bin %lld bytes = 640 header + %lld size objective; workspace %lld bytes RAM\n",
                static_cast<long long>(s.blobBytes), static_cast<long long>(s.sizeObjectiveBytes),
                static_cast<long long>(s.workspaceBytes));
    std::printf("  files:");
    for (const auto& f : s.files) std::printf(" %s", f.c_str());
    std::printf("\n");
    return 0;
}

int runExport(const ExportArgs& a) {
    if (a.out.empty()) throw InputError("arguments", "give the output folder with --out DIR");
    refuseToOverwrite(a);
    checkExportFolder(a.out);  // a read-only or blocked folder fails now, not after the model rebuild
    ProgressBar bar;
    FirmwareExport what;
    if (!a.archive.empty()) {
        if (a.pick <= 0) throw InputError("arguments", "give the individual to export with --pick ID (see gruq-cli front " + a.archive + ")");
        const RebuiltIndividual r = rebuildArchivedIndividual(a.archive, a.pick, std::ref(bar), interruptFlag());
        bar.finish();
        if (!r.fromStoredModel) {
            std::fprintf(stderr, "note: this archive keeps no model for #%lld (made before gruq stored models, or evaluated "
                                 "elsewhere without it): rebuilt by re-running its QAT, exact only on the same kind of CPU\n",
                         static_cast<long long>(a.pick));
        }
        if (!r.reproduced) {
            std::fprintf(stderr, "warning: rebuilt #%lld has validation accuracy %s, the archive says %s (different thread "
                                 "count or library version?); exporting the rebuilt model with its own figures\n",
                         static_cast<long long>(a.pick), formatPercent(r.evaluation.validationAccuracy).c_str(),
                         formatPercent(r.stored.validationAccuracy).c_str());
        }
        what = firmwareExportFor(r.evaluation, *r.data, "archive " + a.archive + ", individual #" + std::to_string(a.pick));
    } else {
        const CommandLineEvaluation run =
            evaluateOnCommandLine(a.task, a.load, a.floatConfig, a.qat, a.genome, /*withTest=*/true);
        what = firmwareExportFor(run.evaluation, run.data, "genome given to gruq-cli export");
    }
    if (a.rawScale > 0) what.rawScale = a.rawScale;
    return report(what, exportFirmware(what, a.out));
}

int runBlobInfo(const std::string& path) {
    // The stream reader would read a folder as an empty or endless file: say what it is instead.
    std::error_code ec;
    const std::filesystem::file_status status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status)) throw InputError(path, "file not found");
    if (std::filesystem::is_directory(status)) throw InputError(path, "is a folder, expected a blob file (model.bin)");
    const BlobContents b = readBlobFile(path);  // BlobError (exit 3) names the file and the check that failed
    const LayerBits bits = b.model.bits();
    const ModelSize size = modelSize(b.model.shape, bits);
    std::printf("%s: valid gruq blob v%d, %lld bytes\n", path.c_str(), b.formatVersion,
                static_cast<long long>(blobBytes(b.model.shape, bits, b.normalization.has_value())));
    std::printf("  task %s, shape %s, layout %s\n", b.taskName.c_str(), b.model.shape.key().c_str(), b.genome.layout->name.c_str());
    std::printf("  genome %s\n", b.genome.toText().c_str());
    std::printf("  size objective %lld bytes (%.1f%% of 8-bit)\n", static_cast<long long>(size.totalBytes()),
                100 * size.fractionOf8Bit);
    if (b.normalization) {
        std::printf("  input normalisation (mean / std per feature):");
        for (size_t f = 0; f < b.normalization->mean.size() && f < 8; ++f) {
            std::printf(" %.4g/%.4g", b.normalization->mean[f], b.normalization->stdDev[f]);
        }
        std::printf(b.normalization->mean.size() > 8 ? " ...\n" : "\n");
    } else {
        std::printf("  no normalisation section\n");
    }
    return 0;
}

}  // namespace

void addExportCommands(CLI::App& app, CommandRunner& runner) {
    auto a = std::make_shared<ExportArgs>();
    CLI::App* cmd = app.add_subcommand(
        "export", "write a firmware folder (model.bin, C arrays, C runtime, README) for an archived individual "
                  "(ARCHIVE --pick ID) or for a genome (--task, --genome | --bits)");
    cmd->add_option("archive", a->archive, "search archive (.gruq)");
    cmd->add_option("--pick", a->pick, "id of the individual to export (gruq-cli front lists them)");
    cmd->add_option("--out", a->out, "output folder")->required();
    cmd->add_option("--raw-scale", a->rawScale,
                    "real value of one raw input unit for gruq_quantize_input (default: 1/255 for pixel tasks, "
                    "a power of two otherwise)");
    cmd->add_flag("--force", a->force, "replace an existing export in the folder");
    cmd->add_option("--task", a->task, "task name (genome export)")->capture_default_str();
    addTaskOptions(*cmd, a->load);
    addUserDataOptions(*cmd, a->task, a->load);
    addModelImportOptions(*cmd, a->floatConfig, a->load);
    addGenomeOptions(*cmd, a->genome);
    addModelOptions(*cmd, a->floatConfig, a->qat);
    cmd->callback([&runner, a] { runner = [a] { return runExport(*a); }; });

    auto blobPath = std::make_shared<std::string>();
    CLI::App* info = app.add_subcommand("blob-info", "validate a firmware blob (model.bin) and describe it");
    info->add_option("blob", *blobPath, "blob file")->required();
    info->callback([&runner, blobPath] { runner = [blobPath] { return runBlobInfo(*blobPath); }; });
}

}  // namespace gruq::cli
