#include "odbc/odbc_values.h"

#include <gtest/gtest.h>

#include "odbc/wide_text.h"

namespace aqueducts::odbc {
namespace {

TEST(OdbcValuesTest, DatesAndTimestamps) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2024, 2, 29), 19782);
  for (int64_t days : {-719468LL, -1LL, 0LL, 19782LL, 2932896LL}) {
    SQL_DATE_STRUCT d = DateFromDays(days);
    EXPECT_EQ(DaysFromCivil(d.year, d.month, d.day), days);
  }
  for (int64_t micros : {-1LL, 0LL, 1709251198123456LL, -14182940000000LL}) {
    EXPECT_EQ(MicrosFromTimestamp(TimestampFromMicros(micros)), micros);
  }
  SQL_TIMESTAMP_STRUCT ts = TimestampFromMicros(-1);
  EXPECT_EQ(ts.year, 1969);
  EXPECT_EQ(ts.second, 59);
  EXPECT_EQ(ts.fraction, 999999000u);
}

TEST(OdbcValuesTest, Decimals) {
  EXPECT_EQ(ParseUnscaled("-12.5", 2), -1250);
  EXPECT_EQ(ParseUnscaled("3", 3), 3000);
  EXPECT_FALSE(ParseUnscaled("0.129", 2));    // never rounded
  EXPECT_EQ(ParseUnscaled("0.1200", 2), 12);  // trailing zeros change nothing
  EXPECT_EQ(ParseUnscaled("9223372036854775807", 0), INT64_MAX);
  EXPECT_EQ(ParseUnscaled("-9223372036854775808", 0), INT64_MIN);
  EXPECT_FALSE(ParseUnscaled("9223372036854775808", 0));
  EXPECT_FALSE(ParseUnscaled("1e5", 0));
  EXPECT_FALSE(ParseUnscaled("", 0));
  EXPECT_EQ(FormatUnscaled(-1250, 2), "-12.50");
  EXPECT_EQ(FormatUnscaled(5, 3), "0.005");
  EXPECT_EQ(FormatUnscaled(INT64_MIN, 0), "-9223372036854775808");
}

TEST(OdbcValuesTest, DecimalTextFitsExactlyOrIsRefused) {
  EXPECT_EQ(*FitDecimalText("0.0000001", 38, 18), "0.000000100000000000");
  EXPECT_EQ(*FitDecimalText("-0012.5000", 5, 2), "-12.50");
  EXPECT_EQ(*FitDecimalText("-0.000", 5, 2), "0.00");
  EXPECT_EQ(*FitDecimalText("7", 3, 0), "7");
  EXPECT_FALSE(FitDecimalText("0.125", 5, 2).ok());
  EXPECT_FALSE(FitDecimalText("1234", 5, 2).ok());
  EXPECT_FALSE(FitDecimalText("NaN", 38, 18).ok());
  EXPECT_FALSE(FitDecimalText("1e5", 38, 18).ok());
  EXPECT_FALSE(FitDecimalText("", 38, 18).ok());
}

TEST(OdbcValuesTest, TemporalTextBothWays) {
  using K = TemporalKind;
  EXPECT_EQ(*ParseTemporal("1970-01-02", K::kDate), 1);
  EXPECT_EQ(*ParseTemporal("infinity", K::kDate), kDateInfinity);
  EXPECT_EQ(*ParseTemporal("-infinity", K::kTimestamp), kTimestampNegativeInfinity);
  EXPECT_EQ(*ParseTemporal("0001-12-31 BC", K::kDate), DaysFromCivil(0, 12, 31));
  EXPECT_EQ(*ParseTemporal("0044-03-15 BC", K::kDate), DaysFromCivil(-43, 3, 15));
  EXPECT_EQ(*ParseTemporal("5874897-12-31", K::kDate), DaysFromCivil(5874897, 12, 31));
  EXPECT_EQ(*ParseTemporal("23:59:59.999999", K::kTime), 86399999999);
  EXPECT_EQ(*ParseTemporal("24:00:00", K::kTime), 86400000000);
  EXPECT_EQ(*ParseTemporal("12:00:00.5", K::kTime), 43200500000);
  EXPECT_EQ(*ParseTemporal("1970-01-01 00:00:00.000001+00", K::kTimestampTz), 1);
  EXPECT_EQ(*ParseTemporal("1970-01-01 09:00:00+09", K::kTimestampTz), 0);
  EXPECT_EQ(*ParseTemporal("1969-12-31 18:30:00-05:30", K::kTimestampTz), 0);
  EXPECT_EQ(*ParseTemporal("1970-01-01T00:00:01Z", K::kTimestampTz), 1000000);
  EXPECT_EQ(*ParseTemporal("0001-01-01 00:00:00+00 BC", K::kTimestampTz),
            DaysFromCivil(0, 1, 1) * 86400000000LL);
  EXPECT_EQ(*ParseTemporal("1970-01-01 00:00:00.123456000", K::kTimestamp), 123456);
  // Never rounded, clamped or made up.
  EXPECT_FALSE(ParseTemporal("1970-01-01 00:00:00.1234567", K::kTimestamp).ok());
  EXPECT_FALSE(ParseTemporal("294276-12-31 23:59:59", K::kTimestamp).ok());
  EXPECT_FALSE(ParseTemporal("294247-01-10 04:00:54.775807", K::kTimestamp).ok());
  EXPECT_TRUE(ParseTemporal("294247-01-10 04:00:54.775806", K::kTimestamp).ok());
  EXPECT_FALSE(ParseTemporal("2023-02-29", K::kDate).ok());
  EXPECT_FALSE(ParseTemporal("0000-00-00", K::kDate).ok());
  EXPECT_FALSE(ParseTemporal("24:00:01", K::kTime).ok());
  EXPECT_FALSE(ParseTemporal("infinity", K::kTime).ok());
  EXPECT_NE(ParseTemporal("2024-13-01", K::kDate).status().message().find("'2024-13-01'"),
            std::string::npos);

  EXPECT_EQ(FormatTemporal(DaysFromCivil(-43, 3, 15), K::kDate), "0044-03-15 BC");
  EXPECT_EQ(FormatTemporal(DaysFromCivil(5874897, 12, 31), K::kDate), "5874897-12-31");
  EXPECT_EQ(FormatTemporal(kDateNegativeInfinity, K::kDate), "-infinity");
  EXPECT_EQ(FormatTemporal(kTimestampInfinity, K::kTimestampTz), "infinity");
  EXPECT_EQ(FormatTemporal(-1, K::kTimestampTz), "1969-12-31 23:59:59.999999+00");
  EXPECT_EQ(FormatTemporal(1704067200000000, K::kTimestamp), "2024-01-01 00:00:00");
  EXPECT_EQ(FormatTemporal(86399999999, K::kTime), "23:59:59.999999");
  EXPECT_EQ(FormatTemporal(86400000000, K::kTime), "24:00:00");
  for (const char* text : {"0044-03-15 12:30:00.5 BC", "10000-01-01 01:02:03",
                           "0001-01-01 00:00:00 BC", "1969-12-31 23:59:59.999999"}) {
    EXPECT_EQ(FormatTemporal(*ParseTemporal(text, K::kTimestamp), K::kTimestamp), text);
  }
}

TEST(OdbcValuesTest, WideTextRoundTrips) {
  const std::string text = "aé東🚀";
  WideString wide = ToWide(text);
  EXPECT_EQ(wide.size(), 5u);  // the rocket is a surrogate pair
  EXPECT_EQ(FromWide(wide), text);
  EXPECT_EQ(FromWide(ToWide("\xff")), "\xEF\xBF\xBD");
}

}  // namespace
}  // namespace aqueducts::odbc
