// A mutation fuzzer for the pipeline loader: it starts from the example pipelines in YAML, JSON
// and TOML, applies random edits (byte flips, deletions, duplications, splices of hostile
// snippets: alias bombs, deep nesting, huge numbers, NUL bytes, template markers) and checks
// that every load returns a value or an error with a message of readable length that names the
// file, without crashing, in bounded CPU and memory.
//
// The seed is fixed, so a run is reproducible. AQ_FUZZ_ITERATIONS sets the number of cases
// (default 20000, about 20 s); AQ_FUZZ_SEED another seed. See docs/pipeline-format.md.

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/resource.h>

#include "aqueducts/loader.h"

#include "model/bounded_test_util.h"
#include "testing.h"

namespace aqueducts {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

struct Seed {
  Format format;
  std::string name;
  std::string text;
};

std::vector<Seed> Seeds() {
  std::string dir = testing::FixturesDir() + "/aqueducts-examples/examples/";
  std::vector<Seed> seeds = {
      {Format::kYaml, "p.yml", ReadFile(dir + "aqueduct_pipeline_example.yml")},
      {Format::kYaml, "p.yml", ReadFile(dir + "aqueduct_pipeline_simple.yml")},
      {Format::kYaml, "p.yml", ReadFile(dir + "aqueduct_pipeline_odbc.yml")},
      {Format::kJson, "p.json", ReadFile(dir + "aqueduct_pipeline_example.json")},
      {Format::kToml, "p.toml", ReadFile(dir + "aqueduct_pipeline_example.toml")},
  };
  for (const Seed& seed : seeds) {
    EXPECT_FALSE(seed.text.empty()) << "missing fixture for " << seed.name;
  }
  return seeds;
}

std::string Repeat(const std::string& part, size_t times) {
  std::string out;
  for (size_t i = 0; i < times; ++i) {
    out += part;
  }
  return out;
}

// Snippets that have broken parsers before: aliases, nesting, numbers, NULs, markers.
std::string HostileSnippet(std::mt19937_64& rng, Format format) {
  std::uniform_int_distribution<int> pick(0, 15);
  std::uniform_int_distribution<int> small(1, 9);
  switch (pick(rng)) {
    case 0: {  // an alias bomb, block or flow style
      int levels = small(rng) + 3;
      std::string text = "\nz0: &z0 [x,x,x,x,x,x,x,x,x]\n";
      for (int i = 1; i < levels; ++i) {
        std::string prev = "*z" + std::to_string(i - 1);
        text += "z" + std::to_string(i) + ": &z" + std::to_string(i) + " [" +
                Repeat(prev + ",", 8) + prev + "]\n";
      }
      return text;
    }
    case 1:
      return Repeat("[", small(rng) * 40);
    case 2:
      return Repeat("{\"a\":", small(rng) * 30);
    case 3:
      return "1e99999";
    case 4:
      return "-1e-99999";
    case 5:
      return "99999999999999999999999999";
    case 6:
      return std::string("\0", 1);
    case 7:
      return format == Format::kYaml ? "\"\\0\"" : "\"\\u0000\"";
    case 8:
      return "${x}";
    case 9:
      return std::string(small(rng) * 3000, 'q');
    case 10:
      return "&a ";
    case 11:
      return "*a";
    case 12:
      return "<<: *a\n";
    case 13:
      return Repeat("a.", small(rng) * 20) + "a = 1\n";
    case 14:
      return "\xff\xfe\xc3";
    default:
      return "\n- - -\n  ? : [ { } ]\n";
  }
}

std::string Mutate(std::string text, std::mt19937_64& rng, Format format) {
  std::uniform_int_distribution<int> count(1, 4);
  std::uniform_int_distribution<int> kind(0, 5);
  int edits = count(rng);
  for (int e = 0; e < edits; ++e) {
    size_t size = text.size();
    std::uniform_int_distribution<size_t> at(0, size == 0 ? 0 : size - 1);
    size_t pos = at(rng);
    switch (kind(rng)) {
      case 0:  // flip a byte
        if (size > 0) {
          text[pos] = static_cast<char>(rng());
        }
        break;
      case 1: {  // delete a range
        size_t len = std::min<size_t>(size - pos, rng() % 64);
        text.erase(pos, len);
        break;
      }
      case 2: {  // duplicate a range
        size_t len = std::min<size_t>(size - pos, rng() % 256);
        text.insert(pos, text.substr(pos, len));
        break;
      }
      case 3:  // truncate
        text.resize(pos);
        break;
      default:  // splice in a hostile snippet
        text.insert(std::min(pos, text.size()), HostileSnippet(rng, format));
        break;
    }
  }
  return text;
}

TEST(LoaderFuzzTest, MutatedPipelinesLoadOrFailCleanly) {
  const char* iterations_env = std::getenv("AQ_FUZZ_ITERATIONS");
  const char* seed_env = std::getenv("AQ_FUZZ_SEED");
  const size_t iterations = iterations_env ? std::strtoull(iterations_env, nullptr, 10) : 20000;
  const uint64_t seed = seed_env ? std::strtoull(seed_env, nullptr, 10) : 20261201;
  std::vector<Seed> seeds = Seeds();

  // The whole run happens in a child with a memory ceiling: an input that expands without limit
  // fails the run instead of exhausting the machine.
  testing::BoundedRun run = testing::RunBounded(
      [&] {
        std::mt19937_64 rng(seed);
        size_t loaded = 0;
        size_t refused = 0;
        size_t bad = 0;
        double slowest = 0;
        for (size_t i = 0; i < iterations; ++i) {
          const Seed& base = seeds[i % seeds.size()];
          std::string text = Mutate(base.text, rng, base.format);
          auto start = std::chrono::steady_clock::now();
          Result<Aqueduct> r = LoadAqueductFromString(
              text, base.format, {{"month", "jan"}, {"year", "2024"}}, {}, base.name);
          double seconds =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          slowest = std::max(slowest, seconds);
          if (r.ok()) {
            ++loaded;
            continue;
          }
          ++refused;
          const std::string& message = r.status().message();
          bool readable = !message.empty() && message.size() < 2000 &&
                          message.find("json.exception") == std::string::npos &&
                          (message.find(base.name) != std::string::npos ||
                           r.status().code() == StatusCode::kTemplateError);
          // Generous: the bound is 1 s per megabyte; these inputs are far smaller.
          if (!readable || seconds > 5) {
            ++bad;
            std::cerr << "case " << i << " (" << seconds << " s): " << message.substr(0, 300)
                      << "\n";
          }
        }
        std::cout << "fuzz: " << iterations << " cases (seed " << seed << "): " << loaded
                  << " loaded, " << refused << " refused, " << bad << " failures; slowest load "
                  << slowest << " s\n";
        std::cout.flush();
        return bad == 0;
      },
      /*address_space_mib=*/2048, /*cpu_seconds=*/600);
  std::cout << "fuzz child: peak RSS " << run.peak_rss_kib / 1024 << " MiB, " << run.cpu_seconds
            << " s CPU\n";
  ASSERT_TRUE(run.exited) << "the fuzz run crashed or hit its memory ceiling";
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_LT(run.peak_rss_kib, 200 * 1024);
}

}  // namespace
}  // namespace aqueducts
