#include "search_types.h"

#include "gruq/base/text.h"

#include <QCoreApplication>

#include <cmath>

namespace gruq::ui {

IndividualRow IndividualRow::from(const ArchivedIndividual& a) {
    IndividualRow r;
    r.id = a.id;
    r.layout = QString::fromStdString(a.layout);
    r.genome = QString::fromStdString(a.genome);
    r.genes = QVector<int>(a.genes.begin(), a.genes.end());
    r.validationAccuracy = a.validationAccuracy;
    r.fakeQuantValidationAccuracy = a.fakeQuantValidationAccuracy;
    r.testAccuracy = a.testAccuracy;
    r.fakeQuantTestAccuracy = a.fakeQuantTestAccuracy;
    r.sizeBits = a.sizeBits;
    r.sizeFraction = a.sizeFraction;
    r.seconds = a.seconds;
    r.generation = a.generation;
    r.baseline = a.baseline;
    r.sourceId = a.sourceId;
    r.fineTune = a.fineTune;
    r.fidelity = a.fidelity;
    r.stepInstructions = a.stepInstructions;
    r.latencyFraction = a.latencyFraction;
    return r;
}

QString percentText(double fraction) { return QString::fromStdString(formatPercent(fraction)); }

QString IndividualRow::origin() const {
    auto tr = [](const char* text) { return QCoreApplication::translate("IndividualRow", text); };
    if (isFineTune()) {
        return tr("fine-tuned from #%1: best epoch %2 of %3 (%4)")
            .arg(sourceId)
            .arg(fineTune.bestEpoch)
            .arg(fineTune.epochsRun)
            .arg(QString::fromStdString(fineTune.status));
    }
    if (baseline || generation < 0) return tr("homogeneous baseline");
    if (isPartial()) {
        return tr("generation %1, stopped at %2% of the QAT budget: it could not reach the front")
            .arg(generation)
            .arg(int(std::lround(fidelity * 100)));
    }
    return tr("generation %1").arg(generation);
}

GenerationRow GenerationRow::from(const ArchivedGeneration& g) {
    GenerationRow r;
    r.generation = g.generation;
    r.population = QVector<qint64>(g.population.begin(), g.population.end());
    r.front = QVector<qint64>(g.front.begin(), g.front.end());
    r.hypervolume = g.hypervolume;
    r.seconds = g.seconds;
    return r;
}

}  // namespace gruq::ui
