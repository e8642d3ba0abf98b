// PLACEHOLDER: replaced by the real test of this unit.
#include <QtTest>
class Test_kws_task : public QObject { Q_OBJECT
private slots:
    void placeholder() { QFAIL("test_kws_task not written yet"); }
};
QTEST_APPLESS_MAIN(Test_kws_task)
#include "test_kws_task.moc"
