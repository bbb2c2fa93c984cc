#include "aqueducts/loader.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <unistd.h>

#include "testing.h"

namespace aqueducts {
namespace {

std::string Examples() {
  return testing::FixturesDir() + "/aqueducts-examples/examples/";
}
std::string DeltaTests() {
  return testing::FixturesDir() + "/aqueducts-examples/delta-tests/";
}

Result<Aqueduct> FromYaml(const std::string& text, const Params& params = {}) {
  return LoadAqueductFromString(text, Format::kYaml, params, {}, "pipeline.yml");
}

TEST(FormatTest, DetectsByExtension) {
  EXPECT_EQ(*FormatFromPath("a/b.yml"), Format::kYaml);
  EXPECT_EQ(*FormatFromPath("b.yaml"), Format::kYaml);
  EXPECT_EQ(*FormatFromPath("b.json"), Format::kJson);
  EXPECT_EQ(*FormatFromPath("b.toml"), Format::kToml);
  Result<Format> upper = FormatFromPath("b.YML");  // case-sensitive
  ASSERT_FALSE(upper.ok());
  EXPECT_NE(upper.status().message().find("Unsupported configuration format: 'YML'"),
            std::string::npos);
  EXPECT_EQ(upper.status().id(), "aqueducts::template::unknown_format");
  Result<Format> none = FormatFromPath("dir.d/pipeline");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("'unknown_ext'"), std::string::npos);
}

TEST(TemplatingTest, SubstitutesAndListsEveryMissingName) {
  AQ_ASSERT_OK_AND_ASSIGN(std::string out,
                          SubstituteParams("a: ${x}\nb: ${x}-${y}\n", {{"x", "1"}, {"y", "2"}}));
  EXPECT_EQ(out, "a: 1\nb: 1-2\n");
  Result<std::string> missing = SubstituteParams("a: ${b}\nc: ${a} ${b} ${not-a-name}", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kTemplateError);
  EXPECT_EQ(missing.status().id(), "aqueducts::template::missing_params");
  EXPECT_NE(missing.status().message().find("Missing template parameters: a, b."),
            std::string::npos)
      << missing.status().message();
  EXPECT_NE(missing.status().message().find("-p key=value"), std::string::npos);
}

TEST(TemplatingTest, IgnoresParametersInComments) {
  AQ_EXPECT_OK(SubstituteParams("# ${a}\nb: x # ${c}\nd: \"#${e}\"x\n", {{"e", "1"}}).status());
  Result<std::string> r = SubstituteParams("q: 'it # ${a}'\nu: http://h/#${b}\n", {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("parameters: a, b."), std::string::npos);
}

TEST(LoaderTest, MissingParamsInLoaderIgnoreCommentsAndListAll) {
  const char* yaml =
      "# ${in_comment}\n"
      "sources:\n"
      "  - type: file\n"
      "    name: t\n"
      "    format: {type: csv}\n"
      "    location: ${dir}/${file}.csv  # ${also_comment}\n"
      "stages: []\n";
  Result<Aqueduct> r = FromYaml(yaml, {{"file", "f"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTemplateError);
  EXPECT_NE(r.status().message().find("Missing template parameters: dir."), std::string::npos)
      << r.status().message();
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct a, FromYaml(yaml, {{"file", "f"}, {"dir", "/d"}}));
  EXPECT_EQ(std::get<FileSource>(a.sources[0]).location.url, "file:///d/f.csv");
}

TEST(LoaderTest, SubstitutesInBlockScalarsAndMultilineStringsButNotInComments) {
  const char* yaml =
      "sources: []  # ${c1}\n"
      "stages:\n"
      "  - - name: s\n"
      "      query: >\n"
      "        SELECT '#' AS h # ${col}\n"
      "        FROM t\n"
      "# ${c2}\n"
      "    - name: t\n"
      "      query: SELECT 1 # ${c3}\n";
  // A value with a newline would break a comment if it were substituted there.
  Params params = {{"col", "x"}, {"c1", "\n: broken"}, {"c2", "\n: broken"}, {"c3", "\n:"}};
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct a, FromYaml(yaml, params));
  EXPECT_EQ(a.stages[0][0].query, "SELECT '#' AS h # x FROM t\n");
  EXPECT_EQ(a.stages[0][1].query, "SELECT 1");
  Result<Aqueduct> missing = FromYaml(yaml);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("parameters: col."), std::string::npos)
      << missing.status().message();

  const char* toml =
      "sources = [] # ${c1}\n"
      "stages = [[{ name = \"s\", query = \"\"\"\n"
      "  SELECT 1 # ${n}\n"
      "\"\"\" }]]\n"
      "# ${c2}\n";
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct t,
                          LoadAqueductFromString(toml, Format::kToml, {{"n", "2"}}, {}, "p.toml"));
  EXPECT_EQ(t.stages[0][0].query, "  SELECT 1 # 2\n");
  AQ_ASSERT_OK_AND_ASSIGN(std::string text, SubstituteParams(toml, {{"n", "2"}}));
  EXPECT_NE(text.find("# ${c2}"), std::string::npos);
  Result<std::string> r = SubstituteParams(toml, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("parameters: n."), std::string::npos);
}

TEST(LoaderTest, MissingParamThatBreaksJsonIsReportedAsMissing) {
  const char* json = R"({"sources": [], "stages": [[{"name": "a", "query": "SELECT 1",
      "show": ${n}}]]})";
  Result<Aqueduct> r = LoadAqueductFromString(json, Format::kJson, {}, {}, "p.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTemplateError);
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct a,
                          LoadAqueductFromString(json, Format::kJson, {{"n", "7"}}, {}, "p.json"));
  EXPECT_EQ(a.stages[0][0].show, 7u);
}

TEST(LoaderTest, FileNotFound) {
  Result<Aqueduct> r = LoadAqueductFromFile("/nonexistent/dir/pipeline.yml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "Aqueducts file not found: '/nonexistent/dir/pipeline.yml'");
  EXPECT_EQ(r.status().id(), "aqueducts::template::file_not_found");
}

TEST(LoaderTest, DirectoryIsNotAPipelineFile) {
  std::string dir = ::testing::TempDir() + "/aq_loader_dir_" + std::to_string(getpid()) + ".yml";
  std::filesystem::create_directories(dir);
  Result<Aqueduct> r = LoadAqueductFromFile(dir);
  std::filesystem::remove_all(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(),
            "Aqueducts file '" + dir + "' is a directory; pass the pipeline file itself");
  EXPECT_EQ(r.status().id(), "aqueducts::template::file_not_found");
}

struct ExampleCase {
  std::string path;
  Params params;
};

std::vector<ExampleCase> AllExamples() {
  Params delta = {{"local_path", "/repo"}, {"run_id", "r1"}, {"date", "2023-05-01"}};
  return {
      {Examples() + "aqueduct_pipeline_simple.yml", {{"month", "jan"}, {"year", "2024"}}},
      {Examples() + "aqueduct_pipeline_example.yml", {{"local_path", "/repo"}, {"run_id", "r1"}}},
      {Examples() + "aqueduct_pipeline_example.json", {{"local_path", "/repo"}, {"run_id", "r1"}}},
      {Examples() + "aqueduct_pipeline_example.toml", {{"local_path", "/repo"}, {"run_id", "r1"}}},
      {Examples() + "aqueduct_pipeline_odbc.yml", {{"user", "u"}, {"pass", "p"}}},
      {DeltaTests() + "aqueduct_pipeline_delta_append.yml", delta},
      {DeltaTests() + "aqueduct_pipeline_delta_replace.yml", delta},
      {DeltaTests() + "aqueduct_pipeline_delta_upsert.yml", delta},
  };
}

TEST(ExamplesTest, EveryExampleLoadsWithoutTemplating) {
  LoadOptions raw;
  raw.substitute = false;
  for (const ExampleCase& c : AllExamples()) {
    Result<Aqueduct> r = LoadAqueductFromFile(c.path, {}, raw);
    AQ_EXPECT_OK(r.status());
    // Without parameters the substituting loader names what is missing.
    Result<Aqueduct> templated = LoadAqueductFromFile(c.path);
    ASSERT_FALSE(templated.ok()) << c.path;
    EXPECT_EQ(templated.status().code(), StatusCode::kTemplateError) << c.path;
  }
}

TEST(ExamplesTest, EveryExampleLoadsWithParametersAndRoundTrips) {
  for (const ExampleCase& c : AllExamples()) {
    Result<Aqueduct> r = LoadAqueductFromFile(c.path, c.params);
    AQ_ASSERT_OK(r.status());
    std::string json = ToJson(*r);
    EXPECT_EQ(json.find("${"), std::string::npos) << c.path;
    AQ_ASSERT_OK_AND_ASSIGN(Aqueduct again, LoadAqueductFromString(json, Format::kJson));
    EXPECT_TRUE(again == *r) << c.path << "\n" << json;
    EXPECT_EQ(ToJson(again, 2), ToJson(*r, 2));
  }
}

TEST(ExamplesTest, SimpleExampleContents) {
  AQ_ASSERT_OK_AND_ASSIGN(
      Aqueduct a, LoadAqueductFromFile(Examples() + "aqueduct_pipeline_simple.yml",
                                       {{"month", "jan"}, {"year", "2024"}}, {"/repo", true}));
  EXPECT_EQ(a.version, "v2");
  ASSERT_EQ(a.sources.size(), 2u);
  const auto& temp = std::get<FileSource>(a.sources[0]);
  EXPECT_EQ(temp.name, "temp_readings");
  EXPECT_EQ(temp.format.format, FileFormat::kCsv);
  EXPECT_TRUE(temp.format.has_header);
  EXPECT_EQ(temp.format.delimiter, ',');
  EXPECT_EQ(temp.location.url, "file:///repo/examples/temp_readings_jan_2024.csv");
  ASSERT_EQ(a.stages.size(), 2u);
  EXPECT_TRUE(a.stages[0][0].explain);
  EXPECT_FALSE(a.stages[0][0].show.has_value());
  EXPECT_EQ(a.stages[1][0].show, 10u);
  ASSERT_TRUE(a.destination.has_value());
  const auto& dest = std::get<FileDestination>(*a.destination);
  EXPECT_EQ(dest.format.format, FileFormat::kParquet);
  EXPECT_FALSE(dest.single_file.has_value());  // not given: a file name, so one file
  EXPECT_EQ(dest.location.url, "file:///repo/examples/output_jan_2024.parquet");
}

TEST(ExamplesTest, LegacyJsonExampleContents) {
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct a,
                          LoadAqueductFromFile(Examples() + "aqueduct_pipeline_example.json",
                                               {{"local_path", "/r"}, {"run_id", "7"}}));
  ASSERT_EQ(a.sources.size(), 2u);
  EXPECT_EQ(std::get<FileSource>(a.sources[1]).location.url,
            "file:///r/examples/test_data/example_2.csv");
  EXPECT_EQ(a.stages[0][0].show, 20u);
  EXPECT_EQ(a.stages[0][1].show, 0u);
  const auto& delta = std::get<DeltaDestination>(*a.destination);
  EXPECT_EQ(delta.location.url, "file:///r/examples/output_delta_example/7");
  EXPECT_EQ(delta.write_mode.operation, DeltaWriteMode::Operation::kReplace);
  ASSERT_EQ(delta.write_mode.replace_conditions.size(), 1u);
  EXPECT_EQ(delta.write_mode.replace_conditions[0].value, "1970-01-01");
  EXPECT_EQ(delta.partition_columns, std::vector<std::string>{"date"});
  ASSERT_EQ(delta.schema.size(), 6u);
  EXPECT_EQ(delta.schema[0].data_type.id, TypeId::kDate32);
  EXPECT_EQ(delta.schema[2].data_type.id, TypeId::kInt32);
  EXPECT_EQ(delta.schema[3].data_type.id, TypeId::kFloat64);
}

TEST(ExamplesTest, TomlAndOdbcExampleContents) {
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct toml,
                          LoadAqueductFromFile(Examples() + "aqueduct_pipeline_example.toml",
                                               {{"local_path", "/r"}, {"run_id", "7"}}));
  ASSERT_EQ(toml.stages.size(), 2u);
  EXPECT_EQ(toml.stages[0][1].show, 0u);
  EXPECT_TRUE(toml.stages[1][0].print_schema);
  const auto& delta = std::get<DeltaDestination>(*toml.destination);
  EXPECT_EQ(delta.write_mode.upsert_keys, std::vector<std::string>{"date"});
  EXPECT_EQ(delta.schema.size(), 8u);

  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct odbc,
                          LoadAqueductFromFile(Examples() + "aqueduct_pipeline_odbc.yml",
                                               {{"user", "bob"}, {"pass", "pw"}}));
  const auto& source = std::get<OdbcSource>(odbc.sources[0]);
  EXPECT_NE(source.load_query.find("FROM temp_readings"), std::string::npos);
  EXPECT_EQ(source.connection_string,
            "Driver={PostgreSQL Unicode};Server=localhost;UID=bob;PWD=pw;");
  const auto& dest = std::get<OdbcDestination>(*odbc.destination);
  EXPECT_EQ(dest.batch_size, 100u);
  EXPECT_EQ(dest.write_mode.operation, OdbcWriteMode::Operation::kAppend);
}

}  // namespace
}  // namespace aqueducts
