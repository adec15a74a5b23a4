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

}  // namespace kubepp::util
