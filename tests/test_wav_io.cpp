// Tests of WAV decoding / writing, mono mix-down, resampling and pad / crop.
#include "gruq/base/errors.h"
#include "gruq/data/wav_io.h"

#include <QtTest>

#include <sndfile.h>

#include <cmath>
#include <fstream>

using namespace gruq;

namespace {

std::vector<float> sine(double freqHz, int rate, double seconds, double amplitude = 0.5) {
    std::vector<float> out(static_cast<size_t>(std::lround(seconds * rate)));
    for (size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<float>(amplitude * std::sin(2.0 * M_PI * freqHz * static_cast<double>(i) / rate));
    }
    return out;
}

// Frequency from the first and last upward zero crossing (linearly interpolated) inside [from, to).
double estimateFrequency(const std::vector<float>& x, int rate, size_t from, size_t to) {
    double first = -1, last = -1;
    int crossings = 0;
    for (size_t i = from + 1; i < to; ++i) {
        if (x[i - 1] < 0.0f && x[i] >= 0.0f) {
            const double t = static_cast<double>(i - 1) + x[i - 1] / (x[i - 1] - x[i]);
            if (first < 0) first = t;
            last = t;
            ++crossings;
        }
    }
    if (crossings < 2) return 0.0;
    return (crossings - 1) / ((last - first) / rate);
}

double rms(const std::vector<float>& x, size_t from, size_t to) {
    double sum = 0;
    for (size_t i = from; i < to; ++i) sum += static_cast<double>(x[i]) * x[i];
    return std::sqrt(sum / static_cast<double>(to - from));
}

}  // namespace

class TestWavIo : public QObject {
    Q_OBJECT

private slots:
    void writeThenReadRoundTrips() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string path = dir.filePath("tone.wav").toStdString();
        std::vector<float> samples = sine(440.0, 16000, 0.25, 0.7);
        // Edge values: full scale both ways, zero, and values between two 16-bit steps.
        samples.insert(samples.end(), {1.0f, -1.0f, 0.0f, 0.5f, -0.25f, 1.0f / 65536.0f, 0.123456f});
        writeWav16(path, samples, 16000);

        const Audio audio = readAudioFile(path);
        QCOMPARE(audio.sampleRate, 16000);
        QCOMPARE(audio.samples.size(), samples.size());
        for (size_t i = 0; i < samples.size(); ++i) {
            QVERIFY2(std::fabs(audio.samples[i] - samples[i]) <= 1.0f / 32768.0f + 1e-7f,
                     qPrintable(QString("sample %1: wrote %2, read %3").arg(i).arg(samples[i]).arg(audio.samples[i])));
        }
    }

    void writeClipsOutOfRangeValues() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("loud.wav").toStdString();
        writeWav16(path, {2.0f, -3.0f, 0.25f}, 8000);
        const Audio audio = readAudioFile(path);
        QCOMPARE(audio.sampleRate, 8000);
        QCOMPARE(audio.samples.size(), size_t(3));
        QVERIFY(audio.samples[0] > 0.9999f && audio.samples[0] <= 1.0f);
        QCOMPARE(audio.samples[1], -1.0f);
        QCOMPARE(audio.samples[2], 0.25f);
    }

    void stereoIsMixedDownToMono() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("stereo.wav").toStdString();
        SF_INFO info{};
        info.samplerate = 22050;
        info.channels = 2;
        info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
        SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
        QVERIFY(file != nullptr);
        std::vector<float> interleaved;
        for (int i = 0; i < 1000; ++i) {
            interleaved.push_back(0.5f);                      // left
            interleaved.push_back(i % 2 ? -0.1f : 0.3f);      // right
        }
        QCOMPARE(sf_writef_float(file, interleaved.data(), 1000), sf_count_t(1000));
        sf_close(file);

        const Audio audio = readAudioFile(path);
        QCOMPARE(audio.sampleRate, 22050);
        QCOMPARE(audio.samples.size(), size_t(1000));
        for (int i = 0; i < 1000; ++i) {
            const float expected = i % 2 ? 0.2f : 0.4f;
            QVERIFY(std::fabs(audio.samples[static_cast<size_t>(i)] - expected) < 1e-6f);
        }
    }

    void resampleKeepsFrequencyAndLength_data() {
        QTest::addColumn<int>("fromRate");
        QTest::addColumn<double>("freqHz");
        QTest::newRow("8 kHz, 440 Hz") << 8000 << 440.0;
        QTest::newRow("8 kHz, 1 kHz") << 8000 << 1000.0;
        QTest::newRow("44.1 kHz, 440 Hz") << 44100 << 440.0;
        QTest::newRow("44.1 kHz, 3 kHz") << 44100 << 3000.0;
    }

    void resampleKeepsFrequencyAndLength() {
        QFETCH(int, fromRate);
        QFETCH(double, freqHz);
        QTemporaryDir dir;
        const std::string path = dir.filePath("sine.wav").toStdString();
        const std::vector<float> source = sine(freqHz, fromRate, 0.5);
        writeWav16(path, source, fromRate);

        const std::vector<float> out = readAudioResampled(path, 16000);
        const auto expectedLength = static_cast<size_t>(std::llround(source.size() * 16000.0 / fromRate));
        QCOMPARE(out.size(), expectedLength);
        // Measure away from the edges, where the sinc filter's start-up and tail live.
        const size_t from = out.size() / 5, to = out.size() - out.size() / 5;
        const double measured = estimateFrequency(out, 16000, from, to);
        QVERIFY2(std::fabs(measured - freqHz) < 0.5, qPrintable(QString("measured %1 Hz").arg(measured)));
        QVERIFY(std::fabs(rms(out, from, to) - 0.5 / std::sqrt(2.0)) < 0.01);
    }

    void resampleDirectCallAndIdentity() {
        const std::vector<float> x = sine(300.0, 16000, 0.1);
        QCOMPARE(resample(x, 16000, 16000), x);
        const std::vector<float> up = resample(x, 16000, 48000);
        QCOMPARE(up.size(), x.size() * 3);
        QVERIFY(resample({}, 8000, 16000).empty());
        QVERIFY_THROWS_EXCEPTION(InputError, resample(x, 0, 16000));
    }

    void padOrCropBothWays() {
        const std::vector<float> x = {1, 2, 3};
        QCOMPARE(padOrCrop(x, 5), (std::vector<float>{1, 2, 3, 0, 0}));
        QCOMPARE(padOrCrop(x, 2), (std::vector<float>{1, 2}));
        QCOMPARE(padOrCrop(x, 3), x);
        QVERIFY(padOrCrop(x, 0).empty());
        QCOMPARE(padOrCrop({}, 2), (std::vector<float>{0, 0}));
    }

    void missingFileNamesPath() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("does-not-exist.wav").toStdString();
        try {
            readAudioFile(path);
            QFAIL("expected InputError");
        } catch (const InputError& e) {
            QCOMPARE(e.path(), path);
            QVERIFY(std::string(e.what()).find(path) != std::string::npos);
        }
    }

    void nonAudioFileNamesPath() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("notes.wav").toStdString();
        std::ofstream(path) << "this is not a RIFF file, just some text that happens to end in .wav\n";
        try {
            readAudioResampled(path, 16000);
            QFAIL("expected InputError");
        } catch (const InputError& e) {
            QCOMPARE(e.path(), path);
            QVERIFY(std::string(e.what()).find(path) != std::string::npos);
        }
    }

    void unwritablePathNamesPath() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("no/such/folder/out.wav").toStdString();
        try {
            writeWav16(path, {0.0f}, 16000);
            QFAIL("expected InputError");
        } catch (const InputError& e) {
            QCOMPARE(e.path(), path);
        }
    }
};

QTEST_APPLESS_MAIN(TestWavIo)
#include "test_wav_io.moc"
