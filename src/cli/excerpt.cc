#include "cli/excerpt.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

namespace aqueducts::cli {
namespace {

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    lines.push_back(line);
  }
  return lines;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Parse the decimal number at text[*pos], advancing *pos; -1 when there is none.
int ParseNumber(const std::string& text, size_t* pos) {
  size_t start = *pos;
  int value = 0;
  while (*pos < text.size() && text[*pos] >= '0' && text[*pos] <= '9' && value < 10'000'000) {
    value = value * 10 + (text[*pos] - '0');
    ++*pos;
  }
  return *pos == start ? -1 : value;
}

// DuckDB renders an error's position as "\n\nLINE <n>: <line of the SQL>\n<spaces>^". Removes it
// from *message and returns n, the rendered line (without "..." truncation marks) and the
// caret's column in it (0-based; -1 when unknown).
struct Rendered {
  int line = 0;
  std::string snippet;
  int column = -1;
  bool truncated_front = false;
};
bool TakeRenderedPosition(std::string* message, Rendered* out) {
  size_t at = message->rfind("\n\nLINE ");
  if (at == std::string::npos) {
    return false;
  }
  size_t pos = at + 7;
  int line = ParseNumber(*message, &pos);
  if (line <= 0 || message->compare(pos, 2, ": ") != 0) {
    return false;
  }
  size_t snippet_begin = pos + 2;
  size_t snippet_end = message->find('\n', snippet_begin);
  if (snippet_end == std::string::npos) {
    return false;
  }
  size_t caret_end = message->find('\n', snippet_end + 1);
  std::string caret = message->substr(snippet_end + 1, caret_end == std::string::npos
                                                           ? std::string::npos
                                                           : caret_end - snippet_end - 1);
  out->line = line;
  out->snippet = message->substr(snippet_begin, snippet_end - snippet_begin);
  size_t mark = caret.find('^');
  // The caret is indented by the width of "LINE <n>: " plus the column.
  int indicator = static_cast<int>(snippet_begin - (at + 2));
  out->column = mark == std::string::npos ? -1 : static_cast<int>(mark) - indicator;
  if (out->snippet.rfind("...", 0) == 0) {
    out->snippet.erase(0, 3);
    out->truncated_front = true;
    out->column -= 3;
  }
  if (out->snippet.size() >= 3 && out->snippet.compare(out->snippet.size() - 3, 3, "...") == 0) {
    out->snippet.erase(out->snippet.size() - 3);
  }
  message->erase(at, caret_end == std::string::npos ? std::string::npos : caret_end - at);
  return true;
}

// The name in the first "stage '<name>'" of a message.
std::string StageNamed(const std::string& message) {
  size_t at = message.find("stage '");
  if (at == std::string::npos) {
    return {};
  }
  size_t begin = at + 7;
  size_t end = message.find('\'', begin);
  return end == std::string::npos ? std::string() : message.substr(begin, end - begin);
}

const Stage* FindStage(const Aqueduct& aqueduct, const std::string& name) {
  for (const auto& group : aqueduct.stages) {
    for (const auto& stage : group) {
      if (stage.name == name) {
        return &stage;
      }
    }
  }
  return nullptr;
}

}  // namespace

std::string Excerpt(const std::string& text, const std::string& file, int line, int column) {
  std::vector<std::string> lines = SplitLines(text);
  if (line <= 0 || line > static_cast<int>(lines.size())) {
    return {};
  }
  std::string number = std::to_string(line);
  std::string pad(number.size(), ' ');
  std::string out = pad + "--> " + file + ":" + number;
  if (column > 0) {
    out += ":" + std::to_string(column);
  }
  out += "\n" + pad + " |\n" + number + " | " + lines[line - 1];
  if (column > 0) {
    out += "\n" + pad + " | " + std::string(static_cast<size_t>(column - 1), ' ') + "^";
  }
  return out;
}

Status PointAtPipeline(const Status& status, const std::string& file, const PipelineLines* lines,
                       const Aqueduct* aqueduct) {
  if (status.ok()) {
    return status;
  }
  const std::string& message = status.message();
  if (status.code() == StatusCode::kParseError && message.rfind(file + ":", 0) == 0) {
    size_t pos = file.size() + 1;
    int line = ParseNumber(message, &pos);
    int column = 0;
    if (line > 0 && pos < message.size() && message[pos] == ':') {
      ++pos;
      column = std::max(0, ParseNumber(message, &pos));
    }
    std::string excerpt = Excerpt(ReadFile(file), file, line, column);
    if (excerpt.empty()) {
      return status;
    }
    return Status(status.code(), message + "\n" + excerpt, status.id());
  }
  if (lines == nullptr || aqueduct == nullptr ||
      (status.code() != StatusCode::kSqlError && status.code() != StatusCode::kExecutionError)) {
    return status;
  }
  std::string name = StageNamed(message);
  const Stage* stage = FindStage(*aqueduct, name);
  auto start = lines->stage_query.find(name);
  if (stage == nullptr || start == lines->stage_query.end()) {
    return status;
  }
  std::string rewritten = message;
  Rendered rendered;
  int file_line = start->second;
  int file_column = 0;
  if (TakeRenderedPosition(&rewritten, &rendered)) {
    // The generated SQL wraps the query on its first line only, so its line n is the query's.
    std::vector<std::string> query_lines = SplitLines(stage->query);
    if (rendered.line <= static_cast<int>(query_lines.size())) {
      const std::string& query_line = query_lines[rendered.line - 1];
      int column_in_query = -1;
      // The whole query line in the snippet places the caret even when DuckDB cut the front
      // of a long generated line (the wrapper before the query).
      size_t found = query_line.empty() ? std::string::npos : rendered.snippet.rfind(query_line);
      if (found != std::string::npos && rendered.column >= static_cast<int>(found)) {
        column_in_query = rendered.column - static_cast<int>(found);
      } else if (size_t inner = query_line.find(rendered.snippet);
                 !rendered.snippet.empty() && inner != std::string::npos) {
        column_in_query = static_cast<int>(inner) + rendered.column;
      }
      std::vector<std::string> file_lines = SplitLines(lines->text);
      int candidate = start->second + rendered.line - 1;
      if (candidate <= static_cast<int>(file_lines.size())) {
        size_t in_file = file_lines[candidate - 1].find(query_line);
        if (in_file != std::string::npos) {
          file_line = candidate;
          if (column_in_query >= 0) {
            file_column = static_cast<int>(in_file) + column_in_query + 1;
          }
        }
      }
    }
  }
  std::string where = file + ":" + std::to_string(file_line);
  if (rewritten.rfind(file + ":", 0) == 0) {
    // Already located (at the query's first line): name the line DuckDB's position is on.
    size_t pos = file.size() + 1;
    if (ParseNumber(rewritten, &pos) > 0 && rewritten.compare(pos, 2, ": ") == 0) {
      rewritten = where + rewritten.substr(pos);
    }
  } else {
    rewritten = where + ": " + rewritten;
  }
  while (!rewritten.empty() && rewritten.back() == '\n') {
    rewritten.pop_back();
  }
  return Status(status.code(),
                rewritten + "\n" + Excerpt(lines->text, file, file_line, file_column), status.id());
}

}  // namespace aqueducts::cli
