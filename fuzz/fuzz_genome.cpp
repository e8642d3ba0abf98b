// libFuzzer target for the genome readers (core/quant/src/genome.cpp): parseGenomeText for each known layout,
// parseGenomeJson, and validateGenome on what they return.
//
// Byte 0 picks the reader: its low two bits 0, 1, 2 parse the rest as text with knownLayouts()[0..2] in
// the L-layer form given by the next bits (L = 1 + (byte 0 >> 2) % 3), 3 parses it as JSON (any layout
// name, stacked ones included). Acceptable: InputError, or a genome that validates, resolves, and comes back equal from
// both its text form (toText -> parseGenomeText) and its JSON form (toJson -> parseGenomeJson).
// Anything else is a finding. Build and seeds: scripts/fuzz.sh (target fuzz_genome).
#include "fuzz_support.h"

#include "gruq/quant/genome.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const int reader = data[0] % 4;
    const int layers = 1 + (data[0] >> 2) % 3;
    const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

    gruq::Genome genome;
    const bool accepted = fuzz::acceptedOrInputError([&] {
        genome = reader < 3 ? gruq::parseGenomeText(text, gruq::stackedLayout(*gruq::knownLayouts()[size_t(reader)], layers))
                            : gruq::parseGenomeJson(text);
    });
    if (!accepted) return 0;

    // Everything below must succeed for an accepted genome: an InputError here is a finding too.
    try {
        gruq::validateGenome(genome);
        if (genome.resolve().size() != size_t(genome.layout->layers)) fuzz::invariantBroken("one bit assignment per layer");
        if (!(gruq::parseGenomeText(genome.toText(), *genome.layout) == genome)) {
            fuzz::invariantBroken("text form does not round-trip");
        }
        if (!(gruq::parseGenomeJson(genome.toJson()) == genome)) fuzz::invariantBroken("JSON form does not round-trip");
    } catch (const gruq::InputError& e) {
        std::fprintf(stderr, "%s\n", e.what());
        fuzz::invariantBroken("an accepted genome failed validation or its round trip");
    }
    return 0;
}
