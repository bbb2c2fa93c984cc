#include "odbc/odbc_values.h"

#include <cstdlib>

namespace aqueducts::odbc {

namespace {
constexpr int64_t kMicrosPerDay = 86400LL * 1000000LL;

// Floor division, so instants before 1970 land on the right day.
int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}
}  // namespace

// Howard Hinnant's days_from_civil.
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

SQL_DATE_STRUCT DateFromDays(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  SQL_DATE_STRUCT out;
  out.year = static_cast<SQLSMALLINT>(static_cast<int64_t>(yoe) + era * 400 + (month <= 2));
  out.month = static_cast<SQLUSMALLINT>(month);
  out.day = static_cast<SQLUSMALLINT>(day);
  return out;
}

int64_t MicrosFromTimestamp(const SQL_TIMESTAMP_STRUCT& ts) {
  const int64_t days = DaysFromCivil(ts.year, ts.month, ts.day);
  const int64_t seconds = ts.hour * 3600LL + ts.minute * 60LL + ts.second;
  return days * kMicrosPerDay + seconds * 1000000LL + ts.fraction / 1000;
}

SQL_TIMESTAMP_STRUCT TimestampFromMicros(int64_t micros) {
  const int64_t days = FloorDiv(micros, kMicrosPerDay);
  int64_t rest = micros - days * kMicrosPerDay;
  SQL_DATE_STRUCT date = DateFromDays(days);
  SQL_TIMESTAMP_STRUCT ts;
  ts.year = date.year;
  ts.month = date.month;
  ts.day = date.day;
  ts.hour = static_cast<SQLUSMALLINT>(rest / 3600000000LL);
  rest %= 3600000000LL;
  ts.minute = static_cast<SQLUSMALLINT>(rest / 60000000LL);
  rest %= 60000000LL;
  ts.second = static_cast<SQLUSMALLINT>(rest / 1000000LL);
  ts.fraction = static_cast<SQLUINTEGER>((rest % 1000000LL) * 1000);
  return ts;
}

std::optional<int64_t> ParseUnscaled(std::string_view text, int scale) {
  size_t i = 0;
  while (i < text.size() && text[i] == ' ') {
    ++i;
  }
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
    negative = text[i] == '-';
    ++i;
  }
  // Magnitudes up to 2^63 (INT64_MIN's) fit; checked before every multiply-add.
  constexpr uint64_t kLimit = static_cast<uint64_t>(INT64_MAX) + 1;
  uint64_t value = 0;
  auto push_digit = [&value](uint64_t digit) {
    if (value > (kLimit - digit) / 10) {
      return false;
    }
    value = value * 10 + digit;
    return true;
  };
  int fraction_digits = -1;  // -1: before the point
  bool any_digit = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.' && fraction_digits < 0) {
      fraction_digits = 0;
      continue;
    }
    if (c < '0' || c > '9') {
      break;
    }
    any_digit = true;
    if (fraction_digits >= 0) {
      if (fraction_digits == scale) {
        continue;  // truncate digits beyond the column's scale
      }
      ++fraction_digits;
    }
    if (!push_digit(static_cast<uint64_t>(c - '0'))) {
      return std::nullopt;
    }
  }
  while (i < text.size() && text[i] == ' ') {
    ++i;
  }
  if (!any_digit || i != text.size()) {
    return std::nullopt;
  }
  for (int d = fraction_digits < 0 ? 0 : fraction_digits; d < scale; ++d) {
    if (!push_digit(0)) {
      return std::nullopt;
    }
  }
  if (!negative && value == kLimit) {
    return std::nullopt;
  }
  return negative ? static_cast<int64_t>(0 - value) : static_cast<int64_t>(value);
}

std::string FormatUnscaled(int64_t unscaled, int scale) {
  const bool negative = unscaled < 0;
  // Through unsigned so INT64_MIN negates safely.
  uint64_t magnitude =
      negative ? 0 - static_cast<uint64_t>(unscaled) : static_cast<uint64_t>(unscaled);
  std::string digits = std::to_string(magnitude);
  if (scale > 0) {
    if (digits.size() <= static_cast<size_t>(scale)) {
      digits.insert(0, static_cast<size_t>(scale) - digits.size() + 1, '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(scale), ".");
  }
  return negative ? "-" + digits : digits;
}

}  // namespace aqueducts::odbc
