#pragma once

// The DuckDB session: the one gateway to the engine. DuckDB-free header (pimpl); only
// src/engine/*.cc include <duckdb.hpp>.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aqueducts/run.h"
#include "aqueducts/status.h"

namespace duckdb {
class DuckDB;
class Connection;
}  // namespace duckdb

namespace aqueducts::engine {

/// Progress of the query running on a connection (DuckDB's GetQueryProgress).
struct QueryProgress {
  double percent = -1;  ///< 0-100, -1 unknown
  uint64_t rows_processed = 0;
  uint64_t total_rows = 0;
};

/// \brief One DuckDB connection. Not thread-safe except Interrupt() and Progress(), which may be
/// called from another thread while a query runs.
class Connection {
 public:
  ~Connection();
  /// Run one statement (or several separated by ';'), discarding results. DuckDB errors become
  /// kExecutionError / kSqlError / kOutOfMemory / kCancelled with DuckDB's message.
  Status Execute(const std::string& sql);
  /// Run a query and read the whole result, rendered as text.
  Result<Database::Rows> Query(const std::string& sql);
  /// Run a query and render its first `max_rows` rows as an ASCII box table (what a stage's `show`
  /// prints).
  Result<std::string> Render(const std::string& sql, uint64_t max_rows);
  /// As Render, with the header cells replaced by `column_names` (where given); `shown`
  /// (optional) receives the number of rows rendered.
  Result<std::string> Render(const std::string& sql, uint64_t max_rows,
                             const std::vector<std::string>& column_names,
                             uint64_t* shown = nullptr);
  /// As Render, in `format`: kTable as Render; kCsv a header line then one line per row (RFC 4180
  /// quoting; NULL an empty field, '' written `""`); kJson one object per row and line (numbers
  /// and booleans as JSON values, decimals with their exact digits, NaN/Infinity/-Infinity and
  /// other texts as strings, blobs base64, lists and structs nested, JSON columns verbatim).
  /// `shown` (optional) receives the number of rows rendered.
  Result<std::string> RenderAs(const std::string& sql, uint64_t max_rows, PreviewFormat format,
                               uint64_t* shown = nullptr);
  /// Interrupt the running query (it fails with kCancelled).
  void Interrupt();
  QueryProgress Progress();

  /// The underlying DuckDB connection, for engine-internal code (src/engine/*.cc only).
  duckdb::Connection& duck();

  struct Impl;
  explicit Connection(std::unique_ptr<Impl> impl);
  Impl* impl() { return impl_.get(); }

 private:
  std::unique_ptr<Impl> impl_;
};

/// \brief A DuckDB database plus settings for one or many pipeline runs. Thread-safe for Connect().
class Session {
 public:
  /// Open a fresh in-memory database: extension autoload/autoinstall off, progress tracking on
  /// (printing off), memory_limit/threads/temp_directory from options, custom functions registered.
  static Result<std::unique_ptr<Session>> Open(const Database::Options& options);
  /// Borrow a caller-owned database (registers custom functions on it).
  static Result<std::unique_ptr<Session>> Wrap(duckdb::DuckDB& db);
  ~Session();

  /// A new connection to this database (for parallel stages, destinations, ...).
  Result<std::unique_ptr<Connection>> Connect();
  /// The session's own connection, for short work on the calling thread.
  Connection& main();
  /// Let DuckDB read and write object-store URLs under `url` (s3://, az://, abfss://...) with
  /// the credentials of `config` (a location's storage_config, over the environment). Checks the
  /// keys; kInvalidArgument/kUnsupported name the location and the key, never a secret.
  Status RegisterObjectStore(const std::string& url,
                             const std::map<std::string, std::string>& config);

  /// Bytes currently held in DuckDB temporary (spill) files.
  int64_t TempFileBytes();
  /// Bytes DuckDB has uploaded to object stores on this session's database so far (every
  /// part and whole object it sent; 0 before the first object-store location is registered).
  int64_t UploadedBytes();
  /// The underlying DuckDB database, for engine-internal code (src/engine/*.cc only).
  duckdb::DuckDB& duck();

  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  Impl* impl() { return impl_.get(); }

 private:
  std::unique_ptr<Impl> impl_;
};

/// Quote an identifier for DuckDB SQL: "my ""table""".
std::string QuoteIdent(const std::string& name);
/// Quote a string literal: 'it''s'.
std::string QuoteLiteral(const std::string& value);

}  // namespace aqueducts::engine
