#include "search_settings_panel.h"

#include "gruq/quant/genome.h"

#include <QCheckBox>
#include <cmath>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace gruq::ui {

QSpinBox* SearchSettingsPanel::spin(const char* name, int lo, int hi, int value, int step) {
    auto* s = new QSpinBox(this);
    s->setObjectName(QString::fromLatin1(name));
    s->setRange(lo, hi);
    s->setSingleStep(step);
    s->setValue(value);
    return s;
}

QDoubleSpinBox* SearchSettingsPanel::doubleSpin(const char* name, double lo, double hi, double value, int decimals,
                                                double step) {
    auto* s = new QDoubleSpinBox(this);
    s->setObjectName(QString::fromLatin1(name));
    s->setDecimals(decimals);
    s->setRange(lo, hi);
    s->setSingleStep(step);
    s->setValue(value);
    return s;
}

QLineEdit* SearchSettingsPanel::fileRow(const char* name, const QString& caption, const QString& filter, QLayout*& row) {
    auto* edit = new QLineEdit(this);
    edit->setObjectName(QString::fromLatin1(name));
    edit->setClearButtonEnabled(true);
    auto* browse = new QToolButton(this);
    browse->setText(QStringLiteral("…"));
    browse->setToolTip(caption);
    connect(browse, &QToolButton::clicked, this, [this, edit, caption, filter] {
        const QString chosen = QFileDialog::getOpenFileName(this, caption, edit->text(), filter);
        if (!chosen.isEmpty()) edit->setText(chosen);
    });
    auto* box = new QHBoxLayout;
    box->setContentsMargins(0, 0, 0, 0);
    box->addWidget(edit);
    box->addWidget(browse);
    row = box;
    return edit;
}

SearchSettingsPanel::SearchSettingsPanel(QWidget* parent) : QWidget(parent) {
    const SearchSettings defaults;
    task_ = new QComboBox(this);
    task_->setObjectName(QStringLiteral("taskCombo"));
    for (const TaskInfo& t : knownTasks()) task_->addItem(QString::fromStdString(t.title), QString::fromStdString(t.name));
    // Long task titles must not dictate the panel's width (it lives in a narrow dock).
    task_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    task_->setMinimumContentsLength(14);
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

    const QString numpyFilter = tr("NumPy data (*.npz *.npy);;All files (*)");
    validationPath_ = fileRow("validationPath", tr("Validation data"), numpyFilter, validationRow_);
    validationPath_->setPlaceholderText(tr("optional: split from the data file"));
    testPath_ = fileRow("testPath", tr("Test data"), numpyFilter, testRow_);
    testPath_->setPlaceholderText(tr("optional: split from the data file"));
    testFraction_ = doubleSpin("testFraction", 0.01, 0.9, defaults.data.testFraction, 2, 0.05);
    testFraction_->setToolTip(tr("Share of each class held out for testing when one file is split"));
    normalize_ = new QCheckBox(tr("per feature, training statistics"), this);
    normalize_->setObjectName(QStringLiteral("normalizeCheck"));
    normalize_->setChecked(true);
    modelPath_ = fileRow("modelPath", tr("A GRU trained elsewhere"),
                         tr("Models (*.pt *.pth *.onnx);;All files (*)"), modelRow_);
    modelPath_->setPlaceholderText(tr("optional: train one here"));
    modelPath_->setToolTip(tr("A GRU + linear head trained elsewhere: PyTorch state_dict (torch.save), TorchScript "
                              "or ONNX. It is imported instead of trained and sees the features unnormalised."));
    hidden_ = spin("hiddenSize", 4, int(kMaxHiddenSize), 64);
    layers_ = spin("layers", 1, int(kMaxGruLayers), 1);
    layers_->setToolTip(tr("Stacked GRU layers (like PyTorch's num_layers); each layer's cell gets its own genes"));
    epochs_ = spin("epochs", 1, 500, 20);
    seed_ = spin("seed", 0, 1'000'000, 0);
    layout_ = new QComboBox(this);
    layout_->setObjectName(QStringLiteral("layoutCombo"));
    for (const GenomeLayout* l : knownLayouts()) layout_->addItem(QString(), QString::fromStdString(l->name));
    // Each layout's gene count for the chosen number of layers (default17: 17, 31, 45).
    auto countGenes = [this] {
        for (int i = 0; i < layout_->count(); ++i) {
            const GenomeLayout& stacked = stackedLayout(*knownLayouts()[size_t(i)], layers_->value());
            layout_->setItemText(i, tr("%1 (%2 genes)").arg(QString::fromStdString(knownLayouts()[size_t(i)]->name)).arg(stacked.geneCount()));
        }
    };
    countGenes();
    connect(layers_, &QSpinBox::valueChanged, this, countGenes);
    minBits_ = spin("minBits", 2, 8, defaults.minBits);
    maxBits_ = spin("maxBits", 2, 8, defaults.maxBits);
    population_ = spin("population", 8, 400, defaults.nsga2.population, 4);
    generations_ = spin("generations", 0, 1000, defaults.nsga2.generations);
    crossover_ = doubleSpin("crossover", 0, 1, defaults.nsga2.crossoverProbability, 2, 0.05);
    etaC_ = doubleSpin("etaC", 1, 99, defaults.nsga2.crossoverDistributionIndex, 1, 1);
    mutation_ = doubleSpin("mutation", 0, 1, defaults.nsga2.mutationProbability, 3, 0.01);
    etaM_ = doubleSpin("etaM", 1, 99, defaults.nsga2.mutationDistributionIndex, 1, 1);
    qatEpochs_ = spin("qatEpochs", 0, 100, defaults.qat.epochs);
    qatSamples_ = spin("qatSamples", 0, 10'000'000, int(defaults.qat.samplesPerEpoch), 1024);
    qatSamples_->setSpecialValueText(tr("whole training split"));
    qatLr_ = doubleSpin("qatLr", 1e-6, 1.0, defaults.qat.learningRate, 6, 1e-4);
    qatRangeTracking_ = doubleSpin("qatRangeTracking", 0, 1, defaults.qat.freezeRangesAfter, 2, 0.05);
    qatRangeTracking_->setToolTip(tr("Share of each genome's QAT steps during which the activation ranges follow the "
                                     "training batches; frozen after. 0 keeps the calibrated ranges: better at 3 bits "
                                     "on the tasks of docs/results.md, not everywhere at 4 bits."));
    multiFidelity_ = new QCheckBox(tr("rung at %1% of the budget")
                                       .arg(int(std::lround(defaults.multiFidelity.rungFraction * 100))),
                                   this);
    multiFidelity_->setObjectName(QStringLiteral("multiFidelityCheck"));
    multiFidelity_->setChecked(defaults.multiFidelity.enabled);
    multiFidelity_->setToolTip(tr("Multi-fidelity evaluation: every genome is measured after part of its QAT budget (the "
                                  "rung) and trained to the end only when it could still enter the front (about 1/3 "
                                  "less search time; the front holds fully trained genomes only). Off: every genome "
                                  "gets the whole budget."));
    workers_ = spin("workers", 0, 256, 0);
    workers_->setSpecialValueText(tr("all cores"));
    objectives_ = new QComboBox(this);
    objectives_->setObjectName(QStringLiteral("objectivesCombo"));
    objectives_->addItem(tr("accuracy and flash"), QStringLiteral("error,flash"));
    objectives_->addItem(tr("accuracy and latency"), QStringLiteral("error,latency"));
    objectives_->addItem(tr("accuracy, flash and latency"), QStringLiteral("error,flash,latency"));
    objectives_->setToolTip(tr("What the search minimises besides the error. Latency: instructions per GRU step of the "
                               "exported runtime on a Cortex-M4, from a model measured on an emulator (docs/latency.md)."));
    maxFlash_ = spin("maxFlash", 0, 100'000'000, 0, 256);
    maxFlash_->setSpecialValueText(tr("no budget"));
    maxFlash_->setSuffix(tr(" bytes"));
    maxFlash_->setToolTip(tr("Flash budget of the model (weights, biases, tables; not the runtime's code): schemes over "
                             "it never enter the front."));
    maxLatency_ = doubleSpin("maxLatency", 0, 1e6, 0, 0, 100);
    maxLatency_->setSpecialValueText(tr("no budget"));
    maxLatency_->setSuffix(tr(" µs per step"));
    maxLatency_->setToolTip(tr("Real-time budget per GRU step on the Cortex-M4 at the clock below (one instruction per "
                               "cycle): schemes over it never enter the front."));
    cpuMhz_ = doubleSpin("cpuMhz", 1, 1000, 80, 0, 8);
    cpuMhz_->setSuffix(tr(" MHz"));
    // The population must stay a multiple of 4 (NSGA-II's tournament pairs), the bit range ordered.
    connect(population_, &QSpinBox::editingFinished, this, [this] { population_->setValue((population_->value() + 3) / 4 * 4); });
    connect(minBits_, &QSpinBox::valueChanged, this, [this](int v) { maxBits_->setMinimum(v); });
    connect(maxBits_, &QSpinBox::valueChanged, this, [this](int v) { minBits_->setMaximum(v); });

    auto* taskBox = new QGroupBox(tr("Task and model"), this);
    auto* taskForm = new QFormLayout(taskBox);
    taskForm_ = taskForm;
    taskForm->addRow(tr("&Task"), task_);
    pathLabel_ = new QLabel(tr("&Data folder"), this);
    pathLabel_->setObjectName(QStringLiteral("dataPathLabel"));
    pathLabel_->setBuddy(path_);  // the row holds a layout, so the mnemonic needs an explicit buddy
    taskForm->addRow(pathLabel_, pathRow);
    taskForm->addRow(tr("Validation file"), validationRow_);
    taskForm->addRow(tr("Test file"), testRow_);
    taskForm->addRow(tr("Test fraction"), testFraction_);
    taskForm->addRow(tr("Normalise"), normalize_);
    taskForm->addRow(tr("Model file"), modelRow_);
    taskForm->addRow(tr("&Hidden size"), hidden_);
    taskForm->addRow(tr("L&ayers"), layers_);
    taskForm->addRow(tr("Float &epochs"), epochs_);
    taskForm->addRow(tr("&Seed"), seed_);

    auto* genomeBox = new QGroupBox(tr("Genome and NSGA-II"), this);
    auto* genomeForm = new QFormLayout(genomeBox);
    genomeForm->addRow(tr("La&yout"), layout_);
    auto* bitsRow = new QHBoxLayout;
    bitsRow->addWidget(minBits_);
    bitsRow->addWidget(new QLabel(tr("to"), this));
    bitsRow->addWidget(maxBits_);
    genomeForm->addRow(tr("Bits"), bitsRow);
    genomeForm->addRow(tr("&Population"), population_);
    genomeForm->addRow(tr("&Generations"), generations_);
    genomeForm->addRow(tr("Crossover p / η"), [&] {
        auto* row = new QHBoxLayout;
        row->addWidget(crossover_);
        row->addWidget(etaC_);
        return row;
    }());
    genomeForm->addRow(tr("Mutation p / η"), [&] {
        auto* row = new QHBoxLayout;
        row->addWidget(mutation_);
        row->addWidget(etaM_);
        return row;
    }());

    auto* qatBox = new QGroupBox(tr("QAT budget per genome"), this);
    auto* qatForm = new QFormLayout(qatBox);
    qatForm->addRow(tr("Epochs"), qatEpochs_);
    qatForm->addRow(tr("Sequences per epoch"), qatSamples_);
    qatForm->addRow(tr("Learning rate"), qatLr_);
    qatForm->addRow(tr("Range tracking"), qatRangeTracking_);
    qatForm->addRow(tr("Multi-fidelity"), multiFidelity_);
    qatForm->addRow(tr("&Workers"), workers_);

    auto* targetBox = new QGroupBox(tr("Objectives and budgets (Cortex-M4)"), this);
    auto* targetForm = new QFormLayout(targetBox);
    targetForm->addRow(tr("&Objectives"), objectives_);
    targetForm->addRow(tr("Flash budget"), maxFlash_);
    targetForm->addRow(tr("Latency budget"), maxLatency_);
    targetForm->addRow(tr("Clock"), cpuMhz_);

    start_ = new QPushButton(tr("&Start search"), this);
    start_->setObjectName(QStringLiteral("startButton"));
    start_->setDefault(true);
    pause_ = new QPushButton(tr("&Pause"), this);
    pause_->setObjectName(QStringLiteral("pauseButton"));
    stop_ = new QPushButton(tr("S&top"), this);
    stop_->setObjectName(QStringLiteral("stopButton"));
    auto* runRow = new QHBoxLayout;
    runRow->addWidget(start_);
    runRow->addWidget(pause_);
    runRow->addWidget(stop_);

    load_ = new QPushButton(tr("&Load data"), this);
    load_->setObjectName(QStringLiteral("loadButton"));
    train_ = new QPushButton(tr("Train &float model"), this);
    train_->setObjectName(QStringLiteral("trainButton"));
    cancel_ = new QPushButton(tr("&Cancel"), this);
    cancel_->setObjectName(QStringLiteral("cancelButton"));
    auto* dataRow = new QHBoxLayout;
    dataRow->addWidget(load_);
    dataRow->addWidget(train_);
    dataRow->addWidget(cancel_);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(taskBox);
    layout->addLayout(dataRow);
    layout->addWidget(genomeBox);
    layout->addWidget(qatBox);
    layout->addWidget(targetBox);
    layout->addLayout(runRow);
    layout->addStretch();

    connect(browse, &QToolButton::clicked, this, &SearchSettingsPanel::browseFolder);
    connect(task_, &QComboBox::currentIndexChanged, this, &SearchSettingsPanel::updateDefaultPathHint);
    connect(task_, &QComboBox::currentIndexChanged, this, &SearchSettingsPanel::updateModelState);
    connect(modelPath_, &QLineEdit::textChanged, this, &SearchSettingsPanel::updateModelState);
    connect(load_, &QPushButton::clicked, this, &SearchSettingsPanel::loadRequested);
    connect(train_, &QPushButton::clicked, this, &SearchSettingsPanel::trainRequested);
    connect(cancel_, &QPushButton::clicked, this, &SearchSettingsPanel::cancelRequested);
    connect(start_, &QPushButton::clicked, this, &SearchSettingsPanel::startRequested);
    connect(pause_, &QPushButton::clicked, this, &SearchSettingsPanel::pauseToggled);
    connect(stop_, &QPushButton::clicked, this, &SearchSettingsPanel::stopRequested);

    restoreSettings();
    updateDefaultPathHint();
    updateModelState();
    setDataBusy(false);
    setSearchState(false, false);
}

QString SearchSettingsPanel::task() const { return task_->currentData().toString(); }

TaskLoadOptions SearchSettingsPanel::loadOptions() const {
    TaskLoadOptions o;
    o.path = QFile::encodeName(path_->text().trimmed()).toStdString();  // the bytes the system uses
    o.seed = static_cast<uint64_t>(seed_->value());
    if (task() == QStringLiteral("npz")) {
        o.validationPath = QFile::encodeName(validationPath_->text().trimmed()).toStdString();
        o.testPath = QFile::encodeName(testPath_->text().trimmed()).toStdString();
        o.testFraction = testFraction_->value();
        o.normalize = normalize_->isChecked() && modelPath_->text().trimmed().isEmpty();
    }
    return o;
}

FloatTrainConfig SearchSettingsPanel::trainConfig() const {
    FloatTrainConfig c;
    c.hiddenSize = hidden_->value();
    c.numLayers = layers_->value();
    c.epochs = epochs_->value();
    c.seed = static_cast<uint64_t>(seed_->value());
    const QString model = modelPath_->text().trimmed();
    if (task() == QStringLiteral("npz") && !model.isEmpty()) {
        // Absolute: archives record it and are reopened from elsewhere.
        c.importModel.path = QFile::encodeName(QFileInfo(model).absoluteFilePath()).toStdString();
    }
    return c;
}

SearchSettings SearchSettingsPanel::searchSettings() const {
    SearchSettings s;
    s.task = task().toStdString();
    s.data = loadOptions();
    s.floatModel = trainConfig();
    s.layout = layout_->currentData().toString().toStdString();
    s.minBits = minBits_->value();
    s.maxBits = maxBits_->value();
    s.nsga2.population = population_->value();
    s.nsga2.generations = generations_->value();
    s.nsga2.crossoverProbability = crossover_->value();
    s.nsga2.crossoverDistributionIndex = etaC_->value();
    s.nsga2.mutationProbability = mutation_->value();
    s.nsga2.mutationDistributionIndex = etaM_->value();
    s.qat.epochs = qatEpochs_->value();
    s.qat.samplesPerEpoch = qatSamples_->value();
    s.qat.learningRate = qatLr_->value();
    s.qat.freezeRangesAfter = qatRangeTracking_->value();
    s.multiFidelity = multiFidelitySettings_;
    s.multiFidelity.enabled = multiFidelity_->isChecked();
    s.objectives = parseObjectiveNames(objectives_->currentData().toString().toStdString(), s.objectives);
    s.objectives.maxFlashBytes = maxFlash_->value();
    s.objectives.maxLatencyUs = maxLatency_->value();
    s.objectives.cpuMhz = cpuMhz_->value();
    s.seed = static_cast<uint64_t>(seed_->value());
    s.workers = workers_->value();
    return s;
}

void SearchSettingsPanel::setSearchSettings(const SearchSettings& s) {
    const int t = task_->findData(QString::fromStdString(s.task));
    if (t >= 0) task_->setCurrentIndex(t);
    path_->setText(QFile::decodeName(QByteArray::fromStdString(s.data.path)));
    validationPath_->setText(QFile::decodeName(QByteArray::fromStdString(s.data.validationPath)));
    testPath_->setText(QFile::decodeName(QByteArray::fromStdString(s.data.testPath)));
    testFraction_->setValue(s.data.testFraction);
    modelPath_->setText(QFile::decodeName(QByteArray::fromStdString(s.floatModel.importModel.path)));
    normalize_->setChecked(s.data.normalize || s.floatModel.imports());  // remembered choice; an import forces it off
    seed_->setValue(static_cast<int>(s.seed));
    hidden_->setValue(static_cast<int>(s.floatModel.hiddenSize));
    layers_->setValue(static_cast<int>(s.floatModel.numLayers));
    epochs_->setValue(s.floatModel.epochs);
    const int l = layout_->findData(QString::fromStdString(s.layout));
    if (l >= 0) layout_->setCurrentIndex(l);
    minBits_->setValue(s.minBits);
    maxBits_->setValue(s.maxBits);
    population_->setValue(s.nsga2.population);
    generations_->setValue(s.nsga2.generations);
    crossover_->setValue(s.nsga2.crossoverProbability);
    etaC_->setValue(s.nsga2.crossoverDistributionIndex);
    mutation_->setValue(s.nsga2.mutationProbability);
    etaM_->setValue(s.nsga2.mutationDistributionIndex);
    qatEpochs_->setValue(s.qat.epochs);
    qatSamples_->setValue(static_cast<int>(s.qat.samplesPerEpoch));
    qatLr_->setValue(s.qat.learningRate);
    qatRangeTracking_->setValue(s.qat.freezeRangesAfter);
    multiFidelitySettings_ = s.multiFidelity;
    multiFidelity_->setChecked(s.multiFidelity.enabled);
    const QString names = QString::fromStdString(s.objectives.flash && s.objectives.latency ? "error,flash,latency"
                                                 : s.objectives.latency                      ? "error,latency"
                                                                                             : "error,flash");
    objectives_->setCurrentIndex(std::max(0, objectives_->findData(names)));
    maxFlash_->setValue(int(std::min<int64_t>(s.objectives.maxFlashBytes, maxFlash_->maximum())));
    maxLatency_->setValue(s.objectives.maxLatencyUs);
    if (s.objectives.cpuMhz > 0) cpuMhz_->setValue(s.objectives.cpuMhz);
    workers_->setValue(s.workers);
}

void SearchSettingsPanel::setDataBusy(bool busy) {
    load_->setEnabled(!busy && !searchRunning_);
    train_->setEnabled(!busy && !searchRunning_);
    cancel_->setEnabled(busy);
    start_->setEnabled(!busy && !searchRunning_);
}

void SearchSettingsPanel::setSearchState(bool running, bool paused) {
    searchRunning_ = running;
    start_->setEnabled(!running);
    pause_->setEnabled(running);
    pause_->setText(paused ? tr("&Resume") : tr("&Pause"));
    stop_->setEnabled(running);
    load_->setEnabled(!running);
    train_->setEnabled(!running);
    for (QWidget* w : std::initializer_list<QWidget*>{task_, path_, validationPath_, testPath_, testFraction_, modelPath_,
                                                      seed_, layout_, minBits_, maxBits_, population_, generations_,
                                                      crossover_, etaC_, mutation_, etaM_, qatEpochs_, qatSamples_, qatLr_,
                                                      qatRangeTracking_,
                                                      multiFidelity_, workers_, objectives_, maxFlash_, maxLatency_,
                                                      cpuMhz_}) {
        w->setEnabled(!running);
    }
    updateModelState();
}

void SearchSettingsPanel::updateModelState() {
    const bool own = task() == QStringLiteral("npz");
    for (QLayout* row : {validationRow_, testRow_, modelRow_}) taskForm_->setRowVisible(row, own);
    taskForm_->setRowVisible(testFraction_, own);
    taskForm_->setRowVisible(normalize_, own);
    const bool imported = own && !modelPath_->text().trimmed().isEmpty();
    // An imported model brings its own shape and was trained on the features as the file holds them.
    hidden_->setEnabled(!imported && !searchRunning_);
    layers_->setEnabled(!imported && !searchRunning_);
    epochs_->setEnabled(!imported && !searchRunning_);
    normalize_->setEnabled(!imported && !searchRunning_);
    if (imported) normalize_->setChecked(false);
    train_->setText(imported ? tr("&Import model") : tr("Train &float model"));
}

void SearchSettingsPanel::browseFolder() {
    // The user's data is a file (.npz, or x.npy of a folder of .npy files); built-in tasks read folders.
    const QString chosen = task() == QStringLiteral("npz")
                               ? QFileDialog::getOpenFileName(this, tr("Your data"), path_->text(),
                                                              tr("NumPy data (*.npz *.npy);;All files (*)"))
                               : QFileDialog::getExistingDirectory(this, tr("Data folder"), path_->text());
    if (!chosen.isEmpty()) path_->setText(chosen);
}

void SearchSettingsPanel::updateDefaultPathHint() {
    const TaskInfo& info = taskInfo(task().toStdString());
    if (info.defaultPath.empty()) {  // the user's own data: nothing to fall back on
        pathLabel_->setText(tr("&Data file"));
        path_->setPlaceholderText(tr("your .npz file (choose with …)"));
        path_->setToolTip(tr("%1: x [N, T, F] features, y [N] class ids, optional class_names.")
                              .arg(QString::fromStdString(info.dataKind)));
        return;
    }
    pathLabel_->setText(tr("&Data folder"));
    path_->setPlaceholderText(tr("default: %1").arg(QString::fromStdString(info.defaultPath)));
    path_->setToolTip(tr("%1. Leave empty for the default folder.").arg(QString::fromStdString(info.dataKind)));
}

void SearchSettingsPanel::saveSettings() const {
    QSettings q;
    q.setValue(QStringLiteral("search/settings"), QString::fromStdString(searchSettings().toJson()));
    q.setValue(QStringLiteral("task/name"), task());
    q.setValue(QStringLiteral("task/path"), path_->text());
}

void SearchSettingsPanel::restoreSettings() {
    QSettings q;
    const QString json = q.value(QStringLiteral("search/settings")).toString();
    if (!json.isEmpty()) {
        try {
            SearchSettings remembered = SearchSettings::fromJson(json.toStdString());
            // Remembered before multi-fidelity existed: nobody chose full fidelity, so the default applies.
            if (!json.contains(QStringLiteral("\"multi_fidelity\""))) remembered.multiFidelity = MultiFidelitySettings{};
            setSearchSettings(remembered);
            return;
        } catch (const std::exception&) {
            // Settings written by another version: fall back to the defaults below.
        }
    }
    const int index = task_->findData(q.value(QStringLiteral("task/name"), QString::fromStdString(defaultTaskName())));
    task_->setCurrentIndex(index >= 0 ? index : 0);
    path_->setText(q.value(QStringLiteral("task/path")).toString());
}

}  // namespace gruq::ui
