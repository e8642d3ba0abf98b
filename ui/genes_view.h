#pragma once
// The front's genes at a glance: one row per front point sorted by size, one column per gene, each cell
// coloured by its bit width (the inspector's palette), so the operators the search keeps wide stand out
// as a blue column. Clicking a row selects that point (individualSelected).
#include "search_types.h"

#include <QVector>
#include <QWidget>

class QLabel;
class QTableWidget;

namespace gruq::ui {

class GenesView : public QWidget {
    Q_OBJECT
public:
    explicit GenesView(QWidget* parent = nullptr);

    // The front's rows (any order; shown by size). Rows of a layout other than the first are left out.
    void setFront(const QVector<IndividualRow>& front);
    void select(qint64 id);  // highlights that row (no signal); other ids clear the highlight
    QTableWidget* table() const { return table_; }
    qint64 idOfRow(int row) const;

signals:
    void individualSelected(qint64 id);

private:
    QLabel* caption_;
    QTableWidget* table_;
    QVector<IndividualRow> rows_;  // in table order
    qint64 selectedId_ = 0;
    bool filling_ = false;         // no selection signals while the table is rebuilt
};

}  // namespace gruq::ui
