#pragma once

// `aqueducts run --dask`: plan the run, have the Dask driver (aqueducts_dask.py, run with the
// Python that has dask.distributed) run one task per partition on the cluster, then commit what
// the tasks Dask reports as results wrote (docs/scale-out.md).

#include <cstdint>
#include <functional>
#include <string>

#include "aqueducts/model.h"
#include "aqueducts/run.h"
#include "aqueducts/status.h"

#include "distribute/plan.h"

namespace aqueducts::distribute {

struct DaskOptions {
  std::string scheduler;  ///< e.g. tcp://10.0.0.5:8786
  PlanOptions plan;
  /// The `aqueducts` program the workers run; empty: this program's own path.
  std::string worker_binary;
  std::string python = "/usr/bin/python3";
  /// Print the plan (to `print`) and run nothing.
  bool explain = false;
  /// For the driver's own pipeline (database options, cancel token, previews).
  RunOptions run;
  /// Lines for the person running it (plan, progress, commit).
  std::function<void(const std::string&)> print;
};

/// Where the Dask driver script is: beside this program, or in ../share/aqueducts/ relative to
/// it. Error: kNotFound naming the places looked at.
Result<std::string> FindDriverScript();

/// Run `aqueduct` on the Dask cluster. Events of the driver's pipeline go to `sink`.
Status RunOnDask(const Aqueduct& aqueduct, const DaskOptions& options, ProgressSink* sink);

}  // namespace aqueducts::distribute
