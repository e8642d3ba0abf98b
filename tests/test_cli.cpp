// PLACEHOLDER: replaced by the real test of this unit.
#include <QtTest>
class Test_cli : public QObject { Q_OBJECT
private slots:
    void placeholder() { QFAIL("test_cli not written yet"); }
};
QTEST_APPLESS_MAIN(Test_cli)
#include "test_cli.moc"
