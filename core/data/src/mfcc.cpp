#include "gruq/data/mfcc.h"

#include "gruq/base/text.h"
#include "gruq/base/errors.h"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <memory>
#include <mutex>

namespace gruq {
namespace {

// FFTW's planner (and plan destruction) is not thread-safe; executing an existing plan on
// new arrays is. Every planner call in this file goes through this mutex.
std::mutex& fftwPlannerMutex() {
    static std::mutex mutex;
    return mutex;
}

double hzToMel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }  // HTK
double melToHz(double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); }

}  // namespace

int MfccConfig::windowSamples() const {
    return static_cast<int>(std::lround(static_cast<double>(sampleRate) * windowMs / 1000.0));
}

int MfccConfig::hopSamples() const {
    return static_cast<int>(std::lround(static_cast<double>(sampleRate) * hopMs / 1000.0));
}

int MfccConfig::fftSize() const {
    int n = 1;
    while (n < windowSamples()) n *= 2;
    return n;
}

std::string MfccConfig::key() const {
    // "v1" names the algorithm; bump it when the computation changes so that old caches miss.
    return "mfcc-v1 sr=" + std::to_string(sampleRate) + " win_ms=" + formatNumber(windowMs) +
           " hop_ms=" + formatNumber(hopMs) + " bands=" + std::to_string(melBands) +
           " coeffs=" + std::to_string(coefficients) + " low_hz=" + formatNumber(lowHz) +
           " high_hz=" + formatNumber(highHz) + " log_floor=" + formatNumber(logFloor);
}

void MfccConfig::validate() const {
    const std::string where = "MFCC settings";
    if (sampleRate <= 0 || sampleRate > 1000000) {
        throw InputError(where, "sample rate must be in 1..1000000 Hz, got " + std::to_string(sampleRate));
    }
    // Range-checked in floating point first: rounding an absurd value to int would overflow.
    const double window = static_cast<double>(sampleRate) * windowMs / 1000.0;
    if (!(window >= 1.5 && window <= double(1 << 20))) {
        throw InputError(where, "window length must cover 2..2^20 samples, got " + formatNumber(windowMs) + " ms");
    }
    const double hop = static_cast<double>(sampleRate) * hopMs / 1000.0;
    if (!(hop >= 0.5 && hop <= double(1 << 24))) {
        throw InputError(where, "hop must cover 1..2^24 samples, got " + formatNumber(hopMs) + " ms");
    }
    if (melBands < 1 || melBands > 1024) {
        throw InputError(where, "mel band count must be in 1..1024, got " + std::to_string(melBands));
    }
    if (coefficients < 1 || coefficients > melBands) {
        throw InputError(where, "coefficient count must be in 1..mel bands (" + std::to_string(melBands) +
                                    "), got " + std::to_string(coefficients));
    }
    if (!(lowHz >= 0.0) || !(highHz > lowHz) || highHz > sampleRate / 2.0) {
        throw InputError(where, "need 0 <= low (" + formatNumber(lowHz) + " Hz) < high (" + formatNumber(highHz) +
                                    " Hz) <= Nyquist (" + formatNumber(sampleRate / 2.0) + " Hz)");
    }
    if (!(logFloor > 0.0) || !std::isfinite(logFloor)) {
        throw InputError(where, "log floor must be positive, got " + formatNumber(logFloor));
    }
}

struct MfccExtractor::Impl {
    int window = 0;
    int hop = 0;
    int fft = 0;
    int bins = 0;  // fft / 2 + 1
    std::vector<float> hann;
    // Sparse triangular filters: band b covers bins [firstBin[b], firstBin[b] + weights[b].size()).
    std::vector<int> firstBin;
    std::vector<std::vector<float>> weights;
    std::vector<double> centersHz;
    std::vector<float> dct;  // coefficients x melBands, row-major, orthonormal DCT-II rows
    fftwf_plan plan = nullptr;
};

MfccExtractor::MfccExtractor(MfccConfig config) : config_(config), impl_(nullptr) {
    config_.validate();
    auto impl = std::make_unique<Impl>();
    impl->window = config_.windowSamples();
    impl->hop = config_.hopSamples();
    impl->fft = config_.fftSize();
    impl->bins = impl->fft / 2 + 1;

    // Periodic Hann window (as tf.signal.hann_window): the usual choice for overlapping STFT frames.
    impl->hann.resize(static_cast<size_t>(impl->window));
    for (int n = 0; n < impl->window; ++n) {
        impl->hann[static_cast<size_t>(n)] =
            static_cast<float>(0.5 - 0.5 * std::cos(2.0 * M_PI * n / static_cast<double>(impl->window)));
    }

    // HTK mel filterbank: melBands triangles with edges equally spaced in mel between lowHz and
    // highHz; each FFT bin's weight is evaluated on the mel axis (as TensorFlow does).
    const int bands = config_.melBands;
    const double lowMel = hzToMel(config_.lowHz);
    const double highMel = hzToMel(config_.highHz);
    const double step = (highMel - lowMel) / (bands + 1);
    impl->firstBin.assign(static_cast<size_t>(bands), 0);
    impl->weights.assign(static_cast<size_t>(bands), {});
    impl->centersHz.resize(static_cast<size_t>(bands));
    for (int b = 0; b < bands; ++b) {
        const double left = lowMel + step * b;
        const double center = left + step;
        const double right = center + step;
        impl->centersHz[static_cast<size_t>(b)] = melToHz(center);
        int first = -1;
        std::vector<float> w;
        for (int k = 0; k < impl->bins; ++k) {
            const double mel = hzToMel(static_cast<double>(k) * config_.sampleRate / impl->fft);
            const double weight = std::max(0.0, std::min((mel - left) / (center - left), (right - mel) / (right - center)));
            if (weight <= 0.0) {
                if (first >= 0) break;  // past the triangle
                continue;
            }
            if (first < 0) first = k;
            w.push_back(static_cast<float>(weight));
        }
        impl->firstBin[static_cast<size_t>(b)] = std::max(first, 0);
        impl->weights[static_cast<size_t>(b)] = std::move(w);
    }

    // Orthonormal DCT-II: c_k = s_k * sum_m v_m cos(pi k (m + 0.5) / M), s_0 = sqrt(1/M), s_k = sqrt(2/M).
    const int coeffs = config_.coefficients;
    impl->dct.resize(static_cast<size_t>(coeffs * bands));
    for (int k = 0; k < coeffs; ++k) {
        const double scale = std::sqrt((k == 0 ? 1.0 : 2.0) / bands);
        for (int m = 0; m < bands; ++m) {
            impl->dct[static_cast<size_t>(k * bands + m)] =
                static_cast<float>(scale * std::cos(M_PI * k * (m + 0.5) / bands));
        }
    }

    {
        // FFTW_ESTIMATE: deterministic plan (same numbers on every run) and no timing at startup.
        // FFTW_UNALIGNED: compute() executes it on per-call std::vector buffers of any alignment.
        std::vector<float> in(static_cast<size_t>(impl->fft));
        std::vector<std::complex<float>> out(static_cast<size_t>(impl->bins));
        std::lock_guard<std::mutex> lock(fftwPlannerMutex());
        impl->plan = fftwf_plan_dft_r2c_1d(impl->fft, in.data(), reinterpret_cast<fftwf_complex*>(out.data()),
                                           FFTW_ESTIMATE | FFTW_UNALIGNED);
    }
    if (!impl->plan) throw InputError("MFCC settings", "FFTW could not plan a " + std::to_string(impl->fft) + "-point FFT");
    impl_ = impl.release();
}

MfccExtractor::~MfccExtractor() {
    if (impl_ && impl_->plan) {
        std::lock_guard<std::mutex> lock(fftwPlannerMutex());
        fftwf_destroy_plan(impl_->plan);
    }
    delete impl_;
}

int MfccExtractor::frameCount(size_t numSamples) const {
    const auto window = static_cast<size_t>(impl_->window);
    if (numSamples < window) return 0;
    return static_cast<int>(1 + (numSamples - window) / static_cast<size_t>(impl_->hop));
}

std::vector<float> MfccExtractor::logMelEnergies(const std::vector<float>& audio) const {
    const Impl& im = *impl_;
    const int frames = frameCount(audio.size());
    const int bands = config_.melBands;
    const auto logFloor = static_cast<float>(config_.logFloor);
    std::vector<float> out(static_cast<size_t>(frames) * static_cast<size_t>(bands));

    // Per-call buffers keep compute() safe to run from several threads on one extractor.
    std::vector<float> frame(static_cast<size_t>(im.fft), 0.0f);
    std::vector<std::complex<float>> spectrum(static_cast<size_t>(im.bins));
    std::vector<float> power(static_cast<size_t>(im.bins));
    for (int t = 0; t < frames; ++t) {
        const float* src = audio.data() + static_cast<size_t>(t) * static_cast<size_t>(im.hop);
        for (int n = 0; n < im.window; ++n) frame[static_cast<size_t>(n)] = src[n] * im.hann[static_cast<size_t>(n)];
        // Samples window..fft-1 stay zero (zero padding to the FFT size).
        fftwf_execute_dft_r2c(im.plan, frame.data(), reinterpret_cast<fftwf_complex*>(spectrum.data()));
        for (int k = 0; k < im.bins; ++k) power[static_cast<size_t>(k)] = std::norm(spectrum[static_cast<size_t>(k)]);

        float* row = out.data() + static_cast<size_t>(t) * static_cast<size_t>(bands);
        for (int b = 0; b < bands; ++b) {
            const std::vector<float>& w = im.weights[static_cast<size_t>(b)];
            const float* p = power.data() + im.firstBin[static_cast<size_t>(b)];
            double energy = 0.0;
            for (size_t i = 0; i < w.size(); ++i) energy += static_cast<double>(w[i]) * p[i];
            // Non-finite input (NaN / inf samples) would poison the features; map it to the floor.
            const auto e = static_cast<float>(energy);
            row[b] = std::log(std::isfinite(e) ? std::max(e, logFloor) : logFloor);
        }
    }
    return out;
}

std::vector<float> MfccExtractor::compute(const std::vector<float>& audio) const {
    const std::vector<float> logMel = logMelEnergies(audio);
    const int bands = config_.melBands;
    const int coeffs = config_.coefficients;
    const size_t frames = logMel.size() / static_cast<size_t>(bands);
    std::vector<float> out(frames * static_cast<size_t>(coeffs));
    for (size_t t = 0; t < frames; ++t) {
        const float* v = logMel.data() + t * static_cast<size_t>(bands);
        for (int k = 0; k < coeffs; ++k) {
            const float* basis = impl_->dct.data() + static_cast<size_t>(k * bands);
            double sum = 0.0;
            for (int m = 0; m < bands; ++m) sum += static_cast<double>(basis[m]) * v[m];
            out[t * static_cast<size_t>(coeffs) + static_cast<size_t>(k)] = static_cast<float>(sum);
        }
    }
    return out;
}

std::vector<double> MfccExtractor::melBandCentersHz() const { return impl_->centersHz; }

}  // namespace gruq
