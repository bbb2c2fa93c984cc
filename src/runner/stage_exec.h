#pragma once

// One stage: create its view or table, then print its outputs.

#include <chrono>
#include <cstdint>
#include <string>

#include "aqueducts/model.h"
#include "aqueducts/status.h"

#include "common/clock.h"
#include "engine/session.h"
#include "runner/run_monitor.h"
#include "runner/stage_plan.h"

namespace aqueducts::runner {

using ::aqueducts::MillisSince;  // the duration_ms of events

/// The query without trailing semicolons and blanks, so it can be wrapped in other SQL.
std::string TrimQuery(const std::string& query);

/// Run `stage` on `conn` per `plan`, emitting stage_started/completed and the outputs. `conn`
/// is watched by `monitor` with `tap` (which counts the rows of a materialised stage; null when
/// progress is off); the
/// stage's last progress event is emitted through monitor.Finish once its table is built.
/// Errors: "Failed to execute stage '<n>': <e>" (kCancelled stays kCancelled).
/// `preview` is how a `show` preview is rendered.
Status ExecuteStage(engine::Connection& conn, const Stage& stage, const StagePlan& plan,
                    const Emitter& emitter, const engine::RowTap* tap, RunMonitor& monitor,
                    PreviewFormat preview);

}  // namespace aqueducts::runner
