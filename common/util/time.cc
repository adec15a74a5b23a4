#include "common/util/time.h"

#include <sys/time.h>

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

Result<int64_t> ParseRfc3339(std::string_view s) {
  int y, mo, d, h, mi, sec;
  std::string str(s);
  int consumed = 0;
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
                  &consumed) != 6) {
    return BadRequest("invalid time \"" + str + "\": want RFC 3339");
  }
  size_t i = static_cast<size_t>(consumed);
  if (i < str.size() && str[i] == '.') {
    ++i;
    while (i < str.size() && str[i] >= '0' && str[i] <= '9') ++i;
  }
  int offset = 0;
  if (i < str.size() && (str[i] == '+' || str[i] == '-')) {
    int oh, om;
    if (std::sscanf(str.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) {
      return BadRequest("invalid time zone in \"" + str + "\"");
    }
    offset = (str[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else if (i >= str.size() || (str[i] != 'Z' && str[i] != 'z')) {
    return BadRequest("invalid time \"" + str + "\": want RFC 3339");
  }
  tm u{};
  u.tm_year = y - 1900;
  u.tm_mon = mo - 1;
  u.tm_mday = d;
  u.tm_hour = h;
  u.tm_min = mi;
  u.tm_sec = sec;
  return static_cast<int64_t>(timegm(&u)) - offset;
}

}  // namespace kubepp::util
