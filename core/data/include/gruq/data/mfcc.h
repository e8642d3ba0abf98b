#pragma once
// MFCC front end for keyword spotting: pre-emphasis-free framing with a Hann window, power spectrum
// (FFTW), triangular HTK mel filterbank, log, DCT-II (orthonormal), keep the first coefficients.
#include <cstddef>
#include <string>
#include <vector>

namespace gruq {

struct MfccConfig {
    int sampleRate = 16000;
    double windowMs = 30.0;
    double hopMs = 20.0;
    int melBands = 40;
    int coefficients = 10;
    double lowHz = 20.0;
    double highHz = 7600.0;
    double logFloor = 1e-6;  // log(max(energy, logFloor))

    int windowSamples() const;
    int hopSamples() const;
    int fftSize() const;  // next power of two >= windowSamples
    // Stable text of every field; used as the feature-cache key.
    std::string key() const;
    // Throws InputError("MFCC settings", ...) when a field is out of range.
    void validate() const;
};

class MfccExtractor {
public:
    explicit MfccExtractor(MfccConfig config);
    ~MfccExtractor();
    MfccExtractor(const MfccExtractor&) = delete;
    MfccExtractor& operator=(const MfccExtractor&) = delete;

    const MfccConfig& config() const { return config_; }
    // Number of whole frames in numSamples samples: 1 + (n - window) / hop, 0 if n < window.
    int frameCount(size_t numSamples) const;
    // frames x coefficients, row-major.
    std::vector<float> compute(const std::vector<float>& audio) const;
    // frames x melBands log-mel energies (the step before the DCT), row-major.
    std::vector<float> logMelEnergies(const std::vector<float>& audio) const;
    // Centre frequency in Hz of each mel band.
    std::vector<double> melBandCentersHz() const;

private:
    MfccConfig config_;
    struct Impl;
    Impl* impl_;
};

}  // namespace gruq
