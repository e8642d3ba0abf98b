#pragma once
// One cancellable core job at a time on a worker thread this object owns. The job gets a fresh cancel
// flag; core's exceptions become signals (bad input, cancelled, unexpected), so controllers only say
// what to run and how to word the outcome. The destructor cancels and waits.
#include "gruq/base/progress.h"

#include <QObject>
#include <QString>
#include <QThread>

#include <functional>
#include <memory>

namespace gruq::ui {

class CancellableWorker : public QObject {
    Q_OBJECT
public:
    using Job = std::function<void(const CancelFlag& cancel)>;

    explicit CancellableWorker(QObject* parent = nullptr) : QObject(parent) {}
    ~CancellableWorker() override;

    bool isBusy() const { return busy_; }
    // Runs the job unless one is running (then returns false and does nothing).
    bool start(Job job);
    void cancel();

signals:
    void busyChanged(bool busy);
    void inputError(const QString& message);       // gruq::InputError: names the file and the problem
    void unexpectedError(const QString& message);  // any other std::exception
    void cancelled();

private:
    QThread* thread_ = nullptr;
    std::shared_ptr<CancelFlag> cancel_;
    bool busy_ = false;
};

}  // namespace gruq::ui
