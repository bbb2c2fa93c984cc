#pragma once

// Conversions between ODBC C structures / decimal text and the column_batch.h value layout.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <sql.h>
#include <sqlext.h>

namespace aqueducts::odbc {

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);
SQL_DATE_STRUCT DateFromDays(int64_t days);
/// Microseconds since the epoch; the fraction (nanoseconds) is truncated to microseconds.
int64_t MicrosFromTimestamp(const SQL_TIMESTAMP_STRUCT& ts);
SQL_TIMESTAMP_STRUCT TimestampFromMicros(int64_t micros);

/// Parse decimal text ("-12.5", "3") into an unscaled integer with `scale` fraction digits
/// (extra digits are truncated). nullopt if the text is not a plain decimal or overflows.
std::optional<int64_t> ParseUnscaled(std::string_view text, int scale);
/// The text of an unscaled decimal: FormatUnscaled(-1250, 2) == "-12.50".
std::string FormatUnscaled(int64_t unscaled, int scale);

}  // namespace aqueducts::odbc
