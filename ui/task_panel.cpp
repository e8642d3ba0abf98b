#include "task_panel.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace gruq::ui {

TaskPanel::TaskPanel(QWidget* parent) : QWidget(parent) {
    task_ = new QComboBox(this);
    task_->setObjectName(QStringLiteral("taskCombo"));
    for (const TaskInfo& t : knownTasks()) {
        task_->addItem(QString::fromStdString(t.title), QString::fromStdString(t.name));
    }

    path_ = new QLineEdit(this);
    path_->setObjectName(QStringLiteral("dataPath"));
    path_->setClearButtonEnabled(true);
    auto* browse = new QToolButton(this);
    browse->setText(QStringLiteral("…"));
    browse->setToolTip(tr("Choose the data folder"));
    auto* pathRow = new QHBoxLayout;
    pathRow->setContentsMargins(0, 0, 0, 0);
    pathRow->addWidget(path_);
    pathRow->addWidget(browse);

    hidden_ = new QSpinBox(this);
    hidden_->setObjectName(QStringLiteral("hiddenSize"));
    hidden_->setRange(4, 1024);
    hidden_->setValue(64);
    epochs_ = new QSpinBox(this);
    epochs_->setObjectName(QStringLiteral("epochs"));
    epochs_->setRange(1, 500);
    epochs_->setValue(20);
    seed_ = new QSpinBox(this);
    seed_->setObjectName(QStringLiteral("seed"));
    seed_->setRange(0, 1'000'000);

    auto* form = new QFormLayout;
    form->addRow(tr("&Task"), task_);
    auto* pathLabel = new QLabel(tr("&Data folder"), this);
    pathLabel->setBuddy(path_);  // the row holds a layout, so the mnemonic needs an explicit buddy
    form->addRow(pathLabel, pathRow);
    form->addRow(tr("&Hidden size"), hidden_);
    form->addRow(tr("Float &epochs"), epochs_);
    form->addRow(tr("&Seed"), seed_);

    load_ = new QPushButton(tr("&Load data"), this);
    load_->setObjectName(QStringLiteral("loadButton"));
    train_ = new QPushButton(tr("Train &float baseline"), this);
    train_->setObjectName(QStringLiteral("trainButton"));
    train_->setDefault(true);
    cancel_ = new QPushButton(tr("&Cancel"), this);
    cancel_->setObjectName(QStringLiteral("cancelButton"));
    cancel_->setEnabled(false);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(load_);
    buttons->addWidget(train_);
    buttons->addWidget(cancel_);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addStretch();

    connect(browse, &QToolButton::clicked, this, &TaskPanel::browseFolder);
    connect(task_, &QComboBox::currentIndexChanged, this, &TaskPanel::updateDefaultPathHint);
    connect(load_, &QPushButton::clicked, this, &TaskPanel::loadRequested);
    connect(train_, &QPushButton::clicked, this, &TaskPanel::trainRequested);
    connect(cancel_, &QPushButton::clicked, this, &TaskPanel::cancelRequested);

    restoreSettings();
    updateDefaultPathHint();
}

QString TaskPanel::task() const { return task_->currentData().toString(); }

TaskLoadOptions TaskPanel::loadOptions() const {
    TaskLoadOptions o;
    o.path = path_->text().trimmed().toStdString();
    o.seed = static_cast<uint64_t>(seed_->value());
    return o;
}

FloatTrainConfig TaskPanel::trainConfig() const {
    FloatTrainConfig c;
    c.hiddenSize = hidden_->value();
    c.epochs = epochs_->value();
    c.seed = static_cast<uint64_t>(seed_->value());
    return c;
}

void TaskPanel::setBusy(bool busy) {
    load_->setEnabled(!busy);
    train_->setEnabled(!busy);
    task_->setEnabled(!busy);
    path_->setEnabled(!busy);
    cancel_->setEnabled(busy);
}

void TaskPanel::browseFolder() {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Data folder"), path_->text());
    if (!dir.isEmpty()) path_->setText(dir);
}

void TaskPanel::updateDefaultPathHint() {
    const TaskInfo& info = taskInfo(task().toStdString());
    path_->setPlaceholderText(tr("default: %1").arg(QString::fromStdString(info.defaultPath)));
    path_->setToolTip(tr("%1. Leave empty for the default folder.").arg(QString::fromStdString(info.dataKind)));
}

void TaskPanel::saveSettings() const {
    QSettings s;
    s.setValue(QStringLiteral("task/name"), task());
    s.setValue(QStringLiteral("task/path"), path_->text());
    s.setValue(QStringLiteral("model/hidden"), hidden_->value());
    s.setValue(QStringLiteral("float/epochs"), epochs_->value());
    s.setValue(QStringLiteral("task/seed"), seed_->value());
}

void TaskPanel::restoreSettings() {
    QSettings s;
    const int index = task_->findData(s.value(QStringLiteral("task/name"), QString::fromStdString(defaultTaskName())));
    task_->setCurrentIndex(index >= 0 ? index : 0);
    path_->setText(s.value(QStringLiteral("task/path")).toString());
    hidden_->setValue(s.value(QStringLiteral("model/hidden"), 64).toInt());
    epochs_->setValue(s.value(QStringLiteral("float/epochs"), 20).toInt());
    seed_->setValue(s.value(QStringLiteral("task/seed"), 0).toInt());
}

}  // namespace gruq::ui
