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
#include <cstddef>
#include <functional>

#include "common/flags.h"
#include "common/status.h"

namespace kubepp {

int RunComponent(int argc, char** argv, FlagSet& flags,
                 const std::function<Status(const std::atomic<bool>* stop)>& run);

// For a component that allocates and frees blocks of hundreds of KiB on every request or
// sync (large objects parsed, copied, serialized): glibc then keeps up to `keep_bytes`
// freed at the top of each malloc arena and mmaps only blocks of 4 MiB and more. With
// glibc's defaults each such block was mmapped, or the arena grown, afresh and given back
// right after, so every large request faulted its pages in again (a 175 KB Endpoints
// PUT spent ~25% of the apiserver's CPU there). Costs up to `keep_bytes` of resident
// memory per arena after a peak. Call it first thing in main().
void KeepFreedMemory(size_t keep_bytes);

// For a component whose threads each build and drop large transient structures (an
// informer's first list, a full sync's model): glibc gives every thread that finds the
// arenas busy one of its own, up to 8 per core, and memory freed in one arena serves only
// the threads using it, so the peaks of different threads add up. At most `arenas` arenas
// let one thread's freed memory serve the next peak (the proxy with 10,000 Services: peak
// RSS 152 -> 120-133 MB, RSS after 74.7 -> 68.6-69.2 MB with 2). Call it first thing in main().
void LimitMallocArenas(int arenas);

}  // namespace kubepp
