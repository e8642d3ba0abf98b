#include "gruq/quant/genome.h"

#include "gruq/base/text.h"
#include "gruq/base/errors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <limits>
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
    return joined(names);
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

void GenomeLayout::validate() const {
    if (name.empty()) throw std::logic_error("genome layout without a name");
    if (genes.empty()) throw std::logic_error("genome layout " + name + " has no genes");
    if (minBits < 1 || minBits > maxBits) {
        throw std::logic_error("genome layout " + name + ": bad bit bounds " + std::to_string(minBits) + ".." +
                               std::to_string(maxBits));
    }
    std::array<int, kQuantPointCount> setCount{};
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
        for (QuantPoint p : gene.points) {
            const int index = static_cast<int>(p);
            if (index < 0 || index >= kQuantPointCount) {
                throw std::logic_error("genome layout " + name + ": gene '" + gene.name + "' sets an invalid point");
            }
            ++setCount[index];
        }
    }
    for (int i = 0; i < kQuantPointCount; ++i) {
        if (setCount[i] != 1) {
            throw std::logic_error("genome layout " + name + ": point '" + kPointInfo[i].name + "' is set by " +
                                   std::to_string(setCount[i]) + " genes, expected exactly 1");
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
        l.name = "default17";
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
        l.name = "homogeneous";
        GeneSpec gene{"bits", "every quantization point (weights and activations)", {}};
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
        l.name = "per-gate";
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

const GenomeLayout& layoutByName(const std::string& name) {
    for (const GenomeLayout* layout : knownLayouts()) {
        if (layout->name == name) return *layout;
    }
    throw InputError("genome layout", "unknown layout '" + name + "' (known: " + knownLayoutNames() + ")");
}

BitAssignment Genome::resolve() const {
    validateGenome(*this);
    BitAssignment assignment{};
    for (int g = 0; g < layout->geneCount(); ++g) {
        for (QuantPoint p : layout->genes[g].points) assignment[static_cast<int>(p)] = bits[g];
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
    const GenomeLayout* layout = nullptr;
    for (const GenomeLayout* known : knownLayouts()) {
        if (known->name == layoutName) layout = known;
    }
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

}  // namespace gruq
