// The command-line interface: flag parsing only (CLI11 stays in this one translation unit).
#include "cli/app.h"

#include <CLI/CLI.hpp>

#include "aqueducts/run.h"

#include "cli/commands.h"

namespace aqueducts::cli {
namespace {

// `short_e`: whether -e abbreviates --executor. Not on `cancel`, where -e is the execution id
// (as in the original Aqueducts CLI).
void AddRemoteOptions(CLI::App* cmd, RemoteOptions* flags, bool required, bool short_e = true) {
  auto* opt = cmd->add_option(short_e ? "--executor,-e" : "--executor", flags->executor,
                              "Executor URL, e.g. https://host:3031 (http:// if no scheme)");
  if (required) {
    opt->required();
  }
  cmd->add_option("--api-key,-k", flags->api_key, "API key of the executor")
      ->envname("AQUEDUCTS_API_KEY");
  cmd->add_option("--ca-cert", flags->ca_cert, "PEM file of a private CA to trust (HTTPS)");
  cmd->add_flag("--insecure", flags->insecure, "Do not verify the executor's TLS certificate");
}

void AddPipelineFlags(CLI::App* cmd, RunArgs* args) {
  cmd->add_option("--file,-f", args->file, "Pipeline file (.yml, .yaml, .json, .toml)")->required();
  cmd->add_option("--params,--param,-p", args->params,
                  "Template parameter key=value (repeatable), substituted for ${key}")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"Aqueducts: declarative ETL pipelines (YAML, JSON, TOML) on DuckDB", "aqueducts"};
  app.set_version_flag("--version,-V", std::string("aqueducts ") + Version());
  app.require_subcommand(1);
  app.footer(
      "Examples:\n"
      "  aqueducts run -f pipeline.yml -p month=jan -p year=2024\n"
      "  aqueducts validate -f pipeline.yml -p month=jan\n"
      "  aqueducts run -f pipeline.yml --executor https://exec:3031 --api-key $KEY\n"
      "Exit codes: 0 success, 1 pipeline error, 2 usage error, 130 cancelled (Ctrl+C).");

  RunArgs run_args;
  auto* run = app.add_subcommand("run", "Run a pipeline locally or on a remote executor");
  AddPipelineFlags(run, &run_args);
  AddRemoteOptions(run, &run_args.remote, false);
  run->add_option("--max-memory", run_args.max_memory,
                  "DuckDB memory limit (GB, or with a unit: 512MB, 4GB); spills beyond it");
  run->add_option("--threads", run_args.threads, "Worker threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  run->add_option("--temp-dir", run_args.temp_dir, "Directory DuckDB spills to");
  bool quiet = false;
  bool verbose = false;
  run->add_flag("--quiet,-q", quiet, "Print only stage outputs and errors");
  run->add_flag("--verbose,-v", verbose, "Print every event, including query progress");

  RunArgs validate_args;
  auto* validate = app.add_subcommand(
      "validate", "Load, template and check a pipeline (SQL is parsed, no data is read)");
  AddPipelineFlags(validate, &validate_args);

  std::string schema_out;
  auto* schema = app.add_subcommand("schema", "Print the JSON Schema of the pipeline format");
  schema->add_option("--output,-o", schema_out, "Write to this file instead of stdout");

  RemoteOptions status_flags;
  auto* status = app.add_subcommand("status", "Show what a remote executor is doing");
  AddRemoteOptions(status, &status_flags, true);

  RemoteOptions cancel_flags;
  std::string cancel_id;
  auto* cancel = app.add_subcommand("cancel", "Cancel an execution on a remote executor");
  cancel->add_option("execution_id,--execution-id,-e", cancel_id, "Execution id (uuid)")
      ->required();
  AddRemoteOptions(cancel, &cancel_flags, true, /*short_e=*/false);

  auto* delta = app.add_subcommand("delta", "Inspect and tidy Delta tables");
  delta->require_subcommand(1);
  std::string history_table;
  int history_limit = 0;
  bool history_json = false;
  auto* history = delta->add_subcommand("history", "List the versions of a Delta table");
  history->add_option("table", history_table, "Table root (path or file:// URL)")->required();
  history->add_option("--limit,-n", history_limit, "Show only the newest N versions");
  history->add_flag("--json", history_json, "Print JSON lines instead of a table");
  std::string vacuum_table;
  double retain_hours = 168;
  bool dry_run = false;
  auto* vacuum = delta->add_subcommand(
      "vacuum", "Delete data files no longer referenced by the table (older than the retention)");
  vacuum->add_option("table", vacuum_table, "Table root (path or file:// URL)")->required();
  vacuum->add_option("--retain-hours", retain_hours, "Keep files removed less than N hours ago")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  vacuum->add_flag("--dry-run", dry_run, "List the files that would be deleted, delete nothing");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  if (quiet && verbose) {
    PrintError(Status::InvalidArgument("--quiet and --verbose cannot be used together"));
    return kExitUsage;
  }
  run_args.verbosity = quiet     ? Verbosity::kQuiet
                       : verbose ? Verbosity::kVerbose
                                 : Verbosity::kNormal;
  if (*run) {
    return RunCommand(run_args);
  }
  if (*validate) {
    return ValidateCommand(validate_args);
  }
  if (*schema) {
    return SchemaCommand(schema_out);
  }
  if (*status) {
    return StatusCommand(status_flags);
  }
  if (*cancel) {
    return CancelCommand(cancel_flags, cancel_id);
  }
  if (*history) {
    return DeltaHistoryCommand(history_table, history_limit, history_json);
  }
  if (*vacuum) {
    return DeltaVacuumCommand(vacuum_table, retain_hours, dry_run);
  }
  return kExitUsage;
}

}  // namespace aqueducts::cli
