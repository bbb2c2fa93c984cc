#include "engine/result_stream.h"

#include <duckdb.hpp>

#include "engine/column_types.h"
#include "engine/duckdb_error.h"

namespace aqueducts::engine {

struct ResultStream::Impl {
  duckdb::unique_ptr<duckdb::QueryResult> result;
};

namespace {

template <typename T>
void ReadInts(duckdb::Vector& in, size_t count, int64_t scale, ColumnVector* out) {
  const auto* data = duckdb::FlatVector::GetData<T>(in);
  for (size_t i = 0; i < count; ++i) {
    out->ints.push_back(static_cast<int64_t>(data[i]) * scale);
  }
}

void ReadText(duckdb::Vector& in, size_t count, ColumnVector* out) {
  for (size_t i = 0; i < count; ++i) {
    const duckdb::Value value = in.GetValue(i);
    out->strings.push_back(value.IsNull() ? std::string() : value.ToString());
  }
}

// Append `count` values of the flat vector `in` to `out` in the layout of column_batch.h.
void ReadVector(duckdb::Vector& in, size_t count, ColumnVector* out) {
  using duckdb::LogicalTypeId;
  const auto& type = in.GetType();
  switch (type.id()) {
    case LogicalTypeId::BOOLEAN:
      ReadInts<bool>(in, count, 1, out);
      break;
    case LogicalTypeId::TINYINT:
      ReadInts<int8_t>(in, count, 1, out);
      break;
    case LogicalTypeId::SMALLINT:
      ReadInts<int16_t>(in, count, 1, out);
      break;
    case LogicalTypeId::INTEGER:
      ReadInts<int32_t>(in, count, 1, out);
      break;
    case LogicalTypeId::BIGINT:
      ReadInts<int64_t>(in, count, 1, out);
      break;
    case LogicalTypeId::UTINYINT:
      ReadInts<uint8_t>(in, count, 1, out);
      break;
    case LogicalTypeId::USMALLINT:
      ReadInts<uint16_t>(in, count, 1, out);
      break;
    case LogicalTypeId::UINTEGER:
      ReadInts<uint32_t>(in, count, 1, out);
      break;
    case LogicalTypeId::UBIGINT:
      ReadInts<uint64_t>(in, count, 1, out);
      break;
    case LogicalTypeId::DATE:
      ReadInts<int32_t>(in, count, 1, out);
      break;
    case LogicalTypeId::TIME:
    case LogicalTypeId::TIMESTAMP:
    case LogicalTypeId::TIMESTAMP_TZ:
      ReadInts<int64_t>(in, count, 1, out);
      break;
    case LogicalTypeId::TIMESTAMP_SEC:
      ReadInts<int64_t>(in, count, 1000000, out);
      break;
    case LogicalTypeId::TIMESTAMP_MS:
      ReadInts<int64_t>(in, count, 1000, out);
      break;
    case LogicalTypeId::TIMESTAMP_NS: {
      const auto* data = duckdb::FlatVector::GetData<int64_t>(in);
      for (size_t i = 0; i < count; ++i) {
        out->ints.push_back(data[i] / 1000);
      }
      break;
    }
    case LogicalTypeId::DECIMAL:
      switch (type.InternalType()) {
        case duckdb::PhysicalType::INT16:
          ReadInts<int16_t>(in, count, 1, out);
          break;
        case duckdb::PhysicalType::INT32:
          ReadInts<int32_t>(in, count, 1, out);
          break;
        case duckdb::PhysicalType::INT64:
          ReadInts<int64_t>(in, count, 1, out);
          break;
        default:
          ReadText(in, count, out);
          break;
      }
      break;
    case LogicalTypeId::FLOAT: {
      const auto* data = duckdb::FlatVector::GetData<float>(in);
      for (size_t i = 0; i < count; ++i) {
        out->doubles.push_back(data[i]);
      }
      break;
    }
    case LogicalTypeId::DOUBLE: {
      const auto* data = duckdb::FlatVector::GetData<double>(in);
      out->doubles.insert(out->doubles.end(), data, data + count);
      break;
    }
    case LogicalTypeId::VARCHAR:
    case LogicalTypeId::BLOB: {
      const auto* data = duckdb::FlatVector::GetData<duckdb::string_t>(in);
      auto& validity = duckdb::FlatVector::Validity(in);
      for (size_t i = 0; i < count; ++i) {
        if (validity.RowIsValid(i)) {
          out->strings.emplace_back(data[i].GetData(), data[i].GetSize());
        } else {
          out->strings.emplace_back();
        }
      }
      break;
    }
    default:
      ReadText(in, count, out);
      break;
  }
  auto& validity = duckdb::FlatVector::Validity(in);
  for (size_t i = 0; i < count; ++i) {
    out->valid.push_back(validity.RowIsValid(i) ? 1 : 0);
  }
}

}  // namespace

ResultStream::ResultStream(std::unique_ptr<Impl> impl, std::vector<Field> schema)
    : impl_(std::move(impl)), schema_(std::move(schema)) {}
ResultStream::~ResultStream() = default;

Result<std::unique_ptr<ResultStream>> ResultStream::Open(Connection& connection,
                                                         const std::string& sql) {
  auto impl = std::make_unique<Impl>();
  std::vector<Field> schema;
  try {
    impl->result = connection.duck().SendQuery(sql);
    AQ_RETURN_IF_ERROR(CheckResult(*impl->result));
    for (size_t i = 0; i < impl->result->ColumnCount(); ++i) {
      Field field;
      field.name = impl->result->names[i];
      field.data_type = FromLogicalType(impl->result->types[i]);
      schema.push_back(std::move(field));
    }
  } catch (const std::exception& e) {
    return FromException(e);
  }
  return std::unique_ptr<ResultStream>(new ResultStream(std::move(impl), std::move(schema)));
}

ColumnBatch ResultStream::MakeBatch() const {
  ColumnBatch batch;
  for (const auto& field : schema_) {
    ColumnVector column;
    column.name = field.name;
    column.type = field.data_type;
    batch.columns.push_back(std::move(column));
  }
  return batch;
}

Result<bool> ResultStream::Next(ColumnBatch* batch) {
  try {
    duckdb::unique_ptr<duckdb::DataChunk> chunk = impl_->result->Fetch();
    AQ_RETURN_IF_ERROR(CheckResult(*impl_->result));
    if (!chunk || chunk->size() == 0) {
      return false;
    }
    chunk->Flatten();
    for (size_t c = 0; c < batch->columns.size(); ++c) {
      ReadVector(chunk->data[c], chunk->size(), &batch->columns[c]);
    }
  } catch (const std::exception& e) {
    return FromException(e);
  }
  return true;
}

}  // namespace aqueducts::engine
