#include "common/util/time.h"

#include <sys/time.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace kubepp::util {

int64_t NowUnix() { return static_cast<int64_t>(std::time(nullptr)); }

int64_t NowUnixMicros() {
  timeval tv;
  gettimeofday(&tv, nullptr);
  return static_cast<int64_t>(tv.tv_sec) * 1000000 + tv.tv_usec;
}

std::string FormatRfc3339(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  tm u;
  gmtime_r(&t, &u);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &u);
  return buf;
}

std::string NowRfc3339() { return FormatRfc3339(NowUnix()); }

std::string NowRfc3339Micro() {
  int64_t us = NowUnixMicros();
  std::string s = FormatRfc3339(us / 1000000);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lldZ", static_cast<long long>(us % 1000000));
  s.pop_back();
  return s + frac;
}

Result<int64_t> ParseRfc3339Micros(std::string_view s) {
  Status bad = BadRequest("invalid time \"" + std::string(s) + "\": want RFC 3339");
  auto digits = [&](size_t pos, size_t len) -> int {
    if (pos + len > s.size()) return -1;
    int n = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      n = n * 10 + (s[i] - '0');
    }
    return n;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':') {
    return bad;
  }
  int year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
  int hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
  if (year < 0 || month < 0 || day < 0 || hour > 23 || minute > 59 || second > 60 || hour < 0 ||
      minute < 0 || second < 0) {
    return bad;
  }
  size_t i = 19;
  int64_t micros = 0;
  if (s[i] == '.') {
    int n = 0;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++n) {
      if (n < 6) micros = micros * 10 + (s[i] - '0');
    }
    if (n == 0) return bad;
    for (; n < 6; ++n) micros *= 10;
  }
  int64_t offset = 0;
  if (i + 1 == s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    offset = 0;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int oh = digits(i + 1, 2), om = digits(i + 4, 2);
    if (oh < 0 || om < 0) return bad;
    offset = (s[i] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
  } else {
    return bad;
  }
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year{year}, std::chrono::month(static_cast<unsigned>(month)),
                           std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return bad;
  int64_t secs = static_cast<int64_t>(sys_days(ymd).time_since_epoch().count()) * 86400 +
                 hour * 3600 + minute * 60 + second - offset;
  return secs * 1000000 + micros;
}

Result<int64_t> ParseRfc3339(std::string_view s) {
  ASSIGN_OR_RETURN(int64_t micros, ParseRfc3339Micros(s));
  return micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000);
}

namespace {

// The nanoseconds in one of a duration's units, 0 when `unit` is none.
uint64_t UnitNanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") return 1000;  // µ (U+00B5, U+03BC)
  if (unit == "ms") return 1000000;
  if (unit == "s") return 1000000000;
  if (unit == "m") return 60ull * 1000000000;
  if (unit == "h") return 3600ull * 1000000000;
  return 0;
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view s) {
  const std::string orig(s);
  auto invalid = [&] { return BadRequest("time: invalid duration \"" + orig + "\""); };
  if (!s.empty() && s[0] == '-') {
    return BadRequest("time: negative duration \"" + orig + "\" where only positive ones make sense");
  }
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s == "0") return std::chrono::milliseconds(0);
  if (s.empty()) return invalid();
  // Sums in uint64 with Go's bound (int64 nanoseconds).
  constexpr uint64_t kLimit = uint64_t{1} << 63;
  uint64_t total = 0;
  while (!s.empty()) {
    auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
    if (!is_digit(s[0]) && s[0] != '.') return invalid();
    uint64_t whole = 0;
    size_t i = 0;
    bool overflow = false;
    for (; i < s.size() && is_digit(s[i]); ++i) {
      auto digit = static_cast<uint64_t>(s[i] - '0');
      if (overflow || whole > (kLimit - digit) / 10) {
        overflow = true;
        continue;
      }
      whole = whole * 10 + digit;
    }
    bool had_whole = i > 0;
    // The fraction, kept to as many digits as fit (Go drops the rest too).
    uint64_t frac = 0, scale = 1;
    bool had_frac = false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      for (; i < s.size() && is_digit(s[i]); ++i) {
        had_frac = true;
        if (scale <= (kLimit - 9) / 10) {
          frac = frac * 10 + static_cast<uint64_t>(s[i] - '0');
          scale *= 10;
        }
      }
    }
    if (overflow) return invalid();
    if (!had_whole && !had_frac) return invalid();  // "." or ".s"
    size_t u = i;
    while (u < s.size() && s[u] != '.' && !is_digit(s[u])) ++u;
    std::string_view unit = s.substr(i, u - i);
    if (unit.empty()) return BadRequest("time: missing unit in duration \"" + orig + "\"");
    uint64_t unit_ns = UnitNanos(unit);
    if (unit_ns == 0) {
      return BadRequest("time: unknown unit \"" + std::string(unit) + "\" in duration \"" +
                        orig + "\"");
    }
    if (whole > kLimit / unit_ns) return invalid();
    uint64_t v = whole * unit_ns;
    if (frac > 0) {
      // frac/scale of a unit, in long double to keep up to 18 digits exact enough.
      v += static_cast<uint64_t>(static_cast<long double>(frac) *
                                 (static_cast<long double>(unit_ns) / scale));
      if (v > kLimit) return invalid();
    }
    total += v;
    if (total > kLimit) return invalid();
    s.remove_prefix(u);
  }
  if (total > kLimit - 1) return invalid();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::nanoseconds(static_cast<int64_t>(total)));
}

std::string FormatDuration(std::chrono::nanoseconds d) {
  int64_t n = d.count();
  if (n == 0) return "0s";
  bool negative = n < 0;
  uint64_t u = negative ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  // `value` in units of 10^-digits, without trailing zeros in the fraction.
  auto fixed = [](uint64_t value, int digits) {
    uint64_t one = 1;
    for (int i = 0; i < digits; ++i) one *= 10;
    std::string whole = std::to_string(value / one);
    std::string frac = std::to_string(value % one);
    frac.insert(0, static_cast<size_t>(digits) - frac.size(), '0');
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    return frac.empty() ? whole : whole + "." + frac;
  };
  std::string out;
  if (u < 1000000000) {
    // Under a second: the largest of ns, µs, ms that keeps a whole part.
    if (u < 1000) out = std::to_string(u) + "ns";
    else if (u < 1000000) out = fixed(u, 3) + "\xc2\xb5s";
    else out = fixed(u, 6) + "ms";
  } else {
    uint64_t hours = u / 3600000000000ull;
    u %= 3600000000000ull;
    uint64_t minutes = u / 60000000000ull;
    u %= 60000000000ull;
    std::string secs = fixed(u, 9) + "s";
    if (hours > 0) out = std::to_string(hours) + "h" + std::to_string(minutes) + "m" + secs;
    else if (minutes > 0) out = std::to_string(minutes) + "m" + secs;
    else out = secs;
  }
  return negative ? "-" + out : out;
}

}  // namespace kubepp::util
