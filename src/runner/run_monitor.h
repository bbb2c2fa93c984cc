#pragma once

// The watcher of a run: while queries run it reports their progress and DuckDB's spilling, and
// it carries cancellation to every running connection.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aqueducts/progress.h"
#include "aqueducts/run.h"

#include "common/redact.h"
#include "connector/connector.h"
#include "engine/row_tap.h"
#include "engine/session.h"

namespace aqueducts::runner {

/// \brief Emits events to an optional sink (thread-safe as the sink is).
class Emitter {
 public:
  explicit Emitter(ProgressSink* sink) : sink_(sink) {}
  /// Every event of a run passes here: its texts pass the redaction rule (common/redact.h), so
  /// no credential reaches a terminal, an SSE stream or a log.
  void Emit(const ProgressEvent& event) const {
    if (sink_ != nullptr) {
      ProgressEvent safe = event;
      safe.name = RedactSecrets(std::move(safe.name));
      safe.message = RedactSecrets(std::move(safe.message));
      sink_->OnEvent(safe);
    }
  }
  void Output(const StageOutput& output) const {
    if (sink_ != nullptr) {
      sink_->OnOutput(output);
    }
  }
  ProgressSink* sink() const { return sink_; }

 private:
  ProgressSink* sink_;
};

/// \brief The Emitter as a ProgressSink, for the connectors' RunContext.
class EmitterSink : public ProgressSink {
 public:
  explicit EmitterSink(const Emitter& emitter) : emitter_(emitter) {}
  void OnEvent(const ProgressEvent& event) override { emitter_.Emit(event); }
  void OnOutput(const StageOutput& output) override { emitter_.Output(output); }

 private:
  Emitter emitter_;
};

/// \brief A thread polling the connections of the running steps. Thread-safe.
class RunMonitor {
 public:
  /// `cancel` may be null; progress_interval_ms 0 disables kStageProgress (spill and
  /// cancellation are still watched).
  RunMonitor(engine::Session& session, const Emitter& emitter, std::shared_ptr<CancelToken> cancel,
             int progress_interval_ms);
  ~RunMonitor();
  RunMonitor(const RunMonitor&) = delete;
  RunMonitor& operator=(const RunMonitor&) = delete;

  /// Watch `conn` (running step `name`) until Remove. `tap` (may be null; must outlive the
  /// watch) counts the step's rows. With `uploads`, the step's events carry in `bytes` what the
  /// session has uploaded to object stores since the watch began (-1 while nothing).
  void Add(const std::string& name, engine::Connection* conn, const engine::RowTap* tap = nullptr,
           bool uploads = false);
  /// The step on `conn` has done its work with `rows` rows (-1: the rows it reported through
  /// SetRows, if any): emit its last progress event (percent 100) and report no more progress of
  /// it; cancellation still reaches `conn` until Remove.
  void Finish(engine::Connection* conn, int64_t rows);
  /// Whether the step on `conn` reported rows through SetRows.
  bool ReportedRows(engine::Connection* conn);
  /// connector::StepProgress for the step on `conn`.
  void SetPhase(engine::Connection* conn, const std::string& phase, double from, double to);
  void SetRows(engine::Connection* conn, int64_t rows);
  /// Stop watching `conn`; no progress event of it is emitted after this returns.
  void Remove(engine::Connection* conn);
  bool cancelled() const { return cancel_ && cancel_->cancelled(); }

 private:
  // What the cancel callback touches: shared, so a Cancel() racing with the end of the run
  // never reaches a destroyed monitor.
  // One watched step and what its progress has been so far.
  struct Watched {
    std::string name;
    engine::Connection* conn = nullptr;
    const engine::RowTap* tap = nullptr;
    double percent = -1;  // the highest seen: a step's later queries start again from 0
    // For the estimate of the time left: when the percent first moved above 0, and from where.
    std::chrono::steady_clock::time_point first_at;
    double first_percent = -1;
    bool finished = false;
    // The phase the step reported (connector::StepProgress), the share of the percent it maps
    // DuckDB's query percent into, and DuckDB's figure when the phase began: a query that ended
    // before the phase still shows its last figure until the phase's first query starts.
    std::string phase;
    double phase_from = 0;
    double phase_to = 100;
    double stale_percent = -1;
    bool phase_started = true;
    int64_t reported_rows = -1;
    bool uploads = false;
    int64_t uploads_base = 0;
  };
  struct Running {
    std::mutex mu;
    std::vector<Watched> conns;
    void InterruptAll();
  };

  void Loop();
  void Report();
  // Milliseconds left for `watched` at its rate since its percent first moved (-1 not yet).
  static int64_t EstimateLeft(Watched& watched, std::chrono::steady_clock::time_point now);
  // The bytes the step has uploaded (-1 none or not counted). Called with running_->mu held.
  int64_t UploadedBy(const Watched& watched);

  engine::Session& session_;
  Emitter emitter_;
  std::shared_ptr<CancelToken> cancel_;
  int cancel_callback_ = -1;
  int progress_interval_ms_;
  std::shared_ptr<Running> running_ = std::make_shared<Running>();
  std::mutex report_mu_;  // held while a report is made and emitted (Remove waits for it)
  std::mutex mu_;         // guards stop_
  std::condition_variable cv_;
  bool stop_ = false;
  int64_t spilled_bytes_ = 0;
  std::thread thread_;
};

/// \brief connector::StepProgress for one step the monitor watches.
class MonitoredStep : public connector::StepProgress {
 public:
  MonitoredStep(RunMonitor& monitor, engine::Connection* conn) : monitor_(monitor), conn_(conn) {}
  void Phase(const std::string& phase, double from, double to) override {
    monitor_.SetPhase(conn_, phase, from, to);
  }
  void Rows(int64_t rows) override { monitor_.SetRows(conn_, rows); }

 private:
  RunMonitor& monitor_;
  engine::Connection* conn_;
};

}  // namespace aqueducts::runner
