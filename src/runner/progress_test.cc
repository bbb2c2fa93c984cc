// Live progress through the progress sink: a long CSV -> Parquet write (one stage streamed into
// its destination) reports DuckDB's percent up to 100 and the rows handed to the writer, ending
// at the input's row count; a materialised stage counts the rows of its result, never the rows
// summed over the operators of its plan.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <random>

#include <gtest/gtest.h>

#include "aqueducts/run.h"

#include "testing.h"

namespace aqueducts {
namespace {

namespace fs = std::filesystem;
using Type = ProgressEvent::Type;
using Clock = std::chrono::steady_clock;

constexpr int64_t kRows = 2'000'000;

struct Timed {
  ProgressEvent event;
  Clock::time_point at;
};

// Keeps every event with the time it arrived.
class TimedSink : public ProgressSink {
 public:
  void OnEvent(const ProgressEvent& event) override {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back({event, Clock::now()});
  }
  void OnOutput(const StageOutput&) override {}
  std::vector<Timed> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

 private:
  std::mutex mu_;
  std::vector<Timed> events_;
};

class RunProgressTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::random_device rd;
    dir_ =
        new fs::path(fs::temp_directory_path() / ("aq_progress_test_" + std::to_string(::getpid()) +
                                                  "_" + std::to_string(rd())));
    fs::create_directories(*dir_);
    auto db = Database::Open();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    AQ_ASSERT_OK((*db)->Execute(
        "COPY (SELECT range AS id, hash(range) % 1000 AS v, 'name ' || range AS name, "
        "range / 7.0 AS d FROM range(" +
        std::to_string(kRows) + ")) TO '" + Csv() + "' (HEADER)"));
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string Csv() { return (*dir_ / "big.csv").string(); }

  static Aqueduct Pipeline(const std::string& query) {
    Aqueduct aq;
    aq.sources = {FileSource{
        .name = "big", .format = {.format = FileFormat::kCsv}, .location = ParseLocation(Csv())}};
    aq.stages = {{{.name = "pass", .query = query}}};
    return aq;
  }
  static RunOptions Options() {
    RunOptions options;
    options.progress_interval_ms = 20;
    options.database_options.threads = 2;
    return options;
  }
  // The progress events of step `name`, in order.
  static std::vector<Timed> ProgressOf(const std::vector<Timed>& events, const std::string& name) {
    std::vector<Timed> out;
    for (const auto& t : events) {
      if (t.event.type == Type::kStageProgress && t.event.name == name) {
        out.push_back(t);
      }
    }
    return out;
  }

  static fs::path* dir_;
};

fs::path* RunProgressTest::dir_ = nullptr;

TEST_F(RunProgressTest, StreamedStageWrittenToParquetReportsPercentRowsAndTimeLeft) {
  Aqueduct aq = Pipeline("SELECT * FROM big");
  aq.destination = FileDestination{.name = "out",
                                   .location = ParseLocation((*dir_ / "out.parquet").string()),
                                   .format = {.format = FileFormat::kParquet}};
  TimedSink sink;
  AQ_ASSERT_OK(RunPipeline(aq, Options(), &sink));
  auto events = sink.events();
  auto progress = ProgressOf(events, "out");
  ASSERT_GE(progress.size(), 3u);

  double last_percent = -1;
  int64_t last_rows = -1;
  bool percent_between = false;
  bool rows_between = false;
  for (const auto& t : progress) {
    const ProgressEvent& e = t.event;
    EXPECT_GE(e.percent, last_percent) << "percent went down";
    EXPECT_GE(e.rows, last_rows) << "rows went down";
    EXPECT_LE(e.percent, 100);
    EXPECT_LE(e.rows, kRows) << "rows must count rows read, not rows summed over operators";
    percent_between |= e.percent > 0 && e.percent < 100;
    rows_between |= e.rows > 0 && e.rows < kRows;
    last_percent = e.percent;
    last_rows = e.rows;
  }
  EXPECT_TRUE(percent_between) << "no percent between 0 and 100 while writing";
  EXPECT_TRUE(rows_between) << "no row count between 0 and the input's while writing";
  EXPECT_EQ(progress.back().event.percent, 100);
  EXPECT_EQ(progress.back().event.rows, kRows);

  // The destination's completion comes after its last progress event, with the same count.
  size_t completed = events.size();
  for (size_t i = 0; i < events.size(); i++) {
    if (events[i].event.type == Type::kDestinationCompleted) {
      completed = i;
    }
  }
  ASSERT_LT(completed, events.size());
  EXPECT_EQ(events[completed].event.rows, kRows);
  for (size_t i = completed; i < events.size(); i++) {
    EXPECT_FALSE(events[i].event.type == Type::kStageProgress && events[i].event.name == "out")
        << "progress of the destination after its completion";
  }

  // An estimate of the time left appears once the percent has moved for over a second; only a
  // write that lasted long enough can show one.
  Clock::time_point first_moving{};
  Clock::time_point last_running{};
  bool eta = false;
  for (const auto& t : progress) {
    if (t.event.percent > 0 && t.event.percent < 100) {
      if (first_moving == Clock::time_point{}) {
        first_moving = t.at;
      }
      last_running = t.at;
    }
    eta |= t.event.eta_ms > 0;
  }
  if (last_running - first_moving > std::chrono::seconds(3)) {
    EXPECT_TRUE(eta) << "no estimate of the time left during a write of several seconds";
  }
}

TEST_F(RunProgressTest, MaterialisedStageCountsTheRowsOfItsResult) {
  // A sort reads each row twice over its plan (scan, then sort): DuckDB's own row figure would
  // pass the input's count. Without a destination the last stage is materialised.
  Aqueduct aq = Pipeline("SELECT * FROM big ORDER BY v DESC, id");
  TimedSink sink;
  AQ_ASSERT_OK(RunPipeline(aq, Options(), &sink));
  auto progress = ProgressOf(sink.events(), "pass");
  ASSERT_FALSE(progress.empty());
  for (const auto& t : progress) {
    EXPECT_LE(t.event.rows, kRows);
  }
  EXPECT_EQ(progress.back().event.percent, 100);
  EXPECT_EQ(progress.back().event.rows, kRows);
}

// Collects the text of every preview.
class OutputSink : public TimedSink {
 public:
  void OnOutput(const StageOutput& output) override {
    std::lock_guard<std::mutex> lock(mu_);
    previews_ += output.stage_name + ":\n" + output.text;
  }
  std::string previews() {
    std::lock_guard<std::mutex> lock(mu_);
    return previews_;
  }

 private:
  std::mutex mu_;
  std::string previews_;
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST_F(RunProgressTest, RepeatedColumnNamesComeOutAsTheyDoWithoutProgress) {
  // A stage's column names may repeat (`a`, `A`, `a`); the rows are counted through a table
  // function, whose columns must be unique, so the count must not change what is written: the
  // same names (as DuckDB renames repeats) and values with progress on as with it off. The
  // preview makes the stage materialised (the tap in CREATE TABLE AS), and the destination
  // reads it (the tap in the write).
  auto run = [&](int interval_ms, const std::string& file, int64_t* rows_counted) {
    Aqueduct aq = Pipeline(
        "SELECT id AS a, v AS \"A\", name AS a, d AS \"a_1\" FROM big WHERE id < 1000 ORDER "
        "BY id");
    aq.stages[0][0].show = 5;
    aq.destination = FileDestination{.name = "out",
                                     .location = ParseLocation((*dir_ / file).string()),
                                     .format = {.format = FileFormat::kCsv}};
    RunOptions options = Options();
    options.progress_interval_ms = interval_ms;
    OutputSink sink;
    Status st = RunPipeline(aq, options, &sink);
    EXPECT_TRUE(st.ok()) << st.ToString();
    for (const auto& t : sink.events()) {
      if (t.event.type == Type::kStageProgress && t.event.name == "out") {
        *rows_counted = t.event.rows;
      }
    }
    return sink.previews();
  };
  int64_t counted_off = -1;
  int64_t counted_on = -1;
  std::string preview_off = run(0, "dup_off.csv", &counted_off);
  std::string preview_on = run(20, "dup_on.csv", &counted_on);
  std::string written_off = ReadAll(*dir_ / "dup_off.csv");
  ASSERT_FALSE(written_off.empty());
  EXPECT_EQ(written_off.substr(0, written_off.find('\n')), "a,A_1,a_2,a_1_1");
  EXPECT_EQ(ReadAll(*dir_ / "dup_on.csv"), written_off);
  EXPECT_NE(preview_off.find("A_1"), std::string::npos) << preview_off;
  EXPECT_EQ(preview_on, preview_off);
  EXPECT_EQ(counted_off, -1);  // no progress events with progress off
  EXPECT_EQ(counted_on, 1000);
}

// The phases of a Delta write, in the order they come.
int PhaseRank(const std::string& phase) {
  return phase == "scanning" ? 0 : phase == "writing files" ? 1 : phase == "committing" ? 2 : -1;
}

// A Delta write's progress: every event names a phase, phases come in order, percent and rows
// never go down, each phase's percent stays in its share of the step, and the last event is
// committing's, at 100 % with the rows written. Returns which phases were seen.
std::vector<bool> CheckDeltaPhases(const std::vector<Timed>& progress, int64_t rows_written,
                                   double writing_from) {
  std::vector<bool> seen(3, false);
  EXPECT_FALSE(progress.empty());
  if (progress.empty()) {
    return seen;
  }
  int rank = -1;
  double percent = -1;
  int64_t rows = -1;
  for (const auto& t : progress) {
    const ProgressEvent& e = t.event;
    int now = PhaseRank(e.phase);
    EXPECT_GE(now, 0) << "not a phase: '" << e.phase << "'";
    if (now < 0) {
      continue;
    }
    EXPECT_GE(now, rank) << e.phase << " after a later phase";
    EXPECT_GE(e.percent, percent) << "percent went down";
    EXPECT_GE(e.rows, rows) << "rows went down";
    EXPECT_LE(e.rows, rows_written);
    if (now == 1) {
      EXPECT_GE(e.percent, writing_from);
      EXPECT_LE(e.percent, 95);
    } else if (now == 2) {
      EXPECT_GE(e.percent, 95);
    } else {
      EXPECT_LE(e.percent, writing_from);
    }
    seen[now] = true;
    rank = now;
    percent = e.percent;
    rows = e.rows;
  }
  EXPECT_EQ(progress.back().event.phase, "committing");
  EXPECT_EQ(progress.back().event.percent, 100);
  EXPECT_EQ(progress.back().event.rows, rows_written);
  return seen;
}

TEST_F(RunProgressTest, DeltaAppendAndUpsertReportTheirPhasesAndRows) {
  constexpr int64_t kUpserted = 300'000;
  Aqueduct aq = Pipeline("SELECT id, v, name FROM big WHERE id < " + std::to_string(kUpserted));
  DeltaDestination delta{.name = "table", .location = ParseLocation((*dir_ / "delta").string())};
  aq.destination = delta;
  // The first run creates the table and appends, streamed into one file: no scanning share,
  // the writing fills the percent from 0.
  TimedSink appended;
  AQ_ASSERT_OK(RunPipeline(aq, Options(), &appended));
  auto append_seen = CheckDeltaPhases(ProgressOf(appended.events(), "table"), kUpserted, 0);
  EXPECT_TRUE(append_seen[1]) << "no writing files phase in a 300,000-row append";

  delta.write_mode.operation = DeltaWriteMode::Operation::kUpsert;
  delta.write_mode.upsert_keys = {"id"};
  aq.destination = delta;
  TimedSink sink;
  AQ_ASSERT_OK(RunPipeline(aq, Options(), &sink));
  auto seen = CheckDeltaPhases(ProgressOf(sink.events(), "table"), kUpserted, 50);
  EXPECT_TRUE(seen[0]) << "no scanning phase in a 300,000-row upsert";
  EXPECT_TRUE(seen[1]) << "no writing files phase in a 300,000-row upsert";
}

}  // namespace
}  // namespace aqueducts
