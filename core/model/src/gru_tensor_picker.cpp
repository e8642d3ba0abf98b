#include "gruq/model/model_import.h"

#include "gruq/base/errors.h"
#include "gruq/base/text.h"

#include <map>
#include <set>

// The GRU (1..3 stacked layers) and the linear head among a model file's tensors (torch-free: shared by the
// three readers).
namespace gruq {
namespace {

const std::string kSupported =
    "gruq imports 1 to " + std::to_string(kMaxGruLayers) + " stacked unidirectional GRU layers (hidden size up to " +
    std::to_string(kMaxHiddenSize) + ") followed by one linear layer on the last layer's last-step output";

// The four tensors of GRU layer k, PyTorch's names.
const char* const kLayerTensorKinds[] = {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"};

// "a.b.weight_ih_l12" is layer 12's "weight_ih_l" under the prefix "a.b." (the prefix as splitSuffix
// accepts it; "_reverse" and other tails do not match).
bool splitLayerTensor(const std::string& name, const std::string& kind, std::string& prefix, int64_t& layer) {
    size_t digits = name.size();
    while (digits > 0 && name[digits - 1] >= '0' && name[digits - 1] <= '9') --digits;
    const size_t count = name.size() - digits;
    if (count == 0 || count > 6 || digits < kind.size() || name.compare(digits - kind.size(), kind.size(), kind) != 0) return false;
    if (count > 1 && name[digits] == '0') return false;  // "l01" is no name PyTorch writes
    prefix = name.substr(0, digits - kind.size());
    if (!prefix.empty() && prefix.back() != '.' && prefix.back() != '/') return false;
    layer = std::stoll(name.substr(digits));
    return true;
}

// "a.b.weight_ih_l0" ends with the component "weight_ih_l0" under the prefix "a.b."; a prefix is empty or
// ends at a '.' (module path) or '/' (nested dict of a checkpoint).
bool splitSuffix(const std::string& name, const std::string& suffix, std::string& prefix) {
    if (name.size() < suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
    prefix = name.substr(0, name.size() - suffix.size());
    return prefix.empty() || prefix.back() == '.' || prefix.back() == '/';
}

// "encoder.gru." -> "encoder.gru" (how users name modules in options and messages).
std::string moduleName(const std::string& prefix) {
    return prefix.empty() ? std::string() : prefix.substr(0, prefix.size() - 1);
}

// The prefix the user named: "gru" and "gru." both mean the prefix "gru.".
bool namesPrefix(const std::string& given, const std::string& prefix) {
    return given == prefix || given + "." == prefix || given + "/" == prefix;
}

std::string describeAll(const std::vector<const NamedTensor*>& tensors) {
    std::vector<std::string> items;
    for (const NamedTensor* t : tensors) items.push_back(t->describe());
    if (items.size() > 12) {
        const size_t more = items.size() - 10;
        items.resize(10);
        items.push_back("... (" + std::to_string(more) + " more)");
    }
    return joined(items);
}

class TensorPicker {
public:
    TensorPicker(const NamedTensors& tensors, std::string where) : where_(std::move(where)) {
        for (const NamedTensor& t : tensors) byName_[t.name] = &t;
    }

    ImportedModel pick(const ModelImportOptions& options) {
        const std::string gru = gruPrefix(options.gruName);
        // A checkpoint dict may hold other things (optimizer state): only the GRU's own dict is the model.
        const size_t slash = gru.rfind('/');
        container_ = slash == std::string::npos ? std::string() : gru.substr(0, slash + 1);

        const int64_t L = layerCount(gru);
        const NamedTensor& wIh0 = required(gru + "weight_ih_l0", 2);
        const NamedTensor& wHh0 = required(gru + "weight_hh_l0", 2);
        const int64_t H = wHh0.shape[1], F = wIh0.shape[1];
        if (wHh0.shape[0] == 4 * H && wIh0.shape[0] == 4 * H) {
            fail("an LSTM (" + wIh0.describe() + ": four gates); " + kSupported);
        }
        if (H < 1 || F < 1 || wHh0.shape[0] != 3 * H || wIh0.shape[0] != 3 * H) {
            fail("GRU weights " + wIh0.describe() + " and " + wHh0.describe() + " do not have the shapes [3H, F] and [3H, H]");
        }
        if (H > kMaxHiddenSize) {
            fail("a GRU of hidden size " + std::to_string(H) + " (" + wHh0.describe() + "); gruq supports hidden sizes up to " +
                 std::to_string(kMaxHiddenSize));
        }
        ImportedModel out;
        out.gruName = moduleName(gru);
        FloatGruWeights& w = out.weights;
        for (int64_t k = 0; k < L; ++k) {
            const std::string l = std::to_string(k);
            FloatGruLayer layer;
            const NamedTensor& wIh = required(gru + "weight_ih_l" + l, 2);
            const NamedTensor& wHh = required(gru + "weight_hh_l" + l, 2);
            if (k > 0) checkUpperLayer(k, wIh, wHh, H);
            layer.wIh = wIh.values;
            layer.wHh = wHh.values;
            layer.bIh = optionalVector(gru + "bias_ih_l" + l, 3 * H);
            layer.bHh = optionalVector(gru + "bias_hh_l" + l, 3 * H);
            w.layers.push_back(std::move(layer));
        }

        const std::string head = headPrefix(options.headName, H);
        out.headName = moduleName(head);
        const NamedTensor& wFc = required(head + "weight", 2);
        const int64_t C = wFc.shape[0];
        if (C < 1) fail("the head " + wFc.describe() + " has no outputs");
        w.wFc = wFc.values;
        w.bFc = optionalVector(head + "bias", C);
        w.shape.inputSize = F;
        w.shape.hiddenSize = H;
        w.shape.numClasses = C;
        w.shape.numLayers = L;
        refuseUnplacedTensors();
        w.validate(where_);
        return out;
    }

private:
    [[noreturn]] void fail(const std::string& problem) const { throw InputError(where_, problem); }

    bool inModel(const std::string& name) const {
        return name.compare(0, container_.size(), container_) == 0 && name.find('/', container_.size()) == std::string::npos;
    }

    std::vector<const NamedTensor*> modelTensors() const {
        std::vector<const NamedTensor*> out;
        for (const auto& [name, t] : byName_)
            if (inModel(name)) out.push_back(t);
        return out;
    }

    std::string gruPrefix(const std::string& given) const {
        std::vector<std::string> prefixes;
        std::string prefix;
        for (const auto& [name, t] : byName_)
            if (splitSuffix(name, "weight_ih_l0", prefix)) prefixes.push_back(prefix);
        if (prefixes.empty()) {
            std::vector<const NamedTensor*> all;
            for (const auto& [name, t] : byName_) all.push_back(t);
            fail("no GRU found (no tensor named like PyTorch's gru.weight_ih_l0); tensors in the file: " + describeAll(all));
        }
        std::vector<std::string> names;
        for (const std::string& p : prefixes) names.push_back(moduleName(p).empty() ? "(top level)" : moduleName(p));
        if (!given.empty()) {
            for (const std::string& p : prefixes)
                if (namesPrefix(given, p)) return p;
            fail("no GRU named " + given + "; GRUs found: " + joined(names));
        }
        if (prefixes.size() > 1) fail("several GRUs (" + joined(names) + "): name the one to import (--gru NAME)");
        return prefixes[0];
    }

    // The number of stacked layers: one more than the highest layer index of the GRU's tensors. Refuses
    // bidirectional GRUs, more layers than gruq supports and a layer missing below the top one.
    int64_t layerCount(const std::string& gru) const {
        for (const auto& [name, t] : byName_) {
            if (name.compare(0, gru.size(), gru) == 0 && name.size() > 8 && name.compare(name.size() - 8, 8, "_reverse") == 0) {
                fail("a bidirectional GRU (" + t->describe() + "); " + kSupported);
            }
        }
        std::map<int64_t, std::vector<std::string>> found;  // layer -> its tensors' names
        std::string prefix;
        int64_t layer = 0;
        for (const auto& [name, t] : byName_) {
            for (const char* kind : kLayerTensorKinds)
                if (splitLayerTensor(name, kind, prefix, layer) && prefix == gru) found[layer].push_back(name);
        }
        const int64_t layers = found.empty() ? 1 : found.rbegin()->first + 1;
        if (layers > kMaxGruLayers) {
            const std::vector<std::string>& top = found.rbegin()->second;
            const std::string ih = gru + "weight_ih_l" + std::to_string(layers - 1);
            fail("a GRU of " + std::to_string(layers) + " stacked layers (num_layers=" + std::to_string(layers) + ", found " +
                 (byName_.count(ih) ? ih : top.front()) + "); " + kSupported);
        }
        for (int64_t k = 0; k < layers; ++k) {
            const std::string ih = gru + "weight_ih_l" + std::to_string(k), hh = gru + "weight_hh_l" + std::to_string(k);
            if (byName_.count(ih) && byName_.count(hh)) continue;
            std::vector<std::string> present;
            for (const auto& [l, names] : found)
                for (const std::string& n : names)
                    if (n.find("weight_") != std::string::npos) present.push_back(n);
            fail("a stacked GRU with layer " + std::to_string(k) + " of " + std::to_string(layers) + " missing (no " +
                 (byName_.count(ih) ? hh : ih) + "; found " + joined(present) + "); " + kSupported);
        }
        return layers;
    }

    // Layer k >= 1 reads the hidden state of the layer below: weight_ih [3H, H] and weight_hh [3H, H].
    void checkUpperLayer(int64_t k, const NamedTensor& wIh, const NamedTensor& wHh, int64_t hidden) const {
        const std::string l = "layer " + std::to_string(k);
        if (wHh.shape[1] != hidden || wHh.shape[0] != 3 * wHh.shape[1]) {
            fail(l + "'s recurrent weights " + wHh.describe() + " do not fit layer 0's hidden size " + std::to_string(hidden) +
                 " (expected [" + std::to_string(3 * hidden) + ", " + std::to_string(hidden) +
                 "]): gruq's stacked layers share one hidden size");
        }
        if (wIh.shape[0] != 3 * hidden || wIh.shape[1] != hidden) {
            fail(l + "'s input weights " + wIh.describe() + " do not take the " + std::to_string(hidden) +
                 " outputs of the layer below (expected [" + std::to_string(3 * hidden) + ", " + std::to_string(hidden) + "])");
        }
    }

    const NamedTensor& required(const std::string& name, size_t dims) {
        const auto it = byName_.find(name);
        if (it == byName_.end()) fail("the GRU has no " + name);
        const NamedTensor& t = *it->second;
        if (t.shape.size() != dims || !t.floatingPoint) fail(t.describe() + " is not a float tensor of " + std::to_string(dims) + " dimensions");
        used_.insert(name);
        return t;
    }

    // A bias (zeros when the layer was made with bias=False).
    std::vector<float> optionalVector(const std::string& name, int64_t size) {
        const auto it = byName_.find(name);
        if (it == byName_.end()) return std::vector<float>(static_cast<size_t>(size), 0.0f);
        const NamedTensor& t = *it->second;
        if (t.shape != std::vector<int64_t>{size} || !t.floatingPoint) {
            fail(t.describe() + " does not have the shape [" + std::to_string(size) + "]");
        }
        used_.insert(name);
        return t.values;
    }

    // The linear head: the named one, or the only [C, H] "<name>.weight" beside the GRU.
    std::string headPrefix(const std::string& given, int64_t hidden) const {
        std::vector<std::string> prefixes;
        std::vector<const NamedTensor*> candidates;
        std::string prefix;
        for (const NamedTensor* t : modelTensors()) {
            if (used_.count(t->name) || !splitSuffix(t->name, "weight", prefix)) continue;
            if (!given.empty()) {
                if (namesPrefix(given, prefix)) return prefix;
                continue;
            }
            if (t->floatingPoint && t->shape.size() == 2 && t->shape[1] == hidden) {
                prefixes.push_back(prefix);
                candidates.push_back(t);
            }
        }
        if (!given.empty()) fail("no layer named " + given + " with a weight tensor (" + given + ".weight)");
        if (candidates.empty()) {
            fail("no linear head: expected a [C, " + std::to_string(hidden) + "] weight beside the GRU (e.g. fc.weight); " +
                 kSupported);
        }
        if (candidates.size() > 1) fail("several possible heads (" + describeAll(candidates) + "): name one (--head NAME)");
        return prefixes[0];
    }

    void refuseUnplacedTensors() const {
        std::vector<const NamedTensor*> unplaced;
        for (const NamedTensor* t : modelTensors())
            if (t->floatingPoint && !used_.count(t->name)) unplaced.push_back(t);
        if (!unplaced.empty()) fail("tensors gruq cannot place: " + describeAll(unplaced) + "; " + kSupported);
    }

    const std::string where_;
    std::map<std::string, const NamedTensor*> byName_;
    std::set<std::string> used_;
    std::string container_;
};

}  // namespace

ImportedModel gruFromTensors(const NamedTensors& tensors, const ModelImportOptions& options, const std::string& where) {
    return TensorPicker(tensors, where).pick(options);
}

}  // namespace gruq
