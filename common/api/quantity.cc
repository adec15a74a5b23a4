#include "common/api/quantity.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <string>

namespace kubepp::api {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Quantities are decimal in text: tolerate the binary rounding of e.g. 0.1*1000 so
// that "100m" is exactly 100 millis rather than 101 after rounding up. Values outside
// int64 ("10E" cpu is 1e22 millis) saturate: converting them is undefined behaviour.
int64_t CeilTolerant(double v) {
  constexpr double kTwoTo63 = 9223372036854775808.0;
  if (std::isnan(v)) return 0;
  if (v >= kTwoTo63) return std::numeric_limits<int64_t>::max();
  if (v <= -kTwoTo63) return std::numeric_limits<int64_t>::min();
  double r = std::round(v);
  if (std::fabs(v - r) < 1e-6 * std::max(1.0, std::fabs(v))) return static_cast<int64_t>(r);
  return static_cast<int64_t>(std::ceil(v));
}

std::optional<double> QuantityOf(const Value& v) {
  if (v.IsNumber()) return v.GetDouble();
  if (!v.IsString()) return std::nullopt;
  Result<double> q = ParseQuantity(View(v));
  if (!q.ok()) return std::nullopt;
  return *q;
}

}  // namespace

Result<double> ParseQuantity(std::string_view s) {
  auto fail = [] {
    return Result<double>(BadRequest(
        "quantities must match the regular expression "
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
  };
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  bool digits = false, dot = false;
  for (; i < s.size() && (IsDigit(s[i]) || s[i] == '.'); ++i) {
    if (s[i] == '.') {
      if (dot) return fail();
      dot = true;
    } else {
      digits = true;
    }
  }
  if (!digits) return fail();
  double value = std::strtod(std::string(s.substr(0, i)).c_str(), nullptr);
  std::string_view suffix = s.substr(i);
  static const std::map<std::string_view, double> kSuffixes = {
      {"", 1},     {"n", 1e-9}, {"u", 1e-6}, {"m", 1e-3}, {"k", 1e3},
      {"M", 1e6},  {"G", 1e9},  {"T", 1e12}, {"P", 1e15}, {"E", 1e18},
      {"Ki", 1024.0},          {"Mi", std::pow(1024.0, 2)}, {"Gi", std::pow(1024.0, 3)},
      {"Ti", std::pow(1024.0, 4)}, {"Pi", std::pow(1024.0, 5)}, {"Ei", std::pow(1024.0, 6)}};
  std::optional<double> scale;
  if (auto it = kSuffixes.find(suffix); it != kSuffixes.end()) {
    scale = it->second;
  } else if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::string_view exp = suffix.substr(1);
    if (exp[0] == '+' || exp[0] == '-') exp.remove_prefix(1);
    if (!exp.empty() && std::all_of(exp.begin(), exp.end(), IsDigit)) {
      scale = std::pow(10.0, std::atof(std::string(suffix.substr(1)).c_str()));
    }
  }
  if (!scale) return fail();
  if (value == 0) return 0.0;  // "0e999" is 0, not 0 * inf
  double result = value * *scale;
  // A double cannot hold it (no resource comes near): say so rather than carry inf.
  if (!std::isfinite(result)) return BadRequest("quantity " + std::string(s) + " is out of range");
  return result;
}

int64_t MilliValue(double quantity) { return CeilTolerant(quantity * 1000); }
int64_t WholeValue(double quantity) { return CeilTolerant(quantity); }

int64_t MilliValueOf(const Value& v) {
  auto q = QuantityOf(v);
  return q ? MilliValue(*q) : 0;
}
int64_t WholeValueOf(const Value& v) {
  auto q = QuantityOf(v);
  return q ? WholeValue(*q) : 0;
}

}  // namespace kubepp::api
