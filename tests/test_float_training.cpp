// PLACEHOLDER: replaced by the real test of this unit.
#include <QtTest>
class Test_float_training : public QObject { Q_OBJECT
private slots:
    void placeholder() { QFAIL("test_float_training not written yet"); }
};
QTEST_APPLESS_MAIN(Test_float_training)
#include "test_float_training.moc"
