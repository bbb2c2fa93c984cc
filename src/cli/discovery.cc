#include "cli/discovery.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "cli/commands.h"

namespace aqueducts::cli {
namespace {

namespace fs = std::filesystem;

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& word : words) {
    out += (out.empty() ? "" : " ") + word;
  }
  return out;
}

// Top-level command names, in order: the children of the root (listed first, path "").
std::vector<std::string> TopLevel(const std::vector<CommandSpec>& commands) {
  return commands.empty() ? std::vector<std::string>() : commands.front().children;
}

std::string BashScript(const std::vector<CommandSpec>& commands) {
  std::string cases;
  std::string top_flags;
  for (const auto& command : commands) {
    if (command.path.empty()) {
      top_flags = Join(command.flags);
      continue;
    }
    std::string words = Join(command.flags);
    if (!command.children.empty()) {
      words = Join(command.children) + " " + words;
    }
    cases += "    \"" + command.path + "\") words=\"" + words +
             "\"; names=" + (command.children.empty() ? "0" : "1") + " ;;\n";
  }
  std::vector<std::string> names = TopLevel(commands);
  return "# bash completion for aqueducts. Install:\n"
         "#   aqueducts completions bash > ~/.local/share/bash-completion/completions/aqueducts\n"
         "_aqueducts() {\n"
         "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" key=\"\" words=\"\" names=1 i w\n"
         "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
         "    w=\"${COMP_WORDS[i]}\"\n"
         "    [[ \"$w\" == -* ]] && continue\n"
         "    # Only a command with subcommands takes a second name (delta history).\n"
         "    if [[ -z \"$key\" ]]; then key=\"$w\"; elif [[ \"$key\" == delta ]]; then "
         "key=\"$key $w\"; fi\n"
         "  done\n"
         "  case \"$key\" in\n"
         "    \"\") words=\"" +
         Join(names) + " " + top_flags + "\" ;;\n" + cases +
         "  esac\n"
         "  if [[ \"$cur\" == -* || $names == 1 ]]; then\n"
         "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
         "  else\n"
         "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
         "  fi\n"
         "}\n"
         "complete -o filenames -F _aqueducts aqueducts\n";
}

std::string FishScript(const std::vector<CommandSpec>& commands) {
  std::vector<std::string> names = TopLevel(commands);
  std::string out =
      "# fish completion for aqueducts. Install:\n"
      "#   aqueducts completions fish > ~/.config/fish/completions/aqueducts.fish\n"
      "complete -c aqueducts -n __fish_use_subcommand -f -a \"" +
      Join(names) + "\"\n";
  for (const auto& command : commands) {
    std::string condition;
    if (command.path.empty()) {
      condition = "__fish_use_subcommand";
    } else {
      std::string last = command.path.substr(command.path.rfind(' ') + 1);
      condition = "__fish_seen_subcommand_from " + last;
    }
    if (!command.children.empty() && !command.path.empty()) {
      out += "complete -c aqueducts -n \"" + condition + "; and not __fish_seen_subcommand_from " +
             Join(command.children) + "\" -f -a \"" + Join(command.children) + "\"\n";
    }
    for (const auto& flag : command.flags) {
      std::string option =
          flag.rfind("--", 0) == 0 ? "-l " + flag.substr(2) : "-s " + flag.substr(1);
      out += "complete -c aqueducts -n \"" + condition + "\" " + option + "\n";
    }
  }
  return out;
}

constexpr const char* kStarterPipeline =
    R"(# A starter pipeline written by `aqueducts init`. Try, from this directory:
#   aqueducts validate -f pipeline.yml     # check it (binds the SQL, reads no data)
#   aqueducts run -f pipeline.yml          # run it: writes output/daily_summary.parquet
# Relative locations resolve against the directory you run from. The format: `aqueducts schema`.
version: v2
sources:
  - type: file
    name: readings
    format:
      type: csv
      options:
        has_header: true
    location: data/readings.csv
stages:
  # A list of groups: the stages of one group run in parallel; later groups see their tables.
  - - name: daily
      query: |
        SELECT city, CAST(date AS DATE) AS day,
               round(avg(temperature), 2) AS avg_temperature,
               count(temperature) AS readings
        FROM readings
        GROUP BY ALL
  - - name: coldest_first
      query: SELECT * FROM daily ORDER BY avg_temperature, city, day
      show: 3    # print the first 3 rows
destination:
  type: file
  name: daily_summary
  format:
    type: parquet
  location: output/daily_summary.parquet
)";

constexpr const char* kStarterData =
    "city,date,hour,temperature\n"
    "Berlin,2024-01-01,6,-2.5\nBerlin,2024-01-01,12,1.0\nBerlin,2024-01-01,18,0.5\n"
    "Berlin,2024-01-02,6,-4.0\nBerlin,2024-01-02,12,-0.5\nBerlin,2024-01-02,18,-1.5\n"
    "Lisbon,2024-01-01,6,9.5\nLisbon,2024-01-01,12,15.0\nLisbon,2024-01-01,18,12.5\n"
    "Lisbon,2024-01-02,6,8.0\nLisbon,2024-01-02,12,14.5\nLisbon,2024-01-02,18,\n"
    "Oslo,2024-01-01,6,-8.0\nOslo,2024-01-01,12,-5.5\nOslo,2024-01-01,18,-7.0\n"
    "Oslo,2024-01-02,6,-11.0\nOslo,2024-01-02,12,-9.5\nOslo,2024-01-02,18,-10.0\n";

// Write `text` to `path`, which must not exist yet (write to a temporary, then rename).
Status WriteNew(const fs::path& path, const std::string& text) {
  std::error_code ec;
  if (fs::exists(path, ec)) {
    return Status::Conflict("'" + path.string() + "' already exists: not overwriting it");
  }
  fs::path temporary = path.string() + ".aq_init_tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      fs::remove(temporary, ec);
      return Status::IoError("cannot write '" + path.string() + "'");
    }
  }
  fs::rename(temporary, path, ec);
  if (ec) {
    fs::remove(temporary, ec);
    return Status::IoError("cannot write '" + path.string() + "': " + ec.message());
  }
  return Status::OK();
}

}  // namespace

std::string CompletionScript(const std::string& shell, const std::vector<CommandSpec>& commands) {
  if (shell == "bash") {
    return BashScript(commands);
  }
  if (shell == "zsh") {
    return "#compdef aqueducts\n"
           "# zsh completion for aqueducts (through zsh's bash completion support). Install:\n"
           "#   aqueducts completions zsh > \"${fpath[1]}/_aqueducts\"\n"
           "autoload -U +X bashcompinit && bashcompinit\n" +
           BashScript(commands);
  }
  if (shell == "fish") {
    return FishScript(commands);
  }
  return {};
}

std::string NearestCommand(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 3;
  for (const std::string& candidate : candidates) {
    // Optimal string alignment distance.
    const std::string& a = word;
    const std::string& b = candidate;
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) {
      d[i][0] = i;
    }
    for (size_t j = 0; j <= b.size(); ++j) {
      d[0][j] = j;
    }
    for (size_t i = 1; i <= a.size(); ++i) {
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    if (d[a.size()][b.size()] < best_distance) {
      best_distance = d[a.size()][b.size()];
      best = candidate;
    }
  }
  return best;
}

int InitCommand(const std::string& dir) {
  fs::path root = dir.empty() ? fs::path(".") : fs::path(dir);
  std::error_code ec;
  fs::create_directories(root / "data", ec);
  if (!ec) {
    fs::create_directories(root / "output", ec);
  }
  if (ec) {
    PrintError(Status::IoError("cannot create '" + root.string() + "': " + ec.message()));
    return kExitFailure;
  }
  // Check both files first, so that a refusal leaves nothing half-written.
  for (const char* name : {"pipeline.yml", "data/readings.csv"}) {
    if (fs::exists(root / name, ec)) {
      PrintError(Status::Conflict("'" + (root / name).string() +
                                  "' already exists: not overwriting it (pick another "
                                  "directory: aqueducts init <dir>)"));
      return kExitFailure;
    }
  }
  Status status = WriteNew(root / "data" / "readings.csv", kStarterData);
  if (status.ok()) {
    status = WriteNew(root / "pipeline.yml", kStarterPipeline);
  }
  if (!status.ok()) {
    PrintError(status);
    return kExitFailure;
  }
  std::string cd = dir.empty() || dir == "." ? "" : "  cd " + dir + "\n";
  std::printf(
      "Wrote %s/pipeline.yml and %s/data/readings.csv.\n"
      "Next:\n"
      "%s"
      "  aqueducts validate -f pipeline.yml\n"
      "  aqueducts run -f pipeline.yml\n",
      root.string().c_str(), root.string().c_str(), cd.c_str());
  return kExitOk;
}

}  // namespace aqueducts::cli
