// ODBC source against a real PostgreSQL (docs/odbc.md, types).

#include "odbc/odbc.h"
#include "odbc/odbc_pg_fixture.h"

namespace aqueducts::odbc::testing {
namespace {

using SourceTest = OdbcReadPathTest;
AQ_BOTH_READ_PATHS(SourceTest);

TEST_P(SourceTest, LoadsJanuaryReadings) {
  OdbcSource source{"jan_data",
                    "SELECT * FROM temp_readings WHERE timestamp BETWEEN '2024-01-01' AND "
                    "'2024-01-31'",
                    Conn()};
  AQ_ASSERT_OK(RegisterOdbcSource(*session_, source));
  EXPECT_EQ(Duck("SELECT count(*) FROM jan_data"), "1000");
  AQ_ASSERT_OK_AND_ASSIGN(auto rows, session_->main().Query("SELECT * FROM jan_data LIMIT 1"));
  EXPECT_EQ(rows.columns, (std::vector<std::string>{"location_id", "timestamp", "temperature_c",
                                                    "humidity", "weather_condition"}));
  // init.sql's FLOAT is PostgreSQL's double precision.
  EXPECT_EQ(rows.types,
            (std::vector<std::string>{"INTEGER", "TIMESTAMP", "DOUBLE", "DOUBLE", "VARCHAR"}));
  // The same aggregate on both sides proves the values arrived intact.
  EXPECT_EQ(
      Duck("SELECT sum(location_id) || '/' || min(timestamp) || '/' || max(weather_condition) "
           "FROM jan_data"),
      Pg("SELECT sum(location_id) || '/' || min(timestamp) || '/' || max(weather_condition) "
         "FROM temp_readings WHERE timestamp BETWEEN '2024-01-01' AND '2024-01-31'"));
}

TEST_P(SourceTest, TypesNullsAndNonAsciiText) {
  Pg("CREATE TABLE types_src (i2 smallint, i4 integer, i8 bigint, r real, d double precision, "
     "n numeric(12,3), big numeric(30,5), free numeric, b boolean, t text, v varchar(20), "
     "day date, ts timestamp(6), tm time, bin bytea);"
     "INSERT INTO types_src VALUES (-2, 40000, 9000000000, 1.5, 2.25, -12345.678, "
     "'1234567890123456789012345.12345', 3.25, true, 'Grüße, 東京 🚀', 'Ünïcödé', '1969-07-20', "
     "'2024-02-29 23:59:58.123456', '13:14:15', '\\xdeadbeef00');"
     "INSERT INTO types_src VALUES (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
     "NULL, NULL, NULL, NULL, NULL);");
  AQ_ASSERT_OK(RegisterOdbcSource(*session_, {"t", "SELECT * FROM types_src ORDER BY i2", Conn()}));
  AQ_ASSERT_OK_AND_ASSIGN(auto rows, session_->main().Query("SELECT * FROM t"));
  EXPECT_EQ(rows.types,
            (std::vector<std::string>{"SMALLINT", "INTEGER", "BIGINT", "FLOAT", "DOUBLE",
                                      "DECIMAL(12,3)", "DECIMAL(30,5)", "DECIMAL(38,18)", "BOOLEAN",
                                      "VARCHAR", "VARCHAR", "DATE", "TIMESTAMP", "TIME", "BLOB"}));
  ASSERT_EQ(rows.rows.size(), 2u);
  const auto& r = rows.rows[0];
  EXPECT_EQ(*r[0], "-2");
  EXPECT_EQ(*r[1], "40000");
  EXPECT_EQ(*r[2], "9000000000");
  EXPECT_EQ(*r[3], "1.5");
  EXPECT_EQ(*r[4], "2.25");
  EXPECT_EQ(*r[5], "-12345.678");
  EXPECT_EQ(*r[6], "1234567890123456789012345.12345");
  EXPECT_EQ(*r[7], "3.250000000000000000");  // an unconstrained numeric is DECIMAL(38,18)
  EXPECT_EQ(*r[8], "true");
  EXPECT_EQ(*r[9], "Grüße, 東京 🚀");
  EXPECT_EQ(*r[10], "Ünïcödé");
  EXPECT_EQ(*r[11], "1969-07-20");
  EXPECT_EQ(*r[12], "2024-02-29 23:59:58.123456");
  EXPECT_EQ(*r[13], "13:14:15");
  EXPECT_EQ(Duck("SELECT hex(bin) FROM t WHERE bin IS NOT NULL"), "DEADBEEF00");
  for (const auto& value : rows.rows[1]) {
    EXPECT_FALSE(value.has_value());
  }
}

TEST_P(SourceTest, StreamsManyRowsAndLongText) {
  AQ_ASSERT_OK(RegisterOdbcSource(
      *session_, {"many",
                  "SELECT g AS id, repeat('x', g % 10000) AS long_text, (g % 7)::varchar AS v "
                  "FROM generate_series(1, 30000) g",
                  Conn()}));
  EXPECT_EQ(Duck("SELECT count(*) || '/' || sum(id) || '/' || sum(length(long_text)) FROM many"),
            Pg("SELECT count(*) || '/' || sum(g) || '/' || sum(g % 10000) "
               "FROM generate_series(1, 30000) g"));
}

// psqlODBC describes jsonb (a type it does not know) and varchar without a length as 255
// characters wide; longer values must still arrive whole, in any row of a block.
TEST_P(SourceTest, LongValuesOfColumnsDescribedAsShortArriveWhole) {
  Pg("CREATE TABLE long_src (id int, j jsonb, t text, v varchar);"
     "INSERT INTO long_src SELECT g, CASE WHEN g = 2 THEN NULL WHEN g % 3 = 0 THEN "
     "jsonb_build_object('k', repeat('x', 100000), 'u', '東京 🚀', 'g', g) ELSE "
     "jsonb_build_object('g', g) END, CASE WHEN g = 5 THEN repeat('ab東', 350000) "
     "ELSE 't' || g END, CASE WHEN g % 2 = 0 THEN repeat('Grüße', 100 + g) END "
     "FROM generate_series(1, 5000) g;");
  AQ_ASSERT_OK(RegisterOdbcSource(*session_, {"l", "SELECT * FROM long_src", Conn()}));
  // The 100 KB jsonb values, the 1 MB (1,050,000-character) text and the long varchars are
  // compared with PostgreSQL's own text of every value.
  EXPECT_EQ(Duck("SELECT count(*) || '/' || count(j) || '/' || max(length(j)) || '/' || "
                 "max(length(t)) || '/' || max(length(v)) || '/' || "
                 "md5(string_agg(id || ':' || coalesce(j, '-') || ':' || t || ':' || "
                 "coalesce(v, '-'), '|' ORDER BY id)) FROM l"),
            Pg("SELECT count(*) || '/' || count(j) || '/' || max(length(j::text)) || '/' || "
               "max(length(t)) || '/' || max(length(v)) || '/' || "
               "md5(string_agg(id || ':' || coalesce(j::text, '-') || ':' || t || ':' || "
               "coalesce(v, '-'), '|' ORDER BY id)) FROM long_src"));
  EXPECT_EQ(Duck("SELECT max(length(j)) > 100000 AND max(length(t)) = 1050000 FROM l"), "true");
}

TEST_P(SourceTest, EmptyResultCreatesEmptyTable) {
  AQ_ASSERT_OK(
      RegisterOdbcSource(*session_, {"none", "SELECT * FROM temp_readings_empty", Conn()}));
  EXPECT_EQ(Duck("SELECT count(*) FROM none"), "0");
}

TEST_P(SourceTest, SqlErrorNamesSourceAndLeavesNoTable) {
  Status status = RegisterOdbcSource(*session_, {"bad", "SELEC nothing", Conn()});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.id(), "aqueducts::source::register_odbc");
  EXPECT_EQ(status.code(), StatusCode::kSqlError) << status.message();
  EXPECT_EQ(
      status.message().rfind("Failed to register ODBC source 'bad'. load_query failed: [42601]", 0),
      0u)
      << status.message();
  EXPECT_EQ(Duck("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'bad'"), "0");
}

TEST_P(SourceTest, MissingTableIsNotFound) {
  Status status = RegisterOdbcSource(*session_, {"m", "SELECT * FROM no_such_table", Conn()});
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.message();
  EXPECT_NE(status.message().find("no_such_table"), std::string::npos) << status.message();
}

TEST_P(SourceTest, WrongPasswordIsClearAndRedacted) {
  Status status = RegisterOdbcSource(*session_, {"w", "SELECT 1", Conn("Wr0ngSecret")});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kIoError) << status.message();
  EXPECT_NE(status.message().find("password authentication failed"), std::string::npos)
      << status.message();
  EXPECT_EQ(status.message().find("Wr0ngSecret"), std::string::npos) << status.message();
}

TEST_P(SourceTest, ServerDownIsClear) {
  const std::string down =
      "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=1;UID=postgres;PWD=Secr3tValue;";
  Status status = RegisterOdbcSource(*session_, {"d", "SELECT 1", down});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kIoError) << status.message();
  EXPECT_NE(status.message().find("Could not connect to the database"), std::string::npos)
      << status.message();
  EXPECT_EQ(status.message().find("Secr3tValue"), std::string::npos) << status.message();
}

TEST_P(SourceTest, UnknownDriverIsClear) {
  Status status =
      RegisterOdbcSource(*session_, {"u", "SELECT 1", "Driver={No Such Driver};PWD=Secr3tValue;"});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.message();
  EXPECT_NE(status.message().find("No Such Driver"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("odbcinst"), std::string::npos) << status.message();
  EXPECT_EQ(status.message().find("Secr3tValue"), std::string::npos) << status.message();
}

}  // namespace
}  // namespace aqueducts::odbc::testing
