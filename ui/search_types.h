#pragma once
// Plain Qt value types the search GUI passes around (queued signals carry them between threads).
#include "gruq/search/archive.h"
#include "gruq/search/objectives.h"

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

namespace gruq::ui {

struct IndividualRow {
    qint64 id = 0;
    QString layout;                  // "default17"
    QString genome;                  // canonical text
    QVector<int> genes;              // bits per gene, layout order
    double validationAccuracy = 0;   // integer engine
    double fakeQuantValidationAccuracy = -1;
    double testAccuracy = -1;        // -1 = not measured
    double fakeQuantTestAccuracy = -1;
    qint64 sizeBits = 0;
    double sizeFraction = 0;         // of the all-8-bit model
    double seconds = 0;
    int generation = 0;              // -1 for baselines
    bool baseline = false;
    qint64 sourceId = 0;             // fine-tuned copies: the individual they were trained from
    FineTuneRecord fineTune;         // fine-tuned copies only
    double fidelity = 1;             // < 1: stopped at the multi-fidelity rung (cannot reach the front)
    double stepInstructions = -1;    // Cortex-M4 instructions per GRU step (latency model); -1 unknown
    double latencyFraction = -1;     // of the all-8-bit model's

    bool isFineTune() const { return sourceId != 0; }
    bool isPartial() const { return fidelity < 1; }
    // Where it came from, for tooltips and headers: "generation 3", "homogeneous baseline",
    // "fine-tuned from #36: best epoch 4 of 7 (stopped early)", "generation 3, stopped at 25% of the
    // QAT budget: it could not reach the front".
    QString origin() const;
    qint64 sizeBytes() const { return (sizeBits + 7) / 8; }
    static IndividualRow from(const ArchivedIndividual& a);
};

struct GenerationRow {
    int generation = 0;
    QVector<qint64> population;
    QVector<qint64> front;
    double hypervolume = 0;
    double seconds = 0;
    static GenerationRow from(const ArchivedGeneration& g);
};

// formatPercent (gruq/base/text.h) as a QString: "87.41%", "-" when not measured (negative).
QString percentText(double fraction);

// What the inspector needs besides the selected row.
struct InspectorContext {
    QStringList classNames;
    double floatValidationAccuracy = -1;
    double floatTestAccuracy = -1;
    IndividualRow eightBit;          // the homogeneous 8-bit baseline (id 0 when unknown)
    SearchObjectives objectives;     // budgets, and the clock the latency is shown at (80 MHz when none)
};

}  // namespace gruq::ui

Q_DECLARE_METATYPE(gruq::ui::IndividualRow)
Q_DECLARE_METATYPE(gruq::ui::GenerationRow)
