#include "server/tz.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace aqueducts::server {
namespace {

int64_t ReadBE(const std::string& d, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v = (v << 8) | static_cast<unsigned char>(d[pos + static_cast<size_t>(i)]);
  }
  if (bytes == 4) {
    return static_cast<int32_t>(static_cast<uint32_t>(v));
  }
  return static_cast<int64_t>(v);
}

// Zone names: letters, digits and - _ + /, no empty or dot-dot components.
bool IsZoneName(const std::string& name) {
  if (name.empty() || name.size() > 255 || name[0] == '/' || name.back() == '/') {
    return false;
  }
  if (name.find("..") != std::string::npos || name.find("//") != std::string::npos) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '+' ||
           c == '/';
  });
}

int64_t DaysFromCivil(int y, int m, int d) {
  return std::chrono::sys_days(std::chrono::year(y) / m / d).time_since_epoch().count();
}

bool IsLeap(int y) {
  return std::chrono::year(y).is_leap();
}

// Parse a POSIX offset or time "[+-]hh[:mm[:ss]]" at text[*pos]; seconds.
bool ParseHms(const std::string& text, size_t* pos, int64_t* out) {
  int sign = 1;
  if (*pos < text.size() && (text[*pos] == '+' || text[*pos] == '-')) {
    sign = text[*pos] == '-' ? -1 : 1;
    ++*pos;
  }
  int64_t parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    if (i > 0) {
      if (*pos >= text.size() || text[*pos] != ':') {
        break;
      }
      ++*pos;
    }
    size_t start = *pos;
    while (*pos < text.size() && std::isdigit(static_cast<unsigned char>(text[*pos]))) {
      parts[i] = parts[i] * 10 + (text[*pos] - '0');
      ++*pos;
    }
    if (*pos == start || *pos - start > 3) {
      return false;
    }
  }
  *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
  return true;
}

bool ParseAbbrev(const std::string& text, size_t* pos) {
  size_t start = *pos;
  if (*pos < text.size() && text[*pos] == '<') {
    size_t close = text.find('>', *pos);
    if (close == std::string::npos) {
      return false;
    }
    *pos = close + 1;
    return close - start >= 4;
  }
  while (*pos < text.size() && std::isalpha(static_cast<unsigned char>(text[*pos]))) {
    ++*pos;
  }
  return *pos - start >= 3;
}

bool ParseWhen(const std::string& text, size_t* pos, TimeZone::Rule::When* w) {
  auto number = [&](int* out) {
    size_t start = *pos;
    *out = 0;
    while (*pos < text.size() && std::isdigit(static_cast<unsigned char>(text[*pos]))) {
      *out = *out * 10 + (text[*pos] - '0');
      ++*pos;
    }
    return *pos > start;
  };
  if (*pos >= text.size()) {
    return false;
  }
  if (text[*pos] == 'M') {
    w->kind = 'M';
    ++*pos;
    if (!number(&w->month) || *pos >= text.size() || text[(*pos)++] != '.' || !number(&w->week) ||
        *pos >= text.size() || text[(*pos)++] != '.' || !number(&w->weekday)) {
      return false;
    }
    if (w->month < 1 || w->month > 12 || w->week < 1 || w->week > 5 || w->weekday > 6) {
      return false;
    }
  } else if (text[*pos] == 'J') {
    w->kind = 'J';
    ++*pos;
    if (!number(&w->day) || w->day < 1 || w->day > 365) {
      return false;
    }
  } else {
    w->kind = 'D';
    if (!number(&w->day) || w->day > 365) {
      return false;
    }
  }
  w->time = 7200;
  if (*pos < text.size() && text[*pos] == '/') {
    ++*pos;
    if (!ParseHms(text, pos, &w->time)) {
      return false;
    }
  }
  return true;
}

// The local instant (seconds as if UTC) of a rule date in `year`.
int64_t LocalChange(const TimeZone::Rule::When& w, int year) {
  int64_t days = 0;
  if (w.kind == 'M') {
    int64_t first = DaysFromCivil(year, w.month, 1);
    // 1970-01-01 was a Thursday (4).
    int first_wd = static_cast<int>(((first % 7) + 7 + 4) % 7);
    int64_t day = first + (w.weekday - first_wd + 7) % 7 + 7 * (w.week - 1);
    int last = static_cast<int>(static_cast<unsigned>(
        std::chrono::year_month_day_last(std::chrono::year(year),
                                         std::chrono::month_day_last(std::chrono::month(w.month)))
            .day()));
    while (day >= first + last) {
      day -= 7;  // week 5 means the last such weekday
    }
    days = day;
  } else if (w.kind == 'J') {
    days = DaysFromCivil(year, 1, 1) + w.day - 1;
    if (IsLeap(year) && w.day >= 60) {
      ++days;
    }
  } else {
    days = DaysFromCivil(year, 1, 1) + w.day;
  }
  return days * 86400 + w.time;
}

}  // namespace

Result<TimeZone::Rule> TimeZone::ParseRule(const std::string& text) {
  Rule r;
  size_t pos = 0;
  auto bad = [&]() { return Status::InvalidArgument("invalid POSIX TZ rule '" + text + "'"); };
  if (!ParseAbbrev(text, &pos) || !ParseHms(text, &pos, &r.std_offset)) {
    return bad();
  }
  r.std_offset = -r.std_offset;  // POSIX offsets count west
  if (pos < text.size()) {
    if (!ParseAbbrev(text, &pos)) {
      return bad();
    }
    r.has_dst = true;
    r.dst_offset = r.std_offset + 3600;
    if (pos < text.size() && text[pos] != ',') {
      if (!ParseHms(text, &pos, &r.dst_offset)) {
        return bad();
      }
      r.dst_offset = -r.dst_offset;
    }
    if (pos >= text.size() || text[pos++] != ',' || !ParseWhen(text, &pos, &r.start) ||
        pos >= text.size() || text[pos++] != ',' || !ParseWhen(text, &pos, &r.end) ||
        pos != text.size()) {
      return bad();
    }
  }
  r.valid = true;
  return r;
}

int64_t TimeZone::Rule::OffsetAt(int64_t utc) const {
  if (!has_dst) {
    return std_offset;
  }
  int64_t days = utc / 86400 - (utc % 86400 < 0 ? 1 : 0);
  int year = static_cast<int>(
      std::chrono::year_month_day(std::chrono::sys_days(std::chrono::days(days))).year());
  // Check the year before too: a change late on 31 December may fall in the next UTC year.
  for (int y : {year, year - 1}) {
    int64_t begins = LocalChange(start, y) - std_offset;  // starts in standard time
    int64_t ends = LocalChange(end, y) - dst_offset;      // ends in daylight time
    if (begins < ends) {
      if (utc >= begins && utc < ends) {
        return dst_offset;
      }
      if (y == year && utc >= ends) {
        return std_offset;
      }
    } else {
      // Southern hemisphere: daylight time spans the new year.
      if (utc < ends || utc >= begins) {
        return dst_offset;
      }
      if (y == year) {
        return std_offset;
      }
    }
  }
  return std_offset;
}

Result<TimeZone> TimeZone::Load(const std::string& name) {
  TimeZone tz;
  tz.name_ = name;
  if (!IsZoneName(name)) {
    return Status::InvalidArgument("'" + name + "' is not a time zone name (e.g. Europe/Berlin)");
  }
  const char* dir_env = std::getenv("TZDIR");
  std::string dir = dir_env && *dir_env ? dir_env : "/usr/share/zoneinfo";
  std::ifstream in(dir + "/" + name, std::ios::binary);
  std::string d;
  if (in) {
    d.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (d.empty() && (name == "UTC" || name == "Etc/UTC")) {
    tz.rule_.valid = true;
    return tz;
  }
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("unknown time zone '" + name + "' (" + why + " in " + dir + ")");
  };
  if (d.size() < 44 || d.compare(0, 4, "TZif") != 0) {
    return bad(d.empty() ? "no zone file" : "not a TZif zone file");
  }
  // Header: magic, version, 15 reserved bytes, six 32-bit counts.
  auto counts = [&](size_t at, int64_t c[6]) {
    for (int i = 0; i < 6; ++i) {
      c[i] = ReadBE(d, at + 20 + 4 * static_cast<size_t>(i), 4);
    }
  };
  int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  counts(0, c);
  char version = d[4];
  size_t time_size = 4;
  size_t at = 44;
  auto block_size = [&](size_t ts) {
    return static_cast<size_t>(c[3]) * ts + static_cast<size_t>(c[3]) +
           static_cast<size_t>(c[4]) * 6 + static_cast<size_t>(c[5]) +
           static_cast<size_t>(c[2]) * (ts + 4) + static_cast<size_t>(c[1]) +
           static_cast<size_t>(c[0]);
  };
  if (version >= '2') {
    at += block_size(4);
    if (d.size() < at + 44 || d.compare(at, 4, "TZif") != 0) {
      return bad("a truncated zone file");
    }
    counts(at, c);
    at += 44;
    time_size = 8;
  }
  for (int i = 0; i < 6; ++i) {
    if (c[i] < 0 || c[i] > 100000) {
      return bad("a corrupt zone file");
    }
  }
  if (d.size() < at + block_size(time_size) || c[4] < 1) {
    return bad("a truncated zone file");
  }
  size_t timecnt = static_cast<size_t>(c[3]);
  size_t types_at = at + timecnt * time_size + timecnt;
  std::vector<int64_t> type_offsets;
  std::vector<bool> type_dst;
  for (int64_t i = 0; i < c[4]; ++i) {
    type_offsets.push_back(ReadBE(d, types_at + 6 * static_cast<size_t>(i), 4));
    type_dst.push_back(d[types_at + 6 * static_cast<size_t>(i) + 4] != 0);
  }
  for (size_t i = 0; i < timecnt; ++i) {
    tz.transitions_.push_back(ReadBE(d, at + i * time_size, static_cast<int>(time_size)));
    size_t type = static_cast<unsigned char>(d[at + timecnt * time_size + i]);
    if (type >= type_offsets.size()) {
      return bad("a corrupt zone file");
    }
    tz.offsets_.push_back(type_offsets[type]);
  }
  // Before the first transition: the first standard-time type (type 0 when all are daylight).
  tz.initial_offset_ = type_offsets[0];
  for (size_t i = 0; i < type_offsets.size(); ++i) {
    if (!type_dst[i]) {
      tz.initial_offset_ = type_offsets[i];
      break;
    }
  }
  if (version >= '2') {
    size_t footer = at + block_size(8);
    if (footer < d.size() && d[footer] == '\n') {
      size_t end = d.find('\n', footer + 1);
      std::string text = d.substr(footer + 1, end == std::string::npos ? end : end - footer - 1);
      if (!text.empty()) {
        Result<Rule> rule = ParseRule(text);
        if (rule.ok()) {
          tz.rule_ = *rule;
        }
      }
    }
  }
  return tz;
}

int64_t TimeZone::OffsetAt(int64_t utc) const {
  if (transitions_.empty() || utc < transitions_.front()) {
    if (transitions_.empty() && rule_.valid) {
      return rule_.OffsetAt(utc);
    }
    return initial_offset_;
  }
  if (utc >= transitions_.back() && rule_.valid) {
    return rule_.OffsetAt(utc);
  }
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
  return offsets_[static_cast<size_t>(it - transitions_.begin()) - 1];
}

int64_t TimeZone::LocalToUtc(int64_t local) const {
  // Zone changes are more than a day apart: the offsets a day either side bracket `local`.
  int64_t before = OffsetAt(local - 86400);
  int64_t after = OffsetAt(local + 86400);
  int64_t first = local - std::max(before, after);
  int64_t second = local - std::min(before, after);
  if (OffsetAt(first) == std::max(before, after)) {
    return first;
  }
  if (OffsetAt(second) == std::min(before, after)) {
    return second;
  }
  // In a gap (clocks turned forward): the instant of the change. Search between the instant
  // with the later offset (before the change) and the one with the earlier (after it).
  int64_t lo = local - after;   // offset `before` here
  int64_t hi = local - before;  // offset `after` here
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    (OffsetAt(mid) == before ? lo : hi) = mid;
  }
  return hi;
}

}  // namespace aqueducts::server
