#pragma once
// On-disk cache of computed features (a TaskData), keyed by a string that captures every setting
// and the identity of every input file. Corrupt or foreign files are treated as a miss and rewritten.
#include "gruq/data/dataset.h"

#include <optional>
#include <string>

namespace gruq {

class FeatureCache {
public:
    explicit FeatureCache(std::string directory);
    // Path of the entry for key (directory/features-<fnv1a64(key)>.bin).
    std::string entryPath(const std::string& key) const;
    std::optional<TaskData> load(const std::string& key) const;
    // Atomic write (temp file + rename); InputError naming the file on I/O failure.
    void store(const std::string& key, const TaskData& data) const;

private:
    std::string directory_;
};

}  // namespace gruq
