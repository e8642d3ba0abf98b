#pragma once
// Export of a quantized model as a firmware folder: model.bin (docs/blob-format.md), a C header/source
// pair embedding the blob and the input tables, the C99 runtime (resources/runtime, compiled into the
// library so installed binaries carry it), model.json and a README with the API and the flash / RAM
// figures.
#include "gruq/data/dataset.h"
#include "gruq/quant/evaluate.h"
#include "gruq/quant/genome.h"
#include "gruq/quant/quantized_gru.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gruq {

// Integer input quantization from raw features (gruq_quantize_input in the runtime):
//   code_f = clamp(Z_x + floor((raw_f * multiplier[f] + offset[f]) / 2^shift + 1/2), 0, 2^b - 1)
// with multiplier[f] / 2^shift = rawScale / (std_f S_x), offset[f] / 2^shift = -mean_f / (std_f S_x).
struct InputQuantizer {
    double rawScale = 1.0;  // real feature value (before normalisation) of raw integer 1
    std::vector<int32_t> multiplier;
    std::vector<int64_t> offset;
    int32_t shift = 1;

    void quantize(const ActivationQuant& x, const int16_t* raw, uint8_t* codes) const;  // the runtime's rule
};
InputQuantizer inputQuantizerFor(const QuantizedGru& model, const Normalization& norm, double rawScale);

// Raw-input scale when the user gives none: pixel tasks take bytes (1/255); other tasks a power-of-two
// Q format whose int16 range holds mean +- 8 std of every feature.
double defaultRawScale(const std::string& task, const Normalization& norm);

// What the export README and model.json report next to the arrays.
struct ExportFacts {
    std::string task;
    std::vector<std::string> classNames;
    std::string source;             // "archive run.gruq, individual #12" / "genome given on the command line"
    double validationAccuracy = -1; // integer engine, -1 when unknown
    double testAccuracy = -1;
};

struct FirmwareExport {
    QuantizedGru model;
    Genome genome;
    Normalization normalization;
    double rawScale = 1.0;
    ExportFacts facts;
};

// What to export for an evaluated genome of `data`: its integer model, the task's normalisation and
// classes, the integer-engine accuracies, and the task's default raw-input scale.
FirmwareExport firmwareExportFor(const GenomeEvaluation& evaluation, const TaskData& data, const std::string& source);

struct ExportSummary {
    std::string directory;
    std::vector<std::string> files;   // written, relative to directory
    int64_t blobBytes = 0;            // model.bin = header + size objective
    int64_t sizeObjectiveBytes = 0;
    int64_t inputTableBytes = 0;      // multiplier + offset tables (flash)
    int64_t workspaceBytes = 0;       // RAM: (L + 6) H + 2 max(F, H) + 32 (gruq_workspace_bytes)
    double cortexM4StepInstructions = 0;  // per gruq_step, the latency model's (latency_model.h)
};

// Fails early (InputError naming the folder) when `directory` could not be written: a part of the path
// is a file, or the folder (or its nearest existing parent) is not writable. Cheap; callers run it
// before the minutes-long model rebuild. A full disk still shows up only in exportFirmware.
void checkExportFolder(const std::string& directory);

// Writes the folder (created if missing; existing files of the same names are replaced, other files
// are left alone). Every file is written to "<name>.part" first and all are renamed only when all are
// complete, so a failure (read-only folder, full disk) leaves an earlier export exactly as it was and
// no partial files. InputError naming the folder and the file on failure.
ExportSummary exportFirmware(const FirmwareExport& what, const std::string& directory);

// Runtime figures quoted in every export README, measured with arm-none-eabi-gcc 12 (-mcpu=cortex-m4
// -mthumb -Os); test_firmware_export re-measures them and fails when they drift by more than 15%.
constexpr int64_t kRuntimeCodeBytesCortexM4 = 8080;
constexpr int64_t kRuntimeStructBytes32 = 768; // sizeof(gruq_model) + sizeof(gruq_state) on a 32-bit target (3 layers)
// The same built with -DGRUQ_MAX_LAYERS=1 (firmware that runs one-layer models only).
constexpr int64_t kRuntimeCodeBytesCortexM4OneLayer = 7124;
constexpr int64_t kRuntimeStructBytes32OneLayer = 376;

// The runtime sources shipped with every export (embedded at build time from resources/runtime).
const std::string& runtimeHeaderSource();
const std::string& runtimeSource();

}  // namespace gruq
