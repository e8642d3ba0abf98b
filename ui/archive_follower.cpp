#include "archive_follower.h"

#include "gruq/search/archive.h"
#include "gruq/base/errors.h"
#include "gruq/base/process_identity.h"
#include "gruq/search/search.h"

#include <QFileInfo>
#include <QThread>
#include <QTimer>

#include <optional>
#include <set>
#include <string>
#include <utility>

#ifdef Q_OS_UNIX
#include <sys/stat.h>
#endif

namespace gruq::ui {

struct ArchiveFollower::PollResult {
    quint64 session = 0;
    QVector<IndividualRow> added;
    QVector<IndividualRow> updated;
    QVector<GenerationRow> generations;
    QString status;
    qint64 evaluations = 0;
    QString problem;     // "" = the poll succeeded
    bool fatal = false;  // give up at once (the file now holds a different archive)
    QString deadWriter;  // "host:pid" of the writer when it is gone while the status still says running
};

struct ArchiveFollower::PollState {
    std::string path;
    std::optional<SearchArchive> archive;
    std::optional<std::pair<quint64, quint64>> fileId;  // device and inode of the open file (POSIX)
    std::string settingsJson;                            // of the archive first opened
    int64_t lastId = 0;
    std::optional<std::string> lastGenome;               // genome of lastId: recognises a replaced file
    int lastGeneration = -1;
    std::string status;
    int plannedGenerations = -1;
    std::set<int64_t> testReported;                      // ids whose test accuracy was reported
    bool testScanned = false;
};

namespace {

// Device and inode of a file, or nullopt when it is missing. Where there is no inode, (0, 0) when present.
std::optional<std::pair<quint64, quint64>> fileIdentity(const std::string& path) {
#ifdef Q_OS_UNIX
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return std::make_pair(quint64(st.st_dev), quint64(st.st_ino));
#else
    if (!QFileInfo::exists(QString::fromStdString(path))) return std::nullopt;
    return std::make_pair(quint64(0), quint64(0));
#endif
}

bool isFinalStatus(const std::string& status) { return status == "finished" || status == "cancelled"; }

// (Re)opens the archive read-only and checks it is still the one being followed. Throws on failure;
// sets fatal when the file is readable but now holds a different archive.
void openArchive(ArchiveFollower::PollState& st, const std::pair<quint64, quint64>& id, bool& fatal) {
    SearchArchive archive = SearchArchive::open(st.path, /*readOnly=*/true);
    const std::string replaced = "the file now holds a different archive (was it deleted and a new search started?)";
    if (!st.settingsJson.empty() && archive.settingsJson() != st.settingsJson) {
        fatal = true;
        throw InputError(st.path, replaced);
    }
    if (st.lastId > 0) {
        const auto last = archive.individual(st.lastId);
        if (!last || (st.lastGenome && last->genome != *st.lastGenome)) {
            fatal = true;
            throw InputError(st.path, replaced);
        }
        st.lastGenome = last->genome;
    }
    if (st.settingsJson.empty()) {
        st.settingsJson = archive.settingsJson();
        try {
            st.plannedGenerations = SearchSettings::fromJson(st.settingsJson).nsga2.generations;
        } catch (const std::exception&) {
            st.plannedGenerations = -1;  // unknown: test accuracies are then looked for only on status changes
        }
    }
    st.archive.emplace(std::move(archive));
    st.fileId = id;
}

ArchiveFollower::PollResult pollOnce(ArchiveFollower::PollState& st) {
    ArchiveFollower::PollResult r;
    const auto id = fileIdentity(st.path);
    if (!id) {
        st.archive.reset();
        r.problem = QStringLiteral("%1: file not found").arg(QString::fromStdString(st.path));
        return r;
    }
    if (st.archive && st.fileId != id) st.archive.reset();  // replaced or moved back: open the new file
    try {
        if (!st.archive) openArchive(st, *id, r.fatal);
        const SearchArchive& a = *st.archive;
        r.deadWriter = ArchiveFollower::deadWriterOf(a);
        // The status next: "finished" is the writer's last write, so what follows includes everything.
        const std::string status = a.state("status").value_or("");
        for (const auto& ind : a.individualsAfter(st.lastId)) {
            r.added << IndividualRow::from(ind);
            st.lastId = ind.id;
            st.lastGenome = ind.genome;
            if (ind.testAccuracy >= 0) st.testReported.insert(ind.id);
        }
        const auto last = a.lastGeneration();
        if (last && last->generation > st.lastGeneration) {
            for (const auto& g : a.generations()) {
                if (g.generation <= st.lastGeneration) continue;
                r.generations << GenerationRow::from(g);
                st.lastGeneration = g.generation;
            }
        }
        // Test accuracies are stored for the final front at the end of the search: look for them
        // once at the start, whenever the status changes, and while the last generation is done.
        const bool finalStage = st.plannedGenerations >= 0 && st.lastGeneration >= st.plannedGenerations;
        if (!st.testScanned || status != st.status || finalStage) {
            for (const auto& ind : a.individuals()) {
                if (ind.id > st.lastId || ind.testAccuracy < 0 || st.testReported.count(ind.id)) continue;
                r.updated << IndividualRow::from(ind);
                st.testReported.insert(ind.id);
            }
            st.testScanned = true;
        }
        st.status = status;
        r.status = QString::fromStdString(status);
        r.evaluations = a.individualCount();
    } catch (const std::exception& e) {
        st.archive.reset();  // reopen next time: the file may have been replaced or repaired
        r.problem = QString::fromUtf8(e.what());
    }
    return r;
}

}  // namespace

ArchiveFollower::ArchiveFollower(QObject* parent)
    : QObject(parent), thread_(new QThread), workerContext_(new QObject), timer_(new QTimer(this)) {
    thread_->setObjectName(QStringLiteral("gruq archive follower"));
    workerContext_->moveToThread(thread_);
    thread_->start();
    timer_->setInterval(pollMs_);
    connect(timer_, &QTimer::timeout, this, &ArchiveFollower::requestPoll);
    lastChange_.start();
}

ArchiveFollower::~ArchiveFollower() {
    timer_->stop();
    thread_->quit();
    thread_->wait();  // a poll in progress finishes; its result (posted to this) is dropped with us
    delete workerContext_;
    delete thread_;
}

bool ArchiveFollower::isLiveStatus(const QString& status, int schemaVersion) {
    return status == QStringLiteral("running") || (status.isEmpty() && schemaVersion >= 2);
}

QString ArchiveFollower::deadWriterOf(const SearchArchive& archive) {
    const std::string writer = archive.state("writer").value_or("");
    if (writer.empty() || livenessOf(writer) != ProcessLiveness::Gone) return {};
    // The status is read AFTER the liveness check: a writer that finishes writes its final status
    // before it exits, so gone + still live means it died without finishing.
    const QString status = QString::fromStdString(archive.state("status").value_or(""));
    return isLiveStatus(status, archive.schemaVersion()) ? QString::fromStdString(writer) : QString();
}

qint64 ArchiveFollower::msSinceChange() const { return lastChange_.elapsed(); }

void ArchiveFollower::setPollInterval(int ms) {
    pollMs_ = std::max(10, ms);
    timer_->setInterval(pollMs_);
}

void ArchiveFollower::follow(const QString& path, const Position& from) {
    stop();
    auto state = std::make_shared<PollState>();
    state->path = path.toStdString();
    state->lastId = from.lastId;
    state->lastGeneration = from.lastGeneration;
    state->status = from.status.toStdString();
    state_ = std::move(state);
    ++session_;
    pollInFlight_ = false;
    path_ = path;
    status_ = from.status;
    deadWriter_.clear();
    lastGeneration_ = from.lastGeneration;
    lastGenerationSeconds_ = 0;
    evaluations_ = from.lastId;
    trouble_.clear();
    troubleSince_.invalidate();
    lastChange_.restart();
    setFollowing(true);
    timer_->start();
    requestPoll();  // the first look at once
}

void ArchiveFollower::stop() {
    timer_->stop();
    state_.reset();  // the worker closes the archive when a poll in flight ends
    ++session_;
    setFollowing(false);
}

void ArchiveFollower::setFollowing(bool following) {
    if (following_ == following) return;
    following_ = following;
    emit followingChanged(following);
}

void ArchiveFollower::requestPoll() {
    if (!following_ || pollInFlight_ || !state_) return;
    pollInFlight_ = true;
    const quint64 session = session_;
    QMetaObject::invokeMethod(
        workerContext_,
        [this, state = state_, session] {
            PollResult result = pollOnce(*state);
            result.session = session;
            QMetaObject::invokeMethod(this, [this, result = std::move(result)] { apply(result); }, Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

void ArchiveFollower::apply(const PollResult& r) {
    if (r.session != session_ || !following_) return;  // from an earlier follow(), or stopped meanwhile
    pollInFlight_ = false;
    if (!r.problem.isEmpty()) {
        if (!troubleSince_.isValid()) troubleSince_.start();
        trouble_ = r.problem;
        if (r.fatal || troubleSince_.elapsed() >= graceMs_) {
            const QString file = QFileInfo(path_).fileName();
            stop();
            emit failed(tr("Stopped following %1").arg(file),
                        tr("%1\n\nThe points shown so far stay in the window. Open the archive again once it is "
                           "readable.")
                            .arg(r.problem));
            return;
        }
        emit polled();
        return;
    }
    trouble_.clear();
    troubleSince_.invalidate();

    const bool changed = !r.added.isEmpty() || !r.updated.isEmpty() || !r.generations.isEmpty() ||
                         r.status != status_ || r.evaluations != evaluations_;
    if (changed) lastChange_.restart();
    evaluations_ = r.evaluations;
    if (!r.generations.isEmpty()) {
        lastGeneration_ = r.generations.constLast().generation;
        lastGenerationSeconds_ = r.generations.constLast().seconds;
    }
    if (!r.added.isEmpty()) emit individualsAdded(r.added);
    if (!r.updated.isEmpty()) emit individualsUpdated(r.updated);
    if (!r.generations.isEmpty()) emit generationsAdded(r.generations);
    const bool statusChangedNow = r.status != status_;
    status_ = r.status;
    if (statusChangedNow) emit statusChanged(status_);
    emit polled();
    // The writer's last word: everything it committed before was reported above.
    if (following_ && isFinalStatus(status_.toStdString())) stop();
    // Or no last word: its process is gone. Everything it committed was reported above; nothing more
    // will come, so following ends (File ▸ Resume search continues the search).
    if (following_ && !r.deadWriter.isEmpty()) {
        deadWriter_ = r.deadWriter;
        status_ = QString::fromLatin1(kInterruptedStatus);
        emit statusChanged(status_);
        stop();
    }
}

}  // namespace gruq::ui
