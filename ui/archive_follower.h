#pragma once
// Follows a search archive that another process (on this machine or on a shared filesystem) is writing.
// The archive is opened read-only (never written: no checkpoint, no migration) and polled every
// pollInterval() ms on a worker thread, so a slow disk or a busy lock never stalls the GUI. Each poll
// reports what was committed since the last one: new individuals, new generations, test accuracies
// measured for the final front, and status changes.
//
// Following ends by itself when the status becomes "finished" or "cancelled" (the writer's last word:
// everything it wrote before is reported first), or when the writer's process, on this host, is gone
// while the status still says "running" (killed or crashed): status() then reads "interrupted". A resumed search is not seen after that: open the
// archive again. Transient trouble (SQLITE_BUSY, the file briefly missing or mid-replacement, a network
// hiccup) is retried silently and only shown through trouble(); if it persists for gracePeriod() ms, or
// the file is replaced by a different archive, failed() is emitted once and following stops.
#include "search_types.h"

#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QVector>

#include <memory>

class QThread;
class QTimer;

namespace gruq::ui {

class ArchiveFollower : public QObject {
    Q_OBJECT
public:
    // What the caller already shows, so only what comes after it is reported.
    struct Position {
        qint64 lastId = 0;          // individuals with a larger id are new
        int lastGeneration = -1;    // generations with a larger number are new
        QString status;             // status the caller knows ("" = none yet)
    };

    explicit ArchiveFollower(QObject* parent = nullptr);
    ~ArchiveFollower() override;

    // Whether an archive with this status is being written: "running", or no status yet in a current
    // schema archive (a search has just created it). Schema-1 archives had no status: never live.
    static bool isLiveStatus(const QString& status, int schemaVersion = kArchiveSchemaVersion);
    // "host:pid" of the archive's writer when that process (on this host) is gone while the status still
    // says the search is live: it died without finishing. "" otherwise (alive, finished, or unknowable).
    static QString deadWriterOf(const SearchArchive& archive);

    bool isFollowing() const { return following_; }
    QString path() const { return path_; }
    qint64 evaluations() const { return evaluations_; }   // individuals in the archive at the last poll
    int lastGeneration() const { return lastGeneration_; }
    double lastGenerationSeconds() const { return lastGenerationSeconds_; }  // writer's wall time then
    // The archive's status; kInterruptedStatus when its writer died without finishing.
    QString status() const { return status_; }
    static constexpr const char* kInterruptedStatus = "interrupted";
    QString deadWriter() const { return deadWriter_; }     // "host:pid" of a writer found gone, else ""
    qint64 msSinceChange() const;                          // since the archive last changed (or following began)
    QString trouble() const { return trouble_; }           // current transient problem, "" when none

    int pollInterval() const { return pollMs_; }
    void setPollInterval(int ms);
    int gracePeriod() const { return graceMs_; }
    void setGracePeriod(int ms) { graceMs_ = ms; }

public slots:
    void follow(const QString& path, const gruq::ui::ArchiveFollower::Position& from);
    void stop();

signals:
    void individualsAdded(const QVector<gruq::ui::IndividualRow>& rows);
    void individualsUpdated(const QVector<gruq::ui::IndividualRow>& rows);  // test accuracy now measured
    void generationsAdded(const QVector<gruq::ui::GenerationRow>& generations);
    void statusChanged(const QString& status);
    void polled();                          // after every poll (evaluations(), trouble(), msSinceChange())
    void followingChanged(bool following);
    void failed(const QString& title, const QString& message);  // gave up: unreadable for good or replaced

public:
    struct PollResult;   // worker → GUI thread (defined in the .cpp)
    struct PollState;    // the worker's open archive and position

private:
    void requestPoll();
    void apply(const PollResult& result);
    void setFollowing(bool following);

    QThread* thread_;
    QObject* workerContext_;  // lives in thread_: polls run there
    QTimer* timer_;
    std::shared_ptr<PollState> state_;
    quint64 session_ = 0;     // results of an earlier follow() are ignored
    bool pollInFlight_ = false;
    bool following_ = false;
    int pollMs_ = 500;
    int graceMs_ = 15000;

    QString path_;
    QString status_;
    QString deadWriter_;
    qint64 evaluations_ = 0;
    int lastGeneration_ = -1;
    double lastGenerationSeconds_ = 0;
    QString trouble_;
    QElapsedTimer troubleSince_;
    QElapsedTimer lastChange_;
};

}  // namespace gruq::ui

Q_DECLARE_METATYPE(gruq::ui::ArchiveFollower::Position)
