#include "gruq/search/objectives.h"

#include "gruq/base/errors.h"

#include <cmath>
#include <sstream>

namespace gruq {

namespace {

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
