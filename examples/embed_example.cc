// Embedding Aqueducts in a C++ program: the program owns the database, feeds an in_memory
// source, runs a pipeline defined in YAML, and reads the in_memory destination back.
//
// Build: part of the project (target `embed_example`); run: ./build/examples/embed_example
#include <cstdio>
#include <string>

#include "aqueducts/aqueducts.h"

namespace {

constexpr const char* kPipeline = R"(
version: v2
sources:
  - type: in_memory
    name: orders
stages:
  - - name: per_customer
      query: >
        SELECT customer, count(*) AS orders, sum(amount) AS total
        FROM orders GROUP BY customer ORDER BY customer
destination:
  type: in_memory
  name: ${target}
)";

// A sink that prints each event on one line.
class PrintingSink : public aqueducts::ProgressSink {
 public:
  void OnEvent(const aqueducts::ProgressEvent& e) override {
    std::printf("event: %s %s\n", aqueducts::EventTypeName(e.type), e.name.c_str());
  }
  void OnOutput(const aqueducts::StageOutput& o) override {
    std::printf("output of %s:\n%s\n", o.stage_name.c_str(), o.text.c_str());
  }
};

int Fail(const aqueducts::Status& status) {
  std::fprintf(stderr, "error: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace

int main() {
  auto db = aqueducts::Database::Open();
  if (!db.ok()) {
    return Fail(db.status());
  }
  // The application's own data, created before the run: an in_memory source names it.
  aqueducts::Status st = (*db)->Execute(
      "CREATE TABLE orders AS SELECT * FROM (VALUES ('alice', 10.5), ('bob', 3.0), "
      "('alice', 4.5)) AS t(customer, amount)");
  if (!st.ok()) {
    return Fail(st);
  }

  auto aqueduct = aqueducts::LoadAqueductFromString(kPipeline, aqueducts::Format::kYaml,
                                                    {{"target", "summary"}});
  if (!aqueduct.ok()) {
    return Fail(aqueduct.status());
  }
  aqueducts::RunOptions options;
  options.database = db->get();
  PrintingSink sink;
  st = aqueducts::RunPipeline(*aqueduct, options, &sink);
  if (!st.ok()) {
    return Fail(st);
  }

  auto rows = (*db)->Query("SELECT customer, orders, total FROM summary ORDER BY customer");
  if (!rows.ok()) {
    return Fail(rows.status());
  }
  for (const auto& row : rows->rows) {
    std::printf("%s: %s orders, total %s\n", row[0]->c_str(), row[1]->c_str(), row[2]->c_str());
  }
  // The example doubles as a CI check: fail loudly if the result is not what it should be.
  bool ok = rows->rows.size() == 2 && *rows->rows[0][0] == "alice" && *rows->rows[0][1] == "2" &&
            *rows->rows[0][2] == "15.0" && *rows->rows[1][0] == "bob";
  if (!ok) {
    std::fprintf(stderr, "unexpected result\n");
    return 1;
  }
  return 0;
}
