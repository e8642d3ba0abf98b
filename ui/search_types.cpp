#include "search_types.h"

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
    return r;
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
