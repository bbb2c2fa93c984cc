// Hostile pipeline text: alias bombs, huge and deep documents, numbers out of range, long
// values, NUL bytes and templating values that look like parameters.

#include <iostream>
#include <string>

#include <gtest/gtest.h>

#include "aqueducts/loader.h"

#include "model/bounded_test_util.h"
#include "testing.h"

namespace aqueducts {
namespace {

using testing::BoundedRun;
using testing::RunBounded;

Result<Aqueduct> Load(const std::string& text, Format format, const Params& params = {}) {
  const char* name = format == Format::kYaml   ? "pipeline.yml"
                     : format == Format::kJson ? "pipeline.json"
                                               : "pipeline.toml";
  return LoadAqueductFromString(text, format, params, {}, name);
}

const char* FormatName(Format format) {
  return format == Format::kYaml ? "YAML" : format == Format::kJson ? "JSON" : "TOML";
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The classic "billion laughs": 9 levels of 9 aliases of the level below (9^9 values).
std::string AliasBomb(int levels) {
  std::string text =
      "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (int i = 1; i < levels; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 9; ++j) {
      text += (j ? "," : "") + prev;
    }
    text += "]\n";
  }
  return text;
}

TEST(BoundedInputTest, YamlAliasBombFailsQuicklyInLittleMemory) {
  for (int levels : {7, 9}) {
    std::string bomb = AliasBomb(levels);
    BoundedRun run = RunBounded([&] {
      Result<Aqueduct> r = Load(bomb, Format::kYaml);
      if (r.ok()) {
        return false;
      }
      std::cerr << r.status().message() << "\n";
      return Contains(r.status().message(), "pipeline.yml:") &&
             Contains(r.status().message(), "more than 100000 values");
    });
    std::cout << "alias bomb, " << levels << " levels, " << bomb.size() << " bytes: peak RSS "
              << run.peak_rss_kib / 1024 << " MiB, " << run.cpu_seconds << " s CPU\n";
    ASSERT_TRUE(run.exited) << "the load was killed (memory or CPU ceiling)";
    EXPECT_EQ(run.exit_code, 0);
    EXPECT_LT(run.peak_rss_kib, 100 * 1024);
  }
}

TEST(BoundedInputTest, AliasesWithinTheLimitsStillWork) {
  const char* yaml =
      "sources: []\n"
      "stages:\n"
      "  - - &stage {name: a, query: SELECT 1}\n"
      "  - - {name: b, query: &q SELECT 2}\n"
      "    - {name: c, query: *q}\n";
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct a, Load(yaml, Format::kYaml));
  EXPECT_EQ(a.stages[1][1].query, "SELECT 2");
}

// Documents of about 1 MB shaped to cost the most: many values, deep nesting, one long string.
std::vector<std::pair<std::string, std::string>> MegabyteDocuments(Format format) {
  const size_t kSize = 1 << 20;
  std::vector<std::pair<std::string, std::string>> docs;
  auto repeat = [](const std::string& part, size_t times) {
    std::string out;
    out.reserve(part.size() * times);
    for (size_t i = 0; i < times; ++i) {
      out += part;
    }
    return out;
  };
  switch (format) {
    case Format::kYaml:
      docs.emplace_back("flat list", "sources: [" + repeat("1,", kSize / 2) + "1]\n");
      docs.emplace_back("block list", "sources:\n" + repeat("- 1\n", kSize / 4));
      docs.emplace_back("deep", "sources: " + repeat("[", kSize) + "\n");
      docs.emplace_back("deep maps", "sources: " + repeat("{a: ", kSize / 4) + "\n");
      docs.emplace_back("long string", "sources: \"" + std::string(kSize, 'x') + "\"\n");
      docs.emplace_back("anchors", repeat("- &a [1,1,1,1,1,1,1,1,1,1]\n- *a\n", kSize / 40));
      break;
    case Format::kJson:
      docs.emplace_back("flat list", "{\"sources\": [" + repeat("1,", kSize / 2) + "1]}");
      docs.emplace_back("deep", "{\"sources\": " + repeat("[", kSize) + "}");
      docs.emplace_back("deep maps", repeat("{\"a\":", kSize / 5));
      docs.emplace_back("long string", "{\"sources\": \"" + std::string(kSize, 'x') + "\"}");
      break;
    case Format::kToml:
      docs.emplace_back("flat list", "sources = [" + repeat("1,", kSize / 2) + "1]\n");
      docs.emplace_back("deep", "sources = " + repeat("[", kSize) + "\n");
      docs.emplace_back("dotted keys", repeat("a.", kSize / 2) + "a = 1\n");
      docs.emplace_back("tables", repeat("[[t]]\n", kSize / 6));
      docs.emplace_back("long string", "sources = \"" + std::string(kSize, 'x') + "\"\n");
      break;
  }
  return docs;
}

TEST(BoundedInputTest, MegabyteDocumentsLoadOrFailInBoundedMemory) {
  for (Format format : {Format::kYaml, Format::kJson, Format::kToml}) {
    for (const auto& [name, text] : MegabyteDocuments(format)) {
      std::string message;
      BoundedRun run = RunBounded([&, text = text] {
        Result<Aqueduct> r = Load(text, format);
        // Loaded, or refused with a message of readable length.
        return r.ok() || (!r.status().message().empty() && r.status().message().size() < 1000);
      });
      std::cout << FormatName(format) << " " << name << " (" << text.size() << " bytes): peak RSS "
                << run.peak_rss_kib / 1024 << " MiB, " << run.cpu_seconds << " s CPU\n";
      ASSERT_TRUE(run.exited) << FormatName(format) << " " << name << ": the load crashed";
      EXPECT_EQ(run.exit_code, 0) << FormatName(format) << " " << name;
      EXPECT_LT(run.peak_rss_kib, 100 * 1024) << FormatName(format) << " " << name;
    }
  }
}

TEST(BoundedInputTest, JsonNumberOutOfRangeIsReportedInOurWords) {
  const char* json =
      "{\"sources\": [],\n"
      " \"stages\": [[{\"name\": \"s\", \"query\": \"SELECT 1\",\n"
      "   \"show\": 1e99999}]]}";
  Result<Aqueduct> r = Load(json, Format::kJson);
  ASSERT_FALSE(r.ok());
  const std::string& message = r.status().message();
  EXPECT_FALSE(Contains(message, "json.exception")) << message;
  EXPECT_TRUE(Contains(message, "pipeline.json:3:")) << message;
  EXPECT_TRUE(Contains(message, "'1e99999' is out of range")) << message;
  EXPECT_TRUE(Contains(message, "stages[0][0].show")) << message;
}

TEST(BoundedInputTest, LongValuesAreCutInMessages) {
  std::string huge(20000, 'y');
  std::string yaml =
      "sources: []\nstages:\n  - - name: s\n      query: SELECT 1\n      show: " + huge + "\n";
  Result<Aqueduct> r = Load(yaml, Format::kYaml);
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.status().message().size(), 300u) << r.status().message().substr(0, 400);
  EXPECT_TRUE(Contains(r.status().message(), "(20000 bytes)")) << r.status().message();
  EXPECT_TRUE(Contains(r.status().message(), "stages[0][0].show")) << r.status().message();

  std::string schema = "sources:\n  - type: file\n    name: t\n    format: {type: " + huge +
                       "}\n    location: t.csv\nstages: []\n";
  Result<Aqueduct> t = Load(schema, Format::kYaml);
  ASSERT_FALSE(t.ok());
  EXPECT_LT(t.status().message().size(), 300u) << t.status().message().substr(0, 400);

  std::string json = "{\"sources\": [], \"stages\": [[{\"name\": \"s\", \"query\": \"x\", " +
                     std::string("\"show\": tru") + huge + "}]]}";
  Result<Aqueduct> j = Load(json, Format::kJson);
  ASSERT_FALSE(j.ok());
  EXPECT_LT(j.status().message().size(), 300u) << j.status().message().substr(0, 400);
}

TEST(BoundedInputTest, TemplatingIsOnePass) {
  const char* yaml =
      "sources: []\n"
      "stages:\n"
      "  - - name: s\n"
      "      query: SELECT '${month}' AS m, '${year}' AS y\n";
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct a,
                          Load(yaml, Format::kYaml, {{"month", "${year}"}, {"year", "2024"}}));
  EXPECT_EQ(a.stages[0][0].query, "SELECT '${year}' AS m, '2024' AS y");
  // A value that names a parameter nobody passed is text, not a missing parameter.
  AQ_ASSERT_OK_AND_ASSIGN(Aqueduct b,
                          Load(yaml, Format::kYaml, {{"month", "${nope}"}, {"year", "1"}}));
  EXPECT_EQ(b.stages[0][0].query, "SELECT '${nope}' AS m, '1' AS y");
  AQ_ASSERT_OK_AND_ASSIGN(std::string text,
                          SubstituteParams("a: ${b}-${c}", {{"b", "${c}"}, {"c", "1"}}));
  EXPECT_EQ(text, "a: ${c}-1");
}

TEST(BoundedInputTest, NulBytesInAnyStringAreRefused) {
  struct Case {
    Format format;
    std::string text;
    std::string where;
  };
  const Case cases[] = {
      {Format::kYaml,
       "sources: []\nstages:\n  - - name: s\n      query: \"SELECT 1 AS x\\0 UNION ALL SELECT "
       "2\"\n",
       "pipeline.yml:4: stages[0][0].query"},
      {Format::kJson,
       "{\"sources\": [],\n\"stages\": [[{\"name\": \"s\",\n"
       "\"query\": \"SELECT 1 AS x\\u0000 UNION ALL SELECT 2\"}]]}",
       "pipeline.json:3: stages[0][0].query"},
  };
  for (const Case& c : cases) {
    Result<Aqueduct> r = Load(c.text, c.format);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_TRUE(Contains(r.status().message(), c.where)) << r.status().message();
    EXPECT_TRUE(Contains(r.status().message(), "NUL byte")) << r.status().message();
  }
  const char* toml =
      "sources = []\n"
      "stages = [[{ name = \"s\", query = \"SELECT 1 AS x\\u0000 UNION ALL SELECT 2\" }]]\n";
  Result<Aqueduct> t = Load(toml, Format::kToml);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(Contains(t.status().message(), "pipeline.toml:2: stages[0][0].query"))
      << t.status().message();
  // In a key, too.
  Result<Aqueduct> key = Load("{\"sources\": [], \"st\\u0000ages\": []}", Format::kJson);
  ASSERT_FALSE(key.ok());
  EXPECT_TRUE(Contains(key.status().message(), "NUL byte")) << key.status().message();
}

}  // namespace
}  // namespace aqueducts
