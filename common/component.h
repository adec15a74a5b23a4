// The shape of every component's main():
//
//   int main(int argc, char** argv) {
//     Options o;
//     FlagSet flags("scheduler", "Assigns pending pods to nodes.");
//     AddFlags(flags, &o);
//     return RunComponent(argc, argv, flags, [&](const std::atomic<bool>* stop) {
//       return Run(o, stop);
//     });
//   }
//
// Parses the flags (a bad flag: one line on stderr, exit 2; --help: usage, exit 0),
// ignores SIGPIPE, turns the first SIGINT/SIGTERM into *stop = true, calls `run` and
// maps its Status to the exit code (OK: 0; an error: one line on stderr, exit 1).
// Call it before starting any thread: the signal mask it sets is inherited.
#pragma once

#include <atomic>
#include <functional>

#include "common/flags.h"
#include "common/status.h"

namespace kubepp {

int RunComponent(int argc, char** argv, FlagSet& flags,
                 const std::function<Status(const std::atomic<bool>* stop)>& run);

}  // namespace kubepp
