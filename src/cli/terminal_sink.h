#pragma once

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>

#include "aqueducts/progress.h"

namespace aqueducts::cli {

/// How much the terminal renderer prints.
enum class Verbosity { kQuiet, kNormal, kVerbose };

/// \brief Renders run events for a person. On a TTY it keeps one live status line (running
/// stages, rows, elapsed) under the permanent lines; otherwise it prints plain lines, one per
/// event, in the wording of the original's logging tracker (spec §3.3) plus rows and durations.
/// Thread-safe. Stage outputs always go to stdout; progress lines go to stderr when `out` is
/// stdout and stdout is not a terminal, so piped output stays clean.
class TerminalSink : public ProgressSink {
 public:
  struct Options {
    Verbosity verbosity = Verbosity::kNormal;
    bool live = false;   ///< redraw a status line (stderr is a TTY)
    bool color = false;  ///< ANSI colours (TTY and NO_COLOR unset)
  };
  /// Options for this process: live/colour from isatty(stderr) and NO_COLOR / TERM=dumb.
  static Options DetectOptions(Verbosity verbosity);

  explicit TerminalSink(Options options, FILE* progress = stderr, FILE* output = stdout);
  ~TerminalSink() override;

  void OnEvent(const ProgressEvent& event) override;
  void OnOutput(const StageOutput& output) override;

  /// Print a line as the renderer would (clears the live line first).
  void PrintLine(const std::string& line);

 private:
  struct Running {
    std::chrono::steady_clock::time_point started;
    int64_t rows = -1;
    double percent = -1;
  };
  std::string Paint(const char* code, const std::string& text) const;
  std::string Describe(const ProgressEvent& event) const;
  void ClearLiveLocked();
  void DrawLiveLocked();

  Options options_;
  FILE* progress_;
  FILE* output_;
  std::mutex mu_;
  std::map<std::string, Running> running_;
  std::chrono::steady_clock::time_point run_started_;
  bool live_drawn_ = false;
  int spinner_ = 0;
};

/// "1.23s", "2m 03s"
std::string FormatDuration(int64_t ms);
/// "1,234,567"
std::string FormatCount(int64_t n);
/// "12.3 MB"
std::string FormatBytes(int64_t bytes);

}  // namespace aqueducts::cli
