#include "gruq/model/onnx_gru_reader.h"

#include "gruq/base/errors.h"
#include "gruq/base/text.h"
#include "gruq/model/float_model.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
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
        for (const auto& node : graph.node())
            for (const std::string& o : node.output()) producers_.emplace(o, &node);
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
        if (!unsupported.empty()) {
            fail("unsupported operators " + joined({unsupported.begin(), unsupported.end()}, ", ") +
                 " (gruq imports 1 to 3 GRU nodes in a stack followed by one linear layer: Gemm, or MatMul + Add)");
        }
        if (grus.empty()) fail("the graph has no GRU node");
        if (static_cast<int64_t>(grus.size()) > kMaxGruLayers) {
            fail(std::to_string(grus.size()) + " GRU nodes (a stack of " + std::to_string(grus.size()) +
                 " layers, nn.GRU(num_layers=" + std::to_string(grus.size()) + ")); gruq imports 1 to " +
                 std::to_string(kMaxGruLayers) + " stacked GRU layers followed by one linear layer");
        }
        traceValues(grus);
        NamedTensors out;
        int64_t hidden = 0;
        for (size_t k = 0; k < grus.size(); ++k) {
            checkLayerInput(grus, k);
            for (NamedTensor& t : gruTensors(*grus[k], static_cast<int64_t>(k), hidden)) out.push_back(std::move(t));
        }
        const NamedTensors head = headTensors(gemms, matmuls, adds, hidden);
        checkHeadInput(gemms.size() == 1 ? *gemms[0] : *matmuls[0], grus.size());
        for (const NamedTensor& t : head) out.push_back(t);
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

    // initial_h that is zero: an all-zero constant, a ConstantOfShape of 0, or a part, copy or broadcast of
    // one (PyTorch's export of a stacked GRU slices one [L, N, H] ConstantOfShape per layer; with a fixed batch
    // it expands a zero constant). The memo keeps shared inputs from being visited twice, the depth bound
    // keeps a long chain of nodes from exhausting the stack.
    bool zeroValue(const std::string& name, int depth = 0) {
        if (const auto it = zero_.find(name); it != zero_.end()) return it->second;
        bool zero = false;
        if (const auto it = constants_.find(name); it != constants_.end()) {
            zero = true;
            for (float v : valuesOf(*it->second, where_))
                if (v != 0.0f) zero = false;
        } else if (const auto p = producers_.find(name); p != producers_.end() && depth < 32) {
            const onnx::NodeProto& node = *p->second;
            const std::string& op = node.op_type();
            if (op == "ConstantOfShape") {
                zero = true;
                if (const auto* value = attribute(node, "value"))  // absent: ONNX's default fill value is 0
                    for (float v : valuesOf(value->t(), where_))
                        if (v != 0.0f) zero = false;
            } else if (op == "Concat") {
                zero = node.input_size() > 0;
                for (const std::string& in : node.input()) zero = zero && zeroValue(in, depth + 1);
            } else if (kPlumbingOps.count(op) && op != "Shape" && op != "Constant" && node.input_size() > 0) {
                zero = zeroValue(node.input(0), depth + 1);  // a data-moving operator: its data input decides
            }
        }
        zero_[name] = zero;
        return zero;
    }

    // A constant integer scalar (or one-element tensor), e.g. a Gather's index.
    bool constantIndex(const std::string& name, int64_t& value) const {
        const auto it = constants_.find(name);
        if (it == constants_.end()) return false;
        const onnx::TensorProto& t = *it->second;
        for (int64_t d : t.dims())
            if (d != 1) return false;
        if (t.data_location() == onnx::TensorProto::EXTERNAL) return false;
        if (t.data_type() == onnx::TensorProto::INT64) {
            if (t.int64_data_size() == 1) value = t.int64_data(0);
            else if (t.raw_data().size() == 8) std::memcpy(&value, t.raw_data().data(), 8);
            else return false;
            return true;
        }
        if (t.data_type() == onnx::TensorProto::INT32) {
            int32_t v = 0;
            if (t.int32_data_size() == 1) v = t.int32_data(0);
            else if (t.raw_data().size() == 4) std::memcpy(&v, t.raw_data().data(), 4);
            else return false;
            value = v;
            return true;
        }
        return false;
    }

    // Which GRU outputs each value of the graph is computed from (2k: node k's Y, 2k + 1: its Y_h), in one
    // pass in node order (ONNX graphs are topologically sorted). Shapes carry no GRU values; a Gather of one
    // GRU's Y_h out of a Concat of them all (PyTorch's h_n[-1] of a stacked GRU) is that one.
    void traceValues(const std::vector<const onnx::NodeProto*>& grus) {
        std::map<const onnx::NodeProto*, int> gruIndex;
        for (size_t k = 0; k < grus.size(); ++k) gruIndex[grus[k]] = static_cast<int>(k);
        auto of = [&](const std::string& name) {
            const auto it = sources_.find(name);
            return it == sources_.end() ? std::set<int>() : it->second;
        };
        for (const auto& node : graph_.node()) {
            const std::string& op = node.op_type();
            std::set<int> out;
            if (const auto g = gruIndex.find(&node); g != gruIndex.end()) {
                for (int i = 0; i < std::min(node.output_size(), 2); ++i) sources_[node.output(i)] = {2 * g->second + i};
                continue;
            }
            if (op == "Shape" || op == "Constant" || op == "ConstantOfShape") {
                out.clear();
            } else if (op == "Concat" || !kPlumbingOps.count(op)) {
                for (const std::string& in : node.input()) {
                    const std::set<int> s = of(in);
                    out.insert(s.begin(), s.end());
                }
            } else if (node.input_size() > 0) {
                out = of(node.input(0));
                if (op == "Gather" && node.input_size() > 1) {
                    if (const std::string* picked = gatheredGruState(node)) out = of(*picked);
                }
            }
            for (const std::string& o : node.output()) sources_[o] = out;
        }
    }

    // Gather(Concat(Y_h of GRU 0, Y_h of GRU 1, ...; axis 0), constant i; axis 0): the i-th Concat input.
    const std::string* gatheredGruState(const onnx::NodeProto& gather) const {
        const auto* axis = attribute(gather, "axis");
        int64_t index = 0;
        if ((axis && axis->i() != 0) || !constantIndex(gather.input(1), index)) return nullptr;
        const auto p = producers_.find(gather.input(0));
        if (p == producers_.end() || p->second->op_type() != "Concat") return nullptr;
        const onnx::NodeProto& concat = *p->second;
        const auto* concatAxis = attribute(concat, "axis");
        if (!concatAxis || concatAxis->i() != 0) return nullptr;
        for (const std::string& in : concat.input()) {
            const auto q = producers_.find(in);
            if (q == producers_.end() || q->second->op_type() != "GRU" || q->second->output_size() < 2 || q->second->output(1) != in)
                return nullptr;  // each input is one GRU's Y_h, [1, N, H]
        }
        const int64_t n = concat.input_size();
        if (index < -n || index >= n) return nullptr;
        return &concat.input(static_cast<int>(index < 0 ? index + n : index));
    }

    std::string gruLabel(const std::vector<const onnx::NodeProto*>& grus, size_t k) const {
        const std::string name = grus[k]->name().empty() ? std::string() : " (" + grus[k]->name() + ")";
        return "GRU node " + std::to_string(k + 1) + " of " + std::to_string(grus.size()) + name;
    }

    // A stack: the first GRU reads the graph's input, every other one the output sequence Y of the one before.
    void checkLayerInput(const std::vector<const onnx::NodeProto*>& grus, size_t k) const {
        const auto it = sources_.find(grus[k]->input_size() > 0 ? grus[k]->input(0) : std::string());
        const std::set<int> in = it == sources_.end() ? std::set<int>() : it->second;
        const std::set<int> expected = k == 0 ? std::set<int>() : std::set<int>{2 * static_cast<int>(k) - 2};
        if (in != expected) {
            fail(gruLabel(grus, k) + (k == 0 ? " reads the output of another GRU node"
                                             : " does not read the output sequence of " + gruLabel(grus, k - 1) + " alone") +
                 "; gruq imports 1 to 3 GRU layers in a stack, each reading the output sequence of the one before (as "
                 "torch.onnx.export writes nn.GRU(num_layers=L)), followed by one linear layer");
        }
    }

    // The head reads the last GRU's output (its last step or its final state), nothing of the layers below.
    void checkHeadInput(const onnx::NodeProto& head, size_t layers) const {
        const auto it = sources_.find(head.input_size() > 0 ? head.input(0) : std::string());
        const std::set<int> in = it == sources_.end() ? std::set<int>() : it->second;
        const int last = 2 * static_cast<int>(layers) - 2;
        bool fromLast = !in.empty();
        for (int s : in) fromLast = fromLast && (s == last || s == last + 1);
        if (!fromLast) {
            fail("the head (" + head.op_type() + ") does not read the output of the last GRU node alone; gruq's head is "
                 "one linear layer on the last GRU layer's last-step output");
        }
    }

    // Layer k's tensors under PyTorch's names ("gru.weight_ih_l<k>", ...); hidden = its hidden size.
    NamedTensors gruTensors(const onnx::NodeProto& gru, int64_t k, int64_t& hidden) {
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
        if (gru.input_size() > 5 && !gru.input(5).empty() && !zeroValue(gru.input(5))) {
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
        const std::string l = std::to_string(k);
        NamedTensors out(4);
        out[0] = {"gru.weight_ih_l" + l, {3 * H, F}, toPyTorchGateOrder(wv.data(), H, F)};
        out[1] = {"gru.weight_hh_l" + l, {3 * H, H}, toPyTorchGateOrder(rv.data(), H, H)};
        out[2] = {"gru.bias_ih_l" + l, {3 * H}, toPyTorchGateOrder(bv.data(), H, 1)};
        out[3] = {"gru.bias_hh_l" + l, {3 * H}, toPyTorchGateOrder(bv.data() + 3 * H, H, 1)};
        hidden = H;
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
    std::map<std::string, const onnx::NodeProto*> producers_;  // value name -> the node computing it (the first)
    std::map<std::string, bool> zero_;                         // zeroValue's memo
    std::map<std::string, std::set<int>> sources_;             // traceValues: the GRU outputs each value comes from
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
