#include "common/util/exec.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace kubepp::util {
namespace {

// Closes the descriptors it holds when the call returns early.
struct Fds {
  int fd[6] = {-1, -1, -1, -1, -1, -1};  // in[0..1], out[2..3], err[4..5]
  ~Fds() {
    for (int f : fd) {
      if (f >= 0) close(f);
    }
  }
  void Close(int i) {
    if (fd[i] >= 0) close(fd[i]);
    fd[i] = -1;
  }
};

}  // namespace

Result<CommandResult> RunCommand(const std::vector<std::string>& argv, std::string_view input,
                                 std::chrono::milliseconds timeout) {
  if (argv.empty()) return BadRequest("RunCommand: empty argv");
  Fds p;
  for (int i = 0; i < 3; ++i) {
    if (pipe2(&p.fd[2 * i], O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, p.fd[0], 0);
  posix_spawn_file_actions_adddup2(&actions, p.fd[3], 1);
  posix_spawn_file_actions_adddup2(&actions, p.fd[5], 2);
  // Nothing else leaks into the child: a listening socket inherited by a long-lived helper
  // (runc's shim, a CNI plugin) would keep the port busy after the caller dies.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  // The child must not inherit the caller's blocked signal mask (main blocks SIGTERM for
  // sigwait) nor its ignored SIGPIPE: a helper that cannot be killed by SIGTERM would
  // outlive its timeout logic.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Unavailable("cannot run " + argv[0] + ": " + strerror(rc));
  p.Close(0);
  p.Close(3);
  p.Close(5);
  if (input.empty()) p.Close(1);

  CommandResult result;
  size_t written = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (p.fd[1] >= 0 || p.fd[2] >= 0 || p.fd[4] >= 0) {
    pollfd fds[3];
    int n = 0;
    int idx[3];
    for (int i : {1, 2, 4}) {
      if (p.fd[i] < 0) continue;
      fds[n] = {p.fd[i], static_cast<short>(i == 1 ? POLLOUT : POLLIN), 0};
      idx[n++] = i;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int ready = poll(fds, n, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) break;
    for (int k = 0; k < n && ready > 0; ++k) {
      if (fds[k].revents == 0) continue;
      int i = idx[k];
      if (i == 1) {
        ssize_t w = write(p.fd[1], input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EINTR && errno != EAGAIN) written = input.size();  // EPIPE
        if (written >= input.size()) p.Close(1);
      } else {
        char buf[16384];
        ssize_t r = read(p.fd[i], buf, sizeof buf);
        if (r > 0) {
          (i == 2 ? result.out : result.err).append(buf, static_cast<size_t>(r));
        } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
          p.Close(i);
        }
      }
    }
  }
  if (timed_out) kill(pid, SIGKILL);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return Status(Code::kTimeout, argv[0] + " did not finish in time");
  result.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  return result;
}

}  // namespace kubepp::util
