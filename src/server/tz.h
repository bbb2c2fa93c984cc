#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aqueducts/status.h"

namespace aqueducts::server {

/// \brief An IANA time zone read from the system's compiled zone files (TZif, RFC 8536) in
/// `$TZDIR` or /usr/share/zoneinfo: its transitions, and the POSIX TZ rule of the file's footer
/// for instants after the last transition. The process's TZ setting is never read or changed.
/// Times are seconds since the Unix epoch; offsets are seconds east of UTC.
class TimeZone {
 public:
  /// Load zone `name` (e.g. "Europe/Berlin"; "UTC" works without zone files). kInvalidArgument
  /// for a name that is not a zone.
  static Result<TimeZone> Load(const std::string& name);

  const std::string& name() const { return name_; }
  /// The UTC offset in effect at instant `utc`.
  int64_t OffsetAt(int64_t utc) const;
  /// The instant at which local wall-clock time `local` (seconds as if UTC) occurs. A local
  /// time that occurs twice (clocks turned back) gives the first instant; one that does not
  /// occur (clocks turned forward) gives the instant of the change (02:30 on a day going
  /// 02:00 -> 03:00 is 03:00 after the change).
  int64_t LocalToUtc(int64_t local) const;

  /// A POSIX TZ rule such as "CET-1CEST,M3.5.0,M10.5.0/3" (public for the tests).
  struct Rule {
    bool valid = false;
    int64_t std_offset = 0;  ///< seconds east
    bool has_dst = false;
    int64_t dst_offset = 0;
    // A date rule: kind 'M' (month, week 1..5, weekday), 'J' (day 1..365 without Feb 29) or
    // 'D' (day 0..365); `time` is the local time of day of the change, in seconds.
    struct When {
      char kind = 'M';
      int month = 0, week = 0, weekday = 0, day = 0;
      int64_t time = 7200;
    };
    When start, end;
    int64_t OffsetAt(int64_t utc) const;
  };
  static Result<Rule> ParseRule(const std::string& text);

 private:
  std::string name_;
  std::vector<int64_t> transitions_;  ///< instants, ascending
  std::vector<int64_t> offsets_;      ///< the offset from transitions_[i] on
  int64_t initial_offset_ = 0;        ///< before the first transition
  Rule rule_;                         ///< after the last transition (when valid)
};

}  // namespace aqueducts::server
