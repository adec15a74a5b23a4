// klog-style logging: one line per event, "I1127 10:43:36.123456 file.cc:42] message".
//   LOG(INFO) << "listening on " << addr;
// Levels INFO, WARNING, ERROR, FATAL (FATAL aborts after logging). Lines go to stderr,
// written whole with one write(2) so concurrent threads never interleave.
// Thread safety: safe from any thread.
#pragma once

#include <sstream>
#include <string_view>

namespace kubepp::log {

enum class Severity { kInfo, kWarning, kError, kFatal };

class LogLine {
 public:
  LogLine(Severity s, const char* file, int line);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  template <typename T>
  LogLine& operator<<(const T& v) {
    stream_ << v;
    return *this;
  }

 private:
  Severity severity_;
  std::ostringstream stream_;
};

// Verbosity for VLOG(n); set from the `-v` flag.
void SetVerbosity(int v);
int Verbosity();

}  // namespace kubepp::log

#define KUBEPP_LOG_INFO ::kubepp::log::Severity::kInfo
#define KUBEPP_LOG_WARNING ::kubepp::log::Severity::kWarning
#define KUBEPP_LOG_ERROR ::kubepp::log::Severity::kError
#define KUBEPP_LOG_FATAL ::kubepp::log::Severity::kFatal
#define LOG(level) ::kubepp::log::LogLine(KUBEPP_LOG_##level, __FILE__, __LINE__)
#define VLOG(n) \
  if (::kubepp::log::Verbosity() >= (n)) LOG(INFO)
