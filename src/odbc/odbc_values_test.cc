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
  EXPECT_EQ(ParseUnscaled("0.129", 2), 12);  // truncated to the scale
  EXPECT_EQ(ParseUnscaled("9223372036854775807", 0), INT64_MAX);
  EXPECT_EQ(ParseUnscaled("-9223372036854775808", 0), INT64_MIN);
  EXPECT_FALSE(ParseUnscaled("9223372036854775808", 0));
  EXPECT_FALSE(ParseUnscaled("1e5", 0));
  EXPECT_FALSE(ParseUnscaled("", 0));
  EXPECT_EQ(FormatUnscaled(-1250, 2), "-12.50");
  EXPECT_EQ(FormatUnscaled(5, 3), "0.005");
  EXPECT_EQ(FormatUnscaled(INT64_MIN, 0), "-9223372036854775808");
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
