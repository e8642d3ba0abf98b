// The latency model (latency_model.h): the calibration's per-operator costs applied to a shape and its
// bit widths, with the stream layout of docs/blob-format.md deciding which rows go a word at a time.
#include "gruq/export/latency_model.h"

#include "gruq/base/errors.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <stdexcept>

namespace gruq {

extern const char* const kEmbeddedCortexM4LatencyModel;

namespace {

double numberAt(const nlohmann::json& j, const std::string& key, const std::string& where, const std::string& source) {
    if (!j.is_object() || !j.contains(key) || !j.at(key).is_number()) {
        throw InputError(source, "latency model: " + where + key + " is missing or not a number");
    }
    const double v = j.at(key).get<double>();
    if (!std::isfinite(v) || v < 0) throw InputError(source, "latency model: " + where + key + " must be finite and >= 0");
    return v;
}

int64_t perWord(int bits) { return bits == 8 ? 4 : bits == 4 ? 8 : bits == 2 ? 16 : 0; }

}  // namespace

const LatencyModel& LatencyModel::cortexM4() {
    static const LatencyModel model = fromJson(kEmbeddedCortexM4LatencyModel, "resources/latency/cortex-m4.json");
    return model;
}

LatencyModel LatencyModel::fromJson(const std::string& text, const std::string& source) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw InputError(source, std::string("latency model: not JSON: ") + e.what());
    }
    if (!j.is_object() || !j.contains("matrix")) throw InputError(source, "latency model: no \"matrix\" section");
    LatencyModel m;
    for (int b = 2; b <= 8; ++b) {
        const std::string key = std::to_string(b);
        if (!j["matrix"].contains(key)) throw InputError(source, "latency model: matrix." + key + " is missing");
        const nlohmann::json& c = j["matrix"][key];
        const std::string where = "matrix." + key + ".";
        m.matrix_[size_t(b)] = {numberAt(c, "row", where, source), numberAt(c, "word", where, source),
                                numberAt(c, "tail", where, source), numberAt(c, "field", where, source)};
    }
    m.offsetsFixed_ = numberAt(j.value("offsets", nlohmann::json()), "fixed", "offsets.", source);
    m.offsetsPerInput_ = numberAt(j.value("offsets", nlohmann::json()), "per_input", "offsets.", source);
    m.updateFixed_ = numberAt(j.value("update", nlohmann::json()), "fixed", "update.", source);
    m.updatePerUnit_ = numberAt(j.value("update", nlohmann::json()), "per_unit", "update.", source);
    m.headPerClass_ = numberAt(j.value("head", nlohmann::json()), "per_class", "head.", source);
    m.target_ = j.value("target", std::string("unknown target"));
    m.compiler_ = j.value("compiler", std::string());
    m.commit_ = j.value("runtime_commit", std::string());
    return m;
}

double LatencyModel::matrixInstructions(int64_t startBit, int64_t rows, int64_t cols, int bits) const {
    const MatrixCosts& c = matrix_.at(size_t(bits));
    const int64_t word = perWord(bits);
    int64_t words = 0, tails = 0, fields = 0, bit = startBit;
    for (int64_t j = 0; j < rows; ++j, bit += cols * bits) {
        const int64_t buffered = (8 - bit % 8) % 8;  // bits of the current byte not yet read
        if (word != 0) {  // 8, 4, 2 bits: whole words once at a byte boundary (dot_row)
            if (buffered % bits == 0) {
                const int64_t head = std::min(buffered / bits, cols);
                fields += head;
                words += (cols - head) / word;
                tails += (cols - head) % word != 0 ? 1 : 0;
            } else {
                fields += cols;
            }
            continue;
        }
        // 3, 5, 6, 7 bits: fields up to the first byte boundary, then groups of eight fields (dot_groups)
        int64_t k = 0, n = buffered;
        for (; n != 0 && k < cols && k < 8; ++k) n = (n < bits ? n + 8 : n) - bits;
        if (n != 0) {
            fields += cols;
            continue;
        }
        const int64_t rest = cols - k, need = bits / 2 + 4;
        int64_t groups = rest / 8;
        while (groups > 0 && ((rest - 8 * (groups - 1)) * bits + 7) / 8 < need) --groups;
        words += groups;
        fields += cols - 8 * groups;
    }
    return c.row * double(rows) + c.word * double(words) + c.tail * double(tails) + c.field * double(fields);
}

LatencyEstimate LatencyModel::estimate(const GruShape& shape, const LayerBits& bits) const {
    const int64_t H = shape.hiddenSize, C = shape.numClasses;
    if (shape.numLayers < 1 || int64_t(bits.size()) != shape.numLayers) {
        throw std::invalid_argument("LatencyModel::estimate: " + std::to_string(bits.size()) + " bit assignments for shape " +
                                    shape.key());
    }
    LatencyEstimate e;
    double step = 0;
    int64_t headBit = 0;  // W_fc's position in the first layer's stream
    for (int64_t l = 0; l < shape.numLayers; ++l) {
        const BitAssignment& layer = bits[size_t(l)];
        const int64_t In = shape.layerInputSize(l);
        step += 2 * offsetsFixed_ + offsetsPerInput_ * double(In + H) + updateFixed_ + updatePerUnit_ * double(H);
        int64_t bit = 0;  // the layer's weight stream: W_ih gate by gate, W_hh (the first layer: then W_fc)
        for (int g = 0; g < 3; ++g) {
            const int w = layer[pointIndex(gatePoint(QuantPoint::WIr, g))];
            step += matrixInstructions(bit, H, In, w);
            bit += H * In * w;
        }
        for (int g = 0; g < 3; ++g) {
            const int w = layer[pointIndex(gatePoint(QuantPoint::WHr, g))];
            step += matrixInstructions(bit, H, H, w);
            bit += H * H * w;
        }
        if (l == 0) headBit = bit;
    }
    e.instructionsPerStep = step;
    e.headInstructions = offsetsFixed_ + offsetsPerInput_ * double(H) +
                         matrixInstructions(headBit, C, H, bits.back()[pointIndex(QuantPoint::WFc)]) + headPerClass_ * double(C);
    return e;
}

}  // namespace gruq
