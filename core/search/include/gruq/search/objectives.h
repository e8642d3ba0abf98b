#pragma once
// What a search minimises and the hard budgets its front must meet (docs/latency.md). The error
// (1 - validation accuracy) is always an objective; flash (the model's bytes) and latency (Cortex-M4
// instructions per GRU step, gruq/export/latency_model.h) are chosen, one or both. Budgets bound the
// flash bytes and the time per step at a clock: an individual over a budget never enters the front, and
// NSGA-II ranks it behind every individual within the budgets (constraint-dominance, Deb 2000).
// Settings JSON: "objectives": ["error", "flash", "latency"], "budget": {"max_flash_bytes",
// "max_latency_us", "cpu_mhz"}; absent = error and flash, no budget (archives from before them).
#include "gruq/search/archive.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gruq {

struct SearchObjectives {
    bool flash = true;          // the size objective's bytes: weights, biases, lookup tables
    bool latency = false;       // instructions per GRU step on the Cortex-M4 (the latency model)
    int64_t maxFlashBytes = 0;  // 0: no budget. The size objective's bytes (no blob header, no runtime code)
    double maxLatencyUs = 0;    // 0: no budget. Per GRU step at cpuMhz, one instruction per cycle
    double cpuMhz = 0;          // the clock of the latency budget (required with it)

    int count() const { return 1 + int(flash) + int(latency); }
    std::vector<std::string> names() const;  // "error", then "flash" and/or "latency"
    bool hasBudget() const { return maxFlashBytes > 0 || maxLatencyUs > 0; }
    double maxStepInstructions() const { return maxLatencyUs * cpuMhz; }
    // 0 within every budget, else the summed relative excess (0.1 = 10% over one budget).
    double violation(int64_t sizeBytes, double stepInstructions) const;
    double violation(const ArchivedIndividual& a) const { return violation((a.sizeBits + 7) / 8, a.stepInstructions); }
    bool feasible(const ArchivedIndividual& a) const { return violation(a) == 0; }
    // What NSGA-II minimises: 1 - validation accuracy, the size fraction and / or the latency fraction
    // (of the all-8-bit model); 10 + violation in every objective for an individual over a budget.
    std::vector<double> values(const ArchivedIndividual& a) const;
    // a no worse than b in every chosen objective and better in one (feasible individuals).
    bool dominates(const ArchivedIndividual& a, const ArchivedIndividual& b) const;
    std::string describe() const;  // "error and flash; flash <= 12000 bytes" (logs, the CLI's front)
    // (Valid values: SearchSettings::validate checks them with the other settings.)
};

// Parses "error,flash,latency" (any order, error may be left out: it is always one); InputError naming
// the option on an unknown or repeated name or when neither flash nor latency is chosen.
SearchObjectives parseObjectiveNames(const std::string& list, SearchObjectives into);

}  // namespace gruq
