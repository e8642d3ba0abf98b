#pragma once
// Small text helpers shared by messages and cache keys.
#include <string>
#include <vector>

namespace gruq {

// Shortest text that reads back as the same double ("%.17g"): cache keys change only when the value does.
std::string formatNumber(double value);

// 0.8945 -> "89.45%"; a negative fraction (accuracy not measured) -> notMeasured.
std::string formatPercent(double fraction, const std::string& notMeasured = "-");

// The items with separator between them ("a, b, c").
std::string joined(const std::vector<std::string>& items, const std::string& separator = ", ");

}  // namespace gruq
