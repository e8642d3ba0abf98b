// PLACEHOLDER: replaced by the real test of this unit.
#include <QtTest>
class Test_speech_commands : public QObject { Q_OBJECT
private slots:
    void placeholder() { QFAIL("test_speech_commands not written yet"); }
};
QTEST_APPLESS_MAIN(Test_speech_commands)
#include "test_speech_commands.moc"
