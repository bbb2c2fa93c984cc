#pragma once

// Conversions between ODBC C structures / text and the column_batch.h value layout.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <sql.h>
#include <sqlext.h>

#include "aqueducts/data_type.h"
#include "aqueducts/status.h"

namespace aqueducts::odbc {

/// DuckDB's encodings of infinite dates (days) and timestamps (microseconds) in a
/// ColumnVector's `ints` (date_t / timestamp_t infinity() and ninfinity()).
constexpr int64_t kDateInfinity = INT32_MAX;
constexpr int64_t kDateNegativeInfinity = -INT32_MAX;
constexpr int64_t kTimestampInfinity = INT64_MAX;
constexpr int64_t kTimestampNegativeInfinity = -INT64_MAX;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian, astronomical years: 0 is 1 BC).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);
SQL_DATE_STRUCT DateFromDays(int64_t days);
/// Microseconds since the epoch; the fraction (nanoseconds) is truncated to microseconds.
int64_t MicrosFromTimestamp(const SQL_TIMESTAMP_STRUCT& ts);
SQL_TIMESTAMP_STRUCT TimestampFromMicros(int64_t micros);

/// Parse decimal text ("-12.5", "3") into an unscaled integer with `scale` fraction digits.
/// nullopt if the text is not a plain decimal, overflows, or has non-zero digits beyond `scale`
/// (a value is never rounded).
std::optional<int64_t> ParseUnscaled(std::string_view text, int scale);
/// The text of an unscaled decimal: FormatUnscaled(-1250, 2) == "-12.50".
std::string FormatUnscaled(int64_t unscaled, int scale);
/// `text` (a plain decimal such as "-0012.50000") rewritten as the exact value of a
/// DECIMAL(precision, scale): "-12.50" for (5, 2). kExecutionError (a message without context)
/// when it is not a plain decimal (NaN, Infinity, an exponent) or does not fit exactly.
Result<std::string> FitDecimalText(std::string_view text, int precision, int scale);

/// What a date/time text holds.
enum class TemporalKind { kDate, kTime, kTimestamp, kTimestampTz };

/// The date/time kind of a pipeline type (timestamp with a zone: kTimestampTz); nullopt for a
/// type that is not a date, time or timestamp.
std::optional<TemporalKind> TemporalOf(const DataType& type);

/// Parse the ISO 8601 text of a date ("2024-02-29", "0044-03-15 BC", "5874897-12-31"), a time
/// ("23:59:59.999999", "24:00:00") or a timestamp ("2024-02-29 23:59:58.5", "...+05:30",
/// "...Z", "... BC") as printed by PostgreSQL (DateStyle ISO) and as ODBC's canonical
/// character form, plus "infinity" / "-infinity" for dates and timestamps. Dates give days
/// since 1970-01-01, times and timestamps microseconds (since midnight / the epoch, UTC when
/// the text has an offset, which is subtracted). Infinities give the column_batch.h sentinels.
/// kExecutionError (a message without context) for malformed text, a fraction finer than a
/// microsecond, or a value outside DuckDB's range (never a clamped or made-up value).
Result<int64_t> ParseTemporal(std::string_view text, TemporalKind kind);
/// The ISO text PostgreSQL reads back exactly: "0044-03-15 BC", "infinity",
/// "2024-01-01 00:00:00.5+00" (kTimestampTz: UTC with an explicit offset), "23:59:59.999999".
std::string FormatTemporal(int64_t value, TemporalKind kind);

}  // namespace aqueducts::odbc
