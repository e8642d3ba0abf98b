#include "cancellable_worker.h"

#include "gruq/base/errors.h"

namespace gruq::ui {

CancellableWorker::~CancellableWorker() {
    cancel();
    if (thread_) {
        thread_->wait();
        delete thread_;
    }
}

void CancellableWorker::cancel() {
    if (cancel_) cancel_->request();
}

bool CancellableWorker::start(Job job) {
    if (busy_) return false;
    if (thread_) {
        thread_->wait();  // finished() is emitted just before the thread really ends
        delete thread_;
    }
    busy_ = true;
    emit busyChanged(true);
    cancel_ = std::make_shared<CancelFlag>();
    thread_ = QThread::create([this, job = std::move(job), cancel = cancel_] {
        try {
            job(*cancel);
        } catch (const InputError& e) {
            emit inputError(QString::fromStdString(e.what()));
        } catch (const Cancelled&) {
            emit cancelled();
        } catch (const std::exception& e) {
            emit unexpectedError(QString::fromStdString(e.what()));
        }
    });
    connect(thread_, &QThread::finished, this, [this] {
        busy_ = false;
        emit busyChanged(false);
    });
    thread_->start();
    return true;
}

}  // namespace gruq::ui
