#include "engine/json_scan.h"

#include <variant>

#include <gtest/gtest.h>

namespace aqueducts::engine::json {
namespace {

std::vector<PathStep> Path(std::initializer_list<std::variant<const char*, int>> steps) {
  std::vector<PathStep> path;
  for (const auto& s : steps) {
    PathStep step;
    if (std::holds_alternative<int>(s)) {
      step.is_index = true;
      step.index = std::get<int>(s);
    } else {
      step.key = std::get<const char*>(s);
    }
    path.push_back(step);
  }
  return path;
}

TEST(JsonScanTest, AcceptsWellFormedDocuments) {
  for (const char* doc :
       {"0", "-0", "1.5e-3", "-12E+2", "true", "false", "null", "\"\"", "  [ ]  ", "{}",
        "{\"a\":[1,{\"b\":null}],\"c\":\"\\u00e9\\ud83d\\ude00\\n\\\\\\/\"}", "\t\r\n[1]\n"}) {
    EXPECT_TRUE(Find(doc, {}, false).valid) << doc;
  }
}

TEST(JsonScanTest, RefusesMalformedDocuments) {
  for (const char* doc : {"",
                          " ",
                          "01",
                          "1.",
                          ".5",
                          "-",
                          "1e",
                          "+1",
                          "tru",
                          "nul",
                          "NaN",
                          "Infinity",
                          "[1,]",
                          "{\"a\":1,}",
                          "{\"a\" 1}",
                          "{a:1}",
                          "[1 2]",
                          "\"abc",
                          "\"\\x\"",
                          "\"\\u12G4\"",
                          "\"\\ud83d\"",
                          "\"\\ude00\"",
                          "\"\\ud83d\\u0041\"",
                          "\"tab\there\"",
                          "[1] [2]",
                          "{'a':1}",
                          "[",
                          "]"}) {
    EXPECT_FALSE(Find(doc, {}, false).valid) << doc;
  }
}

TEST(JsonScanTest, RefusesNestingBeyondTheLimit) {
  std::string ok(kMaxNesting, '[');
  ok += std::string(kMaxNesting, ']');
  EXPECT_TRUE(Find(ok, {}, false).valid);
  std::string deep(kMaxNesting + 1, '[');
  deep += std::string(kMaxNesting + 1, ']');
  EXPECT_FALSE(Find(deep, {}, false).valid);
}

TEST(JsonScanTest, FindsSpansAndChildren) {
  std::string doc = R"({"a": {"b": [10, "x" , {"c": true}]}, "a": 0})";
  Lookup found = Find(doc, Path({"a", "b"}), true);
  ASSERT_TRUE(found.found);
  EXPECT_EQ(found.value.kind, Kind::kArray);
  ASSERT_EQ(found.children.size(), 3u);
  EXPECT_EQ(doc.substr(found.children[1].begin, found.children[1].end - found.children[1].begin),
            "\"x\"");
  Lookup object = Find(doc, Path({"a", "b", 2}), true);
  ASSERT_TRUE(object.found);
  ASSERT_EQ(object.keys.size(), 1u);
  EXPECT_EQ(object.children[0].kind, Kind::kTrue);
  EXPECT_FALSE(Find(doc, Path({"a", "b", 3}), false).found);
  EXPECT_FALSE(Find(doc, Path({"a", 0}), false).found);
  EXPECT_FALSE(Find(doc, Path({"zz"}), false).found);
  EXPECT_TRUE(Find(doc, Path({"zz"}), false).valid);
}

TEST(JsonScanTest, UnescapesStrings) {
  EXPECT_EQ(Unescape(R"("a\"b\\c\/d\b\f\n\r\t")"), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(Unescape(R"("\u00e9\u20ac\ud83d\ude00\u0000x")"),
            std::string("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") + std::string(1, '\0') + "x");
  EXPECT_EQ(Unescape(R"("plain")"), "plain");
}

TEST(JsonScanTest, ParsesIntegersThatFit) {
  int64_t v = 0;
  EXPECT_TRUE(ParseInt64("9223372036854775807", &v));
  EXPECT_EQ(v, INT64_MAX);
  EXPECT_TRUE(ParseInt64("-9223372036854775808", &v));
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_FALSE(ParseInt64("9223372036854775808", &v));
  EXPECT_FALSE(ParseInt64("1.0", &v));
  EXPECT_FALSE(ParseInt64("1e3", &v));
}

}  // namespace
}  // namespace aqueducts::engine::json
