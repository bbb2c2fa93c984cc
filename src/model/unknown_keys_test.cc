// Keys the pipeline format does not know: an error with the nearest known key, file, line and
// field path; lenient loading reports them as warnings instead.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "aqueducts/loader.h"

#include "model/text_util.h"

namespace aqueducts {
namespace {

constexpr const char* kYaml =
    "sources:\n"
    "  - type: file\n"
    "    name: s\n"
    "    format: {type: csv}\n"
    "    location: /data/in.csv\n"
    "stages:\n"
    "  - - name: a\n"
    "      query: SELECT * FROM s\n"
    "      shwo: 10\n"
    "destination:\n"
    "  type: file\n"
    "  name: out\n"
    "  location: /data/out\n"
    "  format: {type: parquet}\n"
    "  partition_column: [d]\n";

TEST(UnknownKeysTest, StrictNamesEveryUnknownKeyWithLineAndNearestKey) {
  Result<Aqueduct> r = LoadAqueductFromString(kYaml, Format::kYaml, {}, {}, "t.yml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kParseError);
  EXPECT_EQ(r.status().message(),
            "t.yml:9: stages[0][0].shwo: unknown key 'shwo' (did you mean show?)\n"
            "t.yml:15: destination.partition_column: unknown key 'partition_column' (did you "
            "mean partition_columns?)");
}

TEST(UnknownKeysTest, LenientLoadsAndWarnsOncePerKey) {
  std::vector<std::string> warnings;
  LoadOptions options;
  options.lenient = true;
  options.warn = [&](const std::string& w) { warnings.push_back(w); };
  Result<Aqueduct> r = LoadAqueductFromString(kYaml, Format::kYaml, {}, options, "t.yml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("t.yml:9: stages[0][0].shwo"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("partition_columns?"), std::string::npos) << warnings[1];
}

TEST(UnknownKeysTest, JsonAndTomlNameTheKeyLine) {
  std::string json =
      "{\n"
      "  \"sources\": [],\n"
      "  \"stages\": [[{\"name\": \"a\", \"query\": \"SELECT 1\",\n"
      "                \"explian\": true}]]\n"
      "}\n";
  Result<Aqueduct> j = LoadAqueductFromString(json, Format::kJson, {}, {}, "p.json");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().message(),
            "p.json:4: stages[0][0].explian: unknown key 'explian' (did you mean explain?)");

  Result<Aqueduct> t = LoadAqueductFromString(
      "sources = []\nstages = []\n[destination]\ntype = \"in_memory\"\nname = \"x\"\n"
      "nmae = \"y\"\n",
      Format::kToml, {}, {}, "p.toml");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "p.toml:6: destination.nmae: unknown key 'nmae' (did you mean name?)");
}

TEST(UnknownKeysTest, NoCloseKeyListsTheKnownOnes) {
  Result<Aqueduct> r = LoadAqueductFromString("sources: []\nstages: []\ncompletely_else: 1\n",
                                              Format::kYaml, {}, {}, "p.yml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "p.yml:3: completely_else: unknown key 'completely_else' (expected one of "
            "destination, sources, stages, version)");
}

TEST(UnknownKeysTest, FreeFormMapsAreNotChecked) {
  Result<Aqueduct> r = LoadAqueductFromString(
      "sources:\n"
      "  - {type: file, name: s, format: {type: csv}, location: /x.csv,\n"
      "     storage_config: {anything_goes: '1'}}\n"
      "stages: []\n"
      "destination:\n"
      "  type: file\n"
      "  name: o\n"
      "  location: /o.parquet\n"
      "  format: {type: parquet, options: {max_row_group_size: 1000}}\n",
      Format::kYaml, {}, {}, "p.yml");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

TEST(UnknownKeysTest, MisspeltRequiredKeyIsNamedWithItsLine) {
  Result<Aqueduct> r = LoadAqueductFromString(
      "sources:\n"
      "  - type: file\n"
      "    name: s\n"
      "    format: {type: csv}\n"
      "    locaton: /x.csv\n"
      "stages: []\n",
      Format::kYaml, {}, {}, "p.yml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("missing required field 'location'; found unknown key "
                                      "'locaton' on line 5: did you mean location?"),
            std::string::npos)
      << r.status().message();
}

TEST(UnknownKeysTest, NearestNeedsAPlausibleTypo) {
  using model_internal::EditDistance;
  using model_internal::Nearest;
  EXPECT_EQ(EditDistance("shwo", "show"), 1u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(Nearest("partition_column", {"partition_columns", "location"}), "partition_columns");
  EXPECT_EQ(Nearest("xyz", {"partition_columns", "location"}), "");
}

TEST(DuplicateNamesTest, AStageNamedLikeASourceOrAnEarlierStageNamesBoth) {
  std::string yaml =
      "sources:\n"
      "  - {type: file, name: readings, format: {type: csv}, location: /x.csv}\n"
      "stages:\n"
      "  - - name: a\n"
      "      query: SELECT 1\n"
      "    - name: A\n"
      "      query: SELECT 2\n"
      "  - - name: readings\n"
      "      query: SELECT 3\n";
  Result<Aqueduct> r = LoadAqueductFromString(yaml, Format::kYaml, {}, {}, "d.yml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "d.yml:6: stages[0][1].name: stage name 'A' is already the name of stage "
            "stages[0][0].name (line 4): names must be unique, or the later one silently "
            "replaces the earlier\n"
            "d.yml:8: stages[1][0].name: stage name 'readings' is already the name of source "
            "sources[0].name (line 2): names must be unique, or the later one silently replaces "
            "the earlier");
  LoadOptions lenient;
  lenient.lenient = true;
  EXPECT_TRUE(LoadAqueductFromString(yaml, Format::kYaml, {}, lenient, "d.yml").ok());
}

}  // namespace
}  // namespace aqueducts
