#include "gruq/quant/genome.h"

#include "gruq/base/text.h"
#include "gruq/base/errors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace gruq {

namespace {

constexpr const char* kGenomeSource = "genome";

struct PointInfo {
    const char* name;
    const char* description;
};

// Indexed by QuantPoint; names are the per-gate gene names.
constexpr std::array<PointInfo, kQuantPointCount> kPointInfo = {{
    {"x", "input sequence quantizer"},
    {"w_ir", "weights W_ir (symmetric)"},
    {"w_iz", "weights W_iz (symmetric)"},
    {"w_in", "weights W_in (symmetric)"},
    {"w_hr", "weights W_hr (symmetric)"},
    {"w_hz", "weights W_hz (symmetric)"},
    {"w_hn", "weights W_hn (symmetric)"},
    {"ih_r", "input projection output, gate r (W_ir x + b_ir)"},
    {"ih_z", "input projection output, gate z (W_iz x + b_iz)"},
    {"ih_n", "input projection output, gate n (W_in x + b_in)"},
    {"hh_r", "hidden projection output, gate r (W_hr h + b_hr)"},
    {"hh_z", "hidden projection output, gate z (W_hz h + b_hz)"},
    {"hh_n", "hidden projection output, gate n (W_hn h + b_hn)"},
    {"sum_r", "ih_r + hh_r"},
    {"sum_z", "ih_z + hh_z"},
    {"sig_r", "σ output r"},
    {"sig_z", "σ output z (1 − z is derived exactly from it, no gene)"},
    {"mul_rn", "r ⊙ hh_n"},
    {"sum_n", "ih_n + r ⊙ hh_n"},
    {"tanh_n", "tanh output n"},
    {"mul_zn", "(1 − z) ⊙ n"},
    {"mul_zh", "z ⊙ h"},
    {"h", "new hidden state (1 − z)n + zh"},
    {"w_fc", "classifier weights (symmetric)"},
    {"fc", "classifier output (logits)"},
}};

// Gene names are matched case-insensitively with '_' optional: "W_IH" == "wih" == "w_ih".
std::string normalizedGeneName(const std::string& name) {
    std::string out;
    out.reserve(name.size());
    for (char c : name) {
        if (c == '_') continue;
        out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return out;
}

std::string geneNameList(const GenomeLayout& layout) {
    std::vector<std::string> names;
    for (const auto& gene : layout.genes) names.push_back(gene.name);
    return joined(names);
}

std::string knownLayoutNames() {
    std::vector<std::string> names;
    for (const GenomeLayout* layout : knownLayouts()) names.push_back(layout->name);
    return joined(names) + "; for " + std::to_string(kMaxGruLayers) + " stacked layers e.g. " +
           knownLayouts().front()->name + "-L" + std::to_string(kMaxGruLayers);
}

std::pair<int, int> layerRange(const GeneSpec& gene, int layers) {
    return gene.layer == kAllLayers ? std::pair{0, layers} : std::pair{gene.layer, gene.layer + 1};
}

std::string boundsText(const GenomeLayout& layout) {
    return std::to_string(layout.minBits) + ".." + std::to_string(layout.maxBits);
}

void checkGeneBits(const GenomeLayout& layout, int geneIndex, long long bits) {
    if (bits < layout.minBits || bits > layout.maxBits) {
        throw InputError(kGenomeSource, "gene '" + layout.genes[geneIndex].name + "': " + std::to_string(bits) +
                                            " bits is outside " + boundsText(layout) + " (layout " + layout.name +
                                            ")");
    }
}

// Index of the gene whose normalised name equals `name`'s, or -1.
int findGene(const GenomeLayout& layout, const std::string& name) {
    const std::string key = normalizedGeneName(name);
    for (int i = 0; i < layout.geneCount(); ++i) {
        if (normalizedGeneName(layout.genes[i].name) == key) return i;
    }
    return -1;
}

// Collects one bit width per gene from (name, bits) entries, reporting unknown, duplicate,
// out-of-range and missing genes. `origin` describes where an entry came from, for messages.
class GenomeCollector {
public:
    explicit GenomeCollector(const GenomeLayout& layout)
        : layout_(layout), bits_(layout.genes.size(), 0), origins_(layout.genes.size()) {}

    void add(const std::string& geneName, long long bits, const std::string& origin) {
        const int index = findGene(layout_, geneName);
        if (index < 0) {
            throw InputError(kGenomeSource, "unknown gene '" + geneName + "' in '" + origin + "' (layout " +
                                                layout_.name + " has: " + geneNameList(layout_) + ")");
        }
        if (!origins_[index].empty()) {
            throw InputError(kGenomeSource, "gene '" + layout_.genes[index].name + "' given twice ('" +
                                                origins_[index] + "' and '" + origin + "', layout " +
                                                layout_.name + ")");
        }
        checkGeneBits(layout_, index, bits);
        bits_[index] = static_cast<int>(bits);
        origins_[index] = origin;
    }

    Genome finish() const {
        std::vector<std::string> missing;
        for (int i = 0; i < layout_.geneCount(); ++i) {
            if (origins_[i].empty()) missing.push_back(layout_.genes[i].name);
        }
        if (!missing.empty()) {
            throw InputError(kGenomeSource, "missing genes: " + joined(missing) + " (layout " + layout_.name +
                                                " needs each of its " + std::to_string(layout_.geneCount()) +
                                                " genes once)");
        }
        Genome genome;
        genome.layout = &layout_;
        genome.bits = bits_;
        return genome;
    }

private:
    const GenomeLayout& layout_;
    std::vector<int> bits_;
    std::vector<std::string> origins_;  // the token that set each gene; empty = not yet set
};

bool isNameChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}
bool isDigit(char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

// Digits to a number, saturating so that absurd values still report as "outside 2..8".
long long parseDigits(const std::string& digits) {
    long long value = 0;
    for (char c : digits) {
        value = std::min<long long>(value * 10 + (c - '0'), std::numeric_limits<int>::max());
    }
    return value;
}

[[noreturn]] void throwMalformed(const std::string& token, const GenomeLayout& layout) {
    throw InputError(kGenomeSource, "malformed token '" + token + "' (expected <gene><bits> or <gene>=<bits>, e.g. '" +
                                        layout.genes.front().name + "8', layout " + layout.name + ")");
}

// Splits the text into tokens at whitespace and commas; whitespace around '=' is joined so that
// "x = 8" reads as one token "x=8".
std::vector<std::string> tokenize(const std::string& text) {
    std::vector<std::string> tokens;
    std::string current;
    bool pendingSeparator = false;  // whitespace seen since the last character of `current`
    auto flush = [&] {
        if (!current.empty()) tokens.push_back(current);
        current.clear();
    };
    for (char c : text) {
        if (c == ',') {
            flush();
            pendingSeparator = false;
        } else if (std::isspace(static_cast<unsigned char>(c))) {
            pendingSeparator = true;
        } else {
            const bool joinsPrevious = c == '=' || (!current.empty() && current.back() == '=');
            if (pendingSeparator && !joinsPrevious) flush();
            current.push_back(c);
            pendingSeparator = false;
        }
    }
    flush();
    return tokens;
}

}  // namespace

const char* quantPointName(QuantPoint p) {
    const int index = static_cast<int>(p);
    if (index < 0 || index >= kQuantPointCount) return "?";
    return kPointInfo[index].name;
}

bool isHeadPoint(QuantPoint p) { return p == QuantPoint::WFc || p == QuantPoint::Fc; }

bool isWeightPoint(QuantPoint p) {
    switch (p) {
    case QuantPoint::WIr:
    case QuantPoint::WIz:
    case QuantPoint::WIn:
    case QuantPoint::WHr:
    case QuantPoint::WHz:
    case QuantPoint::WHn:
    case QuantPoint::WFc:
        return true;
    default:
        return false;
    }
}

bool GenomeLayout::decides(int layer, QuantPoint point) const {
    if (point == QuantPoint::X) return layer == 0;  // layer l >= 1's x is layer l-1's h
    if (isHeadPoint(point)) return layer == layers - 1;  // the head is decided once, on the last layer
    return true;
}

int GenomeLayout::geneDeciding(int layer, QuantPoint point) const {
    if (point == QuantPoint::X && !decides(layer, point)) return -1;
    const int decidingLayer = isHeadPoint(point) ? layers - 1 : layer;
    for (int g = 0; g < geneCount(); ++g) {
        const GeneSpec& gene = genes[size_t(g)];
        if (gene.layer != kAllLayers && gene.layer != decidingLayer) continue;
        if (std::find(gene.points.begin(), gene.points.end(), point) != gene.points.end()) return g;
    }
    return -1;
}

void GenomeLayout::validate() const {
    if (name.empty()) throw std::logic_error("genome layout without a name");
    if (genes.empty()) throw std::logic_error("genome layout " + name + " has no genes");
    if (minBits < 1 || minBits > maxBits) {
        throw std::logic_error("genome layout " + name + ": bad bit bounds " + std::to_string(minBits) + ".." +
                               std::to_string(maxBits));
    }
    if (layers < 1 || layers > kMaxGruLayers) throw std::logic_error("genome layout " + name + ": bad layer count");
    std::vector<std::array<int, kQuantPointCount>> setCount(size_t(layers), std::array<int, kQuantPointCount>{});
    for (const auto& gene : genes) {
        // The text form "<gene><bits>" needs names of name characters that do not end in a digit.
        if (gene.name.empty() || isDigit(gene.name.front()) || isDigit(gene.name.back()) ||
            !std::all_of(gene.name.begin(), gene.name.end(), isNameChar)) {
            throw std::logic_error("genome layout " + name + ": gene name '" + gene.name +
                                   "' is not usable in text form");
        }
        if (gene.points.empty()) {
            throw std::logic_error("genome layout " + name + ": gene '" + gene.name + "' sets no point");
        }
        if (gene.layer != kAllLayers && (gene.layer < 0 || gene.layer >= layers)) {
            throw std::logic_error("genome layout " + name + ": gene '" + gene.name + "' sets a layer out of range");
        }
        const auto [first, end] = layerRange(gene, layers);
        for (QuantPoint p : gene.points) {
            const int index = static_cast<int>(p);
            if (index < 0 || index >= kQuantPointCount) {
                throw std::logic_error("genome layout " + name + ": gene '" + gene.name + "' sets an invalid point");
            }
            for (int l = first; l < end; ++l) {
                if (decides(l, p)) {
                    ++setCount[size_t(l)][size_t(index)];
                } else if (gene.layer != kAllLayers) {
                    throw std::logic_error("genome layout " + name + ": gene '" + gene.name + "' sets point '" +
                                           kPointInfo[size_t(index)].name + "' of layer " + std::to_string(l + 1) +
                                           ", which no gene decides");
                }
            }
        }
    }
    for (int l = 0; l < layers; ++l) {
        for (int i = 0; i < kQuantPointCount; ++i) {
            const int expected = decides(l, QuantPoint(i)) ? 1 : 0;
            if (setCount[size_t(l)][size_t(i)] != expected) {
                throw std::logic_error("genome layout " + name + ": point '" + kPointInfo[size_t(i)].name +
                                       "' of layer " + std::to_string(l + 1) + " is set by " +
                                       std::to_string(setCount[size_t(l)][size_t(i)]) + " genes, expected " +
                                       std::to_string(expected));
            }
        }
    }
    // Names must stay distinct after normalisation, or parsing would be ambiguous.
    for (size_t i = 0; i < genes.size(); ++i) {
        for (size_t j = i + 1; j < genes.size(); ++j) {
            if (normalizedGeneName(genes[i].name) == normalizedGeneName(genes[j].name)) {
                throw std::logic_error("genome layout " + name + ": gene names '" + genes[i].name + "' and '" +
                                       genes[j].name + "' collide (names are case-insensitive, '_' optional)");
            }
        }
    }
}

const GenomeLayout& defaultLayout() {
    static const GenomeLayout layout = [] {
        using P = QuantPoint;
        GenomeLayout l;
        l.name = l.baseName = "default17";
        l.genes = {
            {"x", "input sequence quantizer", {P::X}},
            {"w_ih", "weights W_ir, W_iz, W_in (symmetric)", {P::WIr, P::WIz, P::WIn}},
            {"w_hh", "weights W_hr, W_hz, W_hn (symmetric)", {P::WHr, P::WHz, P::WHn}},
            {"ih", "output of the input projection (all three gates)", {P::IHr, P::IHz, P::IHn}},
            {"hh", "output of the hidden projection (all three gates)", {P::HHr, P::HHz, P::HHn}},
            {"sum_r", "ih_r + hh_r", {P::SumR}},
            {"sum_z", "ih_z + hh_z", {P::SumZ}},
            {"sig_r", "σ output r", {P::SigR}},
            {"sig_z", "σ output z (1 − z is derived exactly from it, no gene)", {P::SigZ}},
            {"mul_rn", "r ⊙ hh_n", {P::MulRN}},
            {"sum_n", "ih_n + r ⊙ hh_n", {P::SumN}},
            {"tanh_n", "tanh output n", {P::TanhN}},
            {"mul_zn", "(1 − z) ⊙ n", {P::MulZN}},
            {"mul_zh", "z ⊙ h", {P::MulZH}},
            {"h", "new hidden state (1 − z)n + zh", {P::H}},
            {"w_fc", "classifier weights (symmetric)", {P::WFc}},
            {"fc", "classifier output (logits)", {P::Fc}},
        };
        l.validate();
        return l;
    }();
    return layout;
}

const GenomeLayout& homogeneousLayout() {
    static const GenomeLayout layout = [] {
        GenomeLayout l;
        l.name = l.baseName = "homogeneous";
        GeneSpec gene{"bits", "every quantization point (weights and activations)", {}, kAllLayers};
        for (int i = 0; i < kQuantPointCount; ++i) gene.points.push_back(static_cast<QuantPoint>(i));
        l.genes = {gene};
        l.validate();
        return l;
    }();
    return layout;
}

const GenomeLayout& perGateLayout() {
    static const GenomeLayout layout = [] {
        GenomeLayout l;
        l.name = l.baseName = "per-gate";
        for (int i = 0; i < kQuantPointCount; ++i) {
            l.genes.push_back({kPointInfo[i].name, kPointInfo[i].description, {static_cast<QuantPoint>(i)}});
        }
        l.validate();
        return l;
    }();
    return layout;
}

const std::vector<const GenomeLayout*>& knownLayouts() {
    static const std::vector<const GenomeLayout*> layouts = {&defaultLayout(), &homogeneousLayout(),
                                                             &perGateLayout()};
    return layouts;
}

namespace {

// The L-layer form of a one-layer layout: a gene of every point stays one gene over all layers
// (homogeneous); the input gene is the first layer's, the head's genes the last layer's; every other
// gene (the cell's) is repeated per layer, "l<k>_<name>" for layer k >= 2. Order: layer 1's genes, the
// cell genes of layers 2.., then the head's.
GenomeLayout makeStackedLayout(const GenomeLayout& base, int layers) {
    GenomeLayout stacked;
    stacked.name = base.name + "-L" + std::to_string(layers);
    stacked.baseName = base.name;
    stacked.minBits = base.minBits;
    stacked.maxBits = base.maxBits;
    stacked.layers = layers;
    enum class Kind { AllLayers, Input, Head, Cell };
    auto kindOf = [&](const GeneSpec& gene) {
        if (gene.layer == kAllLayers) return Kind::AllLayers;
        const auto all = [&](auto pred) { return std::all_of(gene.points.begin(), gene.points.end(), pred); };
        if (all([](QuantPoint p) { return p == QuantPoint::X; })) return Kind::Input;
        if (all([](QuantPoint p) { return isHeadPoint(p); })) return Kind::Head;
        if (all([](QuantPoint p) { return p != QuantPoint::X && !isHeadPoint(p); })) return Kind::Cell;
        throw std::logic_error("genome layout " + base.name + ": gene '" + gene.name +
                               "' mixes the input, cell and head points and cannot be stacked");
    };
    std::vector<GeneSpec> head;
    for (const GeneSpec& gene : base.genes) {
        const Kind kind = kindOf(gene);
        if (kind == Kind::Head) {
            head.push_back(gene);
            head.back().layer = layers - 1;
        } else {
            stacked.genes.push_back(gene);
        }
    }
    for (int l = 1; l < layers; ++l) {
        for (const GeneSpec& gene : base.genes) {
            if (kindOf(gene) != Kind::Cell) continue;
            GeneSpec copy = gene;
            copy.name = "l" + std::to_string(l + 1) + "_" + gene.name;
            copy.description = gene.description + " (layer " + std::to_string(l + 1) + ")";
            copy.layer = l;
            stacked.genes.push_back(copy);
        }
    }
    stacked.genes.insert(stacked.genes.end(), head.begin(), head.end());
    stacked.validate();
    return stacked;
}

const GenomeLayout* knownLayoutNamed(const std::string& name) {
    for (const GenomeLayout* layout : knownLayouts()) {
        if (layout->name == name) return layout;
    }
    const size_t dash = name.rfind("-L");
    if (dash == std::string::npos || dash + 3 != name.size() || !isDigit(name.back())) return nullptr;
    const int layers = name.back() - '0';
    if (layers < 2 || layers > kMaxGruLayers) return nullptr;
    for (const GenomeLayout* layout : knownLayouts()) {
        if (layout->name == name.substr(0, dash)) return &stackedLayout(*layout, layers);
    }
    return nullptr;
}

}  // namespace

const GenomeLayout& stackedLayout(const GenomeLayout& base, int layers) {
    if (layers < 1 || layers > kMaxGruLayers) {
        throw InputError("genome layout", "a GRU of " + std::to_string(layers) + " layers; gruq supports 1.." +
                                              std::to_string(kMaxGruLayers));
    }
    if (base.layers != 1) throw std::logic_error("stackedLayout: " + base.name + " is already stacked");
    if (layers == 1) return base;
    static std::mutex mutex;
    static std::map<std::pair<std::string, int>, std::unique_ptr<const GenomeLayout>> made;
    const std::lock_guard<std::mutex> lock(mutex);
    auto& slot = made[{base.name, layers}];
    if (!slot) slot = std::make_unique<const GenomeLayout>(makeStackedLayout(base, layers));
    return *slot;
}

const GenomeLayout& layoutByName(const std::string& name) {
    if (const GenomeLayout* layout = knownLayoutNamed(name)) return *layout;
    throw InputError("genome layout", "unknown layout '" + name + "' (known: " + knownLayoutNames() + ")");
}

LayerBits Genome::resolve() const {
    validateGenome(*this);
    const int L = layout->layers;
    LayerBits assignment(size_t(L), BitAssignment{});
    for (int g = 0; g < layout->geneCount(); ++g) {
        const auto [first, end] = layerRange(layout->genes[g], L);
        for (int l = first; l < end; ++l) {
            for (QuantPoint p : layout->genes[g].points) assignment[size_t(l)][pointIndex(p)] = bits[g];
        }
    }
    for (int l = 1; l < L; ++l) assignment[size_t(l)][pointIndex(QuantPoint::X)] = assignment[size_t(l - 1)][pointIndex(QuantPoint::H)];
    for (int l = 0; l < L - 1; ++l) {
        for (QuantPoint p : {QuantPoint::WFc, QuantPoint::Fc}) assignment[size_t(l)][pointIndex(p)] = assignment.back()[pointIndex(p)];
    }
    return assignment;
}

std::string Genome::toText() const {
    validateGenome(*this);
    std::string text;
    for (int g = 0; g < layout->geneCount(); ++g) {
        if (g > 0) text += ' ';
        text += layout->genes[g].name + std::to_string(bits[g]);
    }
    return text;
}

std::string Genome::toJson() const {
    validateGenome(*this);
    // ordered_json keeps the genes in layout order, so the file reads like the DESIGN table.
    nlohmann::ordered_json genes = nlohmann::ordered_json::object();
    for (int g = 0; g < layout->geneCount(); ++g) genes[layout->genes[g].name] = bits[g];
    nlohmann::ordered_json root;
    root["layout"] = layout->name;
    root["genes"] = genes;
    return root.dump();
}

Genome uniformGenome(const GenomeLayout& layout, int bits) {
    if (bits < layout.minBits || bits > layout.maxBits) {
        throw InputError(kGenomeSource, "uniform genome: " + std::to_string(bits) + " bits is outside " +
                                            boundsText(layout) + " (layout " + layout.name + ")");
    }
    Genome genome;
    genome.layout = &layout;
    genome.bits.assign(layout.genes.size(), bits);
    return genome;
}

Genome parseGenomeText(const std::string& text, const GenomeLayout& layout) {
    GenomeCollector collector(layout);
    for (const std::string& token : tokenize(text)) {
        std::string name, digits;
        const size_t equals = token.find('=');
        if (equals != std::string::npos) {
            name = token.substr(0, equals);
            digits = token.substr(equals + 1);
        } else {
            size_t split = token.size();
            while (split > 0 && isDigit(token[split - 1])) --split;
            name = token.substr(0, split);
            digits = token.substr(split);
        }
        const bool nameOk = !name.empty() && !isDigit(name.front()) &&
                            std::all_of(name.begin(), name.end(), isNameChar);
        const bool digitsOk = !digits.empty() && std::all_of(digits.begin(), digits.end(), isDigit);
        if (!nameOk || !digitsOk) throwMalformed(token, layout);
        collector.add(name, parseDigits(digits), token);
    }
    return collector.finish();
}

Genome parseGenomeJson(const std::string& json) {
    nlohmann::json root;
    try {
        root = nlohmann::json::parse(json);
    } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for numbers like 1e400
        throw InputError(kGenomeSource, std::string("malformed JSON: ") + e.what());
    }
    auto fail = [](const std::string& problem) { throw InputError(kGenomeSource, problem); };
    if (!root.is_object()) fail("JSON genome must be an object with \"layout\" and \"genes\"");
    if (!root.contains("layout")) fail("JSON genome has no \"layout\" (known: " + knownLayoutNames() + ")");
    if (!root["layout"].is_string()) fail("JSON genome: \"layout\" must be a string");
    if (!root.contains("genes")) fail("JSON genome has no \"genes\"");
    if (!root["genes"].is_object()) fail("JSON genome: \"genes\" must be an object of gene name -> bits");

    const std::string layoutName = root["layout"].get<std::string>();
    const GenomeLayout* layout = knownLayoutNamed(layoutName);
    if (!layout) {
        throw InputError(kGenomeSource, "unknown layout '" + layoutName + "' (known: " + knownLayoutNames() + ")");
    }

    GenomeCollector collector(*layout);
    for (const auto& [geneName, value] : root["genes"].items()) {
        if (!value.is_number_integer()) {
            // Containers by type only: dump() recurses, and deeply nested input would overflow the stack.
            const std::string got = value.is_primitive() ? value.dump() : std::string("a JSON ") + value.type_name();
            throw InputError(kGenomeSource, "gene '" + geneName + "': bits must be an integer, got " + got +
                                                " (layout " + layout->name + ")");
        }
        // Saturate huge values so they still report as out of range rather than wrapping.
        const long long bits =
            value.is_number_unsigned()
                ? static_cast<long long>(std::min<uint64_t>(value.get<uint64_t>(), std::numeric_limits<int>::max()))
                : value.get<long long>();
        collector.add(geneName, bits, "\"" + geneName + "\": " + value.dump());
    }
    return collector.finish();
}

void validateGenome(const Genome& genome) {
    if (!genome.layout) throw InputError(kGenomeSource, "genome has no layout");
    const GenomeLayout& layout = *genome.layout;
    if (genome.bits.size() != layout.genes.size()) {
        throw InputError(kGenomeSource, "wrong length: " + std::to_string(genome.bits.size()) +
                                            " genes given, layout " + layout.name + " has " +
                                            std::to_string(layout.geneCount()));
    }
    for (int g = 0; g < layout.geneCount(); ++g) checkGeneBits(layout, g, genome.bits[g]);
}

void checkGenomeLayers(const Genome& genome, int64_t layers) {
    validateGenome(genome);
    if (genome.layout->layers == layers) return;
    std::string expected;
    if (layers >= 1 && layers <= kMaxGruLayers) {
        const GenomeLayout& needed = stackedLayout(layoutByName(genome.layout->baseName), int(layers));
        expected = " (" + needed.name + ", " + std::to_string(needed.geneCount()) + " genes)";
    }
    throw InputError(kGenomeSource, "genome of layout " + genome.layout->name + " (" + std::to_string(genome.layout->geneCount()) +
                                        " genes) is for " + std::to_string(genome.layout->layers) + " GRU layer" +
                                        (genome.layout->layers == 1 ? "" : "s") + ", the model has " +
                                        std::to_string(layers) + expected);
}

}  // namespace gruq
