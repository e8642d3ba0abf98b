#include "gruq/search/objectives.h"

#include "gruq/base/errors.h"

#include <cmath>
#include <sstream>

namespace gruq {

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& problem) {
    throw InputError("search settings", "'" + field + "' " + problem);  // as search_settings.cpp names fields
}

constexpr double kPenalty = 10;  // above every feasible objective value (fractions of the 8-bit model, 1 - accuracy)

}  // namespace

std::vector<std::string> SearchObjectives::names() const {
    std::vector<std::string> n{"error"};
    if (flash) n.push_back("flash");
    if (latency) n.push_back("latency");
    return n;
}

double SearchObjectives::violation(int64_t sizeBytes, double stepInstructions) const {
    double v = 0;
    if (maxFlashBytes > 0 && sizeBytes > maxFlashBytes) v += double(sizeBytes - maxFlashBytes) / double(maxFlashBytes);
    if (maxLatencyUs > 0) {
        const double limit = maxStepInstructions();
        // An unknown latency (no shape) cannot be shown to meet the budget.
        if (stepInstructions < 0) v += 1;
        else if (stepInstructions > limit) v += (stepInstructions - limit) / limit;
    }
    return v;
}

std::vector<double> SearchObjectives::values(const ArchivedIndividual& a) const {
    const double over = violation(a);
    std::vector<double> v{1.0 - a.validationAccuracy};
    if (flash) v.push_back(a.sizeFraction);
    if (latency) v.push_back(a.latencyFraction);
    if (over > 0) {
        for (double& x : v) x = kPenalty + over;
    }
    return v;
}

bool SearchObjectives::dominates(const ArchivedIndividual& a, const ArchivedIndividual& b) const {
    const std::vector<double> va = values(a), vb = values(b);
    bool better = false;
    for (size_t i = 0; i < va.size(); ++i) {
        if (va[i] > vb[i]) return false;
        if (va[i] < vb[i]) better = true;
    }
    return better;
}

std::string SearchObjectives::describe() const {
    std::ostringstream s;
    s << (flash && latency ? "error, flash and latency" : flash ? "error and flash" : "error and latency");
    if (maxFlashBytes > 0) s << "; flash <= " << maxFlashBytes << " bytes";
    if (maxLatencyUs > 0) s << "; latency <= " << maxLatencyUs << " us per step at " << cpuMhz << " MHz";
    return s.str();
}

void SearchObjectives::validate() const {
    if (!flash && !latency) bad("objectives", "need flash or latency besides the error");
    // Upper bounds: beyond them a value is a typo (a microcontroller with a terabyte of flash), not a budget.
    if (maxFlashBytes < 0 || maxFlashBytes > (int64_t(1) << 32))
        bad("budget.max_flash_bytes", "must be in 0..4294967296 (0: no budget)");
    if (!(maxLatencyUs >= 0 && maxLatencyUs <= 1e9)) bad("budget.max_latency_us", "must be in 0..1e9 (0: no budget)");
    if (maxLatencyUs > 0 && !(cpuMhz > 0 && cpuMhz <= 10000))
        bad("budget.cpu_mhz", "must be in (0, 10000] with a latency budget (the clock the budget is at)");
    if (!(cpuMhz >= 0 && cpuMhz <= 10000)) bad("budget.cpu_mhz", "must be in [0, 10000]");
}

SearchObjectives parseObjectiveNames(const std::string& list, SearchObjectives into) {
    into.flash = into.latency = false;
    bool error = false;
    std::stringstream s(list);
    std::string name;
    while (std::getline(s, name, ',')) {
        bool* seen = name == "error" ? &error : name == "flash" ? &into.flash : name == "latency" ? &into.latency : nullptr;
        if (!seen) throw InputError("--objectives", "unknown objective '" + name + "' (error, flash, latency)");
        if (*seen) throw InputError("--objectives", "'" + name + "' is named twice");
        *seen = true;
    }
    if (!into.flash && !into.latency) throw InputError("--objectives", "choose flash, latency or both (the error is always one)");
    return into;
}

}  // namespace gruq
