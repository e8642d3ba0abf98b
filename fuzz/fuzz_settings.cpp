// libFuzzer target for the search settings reader (core/search/src/search_settings.cpp):
// SearchSettings::fromJson, which also validates.
//
// Acceptable: InputError, or settings that validate again and survive the round trip through the
// writer: fromJson(s.toJson()) must succeed and write the same JSON (so an accepted file can be stored
// in an archive and read back when the search resumes). Anything else is a finding, including an
// InputError from the round trip and any UndefinedBehaviorSanitizer report (a number that does not
// fit its field must be an InputError, not an out-of-range conversion).
// Build and seeds: scripts/fuzz.sh (target fuzz_settings).
#include "fuzz_support.h"

#include "gruq/search/search.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string json(reinterpret_cast<const char*>(data), size);
    gruq::SearchSettings settings;
    if (!fuzz::acceptedOrInputError([&] { settings = gruq::SearchSettings::fromJson(json); })) return 0;

    try {
        settings.validate();
        const std::string written = settings.toJson();
        if (gruq::SearchSettings::fromJson(written).toJson() != written) {
            fuzz::invariantBroken("settings JSON does not round-trip");
        }
    } catch (const gruq::InputError& e) {
        std::fprintf(stderr, "%s\n", e.what());
        fuzz::invariantBroken("accepted settings failed validation or their round trip");
    }
    return 0;
}
