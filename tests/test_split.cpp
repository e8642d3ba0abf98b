// PLACEHOLDER: replaced by the real test of this unit.
#include <QtTest>
class Test_split : public QObject { Q_OBJECT
private slots:
    void placeholder() { QFAIL("test_split not written yet"); }
};
QTEST_APPLESS_MAIN(Test_split)
#include "test_split.moc"
