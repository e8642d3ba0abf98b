#include "gruq/data/numpy_task.h"

#include "gruq/base/errors.h"
#include "gruq/base/text.h"
#include "gruq/data/npy_format.h"
#include "gruq/data/npz_archive.h"
#include "gruq/data/split.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace gruq {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxClasses = 1024;               // the blob format's limit
constexpr int64_t kMaxValues = int64_t(1) << 31;    // x elements (8 GiB as float32)

std::string shapeText(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// Members of an .npz, or the .npy files of a folder.
// A path to one .npy file stands for the folder that holds it (a file dialog picks files).
std::map<std::string, std::string> readMembers(const std::string& path) {
    std::error_code ec;
    const bool npyFile = fs::path(path).extension() == ".npy" && fs::is_regular_file(path, ec);
    if (!npyFile && !fs::is_directory(path, ec)) return readNpzFile(path);
    const fs::path folder = npyFile ? fs::path(path).parent_path() : fs::path(path);
    std::map<std::string, std::string> members;
    for (const char* name : {"x", "y", "lengths", "class_names"}) {
        const fs::path file = folder / (std::string(name) + ".npy");
        if (!fs::exists(file, ec)) continue;
        std::ifstream in(file, std::ios::binary);
        std::ostringstream bytes;
        if (!in || !(bytes << in.rdbuf())) throw InputError(file.string(), "cannot read the file");
        members[name] = bytes.str();
    }
    return members;
}

const std::string& member(const std::map<std::string, std::string>& members, const std::string& name,
                          const std::string& where) {
    const auto it = members.find(name);
    if (it == members.end()) {
        std::vector<std::string> present;
        for (const auto& entry : members) present.push_back(entry.first);
        throw InputError(where, "no array '" + name + "' (found: " + (present.empty() ? "none" : joined(present)) +
                                    "; gruq reads x [N, T, F] and y [N])");
    }
    return it->second;
}

SequenceSet sequencesOf(const NpyArray& x, const std::string& where) {
    if (x.shape.size() != 3) {
        throw InputError(where, "x must be [N, T, F] (sequences, steps, features), got shape " + shapeText(x.shape) +
                                    (x.shape.size() == 2 ? " (one feature per step? use x[..., None])" : ""));
    }
    const bool supported = x.kind == 'f' || (x.kind == 'i' && x.itemSize <= 2) || (x.kind == 'u' && x.itemSize == 1);
    if (!supported) {
        throw InputError(where, "x has element type '" + x.descr + "'; supported: float32, float64, int8, uint8, int16");
    }
    SequenceSet set;
    set.count = x.shape[0];
    set.steps = x.shape[1];
    set.features = x.shape[2];
    if (set.count < 1 || set.steps < 1 || set.features < 1) throw InputError(where, "x is empty, shape " + shapeText(x.shape));
    if (set.features > 1024) throw InputError(where, "x has " + std::to_string(set.features) + " features; at most 1024 are supported");
    const int64_t n = x.elementCount();
    set.x.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i) {
        const double v = x.asDouble(i);
        if (!std::isfinite(v) || std::fabs(v) > 3.0e38) {
            const int64_t row = i / (set.steps * set.features);
            throw InputError(where, "x holds a non-finite value (NaN or infinity) in sequence " + std::to_string(row));
        }
        set.x[size_t(i)] = static_cast<float>(v);
    }
    return set;
}

// Every label up to the largest must have a name when the data brings names.
void checkEveryLabelNamed(int64_t largestLabel, const std::vector<std::string>& names, const std::string& where) {
    if (!names.empty() && largestLabel >= int64_t(names.size())) {
        throw InputError(where, "label " + std::to_string(largestLabel) + " has no name: class_names lists " +
                                    std::to_string(names.size()) + " classes");
    }
}

}  // namespace

NumpySequences numpySequencesFromMembers(const std::map<std::string, std::string>& members, const std::string& where) {
    NumpySequences out;
    const NpyArray x = parseNpy(member(members, "x", where), where + ": x", kMaxValues);
    const NpyArray y = parseNpy(member(members, "y", where), where + ": y", kMaxValues);
    out.set = sequencesOf(x, where);
    if (y.shape.size() != 1 || y.shape[0] != out.set.count) {
        throw InputError(where, "y must be [N] with N = " + std::to_string(out.set.count) + " (as x), got shape " + shapeText(y.shape));
    }
    if (!y.isInteger()) throw InputError(where, "y must hold integer class ids, got element type '" + y.descr + "'");
    out.set.y.resize(size_t(out.set.count));
    for (int64_t i = 0; i < out.set.count; ++i) {
        const int64_t label = y.asInteger(i);
        if (label < 0 || label >= kMaxClasses) {
            throw InputError(where, "label " + std::to_string(label) + " of sequence " + std::to_string(i) +
                                        " is outside 0.." + std::to_string(kMaxClasses - 1));
        }
        out.set.y[size_t(i)] = static_cast<int32_t>(label);
        out.largestLabel = std::max(out.largestLabel, label);
    }
    if (const auto it = members.find("lengths"); it != members.end()) {
        const NpyArray lengths = parseNpy(it->second, where + ": lengths", kMaxValues);
        if (lengths.shape.size() != 1 || lengths.shape[0] != out.set.count || !lengths.isInteger()) {
            throw InputError(where, "lengths must be [N] integers with N = " + std::to_string(out.set.count) +
                                        ", got shape " + shapeText(lengths.shape) + " of '" + lengths.descr + "'");
        }
        std::vector<int32_t> valid(size_t(out.set.count));
        bool shorter = false;
        for (int64_t i = 0; i < out.set.count; ++i) {
            const int64_t l = lengths.asInteger(i);
            if (l < 1 || l > out.set.steps) {
                throw InputError(where, "lengths[" + std::to_string(i) + "] = " + std::to_string(l) + " is outside 1.." +
                                            std::to_string(out.set.steps));
            }
            valid[size_t(i)] = static_cast<int32_t>(l);
            shorter = shorter || l < out.set.steps;
        }
        if (shorter) out.set.lengths = std::move(valid);  // all full: the same data as without lengths
    }
    if (const auto it = members.find("class_names"); it != members.end()) {
        const NpyArray names = parseNpy(it->second, where + ": class_names", kMaxClasses);
        if (names.kind != 'U' || names.shape.size() != 1) {
            throw InputError(where, "class_names must be a 1-D string array (np.array(names, dtype=str)), got '" +
                                        names.descr + "' of shape " + shapeText(names.shape));
        }
        for (int64_t i = 0; i < names.elementCount(); ++i) out.classNames.push_back(names.asString(i));
        checkEveryLabelNamed(out.largestLabel, out.classNames, where);
    }
    return out;
}

namespace {

NumpySequences loadFile(const std::string& path) { return numpySequencesFromMembers(readMembers(path), path); }

void checkSplit(const SequenceSet& set, const std::string& which, const std::string& where) {
    if (set.count == 0) {
        throw InputError(where, "the " + which + " split is empty (too few sequences for the split fractions)");
    }
}

}  // namespace

TaskData loadNumpyTask(const NumpyTaskOptions& options) {
    if (options.path.empty()) throw InputError("task npz", "no data file given (e.g. --data my.npz)");
    const bool separateFiles = !options.validationPath.empty() || !options.testPath.empty();
    if (separateFiles && (options.validationPath.empty() || options.testPath.empty())) {
        throw InputError(options.path, "give both a validation and a test file, or neither (then gruq splits this one)");
    }
    if (!(options.testFraction > 0.0 && options.testFraction < 0.9) ||
        !(options.validationFraction > 0.0 && options.validationFraction < 0.9)) {
        throw InputError(options.path, "validation and test fractions must lie in (0, 0.9)");
    }

    TaskData data;
    data.task = "npz";
    data.source = options.path;
    NumpySequences train = loadFile(options.path);
    std::vector<std::string> names = train.classNames;
    int64_t largest = train.largestLabel;
    if (separateFiles) {
        NumpySequences validation = loadFile(options.validationPath);
        NumpySequences test = loadFile(options.testPath);
        using Part = std::pair<const NumpySequences*, const std::string*>;
        for (const auto& [part, path] : {Part{&validation, &options.validationPath}, Part{&test, &options.testPath}}) {
            if (part->set.steps != train.set.steps || part->set.features != train.set.features) {
                throw InputError(*path, "sequences of " + std::to_string(part->set.steps) + " steps x " +
                                            std::to_string(part->set.features) + " features, but the training file has " +
                                            std::to_string(train.set.steps) + " x " + std::to_string(train.set.features));
            }
            largest = std::max(largest, part->largestLabel);
        }
        data.train = std::move(train.set);
        data.validation = std::move(validation.set);
        data.test = std::move(test.set);
        checkSplit(data.validation, "validation", options.validationPath);
        checkSplit(data.test, "test", options.testPath);
    } else {
        // Test first, then validation from the rest; every split is copied once from the file's rows.
        const SplitIndices trainTest = stratifiedSplit(train.set.y, options.testFraction, options.seed);
        std::vector<int32_t> restLabels;
        for (int64_t row : trainTest.train) restLabels.push_back(train.set.y[size_t(row)]);
        const SplitIndices trainValidation = stratifiedSplit(restLabels, options.validationFraction, options.seed ^ 0x7e57ULL);
        auto fileRows = [&](const std::vector<int64_t>& restRows) {
            std::vector<int64_t> rows;
            for (int64_t r : restRows) rows.push_back(trainTest.train[size_t(r)]);
            return rows;
        };
        data.test = subset(train.set, trainTest.validation);
        data.train = subset(train.set, fileRows(trainValidation.train));
        data.validation = subset(train.set, fileRows(trainValidation.validation));
        checkSplit(data.validation, "validation", options.path);
        checkSplit(data.test, "test", options.path);
    }
    checkSplit(data.train, "training", options.path);

    checkEveryLabelNamed(largest, names, options.path);  // the other files' labels against the training file's names
    if (names.empty()) {
        for (int64_t c = 0; c <= largest; ++c) names.push_back(std::to_string(c));
    }
    data.classNames = names;
    const std::set<int32_t> present(data.train.y.begin(), data.train.y.end());
    if (present.size() < 2) {
        throw InputError(options.path, "the training split holds " + std::to_string(present.size()) +
                                           " class(es); a classifier needs at least 2");
    }

    if (options.normalize) {
        data.normalization = computeNormalization(data.train, /*perFeature=*/true);
        for (SequenceSet* s : {&data.train, &data.validation, &data.test}) applyNormalization(*s, data.normalization);
    }
    std::ostringstream description;
    description << "Your data: " << (data.train.count + data.validation.count + data.test.count) << " sequences of "
                << data.train.steps << " steps x " << data.train.features << " features, " << data.numClasses()
                << " classes (" << fs::path(options.path).filename().string() << ")";
    data.description = description.str();
    return data;
}

}  // namespace gruq
