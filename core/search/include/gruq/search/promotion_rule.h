#pragma once
// Multi-fidelity evaluation: successive halving with continuation (as in ASHA, Li et al., MLSys 2020),
// with a two-objective promotion test. Every genome of a batch is trained for a fraction of the QAT
// budget (the rung) and measured; it is trained to the end only when it could still enter the front:
// its rung accuracy plus the gain it might still make is not dominated by the front. The gain allowed is
// an upper quantile of the gains (end minus rung) of the earlier evaluations whose rung accuracy was
// nearest: a scheme the rung shows badly damaged may recover 10 pp, one near the top gains 1-3 pp. The rule is fixed before a batch from the evaluations of earlier
// generations only, so decisions do not depend on which worker finishes first, and a resumed search
// decides as the interrupted one did.
#include "gruq/quant/evaluate.h"
#include "gruq/quant/genome.h"
#include "gruq/search/archive.h"
#include "gruq/search/objectives.h"
#include "gruq/search/search_settings.h"

#include <string>
#include <vector>

namespace gruq {

struct PromotionRule {
    double rungFraction = 0;    // 0: no rung, every genome is trained in full
    double rungValidation = 1;  // share of the validation split the rung is measured on
    bool promoteAll = false;    // the rung is measured (its gain teaches the rule) but nobody is stopped
    struct Gain {
        double rungAccuracy = 0, gain = 0;
    };
    std::vector<Gain> gains;    // of earlier full evaluations, by rung accuracy
    int neighbours = 16;        // gains considered for a rung accuracy: the nearest ones
    double quantile = 1.0;      // of those gains
    struct Point {
        double sizeFraction = 0, validationAccuracy = 0, latencyFraction = 0;
    };
    std::vector<Point> front;   // full-fidelity front the rung is judged against (by size)
    // The search's objectives and budgets, and the shape that turns a genome into bytes and instructions:
    // a genome over a budget cannot enter the front and stops at the rung.
    SearchObjectives objectives;
    GruShape shape{0, 0, 0};

    // Whether a genome of this size and latency (fractions of the all-8-bit model's), within the budgets
    // or not, with this rung accuracy goes on to the full budget.
    bool promote(double sizeFraction, double latencyFraction, bool feasible, double rungAccuracy) const;
    // The accuracy a genome with this rung accuracy may still gain.
    double marginFor(double rungAccuracy) const;
    std::string describe() const;  // for the log
    // Sets the evaluation's rung and the promotion test of this genome (nothing when there is no rung).
    void configure(EvaluateOptions& options, const Genome& genome) const;

    std::string toJson() const;  // shipped to MPI ranks with each job
    // std::invalid_argument on malformed JSON (it only travels between gruq processes).
    static PromotionRule fromJson(const std::string& json);
};

// The rule for a batch of the given generation: no rung when multi-fidelity is off; otherwise the front
// and the gain quantile of the search's full-fidelity evaluations of earlier generations (baselines
// count as generation -1); with fewer gains seen than the neighbours it asks for, everyone is promoted.
PromotionRule promotionRuleFor(const MultiFidelitySettings& settings, const std::vector<ArchivedIndividual>& evaluated,
                               int generation, const SearchObjectives& objectives = {}, const GruShape& shape = {0, 0, 0});

}  // namespace gruq
