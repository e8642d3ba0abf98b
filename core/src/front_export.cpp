#include "gruq/front_export.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace gruq {

std::string individualsCsv(const std::vector<ArchivedIndividual>& rows) {
    std::string out = "id,validation_accuracy,test_accuracy,size_bits,size_bytes,size_fraction,generation,baseline,genome\n";
    char line[512];
    for (const auto& i : rows) {
        std::snprintf(line, sizeof line, "%lld,%.6f,%.6f,%lld,%lld,%.6f,%d,%d,", static_cast<long long>(i.id),
                      i.validationAccuracy, i.testAccuracy, static_cast<long long>(i.sizeBits),
                      static_cast<long long>((i.sizeBits + 7) / 8), i.sizeFraction, i.generation, i.baseline ? 1 : 0);
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
                     {"baseline", i.baseline}});
    }
    return j.dump(2) + "\n";
}

}  // namespace gruq
