// Cron schedules and time zones for the CronJob controller.
//
// CronSchedule parses the standard five fields (minute hour day-of-month month
// day-of-week: numbers, names JAN-DEC / SUN-SAT, `*`, `?`, lists, ranges and steps) and
// the macros @yearly @annually @monthly @weekly @daily @midnight @hourly, as upstream's
// robfig/cron ParseStandard. As in Vixie cron, when both day fields are restricted a
// day matching either one matches.
//
// TimeZone reads IANA zones from the system's zoneinfo (TZif v2 transition tables), so
// spec.timeZone ("Europe/Berlin") is honoured, daylight saving time included.
//
// Thread safety: immutable values once built.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace kubepp::controller {

class TimeZone {
 public:
  TimeZone() = default;  // UTC
  // "" / "UTC" / "Etc/UTC" give UTC. Unknown or malformed names are NotFound /
  // BadRequest. `zoneinfo_dir` is where the TZif files live.
  static Result<TimeZone> Load(const std::string& name,
                               const std::string& zoneinfo_dir = "/usr/share/zoneinfo");
  // Seconds east of UTC in effect at `utc` (Unix seconds).
  int64_t OffsetAt(int64_t utc) const;

 private:
  std::vector<int64_t> transitions_;   // ascending, Unix seconds
  std::vector<int32_t> offsets_;       // offset from each transition on
  int32_t initial_offset_ = 0;         // before the first transition
};

class CronSchedule {
 public:
  static Result<CronSchedule> Parse(const std::string& spec);
  // The first scheduled time (Unix seconds, a whole minute) strictly after `utc`, in
  // `tz`'s local time; nullopt when there is none within five years (e.g. Feb 30).
  std::optional<int64_t> Next(int64_t utc, const TimeZone& tz) const;

 private:
  bool MatchesDay(int mday, int wday) const;

  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;    // 1..31
  std::bitset<13> months_;  // 1..12
  std::bitset<7> weekdays_; // 0 = Sunday
  bool days_star_ = false, weekdays_star_ = false;
};

}  // namespace kubepp::controller
