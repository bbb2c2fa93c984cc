// Connection::Render: a query's first rows as an ASCII box table, shaped like the
// output of Arrow's pretty printer that the original prints.

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <duckdb.hpp>

#include "engine/duckdb_error.h"
#include "engine/session.h"
#include "engine/value_text.h"

namespace aqueducts::engine {
namespace {

using Row = std::vector<std::string>;

// Split a cell on newlines: multi-line cells (plans) take several physical lines.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) {
    lines.push_back(line);
  }
  if (lines.empty()) {
    lines.emplace_back();
  }
  return lines;
}

size_t DisplayWidth(const std::string& s) {
  // Count UTF-8 code points, not bytes, so accented names keep the columns aligned.
  size_t width = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) {
      width++;
    }
  }
  return width;
}

std::string RenderTable(const Row& header, const std::vector<Row>& rows) {
  std::vector<size_t> widths(header.size(), 0);
  auto measure = [&widths](const Row& row) {
    for (size_t c = 0; c < row.size(); c++) {
      for (const auto& line : Lines(row[c])) {
        widths[c] = std::max(widths[c], DisplayWidth(line));
      }
    }
  };
  measure(header);
  for (const auto& row : rows) {
    measure(row);
  }
  std::string rule = "+";
  for (size_t w : widths) {
    rule += std::string(w + 2, '-') + "+";
  }
  rule += "\n";
  std::string out = rule;
  auto emit = [&out, &widths](const Row& row) {
    std::vector<std::vector<std::string>> cells;
    size_t height = 1;
    for (const auto& cell : row) {
      cells.push_back(Lines(cell));
      height = std::max(height, cells.back().size());
    }
    for (size_t l = 0; l < height; l++) {
      out += "|";
      for (size_t c = 0; c < cells.size(); c++) {
        std::string text = l < cells[c].size() ? cells[c][l] : "";
        out += " " + text + std::string(widths[c] - DisplayWidth(text), ' ') + " |";
      }
      out += "\n";
    }
  };
  emit(header);
  out += rule;
  for (const auto& row : rows) {
    emit(row);
  }
  if (!rows.empty()) {
    out += rule;
  }
  return out;
}

}  // namespace

Result<std::string> Connection::Render(const std::string& sql, uint64_t max_rows) {
  return Render(sql, max_rows, {});
}

Result<std::string> Connection::Render(const std::string& sql, uint64_t max_rows,
                                       const std::vector<std::string>& column_names,
                                       uint64_t* shown) {
  try {
    // Streamed, so a show of n rows over a big result reads only what it prints.
    auto result = duck().SendQuery(sql);
    AQ_RETURN_IF_ERROR(CheckResult(*result));
    Row header(result->names.begin(), result->names.end());
    for (size_t i = 0; i < header.size() && i < column_names.size(); i++) {
      header[i] = column_names[i];
    }
    std::vector<Row> rows;
    while (rows.size() < max_rows) {
      auto chunk = result->Fetch();
      AQ_RETURN_IF_ERROR(CheckResult(*result));
      if (!chunk || chunk->size() == 0) {
        break;
      }
      for (duckdb::idx_t r = 0; r < chunk->size() && rows.size() < max_rows; r++) {
        Row row;
        for (duckdb::idx_t c = 0; c < chunk->ColumnCount(); c++) {
          duckdb::Value value = chunk->GetValue(c, r);
          // Arrow's printer shows NULL as an empty cell.
          row.push_back(value.IsNull() ? std::string() : ValueText(value));
        }
        rows.push_back(std::move(row));
      }
    }
    if (shown != nullptr) {
      *shown = rows.size();
    }
    return RenderTable(header, rows);
  } catch (const std::exception& e) {
    return FromException(e);
  }
}

}  // namespace aqueducts::engine
