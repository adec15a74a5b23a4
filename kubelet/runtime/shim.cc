#include "kubelet/runtime/shim.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/util/file.h"
#include "common/util/time.h"

namespace kubepp::kubelet {

namespace {

constexpr int kStatusFd = 3;


std::string LastRuncError(const std::string& log_path) {
  std::ifstream f(log_path);
  std::string line, last;
  while (std::getline(f, line)) {
    if (!line.empty()) last = line;
  }
  // runc logs JSON lines: {"level":"error","msg":"...","time":"..."}.
  auto m = last.find("\"msg\":\"");
  if (m != std::string::npos) {
    auto end = last.find("\",\"", m + 7);
    return last.substr(m + 7, end == std::string::npos ? std::string::npos : end - m - 7);
  }
  return last;
}

// Runs argv with stdin /dev/null and stdout/stderr on `out_fd`; returns the exit code.
int Run(const std::vector<std::string>& argv, int out_fd) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(out_fd, 1);
    dup2(out_fd, 2);
    close_range(3, ~0U, 0);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  if (pid < 0) return 127;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void Report(const std::string& msg) {
  std::string line = msg + "\n";
  (void)!write(kStatusFd, line.data(), line.size());
  close(kStatusFd);
}

std::string ExitJson(int code, const std::string& reason, const std::string& message) {
  std::string esc;
  for (char c : message) {
    if (c == '"' || c == '\\') esc += '\\';
    if (c == '\n') {
      esc += "\\n";
      continue;
    }
    if (static_cast<unsigned char>(c) >= 0x20) esc += c;
  }
  return "{\"exitCode\":" + std::to_string(code) + ",\"finishedAt\":" +
         std::to_string(util::NowUnixMicros()) + ",\"reason\":\"" + reason + "\",\"message\":\"" +
         esc + "\"}";
}

}  // namespace

int ShimMain(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i + 1 < argc; i += 2) flags[argv[i]] = argv[i + 1];
  std::string runc = flags["--runc"], root = flags["--root"], bundle = flags["--bundle"],
              id = flags["--id"], log = flags["--log"], memcg = flags["--memory-cgroup"];
  if (runc.empty() || root.empty() || bundle.empty() || id.empty() || log.empty()) {
    std::fprintf(stderr, "shim: missing flags\n");
    return 2;
  }
  // Detach: the kubelet reaps the first process right away; the shim lives on in its own
  // session, owned by init, so it survives the kubelet.
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid > 0) _exit(0);
  setsid();
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  signal(SIGPIPE, SIG_IGN);

  int log_fd = open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (log_fd < 0) {
    std::string msg = "opening log " + log + ": " + std::strerror(errno);
    (void)util::WriteFileAtomic(bundle + "/exit.json", ExitJson(128, "StartError", msg));
    Report("error: " + msg);
    return 1;
  }
  std::string runc_log = bundle + "/runc.log";
  std::vector<std::string> base = {runc, "--root", root, "--log", runc_log, "--log-format", "json"};
  auto with = [&](std::vector<std::string> tail) {
    std::vector<std::string> v = base;
    v.insert(v.end(), tail.begin(), tail.end());
    return v;
  };
  if (Run(with({"create", "--bundle", bundle, "--pid-file", bundle + "/init.pid", id}), log_fd) != 0) {
    std::string msg = LastRuncError(runc_log);
    (void)util::WriteFileAtomic(bundle + "/exit.json", ExitJson(128, "StartError", msg));
    Report("error: runc create: " + msg);
    return 1;
  }
  int start_rc = Run(with({"start", id}), log_fd);
  int64_t started = util::NowUnixMicros();
  if (start_rc != 0) {
    std::string msg = LastRuncError(runc_log);
    (void)util::WriteFileAtomic(bundle + "/exit.json", ExitJson(128, "StartError", msg));
    Run(with({"delete", "--force", id}), log_fd);
    Report("error: runc start: " + msg);
    return 1;
  }
  (void)util::WriteFileAtomic(bundle + "/started", std::to_string(started));
  Report("ok");

  pid_t init = 0;
  {
    std::ifstream f(bundle + "/init.pid");
    f >> init;
  }
  int code = 255;
  std::string reason = "Error", message;
  while (true) {
    int status = 0;
    pid_t p = waitpid(-1, &status, 0);
    if (p < 0) {
      if (errno == EINTR) continue;
      // Not our child (should not happen with the subreaper): poll until it is gone.
      while (init > 0 && kill(init, 0) == 0) usleep(200000);
      message = "exit status unknown";
      break;
    }
    if (p == init) {
      code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
  }
  if (code == 0) reason = "Completed";
  if (!memcg.empty()) {
    std::ifstream f(memcg + "/memory.oom_control");
    std::string key;
    long long value = 0;
    while (f >> key >> value) {
      if (key == "oom_kill" && value > 0) reason = "OOMKilled";
    }
  }
  (void)util::WriteFileAtomic(bundle + "/exit.json", ExitJson(code, reason, message));
  return 0;
}

}  // namespace kubepp::kubelet
