#include "engine/appender.h"

#include <algorithm>

#include <duckdb.hpp>

#include "engine/column_types.h"
#include "engine/duckdb_error.h"

namespace aqueducts::engine {

struct TableAppender::Impl {
  duckdb::Connection* conn = nullptr;
  std::string table;
  duckdb::vector<duckdb::LogicalType> types;
  std::unique_ptr<duckdb::Appender> appender;
  duckdb::DataChunk chunk;
};

namespace {

template <typename T>
void FillInts(const ColumnVector& column, size_t offset, size_t count, duckdb::Vector& out) {
  auto* data = duckdb::FlatVector::GetData<T>(out);
  for (size_t i = 0; i < count; ++i) {
    data[i] = static_cast<T>(column.ints[offset + i]);
  }
}

// Rare types (decimals wider than 18 digits, ...) arrive as text and go through DuckDB's cast.
void FillByCast(const ColumnVector& column, size_t offset, size_t count, duckdb::Vector& out) {
  for (size_t i = 0; i < count; ++i) {
    if (column.valid[offset + i]) {
      out.SetValue(i, duckdb::Value(column.strings[offset + i]).DefaultCastAs(out.GetType()));
    }
  }
}

// Write rows [offset, offset+count) of `column` into the flat vector `out` (count <= 2048).
void FillVector(const ColumnVector& column, size_t offset, size_t count, duckdb::Vector& out) {
  using duckdb::LogicalTypeId;
  const auto& type = out.GetType();
  switch (type.id()) {
    case LogicalTypeId::BOOLEAN:
      FillInts<bool>(column, offset, count, out);
      break;
    case LogicalTypeId::TINYINT:
      FillInts<int8_t>(column, offset, count, out);
      break;
    case LogicalTypeId::SMALLINT:
      FillInts<int16_t>(column, offset, count, out);
      break;
    case LogicalTypeId::INTEGER:
      FillInts<int32_t>(column, offset, count, out);
      break;
    case LogicalTypeId::BIGINT:
      FillInts<int64_t>(column, offset, count, out);
      break;
    case LogicalTypeId::UTINYINT:
      FillInts<uint8_t>(column, offset, count, out);
      break;
    case LogicalTypeId::USMALLINT:
      FillInts<uint16_t>(column, offset, count, out);
      break;
    case LogicalTypeId::UINTEGER:
      FillInts<uint32_t>(column, offset, count, out);
      break;
    case LogicalTypeId::UBIGINT:
      FillInts<uint64_t>(column, offset, count, out);
      break;
    case LogicalTypeId::DATE: {
      auto* data = duckdb::FlatVector::GetData<duckdb::date_t>(out);
      for (size_t i = 0; i < count; ++i) {
        data[i] = duckdb::date_t(static_cast<int32_t>(column.ints[offset + i]));
      }
      break;
    }
    case LogicalTypeId::TIME: {
      auto* data = duckdb::FlatVector::GetData<duckdb::dtime_t>(out);
      for (size_t i = 0; i < count; ++i) {
        data[i] = duckdb::dtime_t(column.ints[offset + i]);
      }
      break;
    }
    case LogicalTypeId::TIMESTAMP:
    case LogicalTypeId::TIMESTAMP_TZ: {
      auto* data = duckdb::FlatVector::GetData<duckdb::timestamp_t>(out);
      for (size_t i = 0; i < count; ++i) {
        data[i] = duckdb::timestamp_t(column.ints[offset + i]);
      }
      break;
    }
    case LogicalTypeId::DECIMAL:
      switch (type.InternalType()) {
        case duckdb::PhysicalType::INT16:
          FillInts<int16_t>(column, offset, count, out);
          break;
        case duckdb::PhysicalType::INT32:
          FillInts<int32_t>(column, offset, count, out);
          break;
        case duckdb::PhysicalType::INT64:
          FillInts<int64_t>(column, offset, count, out);
          break;
        default:
          FillByCast(column, offset, count, out);
          break;
      }
      break;
    case LogicalTypeId::FLOAT: {
      auto* data = duckdb::FlatVector::GetData<float>(out);
      for (size_t i = 0; i < count; ++i) {
        data[i] = static_cast<float>(column.doubles[offset + i]);
      }
      break;
    }
    case LogicalTypeId::DOUBLE:
      std::copy_n(column.doubles.begin() + offset, count, duckdb::FlatVector::GetData<double>(out));
      break;
    case LogicalTypeId::VARCHAR:
    case LogicalTypeId::BLOB: {
      auto* data = duckdb::FlatVector::GetData<duckdb::string_t>(out);
      for (size_t i = 0; i < count; ++i) {
        const std::string& s = column.strings[offset + i];
        data[i] = duckdb::StringVector::AddStringOrBlob(out, s.data(), s.size());
      }
      break;
    }
    default:
      FillByCast(column, offset, count, out);
      break;
  }
  auto& validity = duckdb::FlatVector::Validity(out);
  for (size_t i = 0; i < count; ++i) {
    if (!column.valid[offset + i]) {
      validity.SetInvalid(i);
    }
  }
}

}  // namespace

TableAppender::TableAppender(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TableAppender::~TableAppender() = default;

Result<std::unique_ptr<TableAppender>> TableAppender::Create(Connection& connection,
                                                             const std::string& table,
                                                             const std::vector<Field>& columns) {
  auto impl = std::make_unique<Impl>();
  impl->conn = &connection.duck();
  impl->table = table;
  std::string sql = "CREATE OR REPLACE TABLE " + QuoteIdent(table) + " (";
  for (size_t i = 0; i < columns.size(); ++i) {
    duckdb::LogicalType type;
    Status status = ToLogicalType(columns[i].data_type, &type);
    if (!status.ok()) {
      return status.WithPrefix("Column '" + columns[i].name + "': ");
    }
    sql += (i ? ", " : "") + QuoteIdent(columns[i].name) + " " + type.ToString();
    impl->types.push_back(type);
  }
  sql += ")";
  try {
    auto result = impl->conn->Query(sql);
    AQ_RETURN_IF_ERROR(CheckResult(*result));
    impl->appender = std::make_unique<duckdb::Appender>(*impl->conn, table);
    impl->chunk.Initialize(duckdb::Allocator::DefaultAllocator(), impl->types);
  } catch (const std::exception& e) {
    return FromException(e);
  }
  return std::unique_ptr<TableAppender>(new TableAppender(std::move(impl)));
}

Status TableAppender::Append(const ColumnBatch& batch) {
  if (batch.columns.size() != impl_->types.size()) {
    return Status::Internal("TableAppender::Append: a batch of " +
                            std::to_string(batch.columns.size()) + " columns for table '" +
                            impl_->table + "' of " + std::to_string(impl_->types.size()) +
                            " columns");
  }
  const size_t rows = batch.num_rows();
  try {
    for (size_t offset = 0; offset < rows; offset += STANDARD_VECTOR_SIZE) {
      const size_t count = std::min<size_t>(STANDARD_VECTOR_SIZE, rows - offset);
      impl_->chunk.Reset();
      for (size_t c = 0; c < batch.columns.size(); ++c) {
        FillVector(batch.columns[c], offset, count, impl_->chunk.data[c]);
      }
      impl_->chunk.SetCardinality(count);
      impl_->appender->AppendDataChunk(impl_->chunk);
    }
  } catch (const std::exception& e) {
    return FromException(e);
  }
  rows_ += static_cast<int64_t>(rows);
  return Status::OK();
}

Status TableAppender::Close() {
  try {
    impl_->appender->Close();
  } catch (const std::exception& e) {
    return FromException(e);
  }
  return Status::OK();
}

Status TableAppender::Abort() {
  try {
    // Destroying an appender flushes; drop the table afterwards so nothing partial remains.
    impl_->appender.reset();
  } catch (const std::exception&) {
    // The table is dropped below anyway.
  }
  try {
    auto result = impl_->conn->Query("DROP TABLE IF EXISTS " + QuoteIdent(impl_->table));
    return CheckResult(*result);
  } catch (const std::exception& e) {
    return FromException(e);
  }
}

}  // namespace aqueducts::engine
