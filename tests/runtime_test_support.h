#pragma once
// Running the exported C runtime against the integer engine: tools, the strict C flags, the harness's
// input file (tests/runtime/harness.c reads CODES.bin, writes the logit codes).
#include "gruq/data/dataset.h"
#include "gruq/quant/integer_engine.h"

#include <QProcess>
#include <QStandardPaths>
#include <QString>
#include <QStringList>

#include <string>
#include <vector>

namespace gruq::test {

struct Run {
    int exitCode = -1;
    QString output;
};

inline Run run(const QString& program, const QStringList& args) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(program, args);
    if (!p.waitForFinished(300000)) return {-1, QStringLiteral("%1 did not finish: %2").arg(program, p.errorString())};
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAll())};
}

inline QString requireTool(const char* name) {
    const QString path = QStandardPaths::findExecutable(QString::fromLatin1(name));
    if (path.isEmpty()) qFatal("%s is missing: run scripts/setup.sh (it installs the cross toolchains)", name);
    return path;
}

inline const QStringList kStrictC = {"-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"};

// CODES.bin for the harness: u32 count, steps, features, then the x codes of every sequence, then the
// valid lengths when the set is padded.
// The generic harness (reads MODEL.bin at run time) built with the system C compiler and the strict flags
// (and `extra`, e.g. -DGRUQ_MAX_LAYERS=1).
inline Run buildGenericHarness(const QString& harnessSource, const QString& runtimeDir, const QString& out,
                               const QStringList& extra = {}) {
    return run(requireTool("cc"), kStrictC + extra + QStringList{"-O2", "-I" + runtimeDir, harnessSource,
                                                                 runtimeDir + "/gruq_runtime.c", "-o", out});
}

inline std::string codesFile(const IntegerGruEngine& engine, const SequenceSet& set) {
    std::string out;
    auto u32 = [&](uint32_t v) {
        for (int i = 0; i < 4; ++i) out.push_back(char(v >> (8 * i)));
    };
    u32(uint32_t(set.count));
    u32(uint32_t(set.steps));
    u32(uint32_t(set.features));
    std::vector<uint8_t> codes(size_t(set.sequenceSize()));
    for (int64_t i = 0; i < set.count; ++i) {
        engine.quantizeInput(set.sequence(i), set.sequenceSize(), codes.data());
        out.append(reinterpret_cast<const char*>(codes.data()), codes.size());
    }
    if (set.padded()) {
        for (int32_t n : set.lengths) u32(uint32_t(n));  // each sequence runs its valid steps only
    }
    return out;
}

inline std::string logitsBytes(const std::vector<int32_t>& logits) {
    std::string out;
    for (int32_t v : logits) {
        for (int i = 0; i < 4; ++i) out.push_back(char(uint32_t(v) >> (8 * i)));
    }
    return out;
}


}  // namespace gruq::test
