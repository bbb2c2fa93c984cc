#!/usr/bin/env bash
# Whole-pipeline benchmarks of the core against bare DuckDB and polars (issue #2).
# Usage: bench/run_all.sh [build-dir]   (a Release build; `make bench` does everything)
# Env: ROWS (default 10000000), RUNS (default 5). Prints a Markdown table of medians.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(cd "${1:-$ROOT/build-release}" && pwd)"
ROWS="${ROWS:-10000000}"
RUNS="${RUNS:-5}"
DATA="$ROOT/bench/.data"
AQ="$BUILD/src/cli/aqueducts"
DUCK="$BUILD/bench/duckdb_sql"
"$ROOT/bench/setup.sh"
mkdir -p "$DATA"

# --- data: ROWS readings, 60 days, 8 locations -------------------------------------------------
CSV="$DATA/readings_$ROWS.csv"
PARQ="$DATA/readings_$ROWS.parquet"
if [ ! -f "$CSV" ]; then
  echo "generating $ROWS rows..." >&2
  "$DUCK" "COPY (SELECT i AS id, TIMESTAMP '2024-01-01' + INTERVAL (i % 5184000) SECOND AS ts,
      DATE '2024-01-01' + CAST(i % 60 AS INTEGER) AS day, CAST(i % 8 + 1 AS INTEGER) AS location_id,
      round(-10 + (hash(i) % 5000) / 100.0, 2) AS temperature,
      round((hash(i * 7) % 10000) / 100.0, 2) AS humidity,
      ['Sunny','Cloudy','Rainy','Snowy'][CAST(i % 4 AS INTEGER) + 1] AS condition
    FROM range($ROWS) t(i)) TO '$CSV' (HEADER)" 2>/dev/null
  "$DUCK" "COPY (SELECT * FROM read_csv('$CSV')) TO '$PARQ' (FORMAT parquet, COMPRESSION zstd)" 2>/dev/null
fi

# median of RUNS wall-clock runs (seconds) of a command; the command's output is discarded
measure() {
  local times=()
  for _ in $(seq "$RUNS"); do
    rm -rf "$DATA"/out_*
    local s e
    s=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; "$@" >&2 || true; exit 1; }
    e=$(date +%s.%N)
    times+=("$(echo "$e - $s" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'
}
ratio() { echo "scale=3; $1 / $2" | bc -l | awk '{printf "%.2f", $1}'; }

SCHEMA='[{name: id, data_type: int64}, {name: ts, data_type: "timestamp<microsecond>"},
  {name: day, data_type: date32}, {name: location_id, data_type: int32},
  {name: temperature, data_type: float64}, {name: humidity, data_type: float64},
  {name: condition, data_type: string}]'

cat > "$DATA/csv2parquet.yml" <<YAML
sources:
  - type: file
    name: readings
    format: {type: csv, options: {schema: $SCHEMA}}
    location: $CSV
stages:
  - - name: all_rows
      query: SELECT * FROM readings
destination:
  type: file
  name: partitioned
  format: {type: parquet, options: {}}
  location: $DATA/out_aq
  single_file: false
  partition_columns: [day]
YAML

# The same pipeline with Parquet 2.0 encodings (writer_version: "2.0"): a tuning data point.
sed 's/format: {type: parquet, options: {}}/format: {type: parquet, options: {writer_version: "2.0"}}/' \
  "$DATA/csv2parquet.yml" > "$DATA/csv2parquet_v2.yml"

cat > "$DATA/groupby.yml" <<YAML
sources:
  - type: file
    name: readings
    format: {type: parquet, options: {}}
    location: $PARQ
stages:
  - - name: daily
      query: >
        SELECT day, location_id, avg(temperature) AS avg_temp, min(temperature) AS min_temp,
               max(temperature) AS max_temp, avg(humidity) AS avg_humidity, count(*) AS n
        FROM readings GROUP BY day, location_id
destination:
  type: file
  name: daily
  format: {type: parquet, options: {}}
  location: $DATA/out_aq.parquet
YAML

cat > "$DATA/two_stages.yml" <<YAML
sources:
  - type: file
    name: readings
    format: {type: parquet, options: {}}
    location: $PARQ
stages:
  - - name: warm
      query: SELECT day, location_id, temperature, humidity FROM readings WHERE temperature > 0
  - - name: daily
      query: >
        SELECT day, location_id, avg(temperature) AS avg_temp, count(*) AS n
        FROM warm GROUP BY day, location_id
destination:
  type: file
  name: daily
  format: {type: parquet, options: {}}
  location: $DATA/out_aq.parquet
YAML
# The same pipeline with the filter stage materialised: a stage read twice is a table, so the
# aggregate reads `warm` a second time in a branch that yields no row.
sed 's/FROM warm GROUP BY day, location_id/FROM warm GROUP BY day, location_id UNION ALL SELECT NULL, NULL, NULL, 0 FROM warm WHERE false/' \
  "$DATA/two_stages.yml" > "$DATA/two_stages_table.yml"

DUCK_CSV="COPY (SELECT * FROM read_csv('$CSV', columns={'id':'BIGINT','ts':'TIMESTAMP','day':'DATE',
  'location_id':'INTEGER','temperature':'DOUBLE','humidity':'DOUBLE','condition':'VARCHAR'}, header=true))
  TO '$DATA/out_duck' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day))"
DUCK_GROUP="COPY (SELECT day, location_id, avg(temperature) AS avg_temp, min(temperature) AS min_temp,
  max(temperature) AS max_temp, avg(humidity) AS avg_humidity, count(*) AS n FROM read_parquet('$PARQ')
  GROUP BY day, location_id) TO '$DATA/out_duck.parquet' (FORMAT parquet, COMPRESSION zstd)"

echo "measuring ($RUNS runs each, $ROWS rows)..." >&2
t_aq_csv=$(measure "$AQ" run -q -f "$DATA/csv2parquet.yml")
t_duck_csv=$(measure "$DUCK" "$DUCK_CSV")
t_aq_csv_v2=$(measure "$AQ" run -q -f "$DATA/csv2parquet_v2.yml")
t_pl_csv=$(measure node "$ROOT/bench/polars_bench.js" csv2parquet "$CSV" "$DATA/out_pl.parquet")
t_aq_grp=$(measure "$AQ" run -q -f "$DATA/groupby.yml")
t_duck_grp=$(measure "$DUCK" "$DUCK_GROUP")
t_pl_grp=$(measure node "$ROOT/bench/polars_bench.js" groupby "$PARQ" "$DATA/out_pl.parquet")
t_view=$(measure "$AQ" run -q -f "$DATA/two_stages.yml")
t_table=$(measure "$AQ" run -q -f "$DATA/two_stages_table.yml")

help_times=()
for _ in $(seq 20); do
  s=$(date +%s%N); "$AQ" --help >/dev/null; e=$(date +%s%N); help_times+=($(( (e - s) / 1000000 )))
done
t_help=$(printf '%s\n' "${help_times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')

# Output sizes: our Parquet default (zstd) against polars' zstd file and DuckDB's snappy default.
"$AQ" run -q -f "$DATA/groupby.yml" >/dev/null 2>&1
"$DUCK" "COPY (SELECT * FROM read_csv('$CSV')) TO '$DATA/out_snappy.parquet' (FORMAT parquet)" 2>/dev/null
size_snappy=$(du -m "$DATA/out_snappy.parquet" | cut -f1)

cat <<MD
| scenario | aqueducts (s) | bare DuckDB (s) | polars (s) | aqueducts / DuckDB | aqueducts / polars |
|---|---|---|---|---|---|
| CSV → hive-partitioned Parquet, $ROWS rows | $t_aq_csv | $t_duck_csv | $t_pl_csv ¹ | $(ratio "$t_aq_csv" "$t_duck_csv") | $(ratio "$t_aq_csv" "$t_pl_csv") |
| the same, \`writer_version: "2.0"\` | $t_aq_csv_v2 | – | $t_pl_csv ¹ | – | $(ratio "$t_aq_csv_v2" "$t_pl_csv") |
| Parquet → GROUP BY → Parquet | $t_aq_grp | $t_duck_grp | $t_pl_grp | $(ratio "$t_aq_grp" "$t_duck_grp") | $(ratio "$t_aq_grp" "$t_pl_grp") |

| stage wiring (Parquet → filter stage → aggregate stage → Parquet) | seconds |
|---|---|
| single-use stage streamed as a view (default) | $t_view |
| the filter stage materialised (read twice, two_stages_table.yml) | $t_table |
| ratio materialised / view | $(ratio "$t_table" "$t_view") |

\`aqueducts --help\`: median ${t_help} ms over 20 runs. DuckDB's default (snappy) Parquet of the CSV: ${size_snappy} MB.
MD
