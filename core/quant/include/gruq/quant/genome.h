#pragma once
// Genome layouts as data. The GRU cell has 25 quantization points (the finest granularity: every
// weight matrix and every operator output per gate). A layout groups points into genes; a genome
// is one bit width per gene; resolving it gives the bit width of every point. The default 17-gene
// layout (DESIGN.md §3), the 1-gene homogeneous layout and the 25-gene per-gate layout are all
// tables of the same type, handled by the same code. A stacked GRU (L layers) uses the L-layer form of
// a layout (stackedLayout): the cell's genes once per layer ("l2_w_ih" for layer 2), the input gene for
// the first layer only (layer l >= 2 reads layer l-1's quantized h, so its x point is that h), the
// head's genes once. Resolving gives one bit assignment per layer.
#include "gruq/model/float_model.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace gruq {

enum class QuantPoint : int {
    X = 0,                 // input sequence
    WIr, WIz, WIn,         // input weights per gate (symmetric)
    WHr, WHz, WHn,         // hidden weights per gate (symmetric)
    IHr, IHz, IHn,         // W_i? x + b_i? per gate
    HHr, HHz, HHn,         // W_h? h + b_h? per gate
    SumR, SumZ,            // ih_r + hh_r, ih_z + hh_z
    SigR, SigZ,            // sigmoid outputs
    MulRN,                 // r * hh_n
    SumN,                  // ih_n + r * hh_n
    TanhN,                 // tanh output
    MulZN,                 // (1 - z) * n
    MulZH,                 // z * h
    H,                     // hidden state
    WFc,                   // classifier weights (symmetric)
    Fc,                    // logits
    Count
};
constexpr int kQuantPointCount = static_cast<int>(QuantPoint::Count);

// Index of a point in BitAssignment and the other per-point arrays.
constexpr size_t pointIndex(QuantPoint p) { return static_cast<size_t>(p); }
// Point of gate g (0 = r, 1 = z, 2 = n) in a per-gate group that starts at first (WIr, WHr, IHr, HHr).
constexpr QuantPoint gatePoint(QuantPoint first, int gate) {
    return static_cast<QuantPoint>(static_cast<int>(first) + gate);
}

const char* quantPointName(QuantPoint p);  // "x", "w_ir", ..., "fc"
bool isWeightPoint(QuantPoint p);           // WIr..WHn, WFc

// Bit width of every quantization point of one layer.
using BitAssignment = std::array<int, kQuantPointCount>;
// One BitAssignment per layer, input layer first. Each is complete: layer l >= 1 has x = layer l-1's h,
// and every layer carries the head's w_fc / fc (only the last layer's are used).
using LayerBits = std::vector<BitAssignment>;

// w_fc and fc: the classifier head's points, decided once (on the last layer) in a stacked layout.
bool isHeadPoint(QuantPoint p);

constexpr int kAllLayers = -1;

struct GeneSpec {
    std::string name;                // "w_ih"; text/JSON name
    std::string description;         // "weights W_ir, W_iz, W_in (symmetric)"
    std::vector<QuantPoint> points;  // what it sets
    int layer = 0;                   // the layer whose points it sets (0-based), or kAllLayers
};

struct GenomeLayout {
    std::string name;                // "default17", "homogeneous", "per-gate"; stacked: "default17-L2"
    std::vector<GeneSpec> genes;
    int minBits = 2, maxBits = 8;    // bounds of every gene
    int layers = 1;                  // GRU layers the layout is for
    std::string baseName;            // the one-layer layout it was stacked from (= name for one layer)

    int geneCount() const { return static_cast<int>(genes.size()); }
    // Whether a gene of this layout decides point p of layer `layer` (0-based): every point but layer
    // l >= 1's x (layer l-1's h) and the head's points of the layers before the last (the last's).
    bool decides(int layer, QuantPoint point) const;
    // Index of the gene that decides `point` of layer `layer` (0-based), or -1 when none does (layer
    // l >= 1's x is layer l-1's h); the head's points of any layer name the head's gene.
    int geneDeciding(int layer, QuantPoint point) const;
    // Throws std::logic_error unless, in every layer, every point the genome decides (all but layer
    // l >= 2's x and the head points of layers before the last) is set by exactly one gene and names are unique.
    void validate() const;
};

const GenomeLayout& defaultLayout();      // the 17 genes of DESIGN.md §3, in that order
const GenomeLayout& homogeneousLayout();  // one gene "bits" setting every point
const GenomeLayout& perGateLayout();      // one gene per point (25)
const std::vector<const GenomeLayout*>& knownLayouts();  // the one-layer layouts
// The L-layer form of a one-layer layout (the layout itself for L = 1); made once, lives for the process.
// InputError("genome layout", ...) for L outside 1..kMaxGruLayers.
const GenomeLayout& stackedLayout(const GenomeLayout& base, int layers);
// By name ("default17", or "default17-L2" for its 2-layer form); InputError("genome layout", ...) naming
// the known layouts when unknown.
const GenomeLayout& layoutByName(const std::string& name);

struct Genome {
    const GenomeLayout* layout = nullptr;
    std::vector<int> bits;  // one per gene, in layout order

    LayerBits resolve() const;           // bit width of every point of every layer
    std::string toText() const;          // canonical: "x8 w_ih4 w_hh6 ih8 ..." (gene name + bits, spaces)
    std::string toJson() const;          // {"layout":"default17","genes":{"x":8,...}}
    bool operator==(const Genome& o) const { return layout == o.layout && bits == o.bits; }
};

// Every gene set to `bits` (validated against the layout's bounds).
Genome uniformGenome(const GenomeLayout& layout, int bits);

// Parses the text form: whitespace- or comma-separated tokens "<gene><bits>" or "<gene>=<bits>",
// gene names case-insensitive with '_' optional ("wih4" == "w_ih4" == "W_IH=4"); every gene exactly
// once, any order. Errors are InputError("genome", ...) naming the offending gene or token: unknown
// gene, missing gene(s), duplicate gene, bits out of [minBits, maxBits], malformed token.
Genome parseGenomeText(const std::string& text, const GenomeLayout& layout);
// Parses the JSON form (layout name inside selects the layout). Same errors, plus malformed JSON.
Genome parseGenomeJson(const std::string& json);
// Validates a genome built in code (length and bounds), InputError naming the gene otherwise.
void validateGenome(const Genome& genome);
// InputError("genome", ...) unless the genome's layout is for `layers` GRU layers (naming both and the
// gene counts).
void checkGenomeLayers(const Genome& genome, int64_t layers);

}  // namespace gruq
