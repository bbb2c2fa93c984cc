// ODBC destination against a real PostgreSQL (docs/odbc.md: transactions, errors).

#include "odbc/odbc.h"
#include "odbc/odbc_pg_fixture.h"

namespace aqueducts::odbc::testing {
namespace {

using DestinationTest = OdbcPgTest;

OdbcDestination Append(const std::string& table, const std::string& conn, uint64_t batch_size) {
  OdbcDestination d;
  d.name = table;
  d.connection_string = conn;
  d.batch_size = batch_size;
  return d;
}

OdbcDestination Custom(const std::string& table, const std::string& conn,
                       std::optional<std::string> pre_insert, const std::string& insert) {
  OdbcDestination d = Append(table, conn, 1000);
  d.write_mode.operation = OdbcWriteMode::Operation::kCustom;
  d.write_mode.pre_insert = std::move(pre_insert);
  d.write_mode.insert = insert;
  return d;
}

TEST_F(DestinationTest, PrepareChecksTheTableExists) {
  AQ_EXPECT_OK(PrepareOdbcDestination(Append("temp_readings_empty", Conn(), 100)));
  Status missing = PrepareOdbcDestination(Append("no_such_table", Conn("Secr3tValue"), 100));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.id(), "aqueducts::destination::register_odbc_error");
  EXPECT_EQ(missing.code(), StatusCode::kIoError) << missing.message();  // wrong password first
  Status absent = PrepareOdbcDestination(Append("no_such_table", Conn(), 100));
  EXPECT_EQ(absent.code(), StatusCode::kNotFound) << absent.message();
  EXPECT_EQ(absent.message().rfind("Failed to register ODBC destination 'no_such_table'. ", 0), 0u)
      << absent.message();
  EXPECT_NE(absent.message().find("no_such_table\" does not exist"), std::string::npos)
      << absent.message();
}

TEST_F(DestinationTest, AppendsGeneratedReadingsInBatches) {
  // 1000 generated rows with batch_size 100.
  AQ_ASSERT_OK(session_->main().Execute(
      "CREATE TABLE gen AS SELECT (i % 8 + 1)::INTEGER AS location_id, "
      "to_timestamp(1704067200 + i * 60)::TIMESTAMP AS timestamp, i / 10.0 AS temperature_c, "
      "(i % 100)::DOUBLE AS humidity, CASE WHEN i % 2 = 0 THEN 'sunny' ELSE 'rainy' END AS "
      "weather_condition FROM range(1000) t(i)"));
  RecordingSink sink;
  AQ_ASSERT_OK_AND_ASSIGN(
      int64_t rows, WriteOdbcDestination(*session_, Append("temp_readings_empty", Conn(), 100),
                                         "SELECT * FROM gen", &sink));
  EXPECT_EQ(rows, 1000);
  EXPECT_EQ(Pg("SELECT count(*) || '/' || sum(location_id) || '/' || min(timestamp) || '/' || "
               "max(timestamp) || '/' || round(sum(temperature_c) * 10)::bigint FROM "
               "temp_readings_empty"),
            Duck("SELECT count(*) || '/' || sum(location_id) || '/' || min(timestamp) || '/' || "
                 "max(timestamp) || '/' || round(sum(temperature_c) * 10)::bigint FROM gen"));
  Pg("TRUNCATE temp_readings_empty");
}

TEST_F(DestinationTest, CustomDeleteInsertCommits) {
  Pg("INSERT INTO test_custom_delete_insert_ok VALUES (1, 'original'), (2, 'original')");
  AQ_ASSERT_OK(session_->main().Execute("CREATE TABLE upd AS SELECT 1 AS id, 'updated' AS value"));
  auto dest = Custom("test_custom_delete_insert_ok", Conn(),
                     "DELETE FROM test_custom_delete_insert_ok WHERE id = 1",
                     "INSERT INTO test_custom_delete_insert_ok (id, value) VALUES (?, ?)");
  AQ_ASSERT_OK_AND_ASSIGN(int64_t rows,
                          WriteOdbcDestination(*session_, dest, "SELECT * FROM upd", nullptr));
  EXPECT_EQ(rows, 1);
  EXPECT_EQ(Pg("SELECT string_agg(id || ',' || value, ';' ORDER BY id) FROM "
               "test_custom_delete_insert_ok"),
            "1,updated;2,original");
}

TEST_F(DestinationTest, CustomFailureRollsBackAndNamesTheStatement) {
  Pg("INSERT INTO test_custom_delete_insert_failed VALUES (1, 'original'), (2, 'original')");
  AQ_ASSERT_OK(session_->main().Execute("CREATE TABLE upd AS SELECT 1 AS id, 'updated' AS value"));
  auto dest = Custom("test_custom_delete_insert_failed", Conn(),
                     "DELETE FROM test_custom_delete_insert_failed WHERE id = 1",
                     "INSERT INTO WRONG_TABLE (id, value) VALUES (?, ?)");
  RecordingSink sink;
  auto result = WriteOdbcDestination(*session_, dest, "SELECT * FROM upd", &sink);
  ASSERT_FALSE(result.ok());
  const Status& status = result.status();
  EXPECT_EQ(status.id(), "aqueducts::destination::write_odbc_error");
  EXPECT_EQ(status.message().rfind(
                "Failed to write to ODBC destination 'test_custom_delete_insert_failed'. "
                "insert statement",
                0),
            0u)
      << status.message();
  EXPECT_NE(status.message().find("wrong_table"), std::string::npos) << status.message();
  EXPECT_EQ(Pg("SELECT string_agg(id || ',' || value, ';' ORDER BY id) FROM "
               "test_custom_delete_insert_failed"),
            "1,original;2,original");
  bool logged = false;
  for (const auto& event : sink.events()) {
    logged = logged || event.message.find("ROLLBACK") != std::string::npos;
  }
  EXPECT_TRUE(logged);
}

TEST_F(DestinationTest, FailingPreInsertNamesIt) {
  Pg("CREATE TABLE pre_insert_target (id integer, value text)");
  AQ_ASSERT_OK(session_->main().Execute("CREATE TABLE upd AS SELECT 1 AS id, 'x' AS value"));
  auto dest = Custom("pre_insert_target", Conn(), "DELETE FROM nowhere",
                     "INSERT INTO pre_insert_target VALUES (?, ?)");
  auto result = WriteOdbcDestination(*session_, dest, "SELECT * FROM upd", nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("pre_insert statement failed"), std::string::npos)
      << result.status().message();
  EXPECT_EQ(Pg("SELECT count(*) FROM pre_insert_target"), "0");
}

TEST_F(DestinationTest, AppendFailingHalfWayWritesNothing) {
  Pg("CREATE TABLE strict_target (id integer NOT NULL, label text)");
  // Row 250 violates NOT NULL: batches 1 and 2 (rows 1-200) already went to the server.
  AQ_ASSERT_OK(session_->main().Execute(
      "CREATE TABLE src AS SELECT CASE WHEN i = 250 THEN NULL ELSE i END AS id, 'r' || i AS label "
      "FROM range(1, 1001) t(i)"));
  auto result = WriteOdbcDestination(*session_, Append("strict_target", Conn(), 100),
                                     "SELECT * FROM src", nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find(
                "INSERT INTO strict_target failed in the batch starting at row 201"),
            std::string::npos)
      << result.status().message();
  EXPECT_NE(result.status().message().find("23502"), std::string::npos)
      << result.status().message();
  EXPECT_EQ(Pg("SELECT count(*) FROM strict_target"), "0");
}

TEST_F(DestinationTest, MultiRowStatementsAndRemainderKeepEveryRow) {
  Pg("CREATE TABLE odd_batches (id integer, label text, x double precision)");
  // 1003 rows in batches of 250 (multi-row statements of 250 rows) and a tail of 3 single rows.
  AQ_ASSERT_OK(session_->main().Execute(
      "CREATE TABLE src AS SELECT i::INTEGER AS id, CASE WHEN i % 10 = 0 THEN NULL ELSE 'l' || i "
      "END AS label, i / 4.0 AS x FROM range(1, 1004) t(i)"));
  AQ_ASSERT_OK_AND_ASSIGN(int64_t rows,
                          WriteOdbcDestination(*session_, Append("odd_batches", Conn(), 250),
                                               "SELECT * FROM src", nullptr));
  EXPECT_EQ(rows, 1003);
  EXPECT_EQ(
      Pg("SELECT count(*) || '/' || count(label) || '/' || sum(id) || '/' || sum(x) || '/' || "
         "max(label) FROM odd_batches"),
      "1003/903/503506/125876.5/l999");
}

TEST_F(DestinationTest, TypesRoundTripThroughPostgres) {
  Pg("CREATE TABLE types_rt (b boolean, i2 smallint, i4 integer, i8 bigint, r real, d double "
     "precision, n numeric(12,3), big numeric(30,5), t text, v varchar(20), day date, ts "
     "timestamp(6), tm time, bin bytea, \"Mixed Case\" integer, \"order\" integer)");
  AQ_ASSERT_OK(session_->main().Execute(
      "CREATE TABLE src AS SELECT * FROM (VALUES "
      "(true, -2::SMALLINT, 40000, 9000000000::BIGINT, 1.5::FLOAT, 2.25::DOUBLE, "
      "-12345.678::DECIMAL(12,3), "
      "'1234567890123456789012345.12345'::DECIMAL(30,5), 'Grüße, 東京 🚀', 'Ünïcödé', DATE "
      "'1969-07-20', "
      "TIMESTAMP '2024-02-29 23:59:58.123456', TIME '13:14:15', '\\xDE\\xAD\\x00'::BLOB, 7, 8), "
      "(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
      "NULL)) "
      "t(b, i2, i4, i8, r, d, n, big, t, v, day, ts, tm, bin, \"Mixed Case\", \"order\")"));
  AQ_ASSERT_OK_AND_ASSIGN(int64_t rows,
                          WriteOdbcDestination(*session_, Append("types_rt", Conn(), 1000),
                                               "SELECT * FROM src", nullptr));
  EXPECT_EQ(rows, 2);
  EXPECT_EQ(
      Pg("SELECT concat_ws('|', b, i2, i4, i8, r, d, n, big, t, v, day, ts, tm, encode(bin, "
         "'hex'), "
         "\"Mixed Case\", \"order\") FROM types_rt WHERE b"),
      "t|-2|40000|9000000000|1.5|2.25|-12345.678|1234567890123456789012345.12345|Grüße, 東京 🚀|"
      "Ünïcödé|1969-07-20|2024-02-29 23:59:58.123456|13:14:15|dead00|7|8");
  EXPECT_EQ(
      Pg("SELECT count(*) FROM types_rt WHERE num_nulls(b, i2, i4, i8, r, d, n, big, t, v, day, "
         "ts, tm, bin, \"Mixed Case\", \"order\") = 16"),
      "1");
  // And back: the source reads what the destination wrote.
  AQ_ASSERT_OK(RegisterOdbcSource(*session_, {"back", "SELECT * FROM types_rt", Conn()}));
  EXPECT_EQ(Duck("SELECT count(*) FROM (SELECT * FROM back EXCEPT SELECT * FROM src)"), "0");
}

TEST_F(DestinationTest, WrongPasswordOnWriteIsRedacted) {
  AQ_ASSERT_OK(session_->main().Execute("CREATE TABLE src AS SELECT 1 AS id"));
  auto result =
      WriteOdbcDestination(*session_, Append("temp_readings_empty", Conn("Secr3tValue"), 10),
                           "SELECT * FROM src", nullptr);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kIoError);
  EXPECT_EQ(result.status().message().find("Secr3tValue"), std::string::npos);
}

}  // namespace
}  // namespace aqueducts::odbc::testing
