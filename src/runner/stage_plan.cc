#include "runner/stage_plan.h"

#include <algorithm>
#include <map>
#include <set>

#include "runner/table_refs.h"

namespace aqueducts::runner {

std::vector<std::vector<StagePlan>> PlanStages(const Aqueduct& aqueduct) {
  const auto& groups = aqueduct.stages;
  const int n = static_cast<int>(groups.size());
  const bool has_destination = aqueduct.destination.has_value();
  std::vector<std::vector<std::map<std::string, int>>> idents(n);
  for (int p = 0; p < n; p++) {
    for (const auto& stage : groups[p]) {
      idents[p].push_back(IdentifierCounts(stage.query));
    }
  }
  std::set<std::string> taken;
  for (const auto& source : aqueduct.sources) {
    taken.insert(ToLowerAscii(SourceName(source)));
  }
  bool any_replaced = false;
  std::vector<std::vector<StagePlan>> plan(n);
  // Readers of each stage, to extend the lifetime of views read through other views.
  std::vector<std::vector<std::vector<std::pair<int, int>>>> readers(n);
  for (int p = 0; p < n; p++) {
    plan[p].resize(groups[p].size());
    readers[p].resize(groups[p].size());
    for (int s = 0; s < static_cast<int>(groups[p].size()); s++) {
      StagePlan& sp = plan[p][s];
      sp.position = p;
      sp.sub_position = s;
      std::string name = ToLowerAscii(groups[p][s].name);
      sp.replaces = !taken.insert(name).second;
      any_replaced |= sp.replaces;
      int last_reader = -1;
      for (int q = p + 1; q < n; q++) {
        for (int t = 0; t < static_cast<int>(groups[q].size()); t++) {
          auto it = idents[q][t].find(name);
          if (it != idents[q][t].end()) {
            sp.reads += it->second;
            last_reader = q;
            readers[p][s].emplace_back(q, t);
          }
        }
      }
      bool is_last_group = p == n - 1;
      bool feeds_destination =
          has_destination && is_last_group && s + 1 == static_cast<int>(groups[p].size());
      if (feeds_destination) {
        sp.reads++;
      }
      const Stage& stage = groups[p][s];
      // Printing a stage reads it once more: keep the result instead of computing it twice.
      bool printed = stage.show.has_value();
      sp.materialise =
          sp.reads > 1 || (printed && sp.reads > 0) || (is_last_group && !has_destination);
      if (is_last_group) {
        sp.drop_after = has_destination ? n : -1;  // TTL = len
      } else {
        sp.drop_after = last_reader >= 0 ? last_reader : p + 1;
      }
    }
  }
  if (any_replaced) {
    for (auto& group : plan) {
      for (auto& sp : group) {
        sp.materialise = true;
        sp.drop_after = (sp.position == n - 1 && !has_destination) ? -1 : n;
      }
    }
    return plan;
  }
  // A view is only a name for its query: whatever reads it through another view needs it alive
  // as long as that view is. Walk backwards so readers are final before their sources.
  for (int p = n - 1; p >= 0; p--) {
    for (int s = 0; s < static_cast<int>(plan[p].size()); s++) {
      StagePlan& sp = plan[p][s];
      for (auto [q, t] : readers[p][s]) {
        const StagePlan& reader = plan[q][t];
        if (reader.materialise || sp.drop_after < 0) {
          continue;
        }
        sp.drop_after = reader.drop_after < 0 ? -1 : std::max(sp.drop_after, reader.drop_after);
      }
    }
  }
  return plan;
}

}  // namespace aqueducts::runner
