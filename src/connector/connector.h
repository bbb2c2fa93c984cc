#pragma once

// The one contract between the runner and every kind of source and destination.
//
// A source registers a table or view named after it; a destination consumes a relation (a
// SELECT). Each gets a RunContext from the runner, for one step of one run:
// - `conn`, the connection the runner watches: every DuckDB statement of the step runs on it, so
//   a cancel interrupts it and progress is reported from it. A connector opens no DuckDB
//   connection of its own and never uses the session's main connection (sources register in
//   parallel; a connection is not thread-safe).
// - `cancel`, checked by work that runs outside DuckDB (ODBC fetches and batches, before a
//   commit or a publish): a cancelled step returns kCancelled and leaves the previous output as
//   it was.
// - the run's event sink (Log), and the object-store registry (UseStore).
// - `progress` (may be null), where a step reports figures the runner cannot read from DuckDB:
//   the phase a long write is in (Phase), rows a connector counts itself (Rows).
// Connectors return their errors without naming the element: the runner prefixes each error
// once, with the label registered for the kind (Registry).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <variant>

#include "aqueducts/cancel_token.h"
#include "aqueducts/model.h"
#include "aqueducts/progress.h"
#include "aqueducts/status.h"

#include "engine/session.h"

namespace aqueducts::connector {

/// \brief A step's own figures for the run's live progress (docs/progress.md), beside DuckDB's
/// percent of the query on the step's connection, which the runner reads itself. Thread-safe.
class StepProgress {
 public:
  virtual ~StepProgress() = default;
  /// The step enters `phase` ("scanning", "writing files", "committing"): from now on its
  /// percent runs from `from` to `to` (0-100) as DuckDB's percent of each query on the step's
  /// connection runs from 0 to 100. The step's percent never goes down. `phase` travels as the
  /// stage_progress event's message.
  virtual void Phase(const std::string& phase, double from, double to) = 0;
  /// The rows the step has read so far, for a step whose rows the runner does not count (an
  /// ODBC fetch). A step's last progress event carries the last figure given here.
  virtual void Rows(int64_t rows) = 0;
};

/// \brief What a source or destination gets from the runner for one step.
class RunContext {
 public:
  RunContext(engine::Session& session, engine::Connection& conn, const CancelToken* cancel,
             ProgressSink* sink, StepProgress* progress = nullptr)
      : session_(session), conn_(conn), cancel_(cancel), sink_(sink), progress_(progress) {}

  /// The runner's watched connection for this step.
  engine::Connection& conn() const { return conn_; }
  const CancelToken* cancel() const { return cancel_; }
  bool Cancelled() const { return cancel_ != nullptr && cancel_->cancelled(); }
  /// kCancelled when the run is cancelled, OK otherwise: call it before publishing anything.
  Status CheckCancelled(const std::string& what) const;
  /// A log event of the run at `level` ("debug", "info", "warn", "error").
  void Log(LogLevel level, const std::string& message) const;
  /// Let the step read or write `location` when it is an object-store URL (a no-op for a local
  /// path), with the credentials of `config`.
  Status UseStore(const Location& location, const StorageConfig& config) const;
  /// Where the step reports its phase and its own row count (may be null: nobody listens).
  StepProgress* progress() const { return progress_; }
  /// StepProgress::Rows when someone listens.
  void Rows(int64_t rows) const {
    if (progress_ != nullptr) {
      progress_->Rows(rows);
    }
  }

 private:
  engine::Session& session_;
  engine::Connection& conn_;
  const CancelToken* cancel_;
  ProgressSink* sink_;
  StepProgress* progress_;
};

/// Rows and bytes a destination wrote (-1: unknown).
struct WriteStats {
  int64_t rows = -1;
  int64_t bytes = -1;
};

/// \brief One kind of source (one `type` tag).
class SourceKind {
 public:
  virtual ~SourceKind() = default;
  /// Register `source` as a table or view named SourceName(source), on ctx.conn().
  virtual Status Register(const Source& source, const RunContext& ctx) const = 0;
};

/// \brief One kind of destination (one `type` tag).
class DestinationKind {
 public:
  virtual ~DestinationKind() = default;
  /// Before any source is read: check (or create) the target.
  virtual Status Prepare(const Destination& destination, const RunContext& ctx) const = 0;
  /// Write the rows of `relation_sql` (a SELECT) and publish or commit them. All or nothing: on
  /// any error, a cancel included, the target keeps its previous content.
  virtual Result<WriteStats> Write(const Destination& destination, const RunContext& ctx,
                                   const std::string& relation_sql) const = 0;
};

/// \brief A SourceKind for the model's alternative `T` (FileSource, DeltaSource, ...).
template <class T>
class TypedSource : public SourceKind {
 public:
  Status Register(const Source& source, const RunContext& ctx) const final {
    return Register(std::get<T>(source), ctx);
  }
  virtual Status Register(const T& source, const RunContext& ctx) const = 0;
};

/// \brief A DestinationKind for the model's alternative `T`.
template <class T>
class TypedDestination : public DestinationKind {
 public:
  Status Prepare(const Destination& destination, const RunContext& ctx) const final {
    return Prepare(std::get<T>(destination), ctx);
  }
  Result<WriteStats> Write(const Destination& destination, const RunContext& ctx,
                           const std::string& relation_sql) const final {
    return Write(std::get<T>(destination), ctx, relation_sql);
  }
  virtual Status Prepare(const T& destination, const RunContext& ctx) const = 0;
  virtual Result<WriteStats> Write(const T& destination, const RunContext& ctx,
                                   const std::string& relation_sql) const = 0;
};

/// \brief How the runner names an element in an error: before + name + after, and the error id,
/// e.g. {"Failed to register file source '", "'. ", "aqueducts::source::register_file"}.
struct ErrorLabel {
  std::string before;
  std::string after;
  std::string id;
  /// `status` prefixed with the element's name (OK stays OK; the code is kept).
  Status Apply(const Status& status, const std::string& name) const;
};

/// \brief The kinds of sources and destinations, keyed by their `type` tag ("file",
/// "directory", "delta", "odbc", "in_memory"). Filled once, then only read (thread-safe).
class Registry {
 public:
  struct SourceEntry {
    std::unique_ptr<SourceKind> kind;
    ErrorLabel on_register;
  };
  struct DestinationEntry {
    std::unique_ptr<DestinationKind> kind;
    ErrorLabel on_prepare;
    ErrorLabel on_write;
  };

  void AddSource(const std::string& tag, std::unique_ptr<SourceKind> kind, ErrorLabel on_register);
  void AddDestination(const std::string& tag, std::unique_ptr<DestinationKind> kind,
                      ErrorLabel on_prepare, ErrorLabel on_write);
  /// The entry for `tag`; nullptr when no kind is registered under it.
  const SourceEntry* FindSource(const std::string& tag) const;
  const DestinationEntry* FindDestination(const std::string& tag) const;

 private:
  std::map<std::string, SourceEntry> sources_;
  std::map<std::string, DestinationEntry> destinations_;
};

}  // namespace aqueducts::connector
