#include "controller-manager/cronjob/cron.h"

#include <catch2/catch.hpp>

#include "common/util/time.h"

namespace kubepp::controller {
namespace {

int64_t At(const std::string& rfc3339) { return *util::ParseRfc3339(rfc3339); }

TEST_CASE("cron: parsing") {
  for (const char* ok : {"* * * * *", "*/5 * * * *", "0 0 1 1 *", "0 9-17 * * MON-FRI",
                         "15,45 */2 1-10/3 JAN,jul ?", "@hourly", "@yearly", "0 0 * * 7",
                         "5/15 * * * *"}) {
    INFO(ok);
    CHECK(CronSchedule::Parse(ok).ok());
  }
  for (const char* bad : {"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *",
                          "* * * 13 *", "*/0 * * * *", "5-1 * * * *", "@every 5m", "a b c d e"}) {
    INFO(bad);
    CHECK_FALSE(CronSchedule::Parse(bad).ok());
  }
}

TEST_CASE("cron: next scheduled time, in UTC and in a zone with daylight saving") {
  TimeZone utc;
  struct Case {
    std::string spec, after, want;
  };
  for (const Case& c : std::vector<Case>{
           {"* * * * *", "2024-01-01T10:00:30Z", "2024-01-01T10:01:00Z"},
           {"*/15 * * * *", "2024-01-01T10:00:00Z", "2024-01-01T10:15:00Z"},
           {"5/15 * * * *", "2024-01-01T10:06:00Z", "2024-01-01T10:20:00Z"},
           {"@hourly", "2024-01-01T10:59:59Z", "2024-01-01T11:00:00Z"},
           {"@daily", "2024-02-28T12:00:00Z", "2024-02-29T00:00:00Z"},      // leap day
           {"0 0 29 2 *", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},  // next leap year
           {"0 9 * * MON-FRI", "2024-01-05T10:00:00Z", "2024-01-08T09:00:00Z"},  // Fri -> Mon
           // Both day fields restricted: either matches (the 13th, or any Friday).
           {"0 0 13 * FRI", "2024-01-01T00:00:00Z", "2024-01-05T00:00:00Z"},
           {"@yearly", "2024-06-01T00:00:00Z", "2025-01-01T00:00:00Z"},
       }) {
    INFO(c.spec << " after " << c.after);
    auto s = CronSchedule::Parse(c.spec);
    REQUIRE(s.ok());
    auto next = s->Next(At(c.after), utc);
    REQUIRE(next);
    CHECK(util::FormatRfc3339(*next) == c.want);
  }
  CHECK_FALSE(CronSchedule::Parse("0 0 30 2 *")->Next(At("2024-01-01T00:00:00Z"), utc));

  auto ny = TimeZone::Load("America/New_York");
  REQUIRE(ny.ok());
  auto nine = *CronSchedule::Parse("0 9 * * *");
  // 09:00 EST is 14:00 UTC; after the March switch 09:00 EDT is 13:00 UTC.
  CHECK(util::FormatRfc3339(*nine.Next(At("2024-03-08T00:00:00Z"), *ny)) == "2024-03-08T14:00:00Z");
  CHECK(util::FormatRfc3339(*nine.Next(At("2024-03-11T00:00:00Z"), *ny)) == "2024-03-11T13:00:00Z");
  CHECK(TimeZone::Load("Nowhere/Atlantis").status().code() == Code::kNotFound);
  CHECK(TimeZone::Load("../etc/passwd").status().code() == Code::kBadRequest);
  CHECK(TimeZone::Load("UTC").ok());
}

}  // namespace
}  // namespace kubepp::controller
