// libFuzzer target for the core's firmware blob reader (core/export/src/blob.cpp), checked against the C
// runtime's (resources/runtime/gruq_runtime.c) and the integer engine (core/quant/src/integer_engine.cpp).
//
// Each input is read twice, as fuzz_runtime_blob.c does: as it is, then, if rejected, with its
// blob-bytes and payload-bytes fields (version 3: layer-section-bytes field) set to fit the input's length
// and its CRC recomputed, so that mutations reach the shape, bits, layer-section and parameter checks
// instead of dying at the checksum.
// Acceptable: BlobError, with the same code gruq_model_init returns for those bytes; or an accepted
// blob that the runtime accepts too and that writeBlob writes back byte for byte (one layer comes back as
// version 2 whatever version it was read as: only its version field, layer-count byte and CRC differ). Stacked
// (version-3, 2 and 3 layers) blobs run through the same checks. Every
// documented rule is checked by both readers, so there is no field either may read differently.
// An accepted model is then run for a
// few steps with input codes from the input bytes by IntegerGruEngine and by the runtime: both must
// give the same logits. Anything else (another exception, also a plain InputError, a crash, a
// sanitizer report, a mismatch) is a finding.
// Build and seeds: scripts/fuzz.sh (target fuzz_core_blob).
#include "fuzz_support.h"

#include "gruq/export/blob.h"
#include "gruq/quant/integer_engine.h"
#include "gruq_runtime.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

namespace {

constexpr int64_t kSteps = 3;

void putU32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + size_t(i)] = uint8_t(v >> (8 * i));
}

uint32_t getU32(const std::vector<uint8_t>& b, size_t at) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t(b[at + size_t(i)]) << (8 * i);
    return v;
}

// The blob without its version field, layer-count byte and CRC (a one-layer blob read as version 1 or 3 is
// written back as version 2, where byte 612 is reserved, 0; version 3 counts the one layer there; readBlob
// has checked the input's CRC).
std::vector<uint8_t> withoutVersion(std::vector<uint8_t> b) {
    constexpr size_t kOffVersion = 4, kOffCrc = 12, kOffLayers = 612;
    std::fill_n(b.begin() + kOffVersion, 2, uint8_t(0));
    if (b.size() >= kOffCrc + 4) std::fill_n(b.begin() + kOffCrc, 4, uint8_t(0));
    if (b.size() > kOffLayers && b[kOffLayers] <= 1) b[kOffLayers] = 0;  // a stack's layer count must survive
    return b;
}

// The C runtime's verdict as a BlobError code (0 = accepted).
int runtimeCode(const std::vector<uint8_t>& bytes) {
    // An exact-size heap copy, so that AddressSanitizer catches a read of even one byte past the end.
    std::unique_ptr<uint8_t[]> copy(new uint8_t[bytes.size() ? bytes.size() : 1]);
    if (!bytes.empty()) std::memcpy(copy.get(), bytes.data(), bytes.size());
    gruq_model model;
    return gruq_model_init(&model, copy.get(), uint32_t(bytes.size()));
}

// Reads bytes with both readers; returns true when both accept. Aborts when they disagree.
bool readBoth(const std::vector<uint8_t>& bytes, gruq::BlobContents& contents) {
    const int runtime = runtimeCode(bytes);
    try {
        contents = gruq::readBlob(bytes, "fuzz.bin");
    } catch (const gruq::BlobError& e) {
        if (runtime != int(e.code())) {
            std::fprintf(stderr, "core: %d (%s), runtime: %d\n", int(e.code()), e.what(), runtime);
            fuzz::invariantBroken("core reader and C runtime reject with different codes");
        }
        return false;
    }
    if (runtime != GRUQ_OK) {
        std::fprintf(stderr, "runtime: %d\n", runtime);
        fuzz::invariantBroken("core reader accepts a blob the C runtime rejects");
    }
    return true;
}

void runBoth(const std::vector<uint8_t>& bytes, const gruq::BlobContents& contents, const uint8_t* data, size_t size) {
    const gruq::QuantizedGru& q = contents.model;
    const int64_t F = q.shape.inputSize, C = q.shape.numClasses;
    const uint32_t xmax = (1u << q.inputQuant().bits) - 1u;
    std::vector<uint8_t> codes(size_t(kSteps * F));
    for (size_t i = 0; i < codes.size(); ++i) codes[i] = uint8_t((size ? data[(i * 7u) % size] : 0u) & xmax);

    std::vector<int32_t> engineLogits(static_cast<size_t>(C)), runtimeLogits(static_cast<size_t>(C));
    gruq::IntegerGruEngine(q).run(codes.data(), kSteps, engineLogits.data());

    gruq_model model;
    if (gruq_model_init(&model, bytes.data(), uint32_t(bytes.size())) != GRUQ_OK) fuzz::invariantBroken("runtime init");
    std::vector<uint8_t> workspace(gruq_workspace_bytes(&model));
    gruq_state state;
    if (gruq_state_init(&state, &model, workspace.data(), uint32_t(workspace.size())) != GRUQ_OK) {
        fuzz::invariantBroken("runtime state init");
    }
    const int cls = gruq_classify(&state, codes.data(), uint32_t(kSteps), runtimeLogits.data());
    if (engineLogits != runtimeLogits) fuzz::invariantBroken("integer engine and C runtime logits differ");
    if (cls != gruq::IntegerGruEngine::argmax(engineLogits.data(), C)) fuzz::invariantBroken("argmax differs");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > 0xFFFFFFFFu) return 0;
    std::vector<uint8_t> bytes(data, data + size);
    gruq::BlobContents contents;
    bool accepted = readBoth(bytes, contents);
    if (!accepted && size >= 16) {
        putU32(bytes, 8, uint32_t(size));
        // One layer (versions 1 and 2, or byte 612 <= 1): the payload takes the rest, so that cuts and growths
        // reach the parameter checks. A stacked version-3 blob: the layer section does (its payload and
        // normalisation fields kept), so that they reach the layer checks.
        if (size >= gruq::kBlobHeaderBytes) {
            if (bytes[4] == 3 && bytes[612] > 1) {
                const uint64_t used = uint64_t(gruq::kBlobHeaderBytes) + getU32(bytes, 604) + getU32(bytes, 608);
                if (used <= size) putU32(bytes, 616, uint32_t(size - used));
            } else {
                putU32(bytes, 604, uint32_t(size - gruq::kBlobHeaderBytes));
            }
        }
        putU32(bytes, 12, gruq::crc32Of(bytes.data() + 16, size - 16));
        accepted = readBoth(bytes, contents);
    }
    if (!accepted) return 0;

    const std::vector<uint8_t> written = gruq::writeBlob(contents.model, contents.genome, contents.taskName,
                                                             contents.normalization ? &*contents.normalization : nullptr);
    if (written.size() != bytes.size() || withoutVersion(written) != withoutVersion(bytes)) {
        fuzz::invariantBroken("an accepted blob differs from writeBlob of what was read");
    }
    runBoth(bytes, contents, data, size);
    return 0;
}
