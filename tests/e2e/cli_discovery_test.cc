// A CLI that can be discovered and scripted, through the real `aqueducts` binary: unknown
// commands, help, completions, init, the examples/ folder, previews, emoji, versions, API keys;
// and a Delta destination created from the final stage's columns.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "aqueducts/run.h"

#include "cli_harness.h"
#include "testing.h"

namespace aqueducts::testing {
namespace {

namespace fs = std::filesystem;

bool Has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The rows of a Parquet file, ordered, as text.
std::string ParquetRows(const std::string& path) {
  auto db = Database::Open();
  EXPECT_TRUE(db.ok());
  auto rows = (*db)->Query("SELECT * FROM read_parquet('" + path + "') ORDER BY ALL");
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  std::string text;
  for (const auto& row : rows->rows) {
    for (const auto& value : row) {
      text += value.value_or("NULL") + "|";
    }
    text += "\n";
  }
  return text;
}

TEST(Discovery, UnknownCommandSuggestsTheNearest) {
  CliResult r = RunCli({"rnu", "-f", "x.yml"});
  EXPECT_EQ(r.exit_code, 2) << r.all();
  EXPECT_TRUE(Has(r.err, "unknown command 'rnu' (did you mean 'run'?)")) << r.err;
  EXPECT_FALSE(Has(r.err, "A subcommand is required")) << r.err;
  CliResult far = RunCli({"frobnicate"});
  EXPECT_EQ(far.exit_code, 2);
  EXPECT_TRUE(Has(far.err, "unknown command 'frobnicate'; commands: run, validate")) << far.err;
}

TEST(Discovery, HelpAndPerCommandExamples) {
  CliResult help = RunCli({"help"});
  EXPECT_EQ(help.exit_code, 0) << help.all();
  EXPECT_TRUE(Has(help.out, "init")) << help.out;
  EXPECT_TRUE(Has(help.out, "completions")) << help.out;

  CliResult run = RunCli({"help", "run"});
  CliResult run_flag = RunCli({"run", "--help"});
  EXPECT_EQ(run.exit_code, 0) << run.all();
  EXPECT_EQ(run.out, run_flag.out);
  EXPECT_TRUE(Has(run.out, "--lenient")) << run.out;
  EXPECT_TRUE(Has(run.out, "aqueducts run -f pipeline.yml --max-memory 4GB")) << run.out;

  CliResult validate = RunCli({"validate", "--help"});
  EXPECT_TRUE(Has(validate.out, "aqueducts validate -f legacy.yml --lenient")) << validate.out;
  EXPECT_FALSE(Has(validate.out, "aqueducts run -f")) << validate.out;

  CliResult history = RunCli({"help", "delta", "history"});
  EXPECT_EQ(history.exit_code, 0) << history.all();
  EXPECT_TRUE(Has(history.out, "aqueducts delta history ./tables/orders")) << history.out;
  EXPECT_EQ(RunCli({"help", "nope"}).exit_code, 2);
}

TEST(Discovery, BashCompletionCompletesCommandsAndFlags) {
  if (std::system("command -v bash > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "bash is not installed";
  }
  TempDir dir;
  CliResult script = RunCli({"completions", "bash"});
  ASSERT_EQ(script.exit_code, 0) << script.all();
  std::string path = dir.Write("aq.bash", script.out);
  std::string out_path = dir.str() + "/out.txt";
  std::string command = "bash -c 'source " + path +
                        " && COMP_WORDS=(aqueducts va) && COMP_CWORD=1 && _aqueducts && "
                        "echo \"${COMPREPLY[@]}\" && COMP_WORDS=(aqueducts run --fi) && "
                        "COMP_CWORD=2 && _aqueducts && echo \"${COMPREPLY[@]}\" && "
                        "COMP_WORDS=(aqueducts delta h) && COMP_CWORD=2 && _aqueducts && "
                        "echo \"${COMPREPLY[@]}\"' > " +
                        out_path;
  ASSERT_EQ(std::system(command.c_str()), 0);
  EXPECT_EQ(Slurp(out_path), "validate\n--file\nhistory\n");

  CliResult zsh = RunCli({"completions", "zsh"});
  EXPECT_EQ(zsh.exit_code, 0);
  EXPECT_TRUE(Has(zsh.out, "#compdef aqueducts")) << zsh.out;
  CliResult fish = RunCli({"completions", "fish"});
  EXPECT_EQ(fish.exit_code, 0);
  EXPECT_TRUE(Has(fish.out, "__fish_seen_subcommand_from run\" -l file")) << fish.out;
  EXPECT_EQ(RunCli({"completions", "tcsh"}).exit_code, 2);
}

TEST(Discovery, InitWritesARunnableStarter) {
  TempDir dir;
  CliResult init = RunCli({"init", "starter"}, dir.str());
  ASSERT_EQ(init.exit_code, 0) << init.all();
  std::string root = dir.str() + "/starter";
  CliResult validate = RunCli({"validate", "-f", "pipeline.yml"}, root);
  EXPECT_EQ(validate.exit_code, 0) << validate.all();
  CliResult run = RunCli({"run", "-f", "pipeline.yml"}, root);
  ASSERT_EQ(run.exit_code, 0) << run.all();
  EXPECT_TRUE(Has(run.out, "(3 of 6 rows shown, 3 left out)")) << run.out;
  std::string rows = ParquetRows(root + "/output/daily_summary.parquet");
  EXPECT_TRUE(Has(rows, "Oslo|2024-01-02|-10.17|3|")) << rows;
  EXPECT_TRUE(Has(rows, "Lisbon|2024-01-02|11.25|2|")) << rows;  // a NULL reading is not counted
  // A second init refuses to overwrite.
  CliResult again = RunCli({"init", "starter"}, dir.str());
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(Has(again.err, "already exists")) << again.err;
}

TEST(Discovery, ExamplesInEveryFormatGiveTheSameResult) {
  TempDir dir;
  fs::copy(SourceDir() + "/examples", dir.path() / "examples", fs::copy_options::recursive);
  std::string first;
  for (const char* file : {"quickstart.yml", "quickstart.json", "quickstart.toml"}) {
    std::string root = dir.str() + "/examples";
    fs::remove(root + "/output_quickstart.parquet");
    CliResult run = RunCli({"run", "-f", file}, root);
    ASSERT_EQ(run.exit_code, 0) << file << ": " << run.all();
    std::string rows = ParquetRows(root + "/output_quickstart.parquet");
    EXPECT_FALSE(rows.empty()) << file;
    if (first.empty()) {
      first = rows;
    }
    EXPECT_EQ(rows, first) << file;
  }
}

TEST(Discovery, NoEmojiWhenNotATerminalOrNoColor) {
  TempDir dir;
  ASSERT_EQ(RunCli({"init", "s"}, dir.str()).exit_code, 0);
  CliResult run = RunCli({"run", "-f", "pipeline.yml"}, dir.str() + "/s", {"NO_COLOR=1"});
  ASSERT_EQ(run.exit_code, 0) << run.all();
  for (const char* emoji : {"🚀", "📚", "✅", "📋", "🎉", "📦", "⚙"}) {
    EXPECT_FALSE(Has(run.all(), emoji)) << emoji << " in\n" << run.all();
  }
  EXPECT_TRUE(Has(run.err, "Pipeline execution started")) << run.err;
  CliResult validate = RunCli({"validate", "-f", "pipeline.yml"}, dir.str() + "/s");
  EXPECT_TRUE(Has(validate.out, "pipeline.yml is valid")) << validate.out;
  EXPECT_FALSE(Has(validate.out, "✅")) << validate.out;
}

TEST(Discovery, VersionOnBothBinaries) {
  for (const char* flag : {"--version", "-V"}) {
    CliResult cli = RunCli({flag});
    EXPECT_EQ(cli.exit_code, 0) << cli.all();
    EXPECT_EQ(cli.out, std::string("aqueducts ") + Version() + "\n");
  }
  std::string executor =
      fs::path(AQ_CLI_PATH).parent_path().parent_path() / "executor/aqueducts-executor";
  TempDir dir;
  for (const char* flag : {"--version", "-V"}) {
    std::string out_path = dir.str() + "/v.txt";
    ASSERT_EQ(std::system((executor + " " + flag + " > " + out_path).c_str()), 0);
    EXPECT_EQ(Slurp(out_path), std::string("aqueducts-executor ") + Version() + "\n");
  }
}

TEST(Discovery, MissingApiKeyIsAUsageErrorNamingTheFlag) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"run", "-f", "x.yml", "--executor", "http://127.0.0.1:9"},
        std::vector<std::string>{"status", "--executor", "http://127.0.0.1:9"}}) {
    CliResult r = RunCli(args, ".", {"AQUEDUCTS_API_KEY="});
    EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.all();
    EXPECT_TRUE(Has(r.err, "pass --api-key")) << r.err;
  }
}

TEST(Discovery, NewDeltaTableTakesTheFinalStageColumns) {
  TempDir dir;
  dir.Write("in.csv", "id,name\n1,a\n2,\n3,c\n");
  std::string table = dir.str() + "/table";
  std::string path = dir.Write("p.yml",
                               "sources:\n"
                               "  - {type: file, name: src, format: {type: csv}, location: " +
                                   dir.str() +
                                   "/in.csv}\n"
                                   "stages:\n"
                                   "  - - name: final\n"
                                   "      query: SELECT id, name, id * 1.5 AS score FROM src\n"
                                   "destination:\n"
                                   "  type: delta\n"
                                   "  name: out\n"
                                   "  location: " +
                                   table +
                                   "\n"
                                   "  write_mode: {operation: append}\n");
  CliResult validate = RunCli({"validate", "-f", path}, dir.str());
  EXPECT_EQ(validate.exit_code, 0) << validate.all();
  EXPECT_TRUE(Has(validate.err, "Delta destination 'out' does not exist")) << validate.err;
  EXPECT_FALSE(fs::exists(table)) << "validate must not create the table";

  CliResult quiet = RunCli({"run", "-f", path}, dir.str());
  ASSERT_EQ(quiet.exit_code, 0) << quiet.all();
  EXPECT_FALSE(Has(quiet.err, "schema:")) << "the inferred schema is printed with -v only";
  ASSERT_TRUE(fs::exists(table + "/_delta_log/00000000000000000000.json")) << quiet.all();
  std::string log = Slurp(table + "/_delta_log/00000000000000000000.json");
  EXPECT_TRUE(Has(log, R"(\"name\":\"score\")")) << log;

  // A second run appends to the table that now exists; -v on a new table prints the schema.
  std::string other = dir.str() + "/table2";
  std::string text = Slurp(path);
  text.replace(text.find(table), table.size(), other);
  std::string path2 = dir.Write("p2.yml", text);
  CliResult verbose = RunCli({"run", "-v", "-f", path2}, dir.str());
  ASSERT_EQ(verbose.exit_code, 0) << verbose.all();
  EXPECT_TRUE(Has(verbose.err, "schema:\n  - {name: \"id\", data_type: \"int64\", nullable: true}"))
      << verbose.err;

  // Read the table back through a pipeline: every row arrived.
  std::string back = dir.Write("back.yml",
                               "sources:\n"
                               "  - {type: delta, name: t, location: " +
                                   table +
                                   "}\n"
                                   "stages:\n"
                                   "  - - name: s\n"
                                   "      query: SELECT count(*) AS n, count(name) AS named, "
                                   "sum(score) AS total FROM t\n"
                                   "destination:\n"
                                   "  type: file\n"
                                   "  name: o\n"
                                   "  format: {type: csv}\n"
                                   "  location: " +
                                   dir.str() + "/back.csv\n");
  CliResult read = RunCli({"run", "-f", back}, dir.str());
  ASSERT_EQ(read.exit_code, 0) << read.all();
  EXPECT_EQ(Slurp(dir.str() + "/back.csv"), "n,named,total\n3,2,9.0\n");
}

}  // namespace
}  // namespace aqueducts::testing
