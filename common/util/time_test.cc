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

}  // namespace kubepp::util
