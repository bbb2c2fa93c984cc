// TableAppender and ResultStream: plain column vectors in and out of DuckDB.

#include "engine/appender.h"

#include <gtest/gtest.h>

#include "aqueducts/run.h"

#include "engine/result_stream.h"
#include "testing.h"

namespace aqueducts::engine {
namespace {

Field MakeField(const std::string& name, const std::string& type) {
  auto parsed = ParseDataType(type);
  EXPECT_TRUE(parsed.ok()) << type;
  return Field{name, parsed.ok() ? *parsed : DataType{}, true, std::nullopt};
}

TEST(AppenderTest, AppendsEveryFlatTypeAndNulls) {
  AQ_ASSERT_OK_AND_ASSIGN(auto session, Session::Open(Database::Options{}));
  std::vector<Field> fields = {MakeField("b", "boolean"),
                               MakeField("i", "int32"),
                               MakeField("u", "uint64"),
                               MakeField("f", "float64"),
                               MakeField("d", "decimal<10,2>"),
                               MakeField("w", "decimal<30,3>"),
                               MakeField("s", "utf8"),
                               MakeField("bin", "binary"),
                               MakeField("day", "date32"),
                               MakeField("t", "time64<microsecond>"),
                               MakeField("ts", "timestamp<microsecond>")};
  AQ_ASSERT_OK_AND_ASSIGN(auto appender, TableAppender::Create(session->main(), "t", fields));
  ColumnBatch batch;
  for (const auto& f : fields) {
    batch.columns.push_back({f.name, f.data_type, {}, {}, {}, {}});
  }
  const size_t rows = 5000;  // more than one DuckDB vector
  for (size_t r = 0; r < rows; ++r) {
    const bool null = r % 1000 == 7;
    for (auto& column : batch.columns) {
      column.valid.push_back(null ? 0 : 1);
      switch (column.storage()) {
        case Storage::kInt:
          column.ints.push_back(static_cast<int64_t>(r));
          break;
        case Storage::kDouble:
          column.doubles.push_back(r / 2.0);
          break;
        case Storage::kString:
          column.strings.push_back(std::to_string(r) + "é");
          break;
      }
    }
  }
  batch.columns[5].strings.assign(rows, "123456789012345678901234.567");
  AQ_ASSERT_OK(appender->Append(batch));
  AQ_ASSERT_OK(appender->Close());
  EXPECT_EQ(appender->rows(), 5000);
  AQ_ASSERT_OK_AND_ASSIGN(
      auto out, session->main().Query("SELECT count(*), count(b), sum(i), max(d), max(w), "
                                      "max(day), max(ts), max(t), max(s) FROM t"));
  EXPECT_EQ(out.rows[0][0], "5000");
  EXPECT_EQ(out.rows[0][1], "4995");
  EXPECT_EQ(out.rows[0][3], "49.99");
  EXPECT_EQ(out.rows[0][4], "123456789012345678901234.567");
  EXPECT_EQ(out.rows[0][5], "1983-09-09");
  EXPECT_EQ(out.rows[0][6], "1970-01-01 00:00:00.004999");

  // And back out through a ResultStream, chunk by chunk.
  AQ_ASSERT_OK_AND_ASSIGN(auto stream, ResultStream::Open(session->main(), "SELECT * FROM t"));
  ASSERT_EQ(stream->schema().size(), fields.size());
  EXPECT_EQ(stream->schema()[4].data_type, fields[4].data_type);
  ColumnBatch back = stream->MakeBatch();
  for (;;) {
    AQ_ASSERT_OK_AND_ASSIGN(bool more, stream->Next(&back));
    if (!more) {
      break;
    }
  }
  ASSERT_EQ(back.num_rows(), rows);
  EXPECT_EQ(back.columns[1].ints[4321], 4321);
  EXPECT_EQ(back.columns[6].strings[4321], "4321é");
  EXPECT_EQ(back.columns[4].ints[10], 10);  // unscaled 0.10
  EXPECT_EQ(back.columns[5].strings[0], "123456789012345678901234.567");
  EXPECT_EQ(back.columns[0].valid[1007], 0);
}

TEST(AppenderTest, AbortDropsTheTableAndErrorsAreStatuses) {
  AQ_ASSERT_OK_AND_ASSIGN(auto session, Session::Open(Database::Options{}));
  AQ_ASSERT_OK_AND_ASSIGN(
      auto appender, TableAppender::Create(session->main(), "gone", {MakeField("x", "int32")}));
  AQ_ASSERT_OK(appender->Abort());
  EXPECT_FALSE(session->main().Execute("SELECT * FROM gone").ok());
  auto nested = TableAppender::Create(session->main(), "n", {MakeField("l", "list<int32>")});
  EXPECT_EQ(nested.status().code(), StatusCode::kUnsupported);
  auto bad = ResultStream::Open(session->main(), "SELECT * FROM nowhere");
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace aqueducts::engine
