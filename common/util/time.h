// Wall-clock helpers in the formats the Kubernetes API uses.
// Thread safety: stateless.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kubepp::util {

int64_t NowUnix();
int64_t NowUnixMicros();
// RFC 3339 in UTC with second precision: "2026-11-27T10:43:36Z" (metav1.Time).
std::string FormatRfc3339(int64_t unix_seconds);
std::string NowRfc3339();
// With microseconds: "2026-11-27T10:43:36.123456Z" (metav1.MicroTime).
std::string NowRfc3339Micro();
// Parses RFC 3339 ("2026-11-27T10:43:36Z"; "Z" or "+hh:mm" offsets; an optional
// fraction, kept to the microsecond) to Unix microseconds. BadRequest when malformed or
// out of range.
Result<int64_t> ParseRfc3339Micros(std::string_view s);
// The same, in whole Unix seconds (the fraction dropped).
Result<int64_t> ParseRfc3339(std::string_view s);

// Go-style durations as flags take them, Go's time.ParseDuration: one or more decimal
// numbers (with an optional fraction) each followed by a unit, ns, us (or µs), ms, s, m,
// h: "1h", "30s", "1.5h", "1m30s", "250ms"; "0" alone needs no unit. Rounded down to the
// millisecond. Unlike Go, no negative durations (no flag wants one). BadRequest with Go's
// message (`time: invalid duration "x"`, `time: missing unit ...`, `time: unknown unit
// ...`) when malformed or beyond int64 nanoseconds.
Result<std::chrono::milliseconds> ParseDuration(std::string_view s);
// Go's Duration.String: "1h0m0s", "1m30s", "1.5s", "250ms", "1.5µs", "0s".
std::string FormatDuration(std::chrono::nanoseconds d);

}  // namespace kubepp::util
