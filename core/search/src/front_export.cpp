#include "gruq/search/front_export.h"

#include "gruq/base/errors.h"
#include "gruq/base/paths.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

namespace gruq {

std::string individualsCsv(const std::vector<ArchivedIndividual>& rows) {
    std::string out =
        "id,validation_accuracy,test_accuracy,size_bits,size_bytes,size_fraction,generation,baseline,source_id,fidelity,"
        "m4_instructions_per_step,genome\n";
    char line[512];
    for (const auto& i : rows) {
        std::snprintf(line, sizeof line, "%lld,%.6f,%.6f,%lld,%lld,%.6f,%d,%d,%lld,%.6g,%.0f,", static_cast<long long>(i.id),
                      i.validationAccuracy, i.testAccuracy, static_cast<long long>(i.sizeBits),
                      static_cast<long long>((i.sizeBits + 7) / 8), i.sizeFraction, i.generation, i.baseline ? 1 : 0,
                      static_cast<long long>(i.sourceId), i.fidelity, i.stepInstructions);
        out += line;
        out += "\"" + i.genome + "\"\n";  // genome text never contains quotes
    }
    return out;
}

std::string individualsJson(const std::vector<ArchivedIndividual>& rows) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& i : rows) {
        j.push_back({{"id", i.id},
                     {"genome", i.genome},
                     {"layout", i.layout},
                     {"validation_accuracy", i.validationAccuracy},
                     {"fake_quant_validation_accuracy", i.fakeQuantValidationAccuracy},
                     {"test_accuracy", i.testAccuracy},
                     {"size_bits", i.sizeBits},
                     {"size_bytes", (i.sizeBits + 7) / 8},
                     {"size_fraction", i.sizeFraction},
                     {"seconds", i.seconds},
                     {"generation", i.generation},
                     {"baseline", i.baseline},
                     {"fidelity", i.fidelity},
                     {"rung_validation_accuracy", i.rungValidationAccuracy},
                     {"m4_instructions_per_step", i.stepInstructions}});
        if (i.isFineTune()) {
            j.back()["source_id"] = i.sourceId;
            j.back()["fine_tune"] = {{"epochs_planned", i.fineTune.epochsPlanned}, {"epochs_run", i.fineTune.epochsRun},
                                     {"best_epoch", i.fineTune.bestEpoch},       {"patience", i.fineTune.patience},
                                     {"learning_rate", i.fineTune.learningRate}, {"status", i.fineTune.status}};
        }
    }
    // An archive edited by hand may hold text that is not UTF-8: print it replaced instead of failing.
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void saveIndividuals(const std::string& path, const std::vector<ArchivedIndividual>& rows) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw InputError(path, "is a folder, not a file name");
    const bool json = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
    replaceFile(path, json ? individualsJson(rows) : individualsCsv(rows));
}

}  // namespace gruq
