// The command-line interface: flag parsing only (CLI11 stays in this one translation unit).
#include "cli/app.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "aqueducts/run.h"

#include "cli/commands.h"
#include "cli/discovery.h"

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
  cmd->add_option("--ca-cert", flags->ca_cert,
                  "PEM file of a private CA (or a self-signed certificate) to trust for an https "
                  "executor or --server")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--insecure", flags->insecure,
                "Do not verify the TLS certificate of the executor or --server");
}

void AddPipelineFlags(CLI::App* cmd, RunArgs* args) {
  cmd->add_option("--file,-f", args->file, "Pipeline file (.yml, .yaml, .json, .toml)")->required();
  cmd->add_option("--params,--param,-p", args->params,
                  "Template parameter key=value (repeatable), substituted for ${key}")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_flag("--lenient", args->lenient,
                "Warn about unknown keys in the pipeline file instead of failing");
}

// A remote command without a key would only fail at the executor (401): refuse it as a usage
// error naming the flag before connecting.
bool HasApiKey(const RemoteOptions& remote) {
  if (remote.executor.empty() || !remote.api_key.empty()) {
    return true;
  }
  PrintError(Status::InvalidArgument(
      "API key is required for remote execution: pass --api-key (or set AQUEDUCTS_API_KEY)"));
  return false;
}

// "unknown command 'rnu'" with the nearest command of `parent`, exit 2.
int UnknownCommand(const std::string& word, const CLI::App* parent) {
  std::vector<std::string> names;
  for (const CLI::App* sub : parent->get_subcommands({})) {
    names.push_back(sub->get_name());
  }
  std::string nearest = NearestCommand(word, names);
  std::string message = "unknown command '" + word + "'";
  message += nearest.empty() ? "" : " (did you mean '" + nearest + "'?)";
  std::string all;
  for (const auto& name : names) {
    all += (all.empty() ? "" : ", ") + name;
  }
  PrintError(Status::InvalidArgument(message + "; commands: " + all +
                                     " (aqueducts help <command> for details)"));
  return kExitUsage;
}

// The commands and their flags, for completion scripts.
void DescribeInto(const CLI::App& app, const std::string& path, std::vector<CommandSpec>* out) {
  CommandSpec spec;
  spec.path = path;
  for (const CLI::Option* option : app.get_options({})) {
    for (const std::string& name : option->get_lnames()) {
      spec.flags.push_back("--" + name);
    }
    for (const std::string& name : option->get_snames()) {
      spec.flags.push_back("-" + name);
    }
  }
  std::vector<const CLI::App*> subs = app.get_subcommands({});
  for (const CLI::App* sub : subs) {
    spec.children.push_back(sub->get_name());
  }
  out->push_back(spec);
  for (const CLI::App* sub : subs) {
    DescribeInto(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), out);
  }
}

std::vector<CommandSpec> Describe(const CLI::App& app) {
  std::vector<CommandSpec> out;
  DescribeInto(app, "", &out);
  // `help` is handled before parsing; complete it like a command.
  out.front().children.push_back("help");
  return out;
}

// Every command's flags, filled by CLI11's parse, and the commands themselves.
struct Commands {
  RunArgs run_args;
  bool quiet = false;
  bool verbose = false;
  RunArgs validate_args;
  RunArgs plan_args;
  std::string task_attempt;
  std::string schema_out;
  RemoteOptions status_flags;
  RemoteOptions cancel_flags;
  std::string cancel_id;
  std::string history_table;
  int history_limit = 0;
  bool history_json = false;
  std::vector<std::string> history_storage;
  std::string vacuum_table;
  double retain_hours = 168;
  bool dry_run = false;
  std::vector<std::string> vacuum_storage;
  std::string uploads_url;
  bool uploads_abort = false;
  std::string uploads_older_than = "24h";
  std::vector<std::string> uploads_storage;
  std::string init_dir;
  std::string shell;

  CLI::App* run = nullptr;
  CLI::App* validate = nullptr;
  CLI::App* distribute_plan = nullptr;
  CLI::App* distribute_task = nullptr;
  CLI::App* schema = nullptr;
  CLI::App* status = nullptr;
  CLI::App* cancel = nullptr;
  CLI::App* delta = nullptr;
  CLI::App* history = nullptr;
  CLI::App* vacuum = nullptr;
  CLI::App* storage = nullptr;
  CLI::App* uploads = nullptr;
  CLI::App* init = nullptr;
  CLI::App* completions = nullptr;
};

void AddRunCommand(CLI::App& app, Commands& c) {
  RunArgs& run_args = c.run_args;
  auto* run = c.run = app.add_subcommand("run", "Run a pipeline locally or on a remote executor");
  AddPipelineFlags(run, &run_args);
  AddRemoteOptions(run, &run_args.remote, false);
  run->add_option("--server", run_args.remote.server,
                  "Run through an aqueducts-server at this URL (then --executor is the name of a "
                  "registered executor)")
      ->envname("AQUEDUCTS_SERVER_URL");
  run->add_option("--token", run_args.remote.token, "API token of the server (with --server)")
      ->envname("AQUEDUCTS_TOKEN");
  run->add_option("--label", run_args.remote.label,
                  "With --server: run on any online executor with this label (key=value)");
  run->add_option("--max-memory", run_args.max_memory,
                  "DuckDB memory limit (GB, or with a unit: 512MB, 4GB); spills beyond it");
  run->add_option("--threads", run_args.threads, "Worker threads (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  run->add_option("--temp-dir", run_args.temp_dir, "Directory DuckDB spills to");
  run->add_option("--output,-o", run_args.output,
                  "How stage previews (show) print on stdout: table (for people), csv, or json "
                  "(one {\"stage\", \"row\"} object per line); notes and plans go to stderr")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->default_str("table");
  run->add_option("--dask", run_args.dask,
                  "Run across a Dask cluster: the scheduler's address, e.g. tcp://host:8786 "
                  "(docs/scale-out.md)");
  run->add_option("--partitions", run_args.partitions,
                  "With --dask: how many partitions to split the largest file source into "
                  "(default 8, at most one per file)")
      ->check(CLI::PositiveNumber);
  run->add_option("--broadcast-limit", run_args.broadcast_limit,
                  "With --dask: largest other source copied to every partition (default 256MB)");
  run->add_option("--worker-binary", run_args.worker_binary,
                  "With --dask: the aqueducts program on the workers (default: this one's path)");
  run->add_flag("--explain-distribution", run_args.explain_distribution,
                "With --dask: print where each source and stage would run, run nothing");
  run->add_flag("--quiet,-q", c.quiet, "Print only stage outputs and errors");
  run->add_flag("--verbose,-v", c.verbose, "Print every event, including query progress");
}

void AddPipelineCommands(CLI::App& app, Commands& c) {
  auto* validate = c.validate = app.add_subcommand(
      "validate", "Load, template and check a pipeline (SQL is parsed, no data is read)");
  AddPipelineFlags(validate, &c.validate_args);

  // Internal commands of distributed runs (docs/scale-out.md), not listed in the help.
  auto* distribute_plan = c.distribute_plan = app.add_subcommand("distribute-plan", "");
  distribute_plan->group("");
  AddPipelineFlags(distribute_plan, &c.plan_args);
  distribute_plan->add_option("--partitions", c.plan_args.partitions)->check(CLI::PositiveNumber);
  distribute_plan->add_option("--broadcast-limit", c.plan_args.broadcast_limit);
  auto* distribute_task = c.distribute_task = app.add_subcommand("distribute-task", "");
  distribute_task->group("");
  distribute_task->add_option("--attempt", c.task_attempt)->required();
}

void AddRemoteCommands(CLI::App& app, Commands& c) {
  auto* schema = c.schema =
      app.add_subcommand("schema", "Print the JSON Schema of the pipeline format");
  schema->add_option("--output,-o", c.schema_out, "Write to this file instead of stdout");

  auto* status = c.status = app.add_subcommand("status", "Show what a remote executor is doing");
  AddRemoteOptions(status, &c.status_flags, true);

  auto* cancel = c.cancel =
      app.add_subcommand("cancel", "Cancel an execution on a remote executor");
  cancel->add_option("--execution-id,-e", c.cancel_id,
                     "Execution id (uuid); may also be given as the only argument");
  // The same id as a plain argument is read from the extras (a CLI11 positional would list the
  // id a second time in the help).
  cancel->allow_extras();
  AddRemoteOptions(cancel, &c.cancel_flags, true, /*short_e=*/false);
}

void AddDeltaCommands(CLI::App& app, Commands& c) {
  auto* delta = c.delta = app.add_subcommand("delta", "Inspect and tidy Delta tables");
  delta->require_subcommand(1);
  auto* history = c.history =
      delta->add_subcommand("history", "List the versions of a Delta table");
  history->add_option("table", c.history_table, "Table root (path or file:// URL)")->required();
  history->add_option("--limit,-n", c.history_limit, "Show only the newest N versions");
  history->add_flag("--json", c.history_json, "Print JSON lines instead of a table");
  history
      ->add_option("--storage-config", c.history_storage,
                   "KEY=VALUE storage_config key of an object-store table (repeatable)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  auto* vacuum = c.vacuum = delta->add_subcommand(
      "vacuum", "Delete data files no longer referenced by the table (older than the retention)");
  vacuum->add_option("table", c.vacuum_table, "Table root (path or file:// URL)")->required();
  vacuum->add_option("--retain-hours", c.retain_hours, "Keep files removed less than N hours ago")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  vacuum->add_flag("--dry-run", c.dry_run, "List the files that would be deleted, delete nothing");
  vacuum
      ->add_option("--storage-config", c.vacuum_storage,
                   "KEY=VALUE storage_config key of an object-store table (repeatable)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void AddStorageCommands(CLI::App& app, Commands& c) {
  auto* storage = c.storage = app.add_subcommand("storage", "Inspect and tidy object stores");
  storage->require_subcommand(1);
  auto* uploads = c.uploads = storage->add_subcommand(
      "uploads",
      "List the multipart uploads left pending under an object-store prefix (a killed writer "
      "leaves them; the store bills their parts); with --abort, abort the old ones");
  uploads->add_option("url", c.uploads_url, "Prefix to look under (s3://bucket/dir/, gs://...)")
      ->required();
  uploads->add_flag("--abort", c.uploads_abort,
                    "Abort the uploads started --older-than ago or more (default: only list)");
  uploads
      ->add_option("--older-than", c.uploads_older_than,
                   "Age from which an upload counts as abandoned: 0, 90s, 30m, 24h, 7d")
      ->capture_default_str();
  uploads
      ->add_option("--storage-config", c.uploads_storage,
                   "KEY=VALUE storage_config key of the store (repeatable)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void AddSetUpCommands(CLI::App& app, Commands& c) {
  auto* init = c.init = app.add_subcommand(
      "init", "Write a runnable starter pipeline with sample data into a directory");
  init->add_option("dir", c.init_dir, "Directory to write into (default: the current one)");

  auto* completions = c.completions =
      app.add_subcommand("completions", "Print a shell completion script (bash, zsh or fish)");
  completions->add_option("shell", c.shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
}

// Each command's help ends with its own examples (set after the subcommands exist, which
// would otherwise inherit the top-level footer).
void SetExamples(CLI::App& app, const Commands& c) {
  app.footer(
      "Examples:\n"
      "  aqueducts init my-pipeline && cd my-pipeline && aqueducts run -f pipeline.yml\n"
      "  aqueducts run -f pipeline.yml -p month=jan -p year=2024\n"
      "  aqueducts help run\n"
      "Exit codes: 0 success, 1 pipeline error, 2 usage error, 130 cancelled (Ctrl+C).");
  c.run->footer(
      "Examples:\n"
      "  aqueducts run -f pipeline.yml -p month=jan -p year=2024\n"
      "  aqueducts run -f pipeline.yml --max-memory 4GB --temp-dir /scratch\n"
      "  aqueducts run -f pipeline.yml -q --output json | jq -c 'select(.stage == \"totals\")'\n"
      "  aqueducts run -f pipeline.yml --executor https://exec:3031 --api-key $KEY\n"
      "  aqueducts run -f pipeline.yml --dask tcp://scheduler:8786 --partitions 16");
  c.validate->footer(
      "Examples:\n"
      "  aqueducts validate -f pipeline.yml -p month=jan\n"
      "  aqueducts validate -f legacy.yml --lenient    # unknown keys warn instead of failing");
  c.schema->footer(
      "Examples:\n"
      "  aqueducts schema -o aqueducts.schema.json\n"
      "  # then, first line of a YAML pipeline:\n"
      "  # yaml-language-server: $schema=./aqueducts.schema.json");
  c.status->footer("Examples:\n  aqueducts status --executor https://exec:3031 --api-key $KEY");
  c.cancel->footer(
      "Examples:\n"
      "  aqueducts cancel -e 6f1c0d9e-3b7a-4c1e-9a51-2f0c8d7e4b10 --executor https://exec:3031 "
      "--api-key $KEY");
  c.delta->footer(
      "Examples:\n"
      "  aqueducts delta history ./tables/orders -n 5\n"
      "  aqueducts delta vacuum ./tables/orders --retain-hours 24 --dry-run");
  c.history->footer("Examples:\n  aqueducts delta history ./tables/orders --limit 5 --json");
  c.vacuum->footer(
      "Examples:\n  aqueducts delta vacuum ./tables/orders --retain-hours 24 --dry-run");
  c.storage->footer(
      "Examples:\n"
      "  aqueducts storage uploads s3://bucket/out/ --storage-config aws_region=eu-west-1");
  c.uploads->footer(
      "Examples:\n"
      "  aqueducts storage uploads s3://bucket/out/                  # list, abort nothing\n"
      "  aqueducts storage uploads s3://bucket/out/ --abort          # abort those 24h or older\n"
      "  aqueducts storage uploads gs://bucket/ --abort --older-than 0");
  c.init->footer(
      "Examples:\n  aqueducts init my-pipeline\n  aqueducts init    # into the current directory");
  c.completions->footer(
      "Examples:\n"
      "  aqueducts completions bash > ~/.local/share/bash-completion/completions/aqueducts\n"
      "  aqueducts completions zsh > \"${fpath[1]}/_aqueducts\"\n"
      "  aqueducts completions fish > ~/.config/fish/completions/aqueducts.fish");
}

// `aqueducts help [command...]` prints the help of that command; an unknown command is named
// with the nearest known one instead of CLI11's "A subcommand is required". Returns the exit
// code when the command line was handled here.
std::optional<int> HelpOrUnknownCommand(CLI::App& app, int argc, char** argv) {
  if (argc >= 2 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands({})) {
      names.push_back(sub->get_name());
    }
    std::string first = argv[1];
    if (first == "help") {
      CLI::App* target = &app;
      std::string parents;  // "aqueducts delta": what `<command> --help` puts before the name
      for (int i = 2; i < argc; ++i) {
        CLI::App* next = nullptr;
        try {
          next = target->get_subcommand(argv[i]);
        } catch (const CLI::OptionNotFound&) {
        }
        if (next == nullptr) {
          return UnknownCommand(argv[i], target);
        }
        parents += (parents.empty() ? "" : " ") + target->get_name();
        target = next;
      }
      std::printf("%s", target->help(parents).c_str());
      return kExitOk;
    }
    if (std::find(names.begin(), names.end(), first) == names.end()) {
      return UnknownCommand(first, &app);
    }
  }
  return std::nullopt;
}

// `cancel`: the execution id from -e/--execution-id or the one plain argument, not both.
int CancelCommandLine(const Commands& c) {
  std::vector<std::string> extras = c.cancel->remaining();
  if (extras.size() > 1 || (extras.size() == 1 && extras[0].rfind('-', 0) == 0)) {
    PrintError(Status::InvalidArgument("cancel: unexpected argument '" + extras.back() +
                                       "' (see aqueducts cancel --help)"));
    return kExitUsage;
  }
  std::string cancel_id_argument = extras.empty() ? "" : extras[0];
  if (c.cancel_id.empty() == cancel_id_argument.empty()) {
    PrintError(Status::InvalidArgument(
        c.cancel_id.empty()
            ? "cancel needs the execution id: -e/--execution-id ID (see aqueducts cancel --help)"
            : "give the execution id once: -e/--execution-id ID or as the argument, not both"));
    return kExitUsage;
  }
  const std::string& id = c.cancel_id.empty() ? cancel_id_argument : c.cancel_id;
  return HasApiKey(c.cancel_flags) ? CancelCommand(c.cancel_flags, id) : kExitUsage;
}

int Dispatch(const CLI::App& app, const Commands& c) {
  if (*c.run) {
    return RunCommand(c.run_args);
  }
  if (*c.validate) {
    return ValidateCommand(c.validate_args);
  }
  if (*c.distribute_plan) {
    return DistributePlanCommand(c.plan_args);
  }
  if (*c.distribute_task) {
    return DistributeTaskCommand(c.task_attempt);
  }
  if (*c.schema) {
    return SchemaCommand(c.schema_out);
  }
  if (*c.status) {
    return HasApiKey(c.status_flags) ? StatusCommand(c.status_flags) : kExitUsage;
  }
  if (*c.cancel) {
    return CancelCommandLine(c);
  }
  if (*c.init) {
    return InitCommand(c.init_dir);
  }
  if (*c.completions) {
    std::printf("%s", CompletionScript(c.shell, Describe(app)).c_str());
    return kExitOk;
  }
  if (*c.history) {
    return DeltaHistoryCommand(c.history_table, c.history_limit, c.history_json, c.history_storage);
  }
  if (*c.vacuum) {
    return DeltaVacuumCommand(c.vacuum_table, c.retain_hours, c.dry_run, c.vacuum_storage);
  }
  if (*c.uploads) {
    return StorageUploadsCommand(c.uploads_url, c.uploads_abort, c.uploads_older_than,
                                 c.uploads_storage);
  }
  return kExitUsage;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"Aqueducts: declarative ETL pipelines (YAML, JSON, TOML) on DuckDB", "aqueducts"};
  app.set_version_flag("--version,-V", std::string("aqueducts ") + Version());
  app.require_subcommand(1);

  Commands c;
  AddRunCommand(app, c);
  AddPipelineCommands(app, c);
  AddRemoteCommands(app, c);
  AddDeltaCommands(app, c);
  AddStorageCommands(app, c);
  AddSetUpCommands(app, c);
  SetExamples(app, c);
  if (auto handled = HelpOrUnknownCommand(app, argc, argv)) {
    return *handled;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  if (c.quiet && c.verbose) {
    PrintError(Status::InvalidArgument("--quiet and --verbose cannot be used together"));
    return kExitUsage;
  }
  c.run_args.verbosity = c.quiet     ? Verbosity::kQuiet
                         : c.verbose ? Verbosity::kVerbose
                                     : Verbosity::kNormal;
  return Dispatch(app, c);
}

}  // namespace aqueducts::cli
