// libFuzzer target for the NumPy dataset reader (core/data/src/npz_archive.cpp, npy_format.cpp,
// numpy_task.cpp): the bytes of an .npz file (zip of .npy members, stored or deflated) read in memory
// and checked as the npz task checks a file.
//
// Acceptable: InputError, or sequences with N, T, F >= 1, N * T * F finite values, N labels in
// 0..1023, class names (when present) naming every label. Anything else is a finding.
// Build and seeds: scripts/fuzz.sh (target fuzz_npz).
#include "fuzz_support.h"

#include "gruq/data/npz_archive.h"
#include "gruq/data/numpy_task.h"

#include <cmath>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    gruq::NumpySequences s;
    // Members are capped at 64 MiB here so that a deflate bomb is refused rather than exhausting memory.
    if (!fuzz::acceptedOrInputError([&] {
            s = gruq::numpySequencesFromMembers(gruq::readNpzBytes(bytes, "input.npz", uint64_t(64) << 20), "input.npz");
        })) {
        return 0;
    }
    const gruq::SequenceSet& set = s.set;
    if (set.count < 1 || set.steps < 1 || set.features < 1) fuzz::invariantBroken("accepted an empty x");
    if (int64_t(set.x.size()) != set.count * set.steps * set.features) fuzz::invariantBroken("x size != N * T * F");
    if (int64_t(set.y.size()) != set.count) fuzz::invariantBroken("y size != N");
    for (float v : set.x) {
        if (!std::isfinite(v)) fuzz::invariantBroken("accepted a non-finite feature");
    }
    for (int32_t label : set.y) {
        if (label < 0 || label > 1023) fuzz::invariantBroken("accepted a label outside 0..1023");
        if (!s.classNames.empty() && label >= int32_t(s.classNames.size())) fuzz::invariantBroken("a label has no name");
    }
    return 0;
}
