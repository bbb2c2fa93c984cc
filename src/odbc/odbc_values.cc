#include "odbc/odbc_values.h"

#include <cctype>
#include <cstdlib>

#include "common/text.h"

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

namespace {

struct Civil {
  int64_t year;  // astronomical: 0 is 1 BC
  unsigned month;
  unsigned day;
};

// Howard Hinnant's civil_from_days.
Civil CivilFromDays(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int64_t>(yoe) + era * 400 + (month <= 2), month, day};
}

}  // namespace

SQL_DATE_STRUCT DateFromDays(int64_t days) {
  const Civil civil = CivilFromDays(days);
  SQL_DATE_STRUCT out;
  out.year = static_cast<SQLSMALLINT>(civil.year);
  out.month = static_cast<SQLUSMALLINT>(civil.month);
  out.day = static_cast<SQLUSMALLINT>(civil.day);
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
        if (c != '0') {
          return std::nullopt;  // would need rounding
        }
        continue;  // trailing zeros beyond the column's scale change nothing
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

namespace {

std::string Quoted(std::string_view text) {
  constexpr size_t kShown = 64;
  return "'" + std::string(text.substr(0, kShown)) + (text.size() > kShown ? "...'" : "'");
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Reads min..max decimal digits at `*i` into `*out`.
bool ReadNumber(std::string_view text, size_t* i, size_t min, size_t max, int64_t* out) {
  size_t n = 0;
  int64_t value = 0;
  while (*i < text.size() && n < max && std::isdigit(static_cast<unsigned char>(text[*i]))) {
    value = value * 10 + (text[*i] - '0');
    ++*i;
    ++n;
  }
  *out = value;
  return n >= min;
}

bool Accept(std::string_view text, size_t* i, char c) {
  if (*i < text.size() && text[*i] == c) {
    ++*i;
    return true;
  }
  return false;
}

bool IsLeap(int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned DaysInMonth(int64_t year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeap(year) ? 29 : kDays[month - 1];
}

// DuckDB's range: DATE from 5877642-06-25 BC to 5881580-07-10; TIMESTAMP from
// 290309-12-22 BC 00:00:00 up to (excluding) the infinity sentinel.
const int64_t kMinDate = DaysFromCivil(-5877641, 6, 25);
const int64_t kMaxDate = DaysFromCivil(5881580, 7, 10);
const int64_t kMinTimestamp = DaysFromCivil(-290308, 12, 22) * kMicrosPerDay;

constexpr int64_t kMicrosPerSecond = 1000000;

// "HH:MM:SS[.ffffff]" at `*i` as microseconds since midnight (24:00:00 allowed).
Status ParseClock(std::string_view text, size_t* i, int64_t* micros) {
  int64_t hour = 0, minute = 0, second = 0;
  if (!ReadNumber(text, i, 1, 2, &hour) || !Accept(text, i, ':') ||
      !ReadNumber(text, i, 2, 2, &minute) || !Accept(text, i, ':') ||
      !ReadNumber(text, i, 2, 2, &second)) {
    return Status::ExecutionError("malformed time");
  }
  int64_t fraction = 0;
  if (Accept(text, i, '.')) {
    size_t digits = 0;
    while (*i < text.size() && std::isdigit(static_cast<unsigned char>(text[*i]))) {
      const int digit = text[*i] - '0';
      if (digits < 6) {
        fraction = fraction * 10 + digit;
      } else if (digit != 0) {
        return Status::ExecutionError("has a fraction finer than a microsecond");
      }
      ++digits;
      ++*i;
    }
    if (digits == 0) {
      return Status::ExecutionError("malformed time");
    }
    for (; digits < 6; ++digits) {
      fraction *= 10;
    }
  }
  const int64_t value = ((hour * 60 + minute) * 60 + second) * kMicrosPerSecond + fraction;
  if (minute > 59 || second > 59 || value > 24 * 3600 * kMicrosPerSecond) {
    return Status::ExecutionError("is not a valid time of day");
  }
  *micros = value;
  return Status::OK();
}

// "Z", "+HH", "-HH:MM", "+HHMM", "-HH:MM:SS" at `*i` as seconds east of UTC.
Status ParseOffset(std::string_view text, size_t* i, int64_t* seconds) {
  *seconds = 0;
  if (Accept(text, i, 'Z')) {
    return Status::OK();
  }
  const bool west = *i < text.size() && text[*i] == '-';
  if (!Accept(text, i, '+') && !Accept(text, i, '-')) {
    return Status::OK();
  }
  int64_t hours = 0, minutes = 0, secs = 0;
  if (!ReadNumber(text, i, 1, 2, &hours)) {
    return Status::ExecutionError("malformed time zone offset");
  }
  Accept(text, i, ':');
  if (ReadNumber(text, i, 2, 2, &minutes)) {
    Accept(text, i, ':');
    ReadNumber(text, i, 2, 2, &secs);
  }
  *seconds = (west ? -1 : 1) * ((hours * 60 + minutes) * 60 + secs);
  return Status::OK();
}

Result<int64_t> ParseTemporalImpl(std::string_view text, TemporalKind kind) {
  if (kind != TemporalKind::kTime) {
    const bool is_date = kind == TemporalKind::kDate;
    if (EqualsIgnoreCase(text, "infinity") || EqualsIgnoreCase(text, "+infinity")) {
      return is_date ? kDateInfinity : kTimestampInfinity;
    }
    if (EqualsIgnoreCase(text, "-infinity")) {
      return is_date ? kDateNegativeInfinity : kTimestampNegativeInfinity;
    }
  }
  size_t i = 0;
  int64_t days = 0;
  bool bc = false;
  if (kind != TemporalKind::kTime) {
    if (text.size() > 3 && EqualsIgnoreCase(text.substr(text.size() - 3), " BC")) {
      bc = true;
      text = Trim(text.substr(0, text.size() - 3));
    }
    const bool negative = Accept(text, &i, '-');
    int64_t year = 0, month = 0, day = 0;
    if (!ReadNumber(text, &i, 1, 9, &year) || !Accept(text, &i, '-') ||
        !ReadNumber(text, &i, 1, 2, &month) || !Accept(text, &i, '-') ||
        !ReadNumber(text, &i, 1, 2, &day)) {
      return Status::ExecutionError("malformed date");
    }
    if ((bc && (negative || year == 0))) {
      return Status::ExecutionError("malformed date");
    }
    year = bc ? 1 - year : (negative ? -year : year);
    if (month < 1 || month > 12 || day < 1 ||
        day > static_cast<int64_t>(DaysInMonth(year, static_cast<unsigned>(month)))) {
      return Status::ExecutionError("is not a valid date");
    }
    days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    if (kind == TemporalKind::kDate) {
      if (i != text.size()) {
        return Status::ExecutionError("malformed date");
      }
      if (days < kMinDate || days > kMaxDate) {
        return Status::ExecutionError(
            "is outside DuckDB's DATE range (5877642-06-25 BC to 5881580-07-10)");
      }
      return days;
    }
    if (i == text.size()) {
      return static_cast<int64_t>(days * kMicrosPerDay);  // a date alone: midnight
    }
    if (!Accept(text, &i, ' ') && !Accept(text, &i, 'T')) {
      return Status::ExecutionError("malformed timestamp");
    }
  }
  int64_t clock = 0;
  AQ_RETURN_IF_ERROR(ParseClock(text, &i, &clock));
  if (kind == TemporalKind::kTime) {
    if (i != text.size()) {
      return Status::ExecutionError("malformed time");
    }
    return clock;
  }
  int64_t offset = 0;
  AQ_RETURN_IF_ERROR(ParseOffset(text, &i, &offset));
  if (i != text.size()) {
    return Status::ExecutionError("malformed timestamp");
  }
  const __int128 micros = static_cast<__int128>(days) * kMicrosPerDay + clock -
                          static_cast<__int128>(offset) * kMicrosPerSecond;
  if (micros < kMinTimestamp || micros >= kTimestampInfinity) {
    return Status::ExecutionError(
        "is outside DuckDB's TIMESTAMP range (290309-12-22 BC 00:00:00 to 294247-01-10 "
        "04:00:54.775806 UTC)");
  }
  return static_cast<int64_t>(micros);
}

std::string Padded(int64_t value, int width) {
  std::string digits = std::to_string(value);
  if (digits.size() < static_cast<size_t>(width)) {
    digits.insert(0, static_cast<size_t>(width) - digits.size(), '0');
  }
  return digits;
}

std::string ClockText(int64_t micros) {
  const int64_t seconds = micros / kMicrosPerSecond;
  const int64_t fraction = micros % kMicrosPerSecond;
  std::string out = Padded(seconds / 3600, 2) + ":" + Padded(seconds / 60 % 60, 2) + ":" +
                    Padded(seconds % 60, 2);
  if (fraction != 0) {
    std::string digits = Padded(fraction, 6);
    digits.erase(digits.find_last_not_of('0') + 1);
    out += "." + digits;
  }
  return out;
}

}  // namespace

Result<std::string> FitDecimalText(std::string_view text, int precision, int scale) {
  const std::string_view trimmed = Trim(text, " ");
  size_t i = 0;
  const bool negative = Accept(trimmed, &i, '-');
  if (!negative) {
    Accept(trimmed, &i, '+');
  }
  std::string whole, fraction;
  bool point = false;
  for (; i < trimmed.size(); ++i) {
    const char c = trimmed[i];
    if (c == '.' && !point) {
      point = true;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      (point ? fraction : whole) += c;
    } else {
      break;
    }
  }
  if (i != trimmed.size() || (whole.empty() && fraction.empty())) {
    return Status::ExecutionError("value " + Quoted(text) + " is not a plain decimal number");
  }
  whole.erase(0, std::min(whole.find_first_not_of('0'), whole.size()));
  fraction.erase(fraction.find_last_not_of('0') + 1);
  const std::string type =
      "DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
  if (fraction.size() > static_cast<size_t>(scale)) {
    return Status::ExecutionError("value " + Quoted(text) + " has more than " +
                                  std::to_string(scale) + " decimals and does not fit " + type +
                                  " without rounding");
  }
  if (whole.size() > static_cast<size_t>(precision - scale)) {
    return Status::ExecutionError("value " + Quoted(text) + " has more than " +
                                  std::to_string(precision - scale) +
                                  " digits before the point and does not fit " + type);
  }
  fraction.append(static_cast<size_t>(scale) - fraction.size(), '0');
  const bool zero = whole.empty() && fraction.find_first_not_of('0') == std::string::npos;
  std::string out = (negative && !zero ? "-" : "") + (whole.empty() ? "0" : whole);
  if (scale > 0) {
    out += "." + fraction;
  }
  return out;
}

Result<int64_t> ParseTemporal(std::string_view text, TemporalKind kind) {
  auto value = ParseTemporalImpl(Trim(text, " "), kind);
  if (!value.ok()) {
    return Status::ExecutionError("value " + Quoted(text) + " " + value.status().message());
  }
  return value;
}

std::string FormatTemporal(int64_t value, TemporalKind kind) {
  if (kind == TemporalKind::kTime) {
    return ClockText(value);
  }
  const bool date = kind == TemporalKind::kDate;
  if (value == (date ? kDateInfinity : kTimestampInfinity)) {
    return "infinity";
  }
  if (value == (date ? kDateNegativeInfinity : kTimestampNegativeInfinity)) {
    return "-infinity";
  }
  const int64_t days = date ? value : FloorDiv(value, kMicrosPerDay);
  const Civil civil = CivilFromDays(days);
  const bool bc = civil.year <= 0;
  std::string out = Padded(bc ? 1 - civil.year : civil.year, 4) + "-" + Padded(civil.month, 2) +
                    "-" + Padded(civil.day, 2);
  if (!date) {
    out += " " + ClockText(value - days * kMicrosPerDay);
    if (kind == TemporalKind::kTimestampTz) {
      out += "+00";
    }
  }
  return bc ? out + " BC" : out;
}

std::optional<TemporalKind> TemporalOf(const DataType& type) {
  switch (type.id) {
    case TypeId::kDate32:
    case TypeId::kDate64:
      return TemporalKind::kDate;
    case TypeId::kTime32:
    case TypeId::kTime64:
      return TemporalKind::kTime;
    case TypeId::kTimestamp:
      return type.timezone ? TemporalKind::kTimestampTz : TemporalKind::kTimestamp;
    default:
      return std::nullopt;
  }
}

}  // namespace aqueducts::odbc
