#include "cli/terminal_sink.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <unistd.h>

#include "common/text.h"

namespace aqueducts::cli {
namespace {

constexpr const char* kRule = "───────────────────────────────────────";  // 39 x U+2500
constexpr const char* kSpinner[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};

const char* OutputTitle(OutputKind kind) {
  switch (kind) {
    case OutputKind::kShow:
      return "📋 Table Data: ";
    case OutputKind::kShowLimit:
      return "📋 Table Data (Preview): ";
    case OutputKind::kExplain:
      return "🔍 Query Plan: ";
    case OutputKind::kExplainAnalyze:
      return "📊 Query Metrics: ";
    case OutputKind::kPrintSchema:
      return "🔢 Schema: ";
  }
  return "";
}

}  // namespace

std::string FormatDuration(int64_t ms) {
  if (ms < 0) {
    return "?";
  }
  if (ms < 60'000) {
    return fmt::format("{:.2f}s", static_cast<double>(ms) / 1000.0);
  }
  return fmt::format("{}m {:02}s", ms / 60'000, (ms / 1000) % 60);
}

std::string FormatCount(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) {
      out += ',';
    }
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string FormatBytes(int64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string StripEmoji(const std::string& text) {
  std::string out;
  bool dropped = false;  // just dropped an emoji: swallow the blanks after it
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t length = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xE  ? 3
                    : (c >> 3) == 0x1E ? 4
                                       : 1;
    if (i + length > text.size()) {
      length = 1;
    }
    uint32_t code = c;
    if (length > 1) {
      code = c & (0xFF >> (length + 1));
      for (size_t k = 1; k < length; ++k) {
        code = (code << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
      }
    }
    bool emoji = (code >= 0x1F000 && code <= 0x1FAFF) || (code >= 0x2600 && code <= 0x27BF) ||
                 code == 0x2139 || code == 0xFE0F || code == 0x200D;
    if (emoji) {
      dropped = true;
    } else if (!(dropped && code == ' ')) {
      out.append(text, i, length);
      dropped = false;
    }
    i += length;
  }
  return out;
}

// Rows of a CSV text: its lines outside quoted fields, less the header.
int64_t CsvRows(const std::string& csv) {
  int64_t lines = 0;
  bool quoted = false;
  for (char c : csv) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == '\n' && !quoted) {
      ++lines;
    }
  }
  return lines > 0 ? lines - 1 : -1;
}

int64_t PreviewRows(const std::string& table) {
  int64_t lines = 0;
  size_t start = 0;
  while (start < table.size()) {
    size_t end = table.find('\n', start);
    if (table[start] == '|') {
      ++lines;
    }
    if (end == std::string::npos) {
      break;
    }
    start = end + 1;
  }
  return lines > 0 ? lines - 1 : -1;
}

bool Decorations(FILE* stream) {
  const char* term = std::getenv("TERM");
  const char* no_color = std::getenv("NO_COLOR");
  return isatty(fileno(stream)) == 1 && !(term != nullptr && std::strcmp(term, "dumb") == 0) &&
         (no_color == nullptr || no_color[0] == '\0');
}

TerminalSink::Options TerminalSink::DetectOptions(Verbosity verbosity) {
  Options options;
  options.verbosity = verbosity;
  const char* term = std::getenv("TERM");
  bool dumb = term != nullptr && std::strcmp(term, "dumb") == 0;
  bool tty = isatty(STDERR_FILENO) == 1 && !dumb;
  // https://no-color.org: any non-empty NO_COLOR disables colour.
  const char* no_color = std::getenv("NO_COLOR");
  options.color = tty && (no_color == nullptr || no_color[0] == '\0');
  options.live = tty && verbosity != Verbosity::kQuiet;
  options.emoji_progress = Decorations(stderr);
  options.emoji_output = Decorations(stdout);
  if (const char* interval = std::getenv("AQUEDUCTS_PROGRESS_INTERVAL_MS")) {
    char* end = nullptr;
    long long ms = std::strtoll(interval, &end, 10);
    if (end != interval && *end == '\0' && ms >= 0) {
      options.plain_interval_ms = ms;
    }
  }
  return options;
}

TerminalSink::TerminalSink(Options options, FILE* progress, FILE* output)
    : options_(options),
      progress_(progress),
      output_(output),
      run_started_(std::chrono::steady_clock::now()) {}

TerminalSink::~TerminalSink() {
  std::lock_guard<std::mutex> lock(mu_);
  ClearLiveLocked();
}

std::string TerminalSink::Paint(const char* code, const std::string& text) const {
  return options_.color ? fmt::format("\x1b[{}m{}\x1b[0m", code, text) : text;
}

std::string TerminalSink::Describe(const ProgressEvent& e) const {
  using T = ProgressEvent::Type;
  switch (e.type) {
    case T::kStarted:
      return "🚀 Pipeline execution started";
    case T::kSourceRegistered:
      return "📚 Registered source: " + e.name;
    case T::kStageStarted:
      return fmt::format("⚙️  Processing stage: {} (position: {}, sub-position: {})", e.name,
                         e.position, e.sub_position);
    case T::kStageProgress: {
      Running run;
      run.rows = e.rows;
      run.percent = e.percent;
      run.eta_ms = e.eta_ms;
      run.bytes = e.bytes;
      run.phase = e.phase;
      return "   " + e.name + ":" + Figures(run);
    }
    case T::kStageCompleted: {
      std::string rows = e.rows >= 0 ? ", " + FormatCount(e.rows) + " rows" : "";
      return fmt::format("{} Completed stage: {} (took: {}{})", Paint("32", "✅"), e.name,
                         FormatDuration(e.duration_ms), rows);
    }
    case T::kDestinationStarted:
      return "💾 Writing to destination: " + e.name;
    case T::kDestinationCompleted: {
      std::string detail;
      if (e.rows >= 0) {
        detail += FormatCount(e.rows) + " rows";
      }
      if (e.bytes >= 0) {
        detail += (detail.empty() ? "" : ", ") + FormatBytes(e.bytes);
      }
      if (e.duration_ms >= 0) {
        detail += (detail.empty() ? "" : ", ") + FormatDuration(e.duration_ms);
      }
      return "📦 Data successfully written to destination" +
             (detail.empty() ? "" : " (" + detail + ")");
    }
    case T::kSpill:
      return Paint("33", "💽 Memory limit reached: spilling to disk (" + FormatBytes(e.bytes) +
                             " in temporary files)");
    case T::kLog:
      return (e.level == LogLevel::kWarn ? Paint("33", "⚠️  ") : std::string("ℹ️  ")) +
             e.message;
    case T::kCompleted:
      return fmt::format("🎉 Pipeline execution completed (total time: {})",
                         FormatDuration(e.duration_ms));
    case T::kFailed:
      return Paint("31", "❌ Pipeline execution failed: " + e.message);
    case T::kCancelled:
      return Paint("33", "🛑 Pipeline execution cancelled");
  }
  return "";
}

void TerminalSink::OnEvent(const ProgressEvent& event) {
  using T = ProgressEvent::Type;
  std::lock_guard<std::mutex> lock(mu_);
  auto now = std::chrono::steady_clock::now();
  switch (event.type) {
    case T::kStarted:
      run_started_ = now;
      break;
    case T::kStageStarted:
      running_[event.name] = Running{now};
      break;
    case T::kDestinationStarted:
      running_["→ " + event.name] = Running{now};
      break;
    case T::kStageProgress:
      if (Running* run = FindRunningLocked(event.name)) {
        // Figures never go back (a late or repeated event must not undo a newer one).
        run->rows = std::max(run->rows, event.rows);
        run->percent = std::max(run->percent, event.percent);
        run->eta_ms = event.eta_ms;
        run->bytes = std::max(run->bytes, event.bytes);
        if (!event.phase.empty()) {
          run->phase = event.phase;
        }
      }
      break;
    case T::kSpill:
      spilled_bytes_ = event.bytes;
      break;
    case T::kStageCompleted:
      running_.erase(event.name);
      break;
    case T::kDestinationCompleted:
      running_.clear();
      break;
    default:
      break;
  }
  // Failures are reported by the caller as an error message; don't print them twice.
  bool print = event.type != T::kFailed;
  if (options_.verbosity == Verbosity::kQuiet) {
    print = event.type == T::kSpill || (event.type == T::kLog && event.level == LogLevel::kWarn);
  } else if (event.type == T::kLog && event.level == LogLevel::kDebug) {
    print = options_.verbosity == Verbosity::kVerbose;
  } else if (event.type == T::kStageProgress) {
    // The live line shows progress; without it, a plain line every plain_interval_ms at most.
    print = false;
    if (!options_.live) {
      if (Running* run = FindRunningLocked(event.name)) {
        MaybePrintPlainLocked(event.name, *run);
      }
    }
  } else if (event.type == T::kSpill) {
    // The first spill gets a line; later figures update the live line, or without it come at
    // the plain progress pace.
    bool first = last_spill_line_ == std::chrono::steady_clock::time_point();
    print =
        first || (!options_.live && options_.plain_interval_ms > 0 &&
                  now - last_spill_line_ >= std::chrono::milliseconds(options_.plain_interval_ms));
    if (print) {
      last_spill_line_ = now;
    }
  } else if (event.type == T::kStageStarted || event.type == T::kDestinationStarted) {
    // The live line shows running stages; without it the start line says what is going on.
    print = !options_.live || options_.verbosity == Verbosity::kVerbose;
  }
  ClearLiveLocked();
  if (print) {
    std::string line = Describe(event);
    std::fprintf(progress_, "%s\n", (options_.emoji_progress ? line : StripEmoji(line)).c_str());
  }
  // Previews held for their stage's row count: print them now that it is known (or the run
  // ended without it).
  if (event.type == T::kStageCompleted || event.type == T::kFailed || event.type == T::kCancelled) {
    for (auto it = held_.begin(); it != held_.end();) {
      if (event.type == T::kStageCompleted && it->first != event.name) {
        ++it;
        continue;
      }
      for (const StageOutput& output : it->second) {
        PrintOutputLocked(output, event.type == T::kStageCompleted ? event.rows : -1);
      }
      it = held_.erase(it);
    }
    std::fflush(output_);
  }
  DrawLiveLocked();
  std::fflush(progress_);
}

TerminalSink::Running* TerminalSink::FindRunningLocked(const std::string& name) {
  auto it = running_.find(name);
  if (it == running_.end()) {
    it = running_.find("→ " + name);  // the destination's entry
  }
  return it == running_.end() ? nullptr : &it->second;
}

std::string TerminalSink::Figures(const Running& run) const {
  std::string text;
  if (!run.phase.empty()) {
    text += " " + run.phase;
  }
  if (run.rows >= 0) {
    text += " " + FormatCount(run.rows) + " rows";
  }
  if (run.percent >= 0) {
    text += fmt::format(" {:.0f}%", run.percent);
  }
  if (run.bytes > 0) {
    text += " " + FormatBytes(run.bytes) + " uploaded";
  }
  if (run.eta_ms > 0 && run.percent < 100) {
    text += " ~" + FormatDuration(run.eta_ms) + " left";
  }
  return text;
}

void TerminalSink::MaybePrintPlainLocked(const std::string& name, Running& run) {
  if (options_.verbosity == Verbosity::kQuiet || options_.plain_interval_ms <= 0) {
    return;
  }
  auto now = std::chrono::steady_clock::now();
  auto interval = std::chrono::milliseconds(options_.plain_interval_ms);
  if (now - run.started < interval || now - run.last_plain < interval) {
    return;
  }
  run.last_plain = now;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - run.started).count();
  std::string line = "   " + name + ": running for " + FormatDuration(ms) + Figures(run);
  if (spilled_bytes_ > 0) {
    line += ", spilled " + FormatBytes(spilled_bytes_);
  }
  std::fprintf(progress_, "%s\n", line.c_str());
}

void TerminalSink::OnOutput(const StageOutput& output) {
  std::lock_guard<std::mutex> lock(mu_);
  if (output.kind == OutputKind::kShow || output.kind == OutputKind::kShowLimit) {
    held_[output.stage_name].push_back(output);
    return;
  }
  ClearLiveLocked();
  PrintOutputLocked(output, -1);
  std::fflush(output_);
  DrawLiveLocked();
  std::fflush(progress_);
}

void TerminalSink::PrintOutputLocked(const StageOutput& output, int64_t total_rows) {
  ClearLiveLocked();
  if (options_.preview != PreviewFormat::kTable) {
    PrintScriptOutputLocked(output, total_rows);
    return;
  }
  std::string title = std::string(OutputTitle(output.kind)) + output.stage_name;
  title = Paint("1", options_.emoji_output ? title : StripEmoji(title));
  std::string text = output.text;
  if (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  std::string note;
  int64_t shown = output.rows_shown >= 0 ? output.rows_shown : PreviewRows(output.text);
  if (total_rows >= 0 && shown >= 0 && total_rows > shown) {
    note = "\n(" + FormatCount(shown) + " of " + FormatCount(total_rows) + " rows shown, " +
           FormatCount(total_rows - shown) + " left out)";
  }
  std::fprintf(output_, "\n%s\n%s\n%s%s\n\n", title.c_str(), kRule, text.c_str(), note.c_str());
}

void TerminalSink::PrintScriptOutputLocked(const StageOutput& output, int64_t total_rows) {
  bool preview = output.kind == OutputKind::kShow || output.kind == OutputKind::kShowLimit;
  if (!preview) {  // plans and schemas are for people: beside the progress, not in the data
    std::string title = std::string(OutputTitle(output.kind)) + output.stage_name;
    std::fprintf(progress_, "%s\n%s", (options_.emoji_progress ? title : StripEmoji(title)).c_str(),
                 output.text.c_str());
    return;
  }
  int64_t lines = 0;
  if (options_.preview == PreviewFormat::kCsv) {
    std::fprintf(output_, "%s%s", previews_printed_ > 0 ? "\n" : "", output.text.c_str());
    lines = CsvRows(output.text);
  } else {
    std::string prefix = "{\"stage\":";
    AppendJsonString(prefix, output.stage_name);
    prefix += ",\"row\":";
    size_t start = 0;
    while (start < output.text.size()) {
      size_t end = output.text.find('\n', start);
      if (end == std::string::npos) {
        end = output.text.size();
      }
      std::string line = prefix + output.text.substr(start, end - start) + "}\n";
      std::fputs(line.c_str(), output_);
      ++lines;
      start = end + 1;
    }
  }
  ++previews_printed_;
  int64_t shown = output.rows_shown >= 0 ? output.rows_shown : lines;
  if (total_rows >= 0 && total_rows > shown) {
    std::fprintf(progress_, "%s: %s of %s rows shown, %s left out\n", output.stage_name.c_str(),
                 FormatCount(shown).c_str(), FormatCount(total_rows).c_str(),
                 FormatCount(total_rows - shown).c_str());
  }
}

void TerminalSink::PrintLine(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  ClearLiveLocked();
  std::fprintf(progress_, "%s\n", line.c_str());
  DrawLiveLocked();
  std::fflush(progress_);
}

void TerminalSink::ClearLiveLocked() {
  if (live_drawn_) {
    std::fputs("\r\x1b[2K", progress_);
    live_drawn_ = false;
  }
}

void TerminalSink::DrawLiveLocked() {
  if (!options_.live || running_.empty()) {
    return;
  }
  auto now = std::chrono::steady_clock::now();
  std::string line = Paint("36", kSpinner[spinner_++ % 10]);
  for (const auto& [name, run] : running_) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - run.started).count();
    line += " " + Paint("1", name) + " " + FormatDuration(ms) + Figures(run) + " ";
  }
  if (spilled_bytes_ > 0) {
    line += Paint("33", "spilled " + FormatBytes(spilled_bytes_)) + " ";
  }
  auto total = std::chrono::duration_cast<std::chrono::milliseconds>(now - run_started_).count();
  line += Paint("2", "(elapsed " + FormatDuration(total) + ")");
  std::fputs(line.c_str(), progress_);
  live_drawn_ = true;
}

}  // namespace aqueducts::cli
