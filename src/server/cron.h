#pragma once

#include <bitset>
#include <string>

#include "aqueducts/status.h"

namespace aqueducts::server {

/// \brief A parsed 5-field cron expression: minute hour day-of-month month day-of-week.
/// Each field is `*`, a value, a range `a-b`, a step `*/n`, `a-b/n` or `a/n` (from a to the
/// field's maximum), or a comma-separated list of these. Months take JAN-DEC and days SUN-SAT
/// (case-insensitive); day-of-week 0 and 7 are both Sunday. The macros @yearly (@annually),
/// @monthly, @weekly, @daily (@midnight) and @hourly stand for their usual expressions.
/// When both day-of-month and day-of-week are restricted (neither starts with `*`), a day
/// matches when either matches (the classic cron rule).
struct CronSpec {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  ///< 1..31
  std::bitset<13> months;         ///< 1..12
  std::bitset<7> days_of_week;    ///< 0 = Sunday
  bool dom_restricted = false;
  bool dow_restricted = false;

  /// Whether the calendar day (month 1..12, day 1..31, weekday 0 = Sunday) matches.
  bool MatchesDay(unsigned month, unsigned day, unsigned weekday) const;
};

/// Parse `text`; kInvalidArgument naming the field and the bad item, e.g.
/// "minute field '61': 61 is out of range 0-59".
Result<CronSpec> ParseCron(const std::string& text);

}  // namespace aqueducts::server
