// PLACEHOLDER: replaced by the real test of this unit.
#include <QtTest>
class Test_speech_generator : public QObject { Q_OBJECT
private slots:
    void placeholder() { QFAIL("test_speech_generator not written yet"); }
};
QTEST_APPLESS_MAIN(Test_speech_generator)
#include "test_speech_generator.moc"
