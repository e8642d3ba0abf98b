#include "gruq/model/onnx_gru_reader.h"

#include "gruq/base/errors.h"
#include "gruq/base/text.h"

#include <onnx/onnx_pb.h>

#include <climits>
#include <cstring>
#include <map>
#include <set>

namespace gruq {
namespace {

// Operators that only move data between the GRU and the head in exported graphs (the last step's
// output selected, squeezed, transposed; the initial state built from the input's shape).
const std::set<std::string> kPlumbingOps = {"Shape",   "Constant", "ConstantOfShape", "Gather",  "Unsqueeze",
                                            "Squeeze", "Concat",   "Transpose",       "Slice",   "Reshape",
                                            "Flatten", "Identity", "Dropout",         "Cast",    "Expand"};

std::string shapeText(const onnx::TensorProto& t) {
    std::vector<std::string> dims;
    for (int64_t d : t.dims()) dims.push_back(std::to_string(d));
    return "[" + joined(dims, ", ") + "]";
}

// The float values of a constant tensor (FLOAT, DOUBLE or FLOAT16; raw or typed fields).
std::vector<float> valuesOf(const onnx::TensorProto& t, const std::string& where) {
    const std::string name = "ONNX tensor " + t.name();
    if (t.data_location() == onnx::TensorProto::EXTERNAL) {
        throw InputError(where, name + " is stored in an external file; export with the weights inside the .onnx file");
    }
    int64_t count = 1;
    for (int64_t d : t.dims()) {
        if (d < 0 || d > (int64_t(1) << 31)) throw InputError(where, name + " has a bad dimension");
        count *= d;
        if (count > (int64_t(1) << 31)) throw InputError(where, name + " is too large");
    }
    const std::string& raw = t.raw_data();
    auto wrongSize = [&] { return InputError(where, name + " holds a different number of values than its shape " + shapeText(t)); };
    if (t.data_type() != onnx::TensorProto::FLOAT && t.data_type() != onnx::TensorProto::DOUBLE) {
        throw InputError(where, name + " has element type " + std::to_string(t.data_type()) +
                                    "; gruq reads float32 and float64 weights");
    }
    // The stored values must match the shape before anything is allocated for them.
    const int64_t stored = !raw.empty() ? int64_t(raw.size()) / (t.data_type() == onnx::TensorProto::DOUBLE ? 8 : 4)
                           : t.data_type() == onnx::TensorProto::DOUBLE ? t.double_data_size()
                                                                        : t.float_data_size();
    if (stored != count) throw wrongSize();
    std::vector<float> out(static_cast<size_t>(count));
    switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
        if (!raw.empty()) {
            if (raw.size() != out.size() * 4) throw wrongSize();
            std::memcpy(out.data(), raw.data(), raw.size());
        } else {
            if (t.float_data_size() != count) throw wrongSize();
            std::copy(t.float_data().begin(), t.float_data().end(), out.begin());
        }
        break;
    case onnx::TensorProto::DOUBLE:
        if (!raw.empty()) {
            if (raw.size() != out.size() * 8) throw wrongSize();
            for (size_t i = 0; i < out.size(); ++i) {
                double v;
                std::memcpy(&v, raw.data() + 8 * i, 8);
                out[i] = static_cast<float>(v);
            }
        } else {
            if (t.double_data_size() != count) throw wrongSize();
            std::copy(t.double_data().begin(), t.double_data().end(), out.begin());
        }
        break;
    default:
        throw InputError(where, name + " has element type " + std::to_string(t.data_type()) +
                                    "; gruq reads float32 and float64 weights");
    }
    return out;
}

const onnx::AttributeProto* attribute(const onnx::NodeProto& node, const std::string& name) {
    for (const auto& a : node.attribute())
        if (a.name() == name) return &a;
    return nullptr;
}

// Rows of a [3H x cols] block in ONNX's gate order (z, r, h) rearranged into PyTorch's (r, z, n).
std::vector<float> toPyTorchGateOrder(const float* rows, int64_t hidden, int64_t cols) {
    std::vector<float> out(static_cast<size_t>(3 * hidden * cols));
    const int64_t block = hidden * cols;
    const int64_t targetOf[3] = {1, 0, 2};  // z -> 1, r -> 0, h -> 2
    for (int g = 0; g < 3; ++g) std::copy(rows + g * block, rows + (g + 1) * block, out.begin() + targetOf[g] * block);
    return out;
}

class GraphReader {
public:
    GraphReader(const onnx::GraphProto& graph, std::string where) : graph_(graph), where_(std::move(where)) {
        for (const auto& t : graph.initializer()) constants_[t.name()] = &t;
        for (const auto& node : graph.node()) {
            if (node.op_type() != "Constant" || node.output_size() != 1) continue;
            if (const auto* v = attribute(node, "value"); v && v->has_t()) constants_[node.output(0)] = &v->t();
        }
    }

    NamedTensors read() {
        std::vector<const onnx::NodeProto*> grus, gemms, matmuls, adds;
        std::set<std::string> unsupported;
        for (const auto& node : graph_.node()) {
            const std::string& op = node.op_type();
            if (!node.domain().empty() && node.domain() != "ai.onnx") unsupported.insert(node.domain() + "." + op);
            else if (op == "GRU") grus.push_back(&node);
            else if (op == "Gemm") gemms.push_back(&node);
            else if (op == "MatMul") matmuls.push_back(&node);
            else if (op == "Add") adds.push_back(&node);
            else if (!kPlumbingOps.count(op)) unsupported.insert(op);
        }
        if (grus.size() > 1) {
            fail(std::to_string(grus.size()) + " GRU nodes (a stacked GRU): gruq imports one GRU layer so far");
        }
        if (!unsupported.empty()) {
            fail("unsupported operators " + joined({unsupported.begin(), unsupported.end()}, ", ") +
                 " (gruq imports one GRU followed by one linear layer: Gemm, or MatMul + Add)");
        }
        if (grus.empty()) fail("the graph has no GRU node");
        NamedTensors out = gruTensors(*grus[0]);
        const int64_t hidden = out[1].shape[1];
        for (NamedTensor& t : headTensors(gemms, matmuls, adds, hidden)) out.push_back(std::move(t));
        return out;
    }

private:
    [[noreturn]] void fail(const std::string& problem) const { throw InputError(where_, "ONNX model: " + problem); }

    const onnx::TensorProto& constant(const onnx::NodeProto& node, int input, const std::string& role) const {
        if (node.input_size() <= input || node.input(input).empty()) fail(node.op_type() + " node without its " + role);
        const auto it = constants_.find(node.input(input));
        if (it == constants_.end()) fail(node.op_type() + "'s " + role + " (" + node.input(input) + ") is not a constant in the file");
        return *it->second;
    }

    // initial_h that is zero: absent, an all-zero constant, or a ConstantOfShape of 0 (PyTorch's export).
    bool zeroInitialState(const std::string& name) const {
        if (const auto it = constants_.find(name); it != constants_.end()) {
            for (float v : valuesOf(*it->second, where_))
                if (v != 0.0f) return false;
            return true;
        }
        for (const auto& node : graph_.node()) {
            if (node.op_type() != "ConstantOfShape" || node.output_size() != 1 || node.output(0) != name) continue;
            const auto* value = attribute(node, "value");
            if (!value) return true;  // ONNX's default fill value is 0
            for (float v : valuesOf(value->t(), where_))
                if (v != 0.0f) return false;
            return true;
        }
        return false;
    }

    NamedTensors gruTensors(const onnx::NodeProto& gru) const {
        for (const auto& a : gru.attribute()) {
            const std::string& n = a.name();
            if (n == "hidden_size" || n == "layout") continue;
            if (n == "direction") {
                if (a.s() != "forward") fail("a " + a.s() + " GRU; gruq imports forward (unidirectional) GRUs");
            } else if (n == "linear_before_reset") {
                if (a.i() != 1) {
                    fail("GRU with linear_before_reset=0 (Keras reset_after=False); gruq's GRU applies the reset "
                         "gate after the recurrent product, as PyTorch does (linear_before_reset=1, Keras reset_after=True)");
                }
            } else if (n == "activations") {
                if (a.strings_size() != 2 || a.strings(0) != "Sigmoid" || a.strings(1) != "Tanh")
                    fail("GRU with activations other than Sigmoid, Tanh");
            } else if (n == "clip") {
                fail("GRU with cell clipping (clip attribute); gruq imports unclipped GRUs");
            } else if (n != "activation_alpha" && n != "activation_beta") {
                fail("GRU attribute " + n + " is not supported");
            }
        }
        if (!attribute(gru, "linear_before_reset")) {
            fail("GRU with linear_before_reset=0 (the ONNX default; Keras reset_after=False); gruq's GRU applies the "
                 "reset gate after the recurrent product, as PyTorch does (linear_before_reset=1)");
        }
        if (gru.input_size() > 4 && !gru.input(4).empty()) {
            fail("GRU with sequence_lens (padding handled inside the graph): export without it; gruq takes the "
                 "valid lengths from the .npz ('lengths')");
        }
        if (gru.input_size() > 5 && !gru.input(5).empty() && !zeroInitialState(gru.input(5))) {
            fail("GRU with a non-zero initial_h; gruq's GRU starts every sequence from h = 0");
        }
        const onnx::TensorProto& w = constant(gru, 1, "input weights W");
        const onnx::TensorProto& r = constant(gru, 2, "recurrent weights R");
        if (w.dims_size() != 3 || r.dims_size() != 3 || w.dims(0) != 1 || r.dims(0) != 1 || w.dims(1) % 3 != 0 ||
            w.dims(1) <= 0 || w.dims(1) > (int64_t(1) << 31) || r.dims(1) != w.dims(1) || r.dims(2) != w.dims(1) / 3) {
            fail("GRU weights of shapes W " + shapeText(w) + ", R " + shapeText(r) +
                 " (expected [1, 3H, F] and [1, 3H, H], one direction)");
        }
        const int64_t H = r.dims(2), F = w.dims(2);
        if (const auto* h = attribute(gru, "hidden_size"); h && h->i() != H) fail("hidden_size does not match R's shape");
        const std::vector<float> wv = valuesOf(w, where_), rv = valuesOf(r, where_);
        std::vector<float> bv(static_cast<size_t>(6 * H), 0.0f);
        if (gru.input_size() > 3 && !gru.input(3).empty()) {
            const onnx::TensorProto& b = constant(gru, 3, "biases B");
            if (b.dims_size() != 2 || b.dims(0) != 1 || b.dims(1) != 6 * H) fail("GRU biases of shape " + shapeText(b) + " (expected [1, 6H])");
            bv = valuesOf(b, where_);
        }
        NamedTensors out(4);
        out[0] = {"gru.weight_ih_l0", {3 * H, F}, toPyTorchGateOrder(wv.data(), H, F)};
        out[1] = {"gru.weight_hh_l0", {3 * H, H}, toPyTorchGateOrder(rv.data(), H, H)};
        out[2] = {"gru.bias_ih_l0", {3 * H}, toPyTorchGateOrder(bv.data(), H, 1)};
        out[3] = {"gru.bias_hh_l0", {3 * H}, toPyTorchGateOrder(bv.data() + 3 * H, H, 1)};
        return out;
    }

    NamedTensors headTensors(const std::vector<const onnx::NodeProto*>& gemms,
                             const std::vector<const onnx::NodeProto*>& matmuls,
                             const std::vector<const onnx::NodeProto*>& adds, int64_t hidden) const {
        NamedTensor weight{"head.weight", {}, {}}, bias{"head.bias", {}, {}};
        if (gemms.size() == 1 && matmuls.empty() && adds.empty()) {
            const onnx::NodeProto& gemm = *gemms[0];
            auto intAttr = [&](const char* n, int64_t fallback) { const auto* a = attribute(gemm, n); return a ? a->i() : fallback; };
            auto floatAttr = [&](const char* n) { const auto* a = attribute(gemm, n); return a ? a->f() : 1.0f; };
            if (intAttr("transA", 0) != 0) fail("a Gemm head with transA=1");
            const onnx::TensorProto& b = constant(gemm, 1, "weight");
            weight = matrixTensor(b, intAttr("transB", 0) != 0, hidden, floatAttr("alpha"));
            const int64_t classes = weight.shape[0];
            bias.shape = {classes};
            bias.values.assign(static_cast<size_t>(classes), 0.0f);
            if (gemm.input_size() > 2 && !gemm.input(2).empty()) bias.values = vectorTensor(constant(gemm, 2, "bias"), classes, floatAttr("beta"));
        } else if (matmuls.size() == 1 && gemms.empty() && adds.size() == 1) {
            const onnx::NodeProto& matmul = *matmuls[0];
            const onnx::NodeProto& add = *adds[0];
            weight = matrixTensor(constant(matmul, 1, "weight"), false, hidden, 1.0f);
            const int64_t classes = weight.shape[0];
            if (add.input_size() != 2 || matmul.output_size() != 1) fail("a MatMul + Add head of unexpected form");
            const int biasInput = add.input(0) == matmul.output(0) ? 1 : add.input(1) == matmul.output(0) ? 0 : -1;
            if (biasInput < 0) fail("the Add node does not take the MatMul's output");
            bias.shape = {classes};
            bias.values = vectorTensor(constant(add, biasInput, "bias"), classes, 1.0f);
        } else {
            fail("the head must be one Gemm, or one MatMul followed by one Add; found " + std::to_string(gemms.size()) +
                 " Gemm, " + std::to_string(matmuls.size()) + " MatMul, " + std::to_string(adds.size()) + " Add");
        }
        return {weight, bias};
    }

    // The head's weight as PyTorch's Linear holds it: [C, H] (transposed when stored [H, C]).
    NamedTensor matrixTensor(const onnx::TensorProto& t, bool storedClassesFirst, int64_t hidden, float scale) const {
        if (t.dims_size() != 2) fail("a head weight of shape " + shapeText(t) + " (expected a matrix)");
        const int64_t rows = t.dims(0), cols = t.dims(1);
        const int64_t classes = storedClassesFirst ? rows : cols;
        if ((storedClassesFirst ? cols : rows) != hidden || classes < 1) {
            fail("a head weight of shape " + shapeText(t) + " does not fit the GRU's hidden size " + std::to_string(hidden));
        }
        const std::vector<float> v = valuesOf(t, where_);
        NamedTensor out{"head.weight", {classes, hidden}, std::vector<float>(v.size())};
        for (int64_t c = 0; c < classes; ++c) {
            for (int64_t h = 0; h < hidden; ++h) {
                const float x = storedClassesFirst ? v[static_cast<size_t>(c * hidden + h)] : v[static_cast<size_t>(h * classes + c)];
                out.values[static_cast<size_t>(c * hidden + h)] = x * scale;
            }
        }
        return out;
    }

    std::vector<float> vectorTensor(const onnx::TensorProto& t, int64_t classes, float scale) const {
        const bool shaped = t.dims_size() == 1 ? t.dims(0) == classes
                          : t.dims_size() == 2 && ((t.dims(0) == 1 && t.dims(1) == classes) || (t.dims(1) == 1 && t.dims(0) == classes));
        if (!shaped) {
            fail("a head bias of shape " + shapeText(t) + " (expected " + std::to_string(classes) + " values)");
        }
        std::vector<float> v = valuesOf(t, where_);
        for (float& x : v) x *= scale;
        return v;
    }

    const onnx::GraphProto& graph_;
    const std::string where_;
    std::map<std::string, const onnx::TensorProto*> constants_;
};

bool parse(const std::string& bytes, onnx::ModelProto& model) {
    return bytes.size() < size_t(INT_MAX) && model.ParseFromString(bytes) && model.has_graph() && model.graph().node_size() > 0;
}

}  // namespace

bool isOnnxModel(const std::string& bytes) {
    onnx::ModelProto model;
    return parse(bytes, model);
}

NamedTensors readOnnxGru(const std::string& bytes, const std::string& where) {
    onnx::ModelProto model;
    if (!parse(bytes, model)) throw InputError(where, "not an ONNX model (no graph could be read)");
    return GraphReader(model.graph(), where).read();
}

}  // namespace gruq
