#include "common/log.h"

#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace kubepp::log {
namespace {
std::atomic<int> g_verbosity{0};
}

void SetVerbosity(int v) { g_verbosity = v; }
int Verbosity() { return g_verbosity; }

LogLine::LogLine(Severity s, const char* file, int line) : severity_(s) {
  static const char kLetters[] = {'I', 'W', 'E', 'F'};
  timeval tv;
  gettimeofday(&tv, nullptr);
  tm t;
  localtime_r(&tv.tv_sec, &t);
  const char* base = std::strrchr(file, '/');
  char prefix[96];
  std::snprintf(prefix, sizeof prefix, "%c%02d%02d %02d:%02d:%02d.%06ld %s:%d] ",
                kLetters[static_cast<int>(s)], t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min,
                t.tm_sec, static_cast<long>(tv.tv_usec), base ? base + 1 : file, line);
  stream_ << prefix;
}

LogLine::~LogLine() {
  stream_ << '\n';
  std::string s = stream_.str();
  ssize_t ignored = ::write(STDERR_FILENO, s.data(), s.size());
  (void)ignored;
  if (severity_ == Severity::kFatal) std::abort();
}

}  // namespace kubepp::log
