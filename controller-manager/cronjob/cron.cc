#include "controller-manager/cronjob/cron.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

namespace kubepp::controller {

namespace {

int64_t BigEndian(const std::string& data, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(data[pos + i]);
  if (bytes == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

// Parses one field: "*", "?", "a", "a-b", "*/n", "a-b/n", "a/n", comma lists. Names
// (JAN, MON) through `names` (index = value).
Status ParseField(std::string field, int min, int max, const std::vector<std::string>& names,
                  std::vector<bool>* bits, bool* star) {
  *star = false;
  std::transform(field.begin(), field.end(), field.begin(), ::toupper);
  auto number = [&](const std::string& s, int* out) -> bool {
    for (size_t i = 0; i < names.size(); ++i) {
      if (!names[i].empty() && s == names[i]) {
        *out = static_cast<int>(i);
        return true;
      }
    }
    if (s.empty() || s.size() > 4 || !std::all_of(s.begin(), s.end(), ::isdigit)) return false;
    *out = std::stoi(s);
    return true;
  };
  std::stringstream parts(field);
  std::string part;
  bool any = false;
  while (std::getline(parts, part, ',')) {
    any = true;
    int step = 1;
    bool has_step = part.find('/') != std::string::npos;
    if (size_t slash = part.find('/'); slash != std::string::npos) {
      if (!number(part.substr(slash + 1), &step) || step <= 0) {
        return BadRequest("invalid step in \"" + field + "\"");
      }
      part = part.substr(0, slash);
    }
    int lo, hi;
    if (part == "*" || part == "?") {
      lo = min;
      hi = max;
      if (step == 1) *star = true;
    } else if (size_t dash = part.find('-'); dash != std::string::npos) {
      if (!number(part.substr(0, dash), &lo) || !number(part.substr(dash + 1), &hi)) {
        return BadRequest("invalid range \"" + part + "\"");
      }
    } else {
      if (!number(part, &lo)) return BadRequest("invalid value \"" + part + "\"");
      // "a/n" means from a to the end, every n.
      hi = has_step ? max : lo;
    }
    if (lo < min || hi > max || lo > hi) {
      return BadRequest("value out of range [" + std::to_string(min) + ", " +
                        std::to_string(max) + "] in \"" + field + "\"");
    }
    for (int v = lo; v <= hi; v += step) (*bits)[v] = true;
  }
  if (!any) return BadRequest("empty field");
  return Status::Ok();
}

template <size_t N>
std::bitset<N> ToBits(const std::vector<bool>& v) {
  std::bitset<N> b;
  for (size_t i = 0; i < N && i < v.size(); ++i) b[i] = v[i];
  return b;
}

}  // namespace

Result<TimeZone> TimeZone::Load(const std::string& name, const std::string& zoneinfo_dir) {
  if (name.empty() || name == "UTC" || name == "Etc/UTC") return TimeZone();
  if (name.find("..") != std::string::npos || name[0] == '/' ||
      !std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' ||
               c == '-' || c == '+';
      })) {
    return BadRequest("invalid time zone name \"" + name + "\"");
  }
  std::ifstream in(zoneinfo_dir + "/" + name, std::ios::binary);
  if (!in) return NotFound("unknown time zone \"" + name + "\"");
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto counts = [&](size_t at, int64_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = BigEndian(data, at + 20 + 4 * i, 4);
  };
  if (data.size() < 44 || data.compare(0, 4, "TZif") != 0) {
    return BadRequest("time zone \"" + name + "\" is not a TZif file");
  }
  int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  counts(0, c);
  size_t v1_size = 44 + c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
  bool v2 = data[4] >= '2' && data.size() >= v1_size + 44;
  size_t header = v2 ? v1_size : 0;
  int time_bytes = v2 ? 8 : 4;
  counts(header, c);
  size_t pos = header + 44;
  size_t need = pos + c[3] * (time_bytes + 1) + c[4] * 6;
  if (data.size() < need || c[4] == 0) return BadRequest("time zone \"" + name + "\" is truncated");
  TimeZone tz;
  std::vector<int32_t> type_offsets;
  size_t types_at = pos + c[3] * (time_bytes + 1);
  for (int64_t i = 0; i < c[4]; ++i) {
    type_offsets.push_back(static_cast<int32_t>(BigEndian(data, types_at + 6 * i, 4)));
  }
  for (int64_t i = 0; i < c[3]; ++i) {
    tz.transitions_.push_back(BigEndian(data, pos + i * time_bytes, time_bytes));
    unsigned idx = static_cast<unsigned char>(data[pos + c[3] * time_bytes + i]);
    if (idx >= type_offsets.size()) return BadRequest("time zone \"" + name + "\" is corrupt");
    tz.offsets_.push_back(type_offsets[idx]);
  }
  tz.initial_offset_ = type_offsets[0];
  return tz;
}

int64_t TimeZone::OffsetAt(int64_t utc) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
  if (it == transitions_.begin()) return initial_offset_;
  return offsets_[it - transitions_.begin() - 1];
}

Result<CronSchedule> CronSchedule::Parse(const std::string& spec_in) {
  static const std::map<std::string, std::string> kMacros = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"}};
  std::string spec = spec_in;
  if (auto m = kMacros.find(spec); m != kMacros.end()) spec = m->second;
  std::stringstream in(spec);
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() != 5) {
    return BadRequest("invalid schedule \"" + spec_in + "\": expected 5 fields, found " +
                      std::to_string(fields.size()));
  }
  static const std::vector<std::string> kMonths = {"",    "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  static const std::vector<std::string> kDays = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
  CronSchedule s;
  std::vector<bool> bits;
  bool star = false;
  auto field = [&](size_t i, int min, int max, const std::vector<std::string>& names) -> Status {
    bits.assign(max + 1, false);
    Status st = ParseField(fields[i], min, max, names, &bits, &star);
    if (!st.ok()) return BadRequest("invalid schedule \"" + spec_in + "\": " + st.message());
    return st;
  };
  RETURN_IF_ERROR(field(0, 0, 59, {}));
  s.minutes_ = ToBits<60>(bits);
  RETURN_IF_ERROR(field(1, 0, 23, {}));
  s.hours_ = ToBits<24>(bits);
  RETURN_IF_ERROR(field(2, 1, 31, {}));
  s.days_ = ToBits<32>(bits);
  s.days_star_ = star;
  RETURN_IF_ERROR(field(3, 1, 12, kMonths));
  s.months_ = ToBits<13>(bits);
  RETURN_IF_ERROR(field(4, 0, 7, kDays));
  if (bits[7]) bits[0] = true;  // 7 is Sunday too
  s.weekdays_ = ToBits<7>(bits);
  s.weekdays_star_ = star;
  return s;
}

bool CronSchedule::MatchesDay(int mday, int wday) const {
  if (days_star_ || weekdays_star_) return days_[mday] && weekdays_[wday];
  return days_[mday] || weekdays_[wday];
}

std::optional<int64_t> CronSchedule::Next(int64_t utc, const TimeZone& tz) const {
  // Walk local wall-clock time, skipping whole months, days and hours that cannot
  // match, and map each candidate back to UTC.
  int64_t local = utc + tz.OffsetAt(utc);
  local = (local / 60 + 1) * 60;  // the next whole minute
  int64_t limit = local + int64_t{5} * 366 * 86400;
  while (local <= limit) {
    time_t t = static_cast<time_t>(local);
    std::tm tm{};
    gmtime_r(&t, &tm);
    if (!months_[tm.tm_mon + 1]) {
      tm.tm_mon += 1;
      tm.tm_mday = 1;
      tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
      local = timegm(&tm);
      continue;
    }
    if (!MatchesDay(tm.tm_mday, tm.tm_wday)) {
      tm.tm_mday += 1;
      tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
      local = timegm(&tm);
      continue;
    }
    if (!hours_[tm.tm_hour]) {
      tm.tm_hour += 1;
      tm.tm_min = tm.tm_sec = 0;
      local = timegm(&tm);
      continue;
    }
    if (!minutes_[tm.tm_min]) {
      local += 60;
      continue;
    }
    // Local -> UTC with the offset in effect then (two steps settle DST edges).
    int64_t guess = local - tz.OffsetAt(local);
    int64_t candidate = local - tz.OffsetAt(guess);
    if (candidate > utc) return candidate;
    local += 60;
  }
  return std::nullopt;
}

}  // namespace kubepp::controller
