#pragma once

// The edge-value table of the round-trip suites: every type with its bounds, NULLs, '', 'NULL',
// unicode, delimiters, NaN, DECIMAL(38,18) and old/far dates, and the declared schema that
// reads it back.

namespace aqueducts {

// 12 rows; list element i of every column is row i (missing elements are NULL).
inline constexpr const char* kEdgeTable = R"sql(SELECT i::INTEGER AS id,
  ([NULL, '', 'NULL', 'null', 'é😀 ü', 'a,b;c|d	', 'q"uo''te', 'line
break' || chr(13), ' lead ', '__HIVE_DEFAULT_PARTITION__', '/=%', '%2F'])[i] AS s,
  ([-128, 127, 0, NULL]::TINYINT[])[i] AS i8,
  ([-32768, 32767, NULL]::SMALLINT[])[i] AS i16,
  ([-2147483648, 2147483647, NULL]::INTEGER[])[i] AS i32,
  ([-9223372036854775808, 9223372036854775807, NULL]::BIGINT[])[i] AS i64,
  ([0, 255, NULL]::UTINYINT[])[i] AS u8,
  ([0, 65535, NULL]::USMALLINT[])[i] AS u16,
  ([0, 4294967295, NULL]::UINTEGER[])[i] AS u32,
  ([0, 18446744073709551615, NULL]::UBIGINT[])[i] AS u64,
  (['nan', 'inf', '-inf', '3.4028235e38', '-1.1754944e-38', '1.1', NULL]::FLOAT[])[i] AS f32,
  (['nan', 'inf', '-inf', '1.7976931348623157e308', '5e-324', '0.1', NULL]::DOUBLE[])[i] AS f64,
  (['99999999999999999999.999999999999999999', '-99999999999999999999.999999999999999999',
   '0.000000000000000001', '0', NULL]::DECIMAL(38,18)[])[i] AS dec,
  ([true, false, NULL])[i] AS b,
  (['0001-01-01', '9999-12-31', '1970-01-01', '1969-12-31', NULL]::DATE[])[i] AS d,
  (['1900-01-01 00:00:00.000001', '1969-12-31 23:59:59.999999', '9999-12-31 23:59:59',
   '0001-01-01 00:00:00', NULL]::TIMESTAMP[])[i] AS ts,
  (['1960-06-01 12:00:00+05:30', '2024-03-31 02:30:00+02', '1970-01-01 00:00:00+00',
   NULL]::TIMESTAMPTZ[])[i] AS tz,
  (['\x00\xFF'::BLOB, ''::BLOB, 'abc'::BLOB, NULL])[i] AS bl
FROM range(1, 13) t(i))sql";

inline constexpr const char* kColumns =
    "id, s, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, dec, b, d, ts, tz, bl";

inline constexpr const char* kSchema =
    "[{name: id, type: int32}, {name: s, type: string}, {name: i8, type: int8}, "
    "{name: i16, type: int16}, {name: i32, type: int32}, {name: i64, type: int64}, "
    "{name: u8, type: uint8}, {name: u16, type: uint16}, {name: u32, type: uint32}, "
    "{name: u64, type: uint64}, {name: f32, type: float32}, {name: f64, type: float64}, "
    "{name: dec, type: 'decimal<38,18>'}, {name: b, type: bool}, {name: d, type: date32}, "
    "{name: ts, type: 'timestamp<microsecond>'}, {name: tz, type: 'timestamp<microsecond,UTC>'}, "
    "{name: bl, type: binary}]";

}  // namespace aqueducts
