// PLACEHOLDER: replaced by the real test of this unit.
#include <QtTest>
class Test_idx_reader : public QObject { Q_OBJECT
private slots:
    void placeholder() { QFAIL("test_idx_reader not written yet"); }
};
QTEST_APPLESS_MAIN(Test_idx_reader)
#include "test_idx_reader.moc"
