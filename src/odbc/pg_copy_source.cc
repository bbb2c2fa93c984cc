// PostgreSQL COPY reads for the ODBC source (pg_copy_source.h, docs/odbc.md).

#include "odbc/pg_copy_source.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <future>
#include <memory>
#include <string_view>
#include <vector>

#include <libpq-fe.h>

#include "engine/appender.h"
#include "odbc/column_plan.h"
#include "odbc/driver_options.h"
#include "odbc/odbc_values.h"

namespace aqueducts::odbc {

namespace {

std::atomic<int64_t> g_loads{0};

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// An attribute value without its braces ("{a;b}" -> "a;b") and surrounding blanks.
std::string Unbraced(std::string value) {
  value.erase(0, value.find_first_not_of(" \t"));
  value.erase(value.find_last_not_of(" \t") + 1);
  if (value.size() >= 2 && value.front() == '{' && value.back() == '}') {
    value = value.substr(1, value.size() - 2);
  }
  return value;
}

// Attribute names of the connection string, lower-cased, in order.
std::vector<std::string> AttributeNames(const std::string& connection_string) {
  std::vector<std::string> names;
  for (const AttributeSpan& span : SplitConnectionString(connection_string)) {
    if (span.eq != std::string::npos) {
      names.push_back(span.name);
    } else if (connection_string.find_first_not_of(" \t;", span.begin) != std::string::npos) {
      names.push_back("?");  // a fragment without '=': not understood
    }
  }
  return names;
}

// PostgreSQL type OIDs (pg_type.dat) the fast path decodes.
enum : Oid {
  kBoolOid = 16,
  kByteaOid = 17,
  kInt8Oid = 20,
  kInt2Oid = 21,
  kInt4Oid = 23,
  kTextOid = 25,
  kFloat4Oid = 700,
  kFloat8Oid = 701,
  kBpcharOid = 1042,
  kVarcharOid = 1043,
  kDateOid = 1082,
  kTimeOid = 1083,
  kTimestampOid = 1114,
  kTimestampTzOid = 1184,
  kNumericOid = 1700,
  kUuidOid = 2950,
};

// Days and microseconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
constexpr int64_t kPgEpochDays = 10957;
constexpr int64_t kMicrosPerDay = 86400LL * 1000000;

enum class Decoder {
  kBool,
  kInt2,
  kInt4,
  kInt8,
  kFloat4,
  kFloat8,
  kNumeric,
  kBytes,  // text (UTF-8, the client encoding) and bytea: the bytes as they are
  kUuid,
  kDate,
  kTime,
  kTimestamp,
};

struct CopyColumn {
  ColumnPlan plan;
  Decoder decoder;
};

// The column plan psqlODBC's description of the same column gives (column_plan.h), so the
// DuckDB type is the ODBC path's by construction. nullopt for a type not decoded here.
std::optional<CopyColumn> PlanCopyColumn(std::string name, Oid type, int typmod) {
  auto plan = [&](SQLSMALLINT sql_type, SQLULEN size, SQLSMALLINT digits,
                  std::string_view type_name, Decoder decoder) {
    return CopyColumn{PlanColumn(std::move(name), sql_type, size, digits, type_name), decoder};
  };
  switch (type) {
    case kBoolOid:
      return plan(SQL_BIT, 1, 0, "bool", Decoder::kBool);
    case kInt2Oid:
      return plan(SQL_SMALLINT, 5, 0, "int2", Decoder::kInt2);
    case kInt4Oid:
      return plan(SQL_INTEGER, 10, 0, "int4", Decoder::kInt4);
    case kInt8Oid:
      return plan(SQL_BIGINT, 19, 0, "int8", Decoder::kInt8);
    case kFloat4Oid:
      return plan(SQL_REAL, 7, 0, "float4", Decoder::kFloat4);
    case kFloat8Oid:
      return plan(SQL_FLOAT, 15, 0, "float8", Decoder::kFloat8);
    case kTextOid:
    case kVarcharOid:
    case kBpcharOid:
      return plan(SQL_VARCHAR, 255, 0, "text", Decoder::kBytes);
    case kByteaOid:
      return plan(SQL_LONGVARBINARY, 0, 0, "bytea", Decoder::kBytes);
    case kUuidOid:
      return plan(SQL_GUID, 37, 0, "uuid", Decoder::kUuid);
    case kDateOid:
      return plan(SQL_TYPE_DATE, 10, 0, "date", Decoder::kDate);
    case kTimeOid:
      return plan(SQL_TYPE_TIME, 8, 6, "time", Decoder::kTime);
    case kTimestampOid:
      return plan(SQL_TYPE_TIMESTAMP, 26, 6, "timestamp", Decoder::kTimestamp);
    case kTimestampTzOid:
      return plan(SQL_TYPE_TIMESTAMP, 26, 6, "timestamptz", Decoder::kTimestamp);
    case kNumericOid: {
      if (typmod < 4) {  // no precision: described as text named numeric (NumericAs=-1)
        return plan(SQL_LONGVARCHAR, 0, 0, "numeric", Decoder::kNumeric);
      }
      const int precision = ((typmod - 4) >> 16) & 0xffff;
      const int scale = (typmod - 4) & 0xffff;
      if (scale > precision) {  // a negative scale (PostgreSQL 15) or one above the precision
        return std::nullopt;
      }
      return plan(SQL_NUMERIC, static_cast<SQLULEN>(precision), static_cast<SQLSMALLINT>(scale),
                  "numeric", Decoder::kNumeric);
    }
    default:
      return std::nullopt;
  }
}

template <typename T>
T BigEndian(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  if constexpr (sizeof(T) == 2) {
    return static_cast<T>(__builtin_bswap16(static_cast<uint16_t>(value)));
  } else if constexpr (sizeof(T) == 4) {
    return static_cast<T>(__builtin_bswap32(static_cast<uint32_t>(value)));
  } else {
    return static_cast<T>(__builtin_bswap64(static_cast<uint64_t>(value)));
  }
}

Status Malformed(const std::string& what) {
  return Status::ExecutionError("COPY: malformed binary " + what);
}

// The text PostgreSQL prints for a binary numeric (numeric_send): base-10000 digits, `weight`
// the power of the first, `dscale` the decimal digits after the point.
Result<std::string> NumericText(const char* p, int32_t len) {
  if (len < 8) {
    return Malformed("numeric");
  }
  const int ndigits = BigEndian<int16_t>(p);
  const int weight = BigEndian<int16_t>(p + 2);
  const uint16_t sign = BigEndian<uint16_t>(p + 4);
  const int dscale = BigEndian<int16_t>(p + 6);
  if (ndigits < 0 || dscale < 0 || len != 8 + 2 * ndigits) {
    return Malformed("numeric");
  }
  if (sign == 0xC000) {
    return std::string("NaN");
  }
  if (sign == 0xD000) {
    return std::string("Infinity");
  }
  if (sign == 0xF000) {
    return std::string("-Infinity");
  }
  auto digit = [&](int index) -> int {
    return index >= 0 && index < ndigits ? BigEndian<int16_t>(p + 8 + 2 * index) : 0;
  };
  std::string out = sign == 0x4000 ? "-" : "";
  if (weight < 0) {
    out += '0';
  } else {
    for (int d = 0; d <= weight; ++d) {
      const std::string group = std::to_string(digit(d));
      if (d > 0) {
        out.append(4 - group.size(), '0');
      }
      out += group;
    }
  }
  if (dscale > 0) {
    out += '.';
    std::string fraction;
    for (int d = weight + 1; static_cast<int>(fraction.size()) < dscale; ++d) {
      const std::string group = std::to_string(digit(d));
      fraction.append(4 - group.size(), '0');
      fraction += group;
    }
    out += fraction.substr(0, static_cast<size_t>(dscale));
  }
  return out;
}

// Append one binary value (`len` bytes at `p`, -1 for NULL) of result row `row` to `out`.
Status Decode(const CopyColumn& column, const char* p, int32_t len, int64_t row,
              engine::ColumnVector* out) {
  if (len < 0) {
    return AppendValue(column.plan, nullptr, SQL_NULL_DATA, row, out);
  }
  auto need = [&](int32_t size) { return len == size ? Status::OK() : Malformed("value"); };
  switch (column.decoder) {
    case Decoder::kBool:
      AQ_RETURN_IF_ERROR(need(1));
      out->ints.push_back(p[0] != 0 ? 1 : 0);
      break;
    case Decoder::kInt2:
      AQ_RETURN_IF_ERROR(need(2));
      out->ints.push_back(BigEndian<int16_t>(p));
      break;
    case Decoder::kInt4:
      AQ_RETURN_IF_ERROR(need(4));
      out->ints.push_back(BigEndian<int32_t>(p));
      break;
    case Decoder::kInt8:
      AQ_RETURN_IF_ERROR(need(8));
      out->ints.push_back(BigEndian<int64_t>(p));
      break;
    case Decoder::kFloat4: {
      AQ_RETURN_IF_ERROR(need(4));
      const uint32_t bits = BigEndian<uint32_t>(p);
      float value;
      std::memcpy(&value, &bits, sizeof value);
      out->doubles.push_back(value);
      break;
    }
    case Decoder::kFloat8: {
      AQ_RETURN_IF_ERROR(need(8));
      const uint64_t bits = BigEndian<uint64_t>(p);
      double value;
      std::memcpy(&value, &bits, sizeof value);
      out->doubles.push_back(value);
      break;
    }
    case Decoder::kNumeric: {
      // Through the ODBC path's own decimal parsing of the same text (exact, or refused).
      AQ_ASSIGN_OR_RETURN(std::string text, NumericText(p, len));
      return AppendValue(column.plan, text.data(), static_cast<SQLLEN>(text.size()), row, out);
    }
    case Decoder::kBytes:
      out->strings.emplace_back(p, static_cast<size_t>(len));
      break;
    case Decoder::kUuid: {
      AQ_RETURN_IF_ERROR(need(16));
      static constexpr char kHex[] = "0123456789abcdef";
      std::string text;
      text.reserve(36);
      for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
          text += '-';
        }
        const auto byte = static_cast<unsigned char>(p[i]);
        text += kHex[byte >> 4];
        text += kHex[byte & 15];
      }
      out->strings.push_back(std::move(text));
      break;
    }
    case Decoder::kDate: {
      AQ_RETURN_IF_ERROR(need(4));
      const int32_t days = BigEndian<int32_t>(p);
      out->ints.push_back(days == INT32_MAX   ? kDateInfinity
                          : days == INT32_MIN ? kDateNegativeInfinity
                                              : days + kPgEpochDays);
      break;
    }
    case Decoder::kTime:
      AQ_RETURN_IF_ERROR(need(8));
      out->ints.push_back(BigEndian<int64_t>(p));
      break;
    case Decoder::kTimestamp: {
      AQ_RETURN_IF_ERROR(need(8));
      const int64_t micros = BigEndian<int64_t>(p);
      if (micros == INT64_MAX || micros == INT64_MIN) {
        out->ints.push_back(micros == INT64_MAX ? kTimestampInfinity : kTimestampNegativeInfinity);
        break;
      }
      // PostgreSQL's earliest timestamp (4713 BC) is within DuckDB's range; its last ones
      // (after 294247-01-10) are not: the ODBC path refuses them with its own message.
      const __int128 value = static_cast<__int128>(micros) + kPgEpochDays * kMicrosPerDay;
      if (value >= kTimestampInfinity) {
        return Status::ExecutionError("a timestamp outside DuckDB's range");
      }
      out->ints.push_back(static_cast<int64_t>(value));
      break;
    }
  }
  out->valid.push_back(1);
  return Status::OK();
}

struct PgConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct PgResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgConn = std::unique_ptr<PGconn, PgConnCloser>;
using PgResult = std::unique_ptr<PGresult, PgResultClearer>;

Status PgError(PGconn* conn, const std::string& what) {
  std::string message = PQerrorMessage(conn);
  while (!message.empty() && std::isspace(static_cast<unsigned char>(message.back()))) {
    message.pop_back();
  }
  return Status::ExecutionError(what + ": " + message);
}

// The binary COPY stream: a header, then per row an int16 field count and per field an int32
// length (-1 for NULL) and the bytes; an int16 -1 ends it. CopyData messages need not align
// with rows, so bytes of an incomplete row wait in `pending_`.
class CopyDecoder {
 public:
  CopyDecoder(const std::vector<CopyColumn>& columns) : columns_(columns) {}

  /// Decode every complete row of the bytes seen so far plus `data` into `batch`.
  Status Feed(const char* data, size_t size, engine::ColumnBatch* batch) {
    if (pending_.empty()) {
      size_t used = 0;
      AQ_RETURN_IF_ERROR(Parse(data, size, &used, batch));
      pending_.assign(data + used, data + size);
      return Status::OK();
    }
    pending_.insert(pending_.end(), data, data + size);
    size_t used = 0;
    AQ_RETURN_IF_ERROR(Parse(pending_.data(), pending_.size(), &used, batch));
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(used));
    return Status::OK();
  }
  /// Whether the stream ended with its trailer and nothing after it.
  bool Complete() const { return ended_ && pending_.empty(); }
  int64_t rows() const { return rows_; }

 private:
  static constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // plus its NUL: 11 bytes

  Status Parse(const char* data, size_t size, size_t* used, engine::ColumnBatch* batch) {
    size_t at = 0;
    if (!header_) {
      if (size < 19) {
        return Status::OK();
      }
      if (std::memcmp(data, kSignature, 11) != 0) {
        return Malformed("header");
      }
      const auto extension = static_cast<uint32_t>(BigEndian<int32_t>(data + 15));
      if (size < 19 + static_cast<size_t>(extension)) {
        return Status::OK();
      }
      at = 19 + extension;
      header_ = true;
    }
    while (!ended_ && at + 2 <= size) {
      const int16_t fields = BigEndian<int16_t>(data + at);
      if (fields == -1) {
        ended_ = true;
        at += 2;
        break;
      }
      if (fields != static_cast<int16_t>(columns_.size())) {
        return Malformed("row");
      }
      // Check the row is complete before decoding any of it.
      size_t end = at + 2;
      bool complete = true;
      for (int16_t f = 0; f < fields; ++f) {
        if (end + 4 > size) {
          complete = false;
          break;
        }
        const int32_t len = BigEndian<int32_t>(data + end);
        end += 4 + static_cast<size_t>(std::max(len, 0));
        if (end > size) {
          complete = false;
          break;
        }
      }
      if (!complete) {
        break;
      }
      ++rows_;
      size_t field = at + 2;
      for (size_t c = 0; c < columns_.size(); ++c) {
        const int32_t len = BigEndian<int32_t>(data + field);
        AQ_RETURN_IF_ERROR(Decode(columns_[c], data + field + 4, len, rows_, &batch->columns[c]));
        field += 4 + static_cast<size_t>(std::max(len, 0));
      }
      at = end;
    }
    *used = at;
    return Status::OK();
  }

  const std::vector<CopyColumn>& columns_;
  std::vector<char> pending_;
  bool header_ = false;
  bool ended_ = false;
  int64_t rows_ = 0;
};

// A batch is handed to the DuckDB appender when it holds this many rows, or when the COPY
// data decoded into it reaches kAppendBytes (long values: the two batches stay bounded).
// 32768 rows took ~10 % less CPU than 2048 (docs/benchmarks.md, ODBC, fourth step).
constexpr size_t kAppendRows = 32768;
constexpr size_t kAppendBytes = 8 << 20;

// Stream the COPY result of `pg` (in PGRES_COPY_OUT) into `appender`, appending each full batch
// on a helper thread while the next is decoded. Returns the rows decoded.
Result<int64_t> StreamRows(PGconn* pg, const std::vector<CopyColumn>& columns,
                           engine::TableAppender& appender, const connector::RunContext& ctx) {
  const CancelToken* cancel = ctx.cancel();
  engine::ColumnBatch batches[2];
  for (const auto& column : columns) {
    for (auto& batch : batches) {
      batch.columns.push_back(
          {column.plan.field.name, column.plan.field.data_type, {}, {}, {}, {}});
    }
  }
  CopyDecoder decoder(columns);
  int current = 0;
  int64_t handed_off = 0;
  size_t batch_bytes = 0;
  std::future<Status> appending;  // after `batches`: destroyed (waited for) first
  auto hand_off = [&]() -> Status {
    batch_bytes = 0;
    if (appending.valid()) {
      AQ_RETURN_IF_ERROR(appending.get());
      ctx.Rows(handed_off);
    }
    handed_off = decoder.rows();
    engine::ColumnBatch& full = batches[current];
    appending =
        std::async(std::launch::async, [&appender, &full] { return appender.Append(full); });
    current ^= 1;
    batches[current].Clear();
    return Status::OK();
  };
  for (int64_t messages = 0;; ++messages) {
    if (cancel != nullptr && (messages & 1023) == 0 && cancel->cancelled()) {
      if (PGcancel* request = PQgetCancel(pg)) {
        char error[256];
        (void)PQcancel(request, error, sizeof error);
        PQfreeCancel(request);
      }
      return Status::Cancelled("ODBC fetch cancelled");
    }
    char* buffer = nullptr;
    const int size = PQgetCopyData(pg, &buffer, 0);
    if (size == -1) {
      break;
    }
    if (size < 0) {
      return PgError(pg, "COPY failed");
    }
    Status status = decoder.Feed(buffer, static_cast<size_t>(size), &batches[current]);
    PQfreemem(buffer);
    AQ_RETURN_IF_ERROR(status);
    batch_bytes += static_cast<size_t>(size);
    if (batches[current].num_rows() >= kAppendRows ||
        (batch_bytes >= kAppendBytes && batches[current].num_rows() > 0)) {
      AQ_RETURN_IF_ERROR(hand_off());
    }
  }
  PgResult done(PQgetResult(pg));
  if (PQresultStatus(done.get()) != PGRES_COMMAND_OK) {
    return PgError(pg, "COPY failed");
  }
  if (!decoder.Complete()) {
    return Malformed("stream (it ended early)");
  }
  // The server's row count ("COPY n") must be the rows decoded.
  const std::string reported = PQcmdTuples(done.get());
  if (reported != std::to_string(decoder.rows())) {
    return Status::ExecutionError("COPY reported " + reported + " rows, " +
                                  std::to_string(decoder.rows()) + " were decoded");
  }
  if (batches[current].num_rows() > 0) {
    AQ_RETURN_IF_ERROR(hand_off());
  }
  if (appending.valid()) {
    AQ_RETURN_IF_ERROR(appending.get());
  }
  ctx.Rows(decoder.rows());
  return decoder.rows();
}

}  // namespace

std::optional<PgCopyTarget> PgCopyTargetOf(const std::string& connection_string) {
  if (!IsPostgresDriver(connection_string)) {
    return std::nullopt;
  }
  const std::string off = Unbraced(ConnectionAttribute(connection_string, kPgCopySwitch));
  if (off == "0" || Lower(off) == "no" || Lower(off) == "false" || Lower(off) == "off") {
    return std::nullopt;
  }
  for (const std::string& name : AttributeNames(connection_string)) {
    static const char* const kSafe[] = {"driver",          "server",
                                        "servername",      "port",
                                        "database",        "uid",
                                        "username",        "pwd",
                                        "password",        "sslmode",
                                        "usedeclarefetch", "fetch",
                                        "batchsize",       "aqueductspgcopy"};
    if (std::none_of(std::begin(kSafe), std::end(kSafe),
                     [&](const char* safe) { return name == safe; })) {
      if (name == "boolsaschar" &&
          Unbraced(ConnectionAttribute(connection_string, "BoolsAsChar")) == "0") {
        continue;
      }
      if (name == "numericas" &&
          Unbraced(ConnectionAttribute(connection_string, "NumericAs")) == "-1") {
        continue;
      }
      return std::nullopt;
    }
  }
  auto attribute = [&](const char* a, const char* b) {
    std::string value = Unbraced(ConnectionAttribute(connection_string, a));
    return value.empty() && b != nullptr ? Unbraced(ConnectionAttribute(connection_string, b))
                                         : value;
  };
  PgCopyTarget target;
  target.host = attribute("Server", "Servername");
  target.port = attribute("Port", nullptr);
  target.dbname = attribute("Database", nullptr);
  target.user = attribute("UID", "Username");
  target.password = attribute("PWD", "Password");
  target.sslmode = Lower(attribute("SSLmode", nullptr));
  if (target.host.empty()) {
    return std::nullopt;
  }
  return target;
}

std::string WithoutPgCopySwitch(const std::string& connection_string) {
  const std::string switch_name = Lower(kPgCopySwitch);
  std::string out;
  for (const AttributeSpan& span : SplitConnectionString(connection_string)) {
    if (span.name != switch_name) {
      out += connection_string.substr(span.begin, span.end - span.begin);
      if (span.end < connection_string.size()) {
        out += ';';
      }
    }
  }
  return out;
}

Status LoadByPgCopy(const PgCopyTarget& target, const std::string& load_query,
                    const std::string& table, const connector::RunContext& ctx) {
  // The session psqlODBC sets up (ISO dates, shortest exact floats) and the ODBC source's UTC
  // time zone, so expressions of load_query that print values give the same text.
  std::vector<const char*> keys, values;
  auto add = [&](const char* key, const std::string& value) {
    if (!value.empty()) {
      keys.push_back(key);
      values.push_back(value.c_str());
    }
  };
  const std::string encoding = "UTF8";
  const std::string options = "-c TimeZone=UTC -c DateStyle=ISO -c extra_float_digits=2";
  add("host", target.host);
  add("port", target.port);
  add("dbname", target.dbname);
  add("user", target.user);
  add("password", target.password);
  add("sslmode", target.sslmode);
  add("client_encoding", encoding);
  add("options", options);
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PgConn pg(PQconnectdbParams(keys.data(), values.data(), 0));
  if (pg == nullptr || PQstatus(pg.get()) != CONNECTION_OK) {
    return PgError(pg.get(), "connecting with libpq failed");
  }
  std::string query = load_query;
  while (!query.empty() &&
         (std::isspace(static_cast<unsigned char>(query.back())) || query.back() == ';')) {
    query.pop_back();
  }
  PgResult prepared(PQprepare(pg.get(), "", query.c_str(), 0, nullptr));
  if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
    return PgError(pg.get(), "load_query could not be prepared");
  }
  PgResult described(PQdescribePrepared(pg.get(), ""));
  if (PQresultStatus(described.get()) != PGRES_COMMAND_OK || PQnfields(described.get()) == 0) {
    return PgError(pg.get(), "load_query returned no result set");
  }
  std::vector<CopyColumn> columns;
  std::vector<ColumnPlan> plans;
  for (int c = 0; c < PQnfields(described.get()); ++c) {
    auto column = PlanCopyColumn(PQfname(described.get(), c), PQftype(described.get(), c),
                                 PQfmod(described.get(), c));
    if (!column) {
      return Status::Unsupported("a column type COPY reads do not decode");
    }
    columns.push_back(std::move(*column));
    plans.push_back(columns.back().plan);
  }
  DeduplicateNames(&plans);
  std::vector<Field> fields;
  for (size_t c = 0; c < columns.size(); ++c) {
    columns[c].plan.field.name = plans[c].field.name;
    fields.push_back(plans[c].field);
  }
  PgResult copy(PQexec(pg.get(), ("COPY (\n" + query + "\n) TO STDOUT (FORMAT binary)").c_str()));
  if (PQresultStatus(copy.get()) != PGRES_COPY_OUT) {
    return PgError(pg.get(), "COPY of load_query failed");
  }
  AQ_ASSIGN_OR_RETURN(auto appender, engine::TableAppender::Create(ctx.conn(), table, fields));
  Result<int64_t> rows = StreamRows(pg.get(), columns, *appender, ctx);
  Status status = rows.status();
  if (status.ok()) {
    status = appender->Close();
  }
  if (!status.ok()) {
    (void)appender->Abort();
    return status;
  }
  g_loads.fetch_add(1);
  return Status::OK();
}

int64_t PgCopyLoads() {
  return g_loads.load();
}

}  // namespace aqueducts::odbc
