// CheckPipeline (run.h): bind every stage against the real source schemas without reading data.

#include <filesystem>
#include <set>

#include "aqueducts/check.h"

#include "engine/database_impl.h"
#include "engine/session.h"
#include "runner/endpoints.h"
#include "runner/infer_schema.h"
#include "runner/stage_exec.h"
#include "runner/table_refs.h"

namespace aqueducts {
namespace {

using engine::QuoteIdent;
using runner::IdentifierCounts;

constexpr const char* kBindId = "aqueducts::stage::sql_bind_error";

// "<where>: " for a stage whose query's place in the pipeline file is known.
std::string Where(const CheckOptions& options, const std::string& stage) {
  auto it = options.stage_locations.find(stage);
  return it == options.stage_locations.end() ? std::string() : it->second + ": ";
}

// A local location that does not exist is the likeliest cause of a failing run; globs and
// remote URLs are left to DuckDB.
Status CheckLocation(const std::string& source, const Location& location) {
  if (!location.IsLocal()) {
    return Status::OK();
  }
  std::string path = location.LocalPath();
  if (path.find_first_of("*?[") != std::string::npos) {
    return Status::OK();
  }
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status::NotFound("source '" + source + "': location '" + path + "' does not exist",
                            "aqueducts::source::not_found");
  }
  return Status::OK();
}

// The column list of a CREATE TABLE of the shape DESCRIBE returned. Repeated names get a
// suffix, as CREATE TABLE AS gives them.
std::string ColumnsDdl(const Database::Rows& described) {
  std::set<std::string> used;
  std::string ddl;
  for (const auto& row : described.rows) {
    std::string name = row[0].value_or("");
    std::string unique = name;
    for (int i = 1; used.count(ToLowerAscii(unique)) != 0; ++i) {
      unique = name + "_" + std::to_string(i);
    }
    used.insert(ToLowerAscii(unique));
    ddl += (ddl.empty() ? "" : ", ") + QuoteIdent(unique) + " " + row[1].value_or("VARCHAR");
  }
  return "(" + ddl + ")";
}

class Checker {
 public:
  Checker(const Aqueduct& aqueduct, const CheckOptions& options, engine::Session& session,
          engine::Connection& conn)
      : aqueduct_(aqueduct), options_(options), session_(session), conn_(conn) {}

  Status Run() {
    for (const Source& source : aqueduct_.sources) {
      AQ_RETURN_IF_ERROR(CheckSource(source));
    }
    for (size_t p = 0; p < aqueduct_.stages.size(); ++p) {
      AQ_RETURN_IF_ERROR(CheckGroup(p));
    }
    return CheckDestination();
  }

  // Drop what this check created (on a caller's database).
  void Cleanup() {
    for (const std::string& name : tables_) {
      (void)conn_.Execute("DROP TABLE IF EXISTS " + QuoteIdent(name));
    }
    for (const std::string& name : views_) {
      (void)conn_.Execute("DROP VIEW IF EXISTS " + QuoteIdent(name));
    }
  }

  std::vector<std::string> notes() const { return notes_; }

 private:
  Status CheckSource(const Source& source) {
    const std::string& name = SourceName(source);
    if (const auto* file = std::get_if<FileSource>(&source)) {
      AQ_RETURN_IF_ERROR(CheckLocation(name, file->location));
    }
    if (const auto* dir = std::get_if<DirSource>(&source)) {
      AQ_RETURN_IF_ERROR(CheckLocation(name, dir->location));
    }
    if (const auto* delta = std::get_if<DeltaSource>(&source)) {
      AQ_RETURN_IF_ERROR(CheckLocation(name, delta->location));
    }
    if (std::holds_alternative<OdbcSource>(source)) {
      // Its columns are only known by running its query on the database: stages reading it are
      // parsed, not bound.
      opaque_.insert(ToLowerAscii(name));
      notes_.push_back("source '" + name +
                       "' (odbc) is not contacted by validate; stages reading it are not bound");
      return Status::OK();
    }
    // File and directory sources become views (DuckDB reads only file metadata and a sample to
    // learn the columns); Delta sources replay the log, not the data.
    AQ_RETURN_IF_ERROR(
        runner::RegisterSource(connector::RunContext(session_, conn_, nullptr, nullptr), source));
    if (!std::holds_alternative<InMemorySource>(source)) {
      views_.push_back(name);
    }
    return Status::OK();
  }

  // A new Delta table without `schema` gets the final stage's columns: say which.
  Status CheckDestination() {
    if (!aqueduct_.destination || aqueduct_.stages.empty() || aqueduct_.stages.back().empty() ||
        !runner::NeedsInferredSchema(*aqueduct_.destination)) {
      return Status::OK();
    }
    const Stage& last = aqueduct_.stages.back().back();
    const std::string& name = DestinationName(*aqueduct_.destination);
    if (opaque_.count(ToLowerAscii(last.name)) != 0) {
      return Status::OK();
    }
    auto described = conn_.Query("DESCRIBE SELECT * FROM " + QuoteIdent(last.name));
    auto fields = described.ok() ? runner::FieldsOfDescribe(*described)
                                 : Result<std::vector<Field>>(described.status());
    if (!fields.ok()) {
      return fields.status().WithPrefix(
          "Delta destination '" + name +
              "': the table does not exist and `schema` is empty; inferring it from stage '" +
              last.name + "' failed (write `schema` to pin the types): ",
          "aqueducts::destination::delta_error");
    }
    notes_.push_back("Delta destination '" + name + "' does not exist: run creates it with the " +
                     "columns of stage '" + last.name +
                     "'; to pin them, add to the destination:\n" + runner::SchemaYaml(*fields));
    return Status::OK();
  }

  Status CheckGroup(size_t position) {
    const auto& group = aqueduct_.stages[position];
    std::vector<std::pair<std::string, std::string>> shapes;  // name -> columns DDL
    for (const Stage& stage : group) {
      std::map<std::string, int> names = IdentifierCounts(stage.query);
      bool reads_opaque = false;
      for (const auto& [name, count] : names) {
        reads_opaque |= opaque_.count(name) != 0;
      }
      if (reads_opaque) {
        opaque_.insert(ToLowerAscii(stage.name));
        continue;
      }
      // DESCRIBE binds the query and returns its columns without running it. Wrapped, so that
      // any query form (FROM-first, VALUES, WITH) is accepted; the newline ends a trailing
      // `--` comment, and the query's first line stays on the generated SQL's first line.
      auto described =
          conn_.Query("DESCRIBE SELECT * FROM (" + runner::TrimQuery(stage.query) + "\n)");
      if (!described.ok()) {
        return BindError(position, stage, names, described.status());
      }
      shapes.emplace_back(stage.name, ColumnsDdl(*described));
    }
    // The group's tables appear only after all its stages bound: siblings cannot see each other.
    for (const auto& [name, ddl] : shapes) {
      (void)conn_.Execute("DROP VIEW IF EXISTS " + QuoteIdent(name));
      AQ_RETURN_IF_ERROR(
          conn_.Execute("CREATE OR REPLACE TABLE " + QuoteIdent(name) + " " + ddl)
              .WithPrefix("stage '" + name + "': cannot create a table of its columns: ", kBindId));
      tables_.push_back(name);
    }
    return Status::OK();
  }

  Status BindError(size_t position, const Stage& stage, const std::map<std::string, int>& names,
                   const Status& error) {
    const auto& group = aqueduct_.stages[position];
    for (const Stage& sibling : group) {
      if (&sibling == &stage || names.count(ToLowerAscii(sibling.name)) == 0 ||
          Visible(sibling.name)) {
        continue;
      }
      return Status::SqlError(Where(options_, stage.name) + "stage '" + stage.name +
                                  "' reads stage '" + sibling.name +
                                  "', which runs in parallel with it in the same group (stages[" +
                                  std::to_string(position) +
                                  "]): a stage sees only sources and stages of earlier groups; "
                                  "move '" +
                                  sibling.name + "' to an earlier group",
                              kBindId);
    }
    return Status::SqlError(
        Where(options_, stage.name) + "stage '" + stage.name + "': " + error.message(), kBindId);
  }

  // Whether `name` already exists (a source or a stage of an earlier group).
  bool Visible(const std::string& name) {
    return conn_.Execute("SELECT * FROM " + QuoteIdent(name) + " LIMIT 0").ok();
  }

  const Aqueduct& aqueduct_;
  const CheckOptions& options_;
  engine::Session& session_;
  engine::Connection& conn_;
  std::set<std::string> opaque_;  // lower-case names whose columns are unknown
  std::vector<std::string> views_;
  std::vector<std::string> tables_;
  std::vector<std::string> notes_;
};

}  // namespace

Result<std::vector<std::string>> CheckPipeline(const Aqueduct& aqueduct,
                                               const CheckOptions& options) {
  AQ_RETURN_IF_ERROR(ValidateSql(aqueduct));
  std::unique_ptr<engine::Session> owned;
  engine::Session* session = nullptr;
  if (options.database != nullptr) {
    session = &engine::SessionOf(*options.database);
  } else {
    AQ_ASSIGN_OR_RETURN(owned, engine::Session::Open(Database::Options{}));
    session = owned.get();
  }
  AQ_ASSIGN_OR_RETURN(auto conn, session->Connect());
  Checker checker(aqueduct, options, *session, *conn);
  Status status;
  try {
    status = checker.Run();
  } catch (const std::exception& e) {
    status = Status::Internal(std::string("unexpected error while checking: ") + e.what());
  }
  checker.Cleanup();
  AQ_RETURN_IF_ERROR(status);
  return checker.notes();
}

}  // namespace aqueducts
