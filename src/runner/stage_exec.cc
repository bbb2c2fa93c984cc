#include "runner/stage_exec.h"

#include <chrono>

#include "engine/value_text.h"

namespace aqueducts::runner {
namespace {

using engine::QuoteIdent;

// `show: 0` prints everything, capped at 500 rows.
constexpr uint64_t kShowAllCap = 500;

Result<std::string> SchemaText(engine::Connection& conn, const std::string& name) {
  AQ_ASSIGN_OR_RETURN(auto rows, conn.Query("DESCRIBE SELECT * FROM " + QuoteIdent(name)));
  std::string text;
  for (const auto& row : rows.rows) {
    // DESCRIBE columns: column_name, column_type, null, ...
    bool nullable = !row[2] || *row[2] == "YES";
    text += row[0].value_or("") + ": " + row[1].value_or("") +
            (nullable ? " (nullable)" : " (not null)") + "\n";
  }
  return text;
}

// Explain (or explain_analyze), then show, then print_schema.
Status EmitOutputs(engine::Connection& conn, const Stage& stage, const Emitter& emitter,
                   PreviewFormat preview) {
  const std::string query = TrimQuery(stage.query);
  if (stage.explain_analyze || stage.explain) {
    // Explain the original query, not the stored result.
    bool analyze = stage.explain_analyze;
    AQ_ASSIGN_OR_RETURN(auto rows,
                        conn.Query((analyze ? "EXPLAIN ANALYZE " : "EXPLAIN ") + query + "\n"));
    // DuckDB's plan is a box-drawn tree; printed inside a `plan_type | plan` table (the
    // original's layout) it becomes unreadable, so print each plan as it is, under its type.
    std::string plan;
    for (const auto& row : rows.rows) {
      plan += row[0].value_or("plan") + ":\n" + row[1].value_or("") + "\n";
    }
    emitter.Output({stage.name, analyze ? OutputKind::kExplainAnalyze : OutputKind::kExplain,
                    std::move(plan)});
  }
  if (stage.show) {
    uint64_t n = *stage.show;
    uint64_t shown = 0;
    AQ_ASSIGN_OR_RETURN(std::string table, conn.RenderAs("SELECT * FROM " + QuoteIdent(stage.name),
                                                         n ? n : kShowAllCap, preview, &shown));
    emitter.Output({stage.name, n ? OutputKind::kShowLimit : OutputKind::kShow, std::move(table),
                    static_cast<int64_t>(shown)});
  }
  if (stage.print_schema) {
    AQ_ASSIGN_OR_RETURN(std::string schema, SchemaText(conn, stage.name));
    emitter.Output({stage.name, OutputKind::kPrintSchema, std::move(schema)});
  }
  return Status::OK();
}

// The stage's table replaces a same-named source or stage. Its query may read
// the old one, so the new table is built under another name first.
// `query` counted by `tap` when there is one.
std::string Tapped(const engine::RowTap* tap, const std::string& query) {
  return tap != nullptr ? tap->Wrap(query) : query + "\n";
}

Result<int64_t> ReplaceExisting(engine::Connection& conn, const Stage& stage,
                                const engine::RowTap* tap) {
  const std::string fresh = QuoteIdent(stage.name + "__aq_replacing");
  AQ_ASSIGN_OR_RETURN(auto rows, conn.Query("CREATE OR REPLACE TABLE " + fresh + " AS " +
                                            Tapped(tap, TrimQuery(stage.query))));
  const std::string name = QuoteIdent(stage.name);
  if (!conn.Execute("DROP VIEW IF EXISTS " + name).ok()) {
    AQ_RETURN_IF_ERROR(conn.Execute("DROP TABLE IF EXISTS " + name));
  }
  AQ_RETURN_IF_ERROR(conn.Execute("ALTER TABLE " + fresh + " RENAME TO " + name));
  return engine::ReportedRowCount(rows);
}

}  // namespace

std::string TrimQuery(const std::string& query) {
  size_t end = query.size();
  while (end > 0 &&
         (std::isspace(static_cast<unsigned char>(query[end - 1])) || query[end - 1] == ';')) {
    end--;
  }
  return query.substr(0, end);
}

Status ExecuteStage(engine::Connection& conn, const Stage& stage, const StagePlan& plan,
                    const Emitter& emitter, const engine::RowTap* tap, RunMonitor& monitor,
                    PreviewFormat preview) {
  auto start = std::chrono::steady_clock::now();
  ProgressEvent started;
  started.type = ProgressEvent::Type::kStageStarted;
  started.name = stage.name;
  started.position = plan.position;
  started.sub_position = plan.sub_position;
  emitter.Emit(started);

  // The newline ends a trailing `--` comment of the query. A table's rows are counted as they
  // are built (the tap); a view runs nothing here.
  std::string sql = plan.materialise ? "CREATE OR REPLACE TABLE " + QuoteIdent(stage.name) +
                                           " AS " + Tapped(tap, TrimQuery(stage.query))
                                     : "CREATE OR REPLACE VIEW " + QuoteIdent(stage.name) + " AS " +
                                           TrimQuery(stage.query) + "\n";
  int64_t rows = -1;  // a view streams: its rows are counted by whoever reads it
  Status status;
  if (plan.replaces) {
    auto result = ReplaceExisting(conn, stage, tap);
    status = result.status();
    if (result.ok()) {
      rows = *result;
    }
  } else if (plan.materialise) {
    auto result = conn.Query(sql);
    status = result.status();
    if (status.ok()) {
      rows = engine::ReportedRowCount(*result);
    }
  } else {
    status = conn.Execute(sql);
  }
  if (status.ok() && (plan.materialise || plan.replaces)) {
    monitor.Finish(&conn, rows);
  }
  if (status.ok()) {
    status = EmitOutputs(conn, stage, emitter, preview);
  }
  if (!status.ok()) {
    return status.WithPrefix("Failed to execute stage '" + stage.name + "': ",
                             "aqueducts::stage::execution_error");
  }
  ProgressEvent completed = started;
  completed.type = ProgressEvent::Type::kStageCompleted;
  completed.duration_ms = MillisSince(start);
  completed.rows = rows;
  emitter.Emit(completed);
  return Status::OK();
}

}  // namespace aqueducts::runner
