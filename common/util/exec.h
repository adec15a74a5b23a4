// Running a helper program (nft, iptables, ip, sysctl writers) and collecting its output:
// the seam node components use to drive the host's standard tools instead of
// re-implementing their netlink protocols.
// Thread safety: RunCommand is safe from any thread (each call has its own pipes).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kubepp::util {

struct CommandResult {
  int exit_code = 0;  // 128 + signal number when the program was killed by a signal
  std::string out;    // standard output
  std::string err;    // standard error
};

// Runs argv[0] (looked up in PATH) with `input` on its standard input and waits for it.
// A program that cannot be started is Unavailable; one still running after `timeout` is
// killed (SIGKILL) and the call returns kTimeout. A non-zero exit is NOT an error here:
// callers decide what an exit code means.
Result<CommandResult> RunCommand(const std::vector<std::string>& argv, std::string_view input = "",
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace kubepp::util
