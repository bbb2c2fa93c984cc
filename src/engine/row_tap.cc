#include "engine/row_tap.h"

#include <map>
#include <mutex>

#include <duckdb.hpp>
#include <duckdb/function/table_function.hpp>
#include <duckdb/main/extension/extension_loader.hpp>

namespace aqueducts::engine {
namespace {

constexpr const char* kFunction = "__aq_row_tap";

// The counts of the live taps by id. The table function finds its count once, when the query
// is bound, and keeps it alive for as long as the query runs.
struct Taps {
  std::mutex mu;
  int64_t next_id = 1;
  std::map<int64_t, std::shared_ptr<std::atomic<int64_t>>> counts;
};

Taps& AllTaps() {
  static Taps* taps = new Taps();  // never destroyed: taps may outlive static destruction order
  return *taps;
}

struct TapData : duckdb::TableFunctionData {
  std::shared_ptr<std::atomic<int64_t>> count;
};

duckdb::unique_ptr<duckdb::FunctionData> BindTap(duckdb::ClientContext&,
                                                 duckdb::TableFunctionBindInput& input,
                                                 duckdb::vector<duckdb::LogicalType>& types,
                                                 duckdb::vector<duckdb::string>& names) {
  types = input.input_table_types;
  names = input.input_table_names;
  // A table function's columns must have unique names, where a subquery's may repeat: DuckDB
  // then renames the repeats (`a`, `A` read through a subquery are `a`, `A_1`). The same
  // renaming here keeps a wrapped relation's columns named as the relation's own are, without
  // binding it a second time to find out (which, over a CSV file, sniffs the file again).
  duckdb::QueryResult::DeduplicateColumns(names);
  auto data = duckdb::make_uniq<TapData>();
  int64_t id = input.inputs[1].GetValue<int64_t>();
  {
    Taps& taps = AllTaps();
    std::lock_guard<std::mutex> lock(taps.mu);
    auto it = taps.counts.find(id);
    // A tap that is gone counts into a private counter nobody reads.
    data->count = it != taps.counts.end() ? it->second : std::make_shared<std::atomic<int64_t>>(0);
  }
  return std::move(data);
}

duckdb::OperatorResultType TapRows(duckdb::ExecutionContext&, duckdb::TableFunctionInput& input,
                                   duckdb::DataChunk& in, duckdb::DataChunk& out) {
  const auto& data = input.bind_data->Cast<TapData>();
  data.count->fetch_add(static_cast<int64_t>(in.size()), std::memory_order_relaxed);
  out.Reference(in);
  return duckdb::OperatorResultType::NEED_MORE_INPUT;
}

}  // namespace

RowTap::RowTap() : count_(std::make_shared<std::atomic<int64_t>>(0)) {
  Taps& taps = AllTaps();
  std::lock_guard<std::mutex> lock(taps.mu);
  id_ = taps.next_id++;
  taps.counts[id_] = count_;
}

RowTap::~RowTap() {
  Taps& taps = AllTaps();
  std::lock_guard<std::mutex> lock(taps.mu);
  taps.counts.erase(id_);
}

std::string RowTap::Wrap(const std::string& relation_sql) const {
  // The newline ends a trailing `--` comment of the relation.
  return std::string("SELECT * FROM ") + kFunction + "((" + relation_sql + "\n), " +
         std::to_string(id_) + ")";
}

void RegisterRowTap(duckdb::DatabaseInstance& db) {
  duckdb::TableFunction function(
      kFunction, {duckdb::LogicalType::TABLE, duckdb::LogicalType::BIGINT}, nullptr, BindTap);
  function.in_out_function = TapRows;
  duckdb::ExtensionLoader loader(db, "aqueducts");
  loader.RegisterFunction(function);
}

}  // namespace aqueducts::engine
