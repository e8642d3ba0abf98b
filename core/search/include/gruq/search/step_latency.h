#pragma once
// The Cortex-M4 latency of archived individuals: instructions per GRU step of the exported C runtime,
// predicted by the compiled-in latency model (gruq/export/latency_model.h, docs/latency.md) from the
// float model's shape and the individual's genome. A function of (shape, genome), so archives need no
// column for it and every archive, also an older one, shows it.
#include "gruq/model/float_model.h"

#include <string>
#include <vector>

namespace gruq {

// The shape stored in an archive's float-model JSON ("shape": "F28-H64-C10"); all zero when missing.
GruShape shapeOfFloatModelJson(const std::string& floatModelJson);

// Instructions per step of the genome (layout name + genes); -1 when the shape is unknown (zero) or the
// genome does not fit the layout.
double stepInstructionsOf(const GruShape& shape, const std::string& layout, const std::vector<int>& genes);

// Sets a.stepInstructions and a.latencyFraction (of the all-8-bit model of the shape) from its genome.
struct ArchivedIndividual;
void setStepLatency(ArchivedIndividual& a, const GruShape& shape);

}  // namespace gruq
