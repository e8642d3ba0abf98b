// PLACEHOLDER: replaced by the real test of this unit.
#include <QtTest>
class Test_wav_io : public QObject { Q_OBJECT
private slots:
    void placeholder() { QFAIL("test_wav_io not written yet"); }
};
QTEST_APPLESS_MAIN(Test_wav_io)
#include "test_wav_io.moc"
