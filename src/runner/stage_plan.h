#pragma once

// The plan of a run's stages: when each stage's table can be dropped and whether it
// is materialised or left as a view (performance rule: stream what is read once).

#include <string>
#include <vector>

#include "aqueducts/model.h"

namespace aqueducts::runner {

struct StagePlan {
  int position = 0;
  int sub_position = 0;
  /// How many times later stages (and the destination) read this stage.
  int reads = 0;
  /// CREATE TABLE AS (read several times, printed, or kept as a final result) vs CREATE VIEW.
  bool materialise = false;
  /// Drop after this group has finished; -1: never (kept for the caller), groups.size(): after
  /// the destination was written.
  int drop_after = -1;
  /// The name is already taken by a source or an earlier stage, which this stage replaces.
  /// Such a pipeline materialises every stage, so that no view reads a name whose
  /// meaning changes under it, and keeps them until the run ends.
  bool replaces = false;
};

/// Plan `aqueduct`'s stages, indexed [position][sub_position]. The last stage of the last group
/// feeds the destination when there is one; without one, the last group's stages are kept as
/// tables for the caller (a pipeline without a destination).
std::vector<std::vector<StagePlan>> PlanStages(const Aqueduct& aqueduct);

}  // namespace aqueducts::runner
