// Tests of the MFCC front end: framing, mel band placement, log floor, DCT orthonormality, validation.
#include "gruq/base/errors.h"
#include "gruq/data/mfcc.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <thread>

using namespace gruq;

namespace {

std::vector<float> tone(double freqHz, double amplitude = 0.5, int rate = 16000, int samples = 16000) {
    std::vector<float> out(static_cast<size_t>(samples));
    for (int i = 0; i < samples; ++i) {
        out[static_cast<size_t>(i)] = static_cast<float>(amplitude * std::sin(2.0 * M_PI * freqHz * i / rate));
    }
    return out;
}

// Deterministic white-ish noise (LCG) so that the test does not depend on a library's RNG.
std::vector<float> noise(int samples) {
    std::vector<float> out(static_cast<size_t>(samples));
    uint32_t state = 12345;
    for (float& v : out) {
        state = state * 1664525u + 1013904223u;
        v = static_cast<float>((state >> 8) / double(1u << 24) - 0.5);
    }
    return out;
}

double hzToMel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }

// The HTK triangles are symmetric on the mel axis, so "nearest centre" is measured in mels.
int nearestBand(const std::vector<double>& centers, double freqHz) {
    int best = 0;
    for (int b = 1; b < static_cast<int>(centers.size()); ++b) {
        if (std::fabs(hzToMel(centers[size_t(b)]) - hzToMel(freqHz)) <
            std::fabs(hzToMel(centers[size_t(best)]) - hzToMel(freqHz))) best = b;
    }
    return best;
}

// The bands a tone at freqHz may land in: the nearest, plus the runner-up when the tone sits almost
// midway (distances within 10 % of the band spacing), where the 31 Hz FFT bin grid decides.
std::vector<int> acceptableBands(const std::vector<double>& centers, double freqHz) {
    const int best = nearestBand(centers, freqHz);
    std::vector<int> ok = {best};
    const double spacing = hzToMel(centers[1]) - hzToMel(centers[0]);
    const double dBest = std::fabs(hzToMel(centers[size_t(best)]) - hzToMel(freqHz));
    for (int other : {best - 1, best + 1}) {
        if (other < 0 || other >= static_cast<int>(centers.size())) continue;
        const double d = std::fabs(hzToMel(centers[size_t(other)]) - hzToMel(freqHz));
        if (d - dBest < 0.1 * spacing) ok.push_back(other);
    }
    return ok;
}

// Band with the largest log-mel energy, averaged over frames.
int loudestBand(const std::vector<float>& logMel, int bands) {
    std::vector<double> mean(static_cast<size_t>(bands), 0.0);
    for (size_t i = 0; i < logMel.size(); ++i) mean[i % static_cast<size_t>(bands)] += logMel[i];
    return static_cast<int>(std::max_element(mean.begin(), mean.end()) - mean.begin());
}

bool allFinite(const std::vector<float>& v) {
    return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}

}  // namespace

class TestMfcc : public QObject {
    Q_OBJECT

private slots:
    void defaultsGive49FramesOf10() {
        const MfccConfig config;
        QCOMPARE(config.windowSamples(), 480);
        QCOMPARE(config.hopSamples(), 320);
        QCOMPARE(config.fftSize(), 512);
        const MfccExtractor mfcc(config);
        QCOMPARE(mfcc.frameCount(16000), 49);
        QCOMPARE(mfcc.frameCount(479), 0);
        QCOMPARE(mfcc.frameCount(480), 1);
        QCOMPARE(mfcc.frameCount(800), 2);
        QCOMPARE(mfcc.compute(tone(440)).size(), size_t(49 * 10));
        QCOMPARE(mfcc.logMelEnergies(tone(440)).size(), size_t(49 * 40));
        QVERIFY(mfcc.compute(std::vector<float>(100, 0.1f)).empty());
    }

    void bandCentersAreIncreasingInsideTheRange() {
        const MfccExtractor mfcc{MfccConfig{}};
        const std::vector<double> centers = mfcc.melBandCentersHz();
        QCOMPARE(centers.size(), size_t(40));
        QVERIFY(centers.front() > 20.0 && centers.back() < 7600.0);
        for (size_t i = 1; i < centers.size(); ++i) QVERIFY(centers[i] > centers[i - 1]);
    }

    void toneLandsInNearestBand_data() {
        QTest::addColumn<double>("freqHz");
        QTest::newRow("300 Hz (almost midway between two centres)") << 300.0;
        QTest::newRow("250 Hz") << 250.0;
        QTest::newRow("440 Hz") << 440.0;
        QTest::newRow("1000 Hz") << 1000.0;
        QTest::newRow("2000 Hz") << 2000.0;
        QTest::newRow("3000 Hz") << 3000.0;
        QTest::newRow("4500 Hz") << 4500.0;
        QTest::newRow("6000 Hz") << 6000.0;
        QTest::newRow("7000 Hz") << 7000.0;
    }

    void toneLandsInNearestBand() {
        QFETCH(double, freqHz);
        const MfccExtractor mfcc{MfccConfig{}};
        const int expected = nearestBand(mfcc.melBandCentersHz(), freqHz);
        const std::vector<int> acceptable = acceptableBands(mfcc.melBandCentersHz(), freqHz);
        const int got = loudestBand(mfcc.logMelEnergies(tone(freqHz)), 40);
        const std::vector<double> centers = mfcc.melBandCentersHz();
        QVERIFY2(std::find(acceptable.begin(), acceptable.end(), got) != acceptable.end(),
                 qPrintable(QString("tone %1 Hz: loudest band %2 (centre %3 Hz), nearest %4 (centre %5 Hz)")
                                .arg(freqHz).arg(got).arg(centers[size_t(got)]).arg(expected).arg(centers[size_t(expected)])));
    }

    void silenceHitsTheLogFloor() {
        const MfccConfig config;
        const MfccExtractor mfcc(config);
        const std::vector<float> zeros(16000, 0.0f);
        const std::vector<float> logMel = mfcc.logMelEnergies(zeros);
        const float floorLog = static_cast<float>(std::log(config.logFloor));
        for (float v : logMel) QVERIFY(std::fabs(v - floorLog) < 1e-4f);

        // A constant log-mel vector v is a DC signal for the orthonormal DCT: c0 = sqrt(M) * v, rest 0.
        const std::vector<float> c = mfcc.compute(zeros);
        QVERIFY(allFinite(c));
        for (size_t t = 0; t < 49; ++t) {
            QVERIFY(std::fabs(c[t * 10] - std::sqrt(40.0f) * floorLog) < 1e-3f);
            for (size_t k = 1; k < 10; ++k) QVERIFY(std::fabs(c[t * 10 + k]) < 1e-4f);
        }
    }

    void clippedToneStaysFiniteWithFundamentalDominant() {
        const MfccExtractor mfcc{MfccConfig{}};
        std::vector<float> clipped = tone(1000.0, 8.0);  // 18 dB over full scale
        for (float& v : clipped) v = std::clamp(v, -1.0f, 1.0f);
        QVERIFY(allFinite(mfcc.compute(clipped)));
        const std::vector<float> logMel = mfcc.logMelEnergies(clipped);
        QVERIFY(allFinite(logMel));
        QCOMPARE(loudestBand(logMel, 40), nearestBand(mfcc.melBandCentersHz(), 1000.0));
    }

    void nonFiniteInputDoesNotPoisonFeatures() {
        const MfccExtractor mfcc{MfccConfig{}};
        std::vector<float> x = tone(500.0);
        x[1000] = std::numeric_limits<float>::infinity();
        x[5000] = std::nanf("");
        QVERIFY(allFinite(mfcc.compute(x)));
    }

    void dctIsOrthonormal() {
        // With as many coefficients as bands the DCT is a rotation: it preserves each frame's norm,
        // and compute() must equal the textbook orthonormal DCT-II of logMelEnergies().
        MfccConfig config;
        config.melBands = 24;
        config.coefficients = 24;
        const MfccExtractor mfcc(config);
        const std::vector<float> x = noise(16000);
        const std::vector<float> v = mfcc.logMelEnergies(x);
        const std::vector<float> c = mfcc.compute(x);
        const int m = 24;
        QCOMPARE(v.size(), c.size());
        for (size_t t = 0; t < v.size() / m; ++t) {
            double normV = 0, normC = 0;
            for (int i = 0; i < m; ++i) {
                normV += double(v[t * m + size_t(i)]) * v[t * m + size_t(i)];
                normC += double(c[t * m + size_t(i)]) * c[t * m + size_t(i)];
            }
            QVERIFY(std::fabs(normV - normC) < 1e-4 * normV);
            for (int k = 0; k < m; ++k) {
                double expected = 0;
                for (int i = 0; i < m; ++i) expected += v[t * m + size_t(i)] * std::cos(M_PI * k * (i + 0.5) / m);
                expected *= std::sqrt((k == 0 ? 1.0 : 2.0) / m);
                QVERIFY(std::fabs(expected - c[t * m + size_t(k)]) < 1e-3);
            }
        }
    }

    void computeIsThreadSafeOnOneExtractor() {
        const MfccExtractor mfcc{MfccConfig{}};
        const std::vector<float> a = noise(16000), b = tone(700.0);
        const std::vector<float> expectA = mfcc.compute(a), expectB = mfcc.compute(b);
        bool okA = true, okB = true;
        std::thread ta([&] { for (int i = 0; i < 20; ++i) okA = okA && mfcc.compute(a) == expectA; });
        std::thread tb([&] { for (int i = 0; i < 20; ++i) okB = okB && mfcc.compute(b) == expectB; });
        ta.join();
        tb.join();
        QVERIFY(okA);
        QVERIFY(okB);
    }

    void keyChangesWithEverySetting() {
        const MfccConfig base;
        MfccConfig other = base;
        QCOMPARE(other.key(), base.key());
        other.hopMs = 10.0;
        QVERIFY(other.key() != base.key());
        other = base;
        other.coefficients = 13;
        QVERIFY(other.key() != base.key());
        other = base;
        other.logFloor = 1e-10;
        QVERIFY(other.key() != base.key());
    }

    void invalidConfigIsInputError_data() {
        QTest::addColumn<int>("which");
        QTest::newRow("0 bands") << 0;
        QTest::newRow("hop 0") << 1;
        QTest::newRow("coefficients > bands") << 2;
        QTest::newRow("high above Nyquist") << 3;
        QTest::newRow("window 0") << 4;
        QTest::newRow("log floor 0") << 5;
        QTest::newRow("absurd window") << 6;
        QTest::newRow("NaN hop") << 7;
    }

    void invalidConfigIsInputError() {
        QFETCH(int, which);
        MfccConfig config;
        switch (which) {
            case 0: config.melBands = 0; break;
            case 1: config.hopMs = 0.0; break;
            case 2: config.coefficients = 41; break;
            case 3: config.highHz = 9000.0; break;
            case 4: config.windowMs = 0.0; break;
            case 5: config.logFloor = 0.0; break;
            case 6: config.windowMs = 1e300; break;
            case 7: config.hopMs = std::nan(""); break;
        }
        QVERIFY_THROWS_EXCEPTION(InputError, config.validate());
        try {
            MfccExtractor mfcc(config);
            QFAIL("expected InputError");
        } catch (const InputError& e) {
            QCOMPARE(e.path(), std::string("MFCC settings"));
        }
    }
};

QTEST_APPLESS_MAIN(TestMfcc)
#include "test_mfcc.moc"
