#pragma once
// The one CSV and JSON form of a list of archived individuals (the CLI's `front` and the GUI's exports).
#include "gruq/search/archive.h"

#include <string>
#include <vector>

namespace gruq {

std::string individualsCsv(const std::vector<ArchivedIndividual>& rows);   // header line + one line each
std::string individualsJson(const std::vector<ArchivedIndividual>& rows);  // a JSON array, indented

// Writes the rows to `path` as JSON when it ends in ".json", else as CSV. Written to a temporary file
// beside it and renamed, so a failure (read-only folder, full disk) leaves an earlier file untouched;
// InputError naming the file and the system's reason on failure.
void saveIndividuals(const std::string& path, const std::vector<ArchivedIndividual>& rows);

}  // namespace gruq
