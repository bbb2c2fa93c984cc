#include "server/cron.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <sstream>
#include <vector>

namespace aqueducts::server {
namespace {

struct FieldDef {
  const char* name;
  int min;
  int max;
  const char* const* names;  ///< names of min, min+1, ... (nullptr: none)
};

const char* const kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
const char* const kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

const FieldDef kFields[] = {
    {"minute", 0, 59, nullptr},       {"hour", 0, 23, nullptr},
    {"day-of-month", 1, 31, nullptr}, {"month", 1, 12, kMonthNames},
    {"day-of-week", 0, 7, kDayNames},
};

Status FieldError(const FieldDef& f, const std::string& text, const std::string& why) {
  return Status::InvalidArgument(std::string(f.name) + " field '" + text + "': " + why);
}

// A number or (for months and weekdays) a name.
Result<int> ParseValue(const FieldDef& f, const std::string& field_text, const std::string& v) {
  if (v.empty()) {
    return FieldError(f, field_text, "a value is missing");
  }
  if (f.names != nullptr && std::isalpha(static_cast<unsigned char>(v[0]))) {
    std::string upper = v;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    int count = f.max - f.min + 1 - (f.max == 7 ? 1 : 0);
    for (int i = 0; i < count; ++i) {
      if (upper == f.names[i]) {
        return f.min + i;
      }
    }
    return FieldError(f, field_text, "unknown name '" + v + "'");
  }
  int n = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || ptr != v.data() + v.size()) {
    return FieldError(f, field_text, "'" + v + "' is not a number");
  }
  if (n < f.min || n > f.max) {
    return FieldError(f, field_text,
                      std::to_string(n) + " is out of range " + std::to_string(f.min) + "-" +
                          std::to_string(f.max));
  }
  return n;
}

// The values of one field as a bit per value (index = value).
Result<std::vector<bool>> ParseField(const FieldDef& f, const std::string& text) {
  std::vector<bool> bits(static_cast<size_t>(f.max) + 1, false);
  if (text.empty()) {
    return FieldError(f, text, "empty");
  }
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
    if (item.empty()) {
      return FieldError(f, text, "an empty list item");
    }
    std::string range = item;
    int step = 1;
    size_t slash = item.find('/');
    if (slash != std::string::npos) {
      range = item.substr(0, slash);
      std::string step_text = item.substr(slash + 1);
      auto [ptr, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (step_text.empty() || ec != std::errc() || ptr != step_text.data() + step_text.size() ||
          step < 1 || step > f.max) {
        return FieldError(
            f, text,
            "step '" + step_text + "' must be a number from 1 to " + std::to_string(f.max));
      }
    }
    int lo = f.min;
    int hi = f.max;
    if (range != "*") {
      size_t dash = range.find('-', 1);
      AQ_ASSIGN_OR_RETURN(lo, ParseValue(f, text, range.substr(0, dash)));
      if (dash != std::string::npos) {
        AQ_ASSIGN_OR_RETURN(hi, ParseValue(f, text, range.substr(dash + 1)));
        if (hi < lo) {
          return FieldError(f, text, "range " + range + " ends before it starts");
        }
      } else if (slash == std::string::npos) {
        hi = lo;
      }
    }
    for (int v = lo; v <= hi; v += step) {
      bits[static_cast<size_t>(v)] = true;
    }
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return bits;
}

std::string Expand(const std::string& text) {
  if (text == "@yearly" || text == "@annually") {
    return "0 0 1 1 *";
  }
  if (text == "@monthly") {
    return "0 0 1 * *";
  }
  if (text == "@weekly") {
    return "0 0 * * 0";
  }
  if (text == "@daily" || text == "@midnight") {
    return "0 0 * * *";
  }
  if (text == "@hourly") {
    return "0 * * * *";
  }
  return text;
}

}  // namespace

bool CronSpec::MatchesDay(unsigned month, unsigned day, unsigned weekday) const {
  if (!months.test(month)) {
    return false;
  }
  bool dom = days_of_month.test(day);
  bool dow = days_of_week.test(weekday);
  if (dom_restricted && dow_restricted) {
    return dom || dow;
  }
  return dom && dow;
}

Result<CronSpec> ParseCron(const std::string& raw) {
  std::string text = Expand(raw);
  if (!text.empty() && text[0] == '@') {
    return Status::InvalidArgument("unknown macro '" + text +
                                   "' (expected @yearly, @monthly, @weekly, @daily or @hourly)");
  }
  std::istringstream in(text);
  std::vector<std::string> parts;
  std::string part;
  while (in >> part) {
    parts.push_back(part);
  }
  if (parts.size() != 5) {
    return Status::InvalidArgument("'" + raw + "' has " + std::to_string(parts.size()) +
                                   " fields; expected 5: minute hour day-of-month month "
                                   "day-of-week");
  }
  std::vector<std::vector<bool>> fields;
  for (size_t i = 0; i < 5; ++i) {
    AQ_ASSIGN_OR_RETURN(std::vector<bool> bits, ParseField(kFields[i], parts[i]));
    fields.push_back(std::move(bits));
  }
  CronSpec spec;
  for (int v = 0; v < 60; ++v) {
    spec.minutes[v] = fields[0][v];
  }
  for (int v = 0; v < 24; ++v) {
    spec.hours[v] = fields[1][v];
  }
  for (int v = 1; v <= 31; ++v) {
    spec.days_of_month[v] = fields[2][v];
  }
  for (int v = 1; v <= 12; ++v) {
    spec.months[v] = fields[3][v];
  }
  for (int v = 0; v <= 7; ++v) {
    if (fields[4][v]) {
      spec.days_of_week[v % 7] = true;
    }
  }
  spec.dom_restricted = parts[2][0] != '*';
  spec.dow_restricted = parts[4][0] != '*';
  return spec;
}

}  // namespace aqueducts::server
