#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "aqueducts/cancel_token.h"
#include "aqueducts/model.h"
#include "aqueducts/progress.h"
#include "aqueducts/status.h"

namespace duckdb {
class DuckDB;
}

namespace aqueducts {

/// \brief A DuckDB database that runs pipelines. Either owned (Open) or borrowed from an embedder
/// (Wrap), so a program can create tables for in_memory sources and read in_memory destinations.
class Database {
 public:
  struct Options {
    std::optional<uint64_t> memory_limit_bytes;  ///< DuckDB memory_limit; default: DuckDB's
    std::optional<int> threads;                  ///< default: all cores
    std::string temp_directory;                  ///< spill directory; default: DuckDB's
  };

  /// Open a new in-memory database with the custom functions of docs/sql-functions.md registered.
  static Result<std::unique_ptr<Database>> Open(const Options& options);
  static Result<std::unique_ptr<Database>> Open() { return Open(Options{}); }
  /// Use a database the caller owns (it must outlive this object); registers the custom functions.
  static Result<std::unique_ptr<Database>> Wrap(duckdb::DuckDB& db);

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// Run one SQL statement, discarding any result.
  Status Execute(const std::string& sql);

  /// A small, fully-read result: column names and every value rendered as text (NULL: nullopt).
  struct Rows {
    std::vector<std::string> columns;
    std::vector<std::string> types;  ///< DuckDB type names
    std::vector<std::vector<std::optional<std::string>>> rows;
  };
  /// Run a query and read the whole result as text. For tests and small lookups.
  Result<Rows> Query(const std::string& sql);

  /// The engine's state behind this handle; defined inside the library (src/engine), so nothing
  /// outside it depends on its layout.
  struct Impl;
  Impl& impl() const { return *impl_; }

 private:
  explicit Database(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// How a stage's `show` preview is rendered (`aqueducts run --output`; docs/pipeline-format.md,
/// "Previews"): kTable an ASCII box table for people; kCsv a header line and one line per row,
/// NULL as an empty field and '' as `""`; kJson one JSON object per row and line.
enum class PreviewFormat { kTable, kCsv, kJson };

/// "table", "csv", "json".
const char* PreviewFormatName(PreviewFormat format);
/// The format named `name` (as PreviewFormatName spells it); false for any other text.
bool ParsePreviewFormat(const std::string& name, PreviewFormat* format);

/// \brief How to run a pipeline.
struct RunOptions {
  /// Where to run; nullptr: a fresh database made from `database_options` for this run only.
  Database* database = nullptr;
  Database::Options database_options;
  /// Optional cancellation; the run stops with kCancelled and DuckDB is interrupted.
  std::shared_ptr<CancelToken> cancel;
  /// Interval of kStageProgress events while a query runs; 0 disables them.
  int progress_interval_ms = 250;
  /// How `show` previews are rendered (StageOutput::text).
  PreviewFormat preview_format = PreviewFormat::kTable;
};

/// Check every stage's SQL with DuckDB's parser (no data read): one SELECT-like statement per
/// stage, no DDL/DML. Errors are kSqlError naming the stage and the parser's message.
Status ValidateSql(const Aqueduct& aqueduct);

/// Run a pipeline (docs/pipeline-format.md): sources, stage groups in order (stages of a group in
/// parallel), then the destination. Events go to `sink` (may be nullptr). Errors name the element
/// concerned.
Status RunPipeline(const Aqueduct& aqueduct, const RunOptions& options, ProgressSink* sink);

/// The library version, e.g. "0.1.0".
const char* Version();

}  // namespace aqueducts
