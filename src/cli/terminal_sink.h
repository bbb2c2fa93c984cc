#pragma once

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "aqueducts/progress.h"
#include "aqueducts/run.h"

namespace aqueducts::cli {

/// How much the terminal renderer prints.
enum class Verbosity { kQuiet, kNormal, kVerbose };

/// \brief Renders run events for a person. On a TTY it keeps one live status line (running
/// steps with elapsed time, rows, percent, time left, and bytes spilled) under the permanent
/// lines; otherwise it prints plain lines, one per event, in the original Aqueducts' wording
/// ("Registering source ...", "Executing stage ...") plus rows and durations, and for a step that
/// runs longer than `plain_interval_ms` one progress line every `plain_interval_ms` (never one per
/// update). Thread-safe. Stage outputs always go to stdout; progress lines go to stderr when `out`
/// is stdout and stdout is not a terminal, so piped output stays clean.
class TerminalSink : public ProgressSink {
 public:
  struct Options {
    Verbosity verbosity = Verbosity::kNormal;
    bool live = false;            ///< redraw a status line (stderr is a TTY)
    bool color = false;           ///< ANSI colours (TTY and NO_COLOR unset)
    bool emoji_progress = false;  ///< emoji in progress lines (see Decorations)
    bool emoji_output = false;    ///< emoji in stage output titles (see Decorations)
    /// Without the live line: the pace of a running step's progress lines (0: none).
    int64_t plain_interval_ms = 5000;
    /// The format `show` previews arrive in (RunOptions::preview_format). kCsv and kJson
    /// previews are printed bare on `output` for scripts (JSON lines wrapped as
    /// {"stage": name, "row": {...}}), CSV blocks of several stages separated by an empty line;
    /// the note on rows left out and the other outputs (explain, schema) then go to `progress`.
    PreviewFormat preview = PreviewFormat::kTable;
  };
  /// Options for this process: live/colour from isatty(stderr) and NO_COLOR / TERM=dumb; the
  /// plain progress pace from AQUEDUCTS_PROGRESS_INTERVAL_MS when set.
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
    int64_t eta_ms = -1;
    int64_t bytes = -1;  // uploaded to an object store
    std::string phase;   // a Delta write's phase ("writing files"), else empty
    std::chrono::steady_clock::time_point last_plain;  // last plain progress line
  };
  // The running entry a kStageProgress event is about (a stage or the destination), or null.
  Running* FindRunningLocked(const std::string& name);
  // A plain progress line for `name`, when it is due (see Options::plain_interval_ms).
  void MaybePrintPlainLocked(const std::string& name, Running& run);
  // " writing files 1,234 rows 45% 24.0 MB uploaded ~12s left" for a running step.
  std::string Figures(const Running& run) const;
  std::string Paint(const char* code, const std::string& text) const;
  std::string Describe(const ProgressEvent& event) const;
  void ClearLiveLocked();
  void DrawLiveLocked();

  void PrintOutputLocked(const StageOutput& output, int64_t total_rows);
  // PrintOutputLocked for a kCsv or kJson preview format.
  void PrintScriptOutputLocked(const StageOutput& output, int64_t total_rows);

  Options options_;
  // kShowLimit previews held until their stage completes, so the note can say how many rows
  // they left out (the stage's row count arrives with stage_completed, after its outputs).
  std::map<std::string, std::vector<StageOutput>> held_;
  FILE* progress_;
  FILE* output_;
  std::mutex mu_;
  std::map<std::string, Running> running_;
  std::chrono::steady_clock::time_point run_started_;
  bool live_drawn_ = false;
  int64_t spilled_bytes_ = -1;  // the latest spill figure (-1: no spill)
  int previews_printed_ = 0;    // CSV/JSON previews printed so far
  std::chrono::steady_clock::time_point last_spill_line_;
  int spinner_ = 0;
};

/// Whether decorations (emoji, box drawing) may be printed on `stream`: it is a terminal, TERM is
/// not "dumb" and NO_COLOR is unset or empty.
bool Decorations(FILE* stream);

/// `text` without emoji (and the blanks after one): for streams without decorations.
std::string StripEmoji(const std::string& text);

/// The number of data rows of a preview rendered as a box table (lines starting with '|',
/// minus the header).
int64_t PreviewRows(const std::string& table);

/// "1.23s", "2m 03s"
std::string FormatDuration(int64_t ms);
/// "1,234,567"
std::string FormatCount(int64_t n);
/// "12.3 MB"
std::string FormatBytes(int64_t bytes);

}  // namespace aqueducts::cli
