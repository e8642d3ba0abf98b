#include "gruq/search/promotion_rule.h"

#include "gruq/quant/size_metric.h"
#include "gruq/search/search.h"
#include "gruq/search/step_latency.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace gruq {

double PromotionRule::marginFor(double rungAccuracy) const {
    if (gains.empty()) return 1.0;
    // The nearest `neighbours` rung accuracies: a window around the first at or above rungAccuracy, widened
    // on whichever side is nearer (gains are sorted by rung accuracy).
    const size_t k = std::min(gains.size(), size_t(std::max(1, neighbours)));
    size_t hi = size_t(std::lower_bound(gains.begin(), gains.end(), rungAccuracy,
                                        [](const Gain& g, double r) { return g.rungAccuracy < r; }) -
                       gains.begin());
    size_t lo = hi;
    while (hi - lo < k) {
        const bool takeLow = lo > 0 && (hi == gains.size() || rungAccuracy - gains[lo - 1].rungAccuracy <=
                                                                   gains[hi].rungAccuracy - rungAccuracy);
        if (takeLow) --lo;
        else ++hi;
    }
    std::vector<double> near;
    for (size_t i = lo; i < hi; ++i) near.push_back(gains[i].gain);
    std::sort(near.begin(), near.end());
    const auto rank = static_cast<size_t>(std::ceil(quantile * double(near.size())));  // nearest rank
    return std::max(0.0, near[std::clamp<size_t>(rank, 1, near.size()) - 1]);
}

bool PromotionRule::promote(double sizeFraction, double latencyFraction, bool feasible, double rungAccuracy) const {
    if (rungFraction <= 0 || promoteAll) return true;
    if (!feasible) return false;  // over a budget: it can never enter the front
    const double optimistic = rungAccuracy + marginFor(rungAccuracy);
    return std::none_of(front.begin(), front.end(), [&](const Point& f) {
        // Dominated: the front has a point no larger (no slower) that is better than the best this genome
        // could reach.
        return (!objectives.flash || f.sizeFraction <= sizeFraction) &&
               (!objectives.latency || f.latencyFraction <= latencyFraction) && f.validationAccuracy > optimistic;
    });
}

void PromotionRule::configure(EvaluateOptions& options, const Genome& genome) const {
    if (rungFraction <= 0) return;
    options.rungFraction = rungFraction;
    options.rungValidationShare = rungValidation;
    ArchivedIndividual facts;  // what the genome costs, known before any training
    facts.layout = genome.layout->name;
    facts.genes = genome.bits;
    facts.sizeBits = modelSize(shape, genome.resolve()).totalBits();
    setStepLatency(facts, shape);
    const bool feasible = objectives.feasible(facts);
    options.promote = [rule = *this, latency = facts.latencyFraction, feasible](double sizeFraction, double rungAccuracy) {
        return rule.promote(sizeFraction, latency, feasible, rungAccuracy);
    };
}

std::string PromotionRule::describe() const {
    if (rungFraction <= 0) return "full fidelity";
    char text[200];
    if (promoteAll) {
        std::snprintf(text, sizeof text, "rung at %.0f%% of the QAT budget, everyone promoted", rungFraction * 100);
    } else {
        std::snprintf(text, sizeof text,
                      "rung at %.0f%% of the QAT budget, promoted unless the front of %zu dominates it by more than "
                      "%.1f pp (rung 50%%) .. %.1f pp (rung 85%%)",
                      rungFraction * 100, front.size(), marginFor(0.5) * 100, marginFor(0.85) * 100);
    }
    return text;
}

std::string PromotionRule::toJson() const {
    nlohmann::json points = nlohmann::json::array(), seen = nlohmann::json::array();
    for (const Point& p : front) points.push_back({p.sizeFraction, p.validationAccuracy, p.latencyFraction});
    for (const Gain& g : gains) seen.push_back({g.rungAccuracy, g.gain});
    return nlohmann::json{{"rung", rungFraction},
                          {"rung_validation", rungValidation},
                          {"promote_all", promoteAll},
                          {"neighbours", neighbours},
                          {"quantile", quantile},
                          {"front", points},
                          {"gains", seen},
                          {"objectives", objectives.names()},
                          {"budget", {objectives.maxFlashBytes, objectives.maxLatencyUs, objectives.cpuMhz}},
                          {"shape", {shape.inputSize, shape.hiddenSize, shape.numClasses, shape.numLayers}}}
        .dump();
}

PromotionRule PromotionRule::fromJson(const std::string& text) {
    try {
        const nlohmann::json j = nlohmann::json::parse(text);
        PromotionRule rule;
        rule.rungFraction = j.at("rung").get<double>();
        rule.rungValidation = j.at("rung_validation").get<double>();
        rule.promoteAll = j.at("promote_all").get<bool>();
        rule.neighbours = j.at("neighbours").get<int>();
        rule.quantile = j.at("quantile").get<double>();
        for (const auto& p : j.at("front")) rule.front.push_back({p.at(0).get<double>(), p.at(1).get<double>(), p.at(2).get<double>()});
        for (const auto& g : j.at("gains")) rule.gains.push_back({g.at(0).get<double>(), g.at(1).get<double>()});
        std::string names;
        for (const auto& n : j.at("objectives")) names += (names.empty() ? "" : ",") + n.get<std::string>();
        rule.objectives = parseObjectiveNames(names, rule.objectives);
        rule.objectives.maxFlashBytes = j.at("budget").at(0).get<int64_t>();
        rule.objectives.maxLatencyUs = j.at("budget").at(1).get<double>();
        rule.objectives.cpuMhz = j.at("budget").at(2).get<double>();
        const auto& s = j.at("shape");
        rule.shape = GruShape{s.at(0).get<int64_t>(), s.at(1).get<int64_t>(), s.at(2).get<int64_t>(),
                              s.size() > 3 ? s.at(3).get<int64_t>() : 1};
        return rule;
    } catch (const nlohmann::json::exception& e) {
        throw std::invalid_argument(std::string("promotion rule: ") + e.what());
    }
}

PromotionRule promotionRuleFor(const MultiFidelitySettings& settings, const std::vector<ArchivedIndividual>& evaluated,
                               int generation, const SearchObjectives& objectives, const GruShape& shape) {
    PromotionRule rule;
    rule.objectives = objectives;
    rule.shape = shape;
    if (!settings.enabled) return rule;
    rule.rungFraction = settings.rungFraction;
    rule.rungValidation = settings.rungValidation;
    rule.neighbours = settings.gainNeighbours;
    rule.quantile = settings.gainQuantile;
    std::vector<ArchivedIndividual> earlier;
    for (const ArchivedIndividual& a : evaluated) {
        if (a.isFineTune() || a.isPartial() || a.generation >= generation) continue;
        earlier.push_back(a);
        if (a.rungValidationAccuracy >= 0) rule.gains.push_back({a.rungValidationAccuracy, a.validationAccuracy - a.rungValidationAccuracy});
    }
    if (rule.gains.size() < size_t(rule.neighbours)) {  // too few gains seen to judge anyone yet
        rule.promoteAll = true;
        return rule;
    }
    std::sort(rule.gains.begin(), rule.gains.end(), [](const PromotionRule::Gain& x, const PromotionRule::Gain& y) {
        return x.rungAccuracy != y.rungAccuracy ? x.rungAccuracy < y.rungAccuracy : x.gain < y.gain;
    });
    for (const ArchivedIndividual& f : paretoFront(earlier, objectives)) {
        rule.front.push_back({f.sizeFraction, f.validationAccuracy, f.latencyFraction});
    }
    return rule;
}

}  // namespace gruq
