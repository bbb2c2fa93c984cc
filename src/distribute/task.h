#pragma once

// One partition's task of a distributed run (`aqueducts distribute-task`, run by a Dask worker):
// the partition pipeline over the partition's files, its output written under the staging
// directory in a directory named after the attempt, every file name carrying the attempt id.

#include <cstdint>
#include <string>
#include <vector>

#include "aqueducts/status.h"

namespace aqueducts::distribute {

/// What a finished attempt reports back (as JSON: TaskResultJson / ParseTaskResults).
struct TaskResult {
  size_t partition = 0;
  std::string attempt;
  std::string dir;                 ///< where its files are
  std::vector<std::string> files;  ///< '/'-separated, relative to `dir`
  int64_t rows = 0;                ///< rows the partition wrote (its destination counted them)
  /// A direct Delta append: the add action (JSON) of each file in `files`, in the same order,
  /// path relative to `dir` (and to the table root once the driver moves it there).
  std::vector<std::string> delta_adds;
  /// A direct Delta write creating the table: the table its files were written for (JSON,
  /// delta::NewTableJson); every partition's must be the same.
  std::string delta_table;
};

/// Run the task described by `task_json` (plan.h, TaskJson) as attempt `attempt` (letters and
/// digits). Errors name the partition and, through the runner, the stage that failed; a failed
/// attempt removes what it wrote.
Result<TaskResult> RunTask(const std::string& task_json, const std::string& attempt);

std::string TaskResultJson(const TaskResult& result);
/// A JSON array of task results (what the Dask driver gathers). Error: kInvalidArgument.
Result<std::vector<TaskResult>> ParseTaskResults(const std::string& json);

}  // namespace aqueducts::distribute
