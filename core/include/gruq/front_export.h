#pragma once
// The one CSV and JSON form of a list of archived individuals (the CLI's `front` and the GUI's exports).
#include "gruq/archive.h"

#include <string>
#include <vector>

namespace gruq {

std::string individualsCsv(const std::vector<ArchivedIndividual>& rows);   // header line + one line each
std::string individualsJson(const std::vector<ArchivedIndividual>& rows);  // a JSON array, indented

}  // namespace gruq
