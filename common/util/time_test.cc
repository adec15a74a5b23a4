#include "common/util/time.h"

#include <catch2/catch.hpp>

namespace kubepp::util {

TEST_CASE("time: RFC 3339 with fractions and offsets", "[time]") {
  CHECK(*ParseRfc3339("1970-01-01T00:00:00Z") == 0);
  CHECK(*ParseRfc3339Micros("2026-11-27T10:43:36.123456Z") == 1795776216123456);
  CHECK(*ParseRfc3339Micros("2026-11-27T10:43:36.5Z") == 1795776216500000);
  CHECK(*ParseRfc3339("2026-11-27T12:43:36+02:00") == 1795776216);
  CHECK(*ParseRfc3339("2026-11-27T10:43:36.999Z") == 1795776216);
  CHECK(FormatRfc3339(*ParseRfc3339("2026-11-27T10:43:36Z")) == "2026-11-27T10:43:36Z");
  for (const char* bad : {"", "2026-11-27", "2026-11-27T10:43:36", "2026-13-01T00:00:00Z",
                          "2026-02-30T00:00:00Z", "2026-11-27T10:43:36.Z", "2026-11-27T25:00:00Z",
                          "2026-11-27T10:43:36+0200"}) {
    CHECK(ParseRfc3339(bad).status().code() == Code::kBadRequest);
  }
}

TEST_CASE("time: Go durations parse and print as Go's", "[time]") {
  using std::chrono::nanoseconds;
  // In nanoseconds, though the result is kept in milliseconds.
  auto ns = [](std::string_view s) {
    return std::chrono::duration_cast<nanoseconds>(*ParseDuration(s)).count();
  };
  CHECK(ns("0") == 0);
  CHECK(ns("1h") == 3600000000000);
  CHECK(ns("30s") == 30000000000);
  CHECK(ns("1m30s") == 90000000000);
  CHECK(ns("1.5h") == 5400000000000);
  CHECK(ns("250ms") == 250000000);
  CHECK(ns("+2s") == 2000000000);
  CHECK(ns(".5s") == 500000000);
  CHECK(ns("1.s") == 1000000000);
  CHECK(ns("3000us") == 3000000);
  CHECK(ns("3000\xc2\xb5s") == 3000000);
  CHECK(ns("1999999ns") == 1000000);  // rounded down to the millisecond
  CHECK(ns("1h2m3s4ms5us6ns") == 3723004000000);
  CHECK(ns("9223372036854775807ns") == 9223372036854000000);
  CHECK(ParseDuration("").status().message() == "time: invalid duration \"\"");
  CHECK(ParseDuration("1").status().message() == "time: missing unit in duration \"1\"");
  CHECK(ParseDuration("1x").status().message() == "time: unknown unit \"x\" in duration \"1x\"");
  for (const char* bad : {"-", ".", ".s", "s", "1h-2m", "9223372036854775808ns", "3000000h",
                          "1..5s", " 1s", "-1.5s"}) {
    CHECK(ParseDuration(bad).status().code() == Code::kBadRequest);
  }

  CHECK(FormatDuration(nanoseconds(0)) == "0s");
  CHECK(FormatDuration(std::chrono::hours(1)) == "1h0m0s");
  CHECK(FormatDuration(std::chrono::seconds(90)) == "1m30s");
  CHECK(FormatDuration(std::chrono::milliseconds(1500)) == "1.5s");
  CHECK(FormatDuration(std::chrono::milliseconds(250)) == "250ms");
  CHECK(FormatDuration(nanoseconds(1500)) == "1.5\xc2\xb5s");
  CHECK(FormatDuration(nanoseconds(7)) == "7ns");
  CHECK(FormatDuration(-std::chrono::seconds(2)) == "-2s");
  CHECK(FormatDuration(std::chrono::hours(26) + std::chrono::seconds(1)) == "26h0m1s");
  for (const char* s : {"1h0m0s", "2m5.25s", "10ms"}) {
    CHECK(FormatDuration(*ParseDuration(s)) == s);
  }
}

}  // namespace kubepp::util
