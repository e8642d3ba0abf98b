#include "gruq/search/step_latency.h"

#include "gruq/export/latency_model.h"
#include "gruq/quant/genome.h"
#include "gruq/search/archive.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace gruq {

GruShape shapeOfFloatModelJson(const std::string& floatModelJson) {
    GruShape shape{0, 0, 0};
    const auto j = nlohmann::json::parse(floatModelJson, nullptr, false);
    if (!j.is_object() || !j.contains("shape") || !j["shape"].is_string()) return shape;
    long long f = 0, h = 0, c = 0, layers = 1;
    char tail = 0;
    const std::string text = j["shape"].get<std::string>();
    const char* key = text.c_str();
    const bool oneLayer = std::sscanf(key, "F%lld-H%lld-C%lld%c", &f, &h, &c, &tail) == 3;
    const bool stacked = !oneLayer && std::sscanf(key, "F%lld-H%lldx%lld-C%lld%c", &f, &h, &layers, &c, &tail) == 4;
    if ((oneLayer || stacked) && f > 0 && h > 0 && c > 0 && layers >= 1 && layers <= kMaxGruLayers) {
        shape = GruShape{f, h, c, layers};
    }
    return shape;
}

double stepInstructionsOf(const GruShape& shape, const std::string& layout, const std::vector<int>& genes) {
    if (shape.inputSize <= 0 || shape.hiddenSize <= 0 || shape.numClasses <= 0) return -1;
    try {
        Genome g;
        g.layout = &layoutByName(layout);
        g.bits = genes;
        if (int(genes.size()) != g.layout->geneCount() || g.layout->layers != shape.numLayers) return -1;
        for (int b : genes) {
            if (b < 2 || b > 8) return -1;
        }
        return LatencyModel::cortexM4().estimate(shape, g.resolve()).instructionsPerStep;
    } catch (const std::exception&) {  // an unknown layout name
        return -1;
    }
}

void setStepLatency(ArchivedIndividual& a, const GruShape& shape) {
    a.stepInstructions = stepInstructionsOf(shape, a.layout, a.genes);
    const double eightBit = shape.numLayers >= 1 && shape.numLayers <= kMaxGruLayers
                                ? stepInstructionsOf(shape, stackedLayout(homogeneousLayout(), int(shape.numLayers)).name, {8})
                                : -1;
    a.latencyFraction = a.stepInstructions >= 0 && eightBit > 0 ? a.stepInstructions / eightBit : -1;
}

}  // namespace gruq
