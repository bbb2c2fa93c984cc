#!/usr/bin/env bash
# The side-by-side benchmark suite (issue #15; `make bench-suite`): every scenario for aqueducts,
# bare DuckDB (bench/duckdb_sql.c, the C API running the same SQL) and polars (nodejs-polars,
# bench/polars_bench.js) on the same generated data, the three tools alternating within each
# repetition. Prints one Markdown table of medians and ratios: wall time, CPU time (user + sys),
# peak memory (max RSS, /usr/bin/time) and output size; then the ODBC table of
# bench/odbc_bench.sh (aqueducts against psql \copy).
# Usage: bench/suite.sh [build-dir]
# Env: ROWS (default 10000000), RUNS (default 5), ODBC_ROWS (default min(ROWS, 1000000); 0 skips
# ODBC), POLARS (1 = install with bench/setup.sh if missing, auto = use only if installed,
# 0 = skip; default 1), WORK (data directory, default bench/.data/suite_ROWS; deleted at the end
# unless KEEP=1), ONLY (a regex of scenario names to run).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(cd "${1:-$ROOT/build-release}" && pwd)"
ROWS="${ROWS:-10000000}"
RUNS="${RUNS:-5}"
ODBC_ROWS="${ODBC_ROWS:-$((ROWS < 1000000 ? ROWS : 1000000))}"
POLARS="${POLARS:-1}"
ONLY="${ONLY:-.}"
WORK="${WORK:-$ROOT/bench/.data/suite_$ROWS}"
AQ="$BUILD/src/cli/aqueducts"
DUCK="$BUILD/bench/duckdb_sql"
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench/suite.sh needs GNU time (/usr/bin/time, Debian package time)" >&2; exit 1; }
[ -x "$AQ" ] && [ -x "$DUCK" ] || { echo "build $BUILD first (aqueducts and bench/duckdb_sql)" >&2; exit 1; }

PL=""
if [ "$POLARS" = 1 ]; then "$ROOT/bench/setup.sh"; fi
if [ "$POLARS" != 0 ] && [ -d "$ROOT/bench/.deps/node_modules/nodejs-polars" ] && command -v node >/dev/null; then
  PL="node $ROOT/bench/polars_bench.js"
fi

mkdir -p "$WORK"
cleanup() { [ -n "${KEEP:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT
OUT="$WORK/out"
RESULTS="$WORK/results.tsv"
: > "$RESULTS"
GROUPS_N=$(( ROWS / 10 > 0 ? ROWS / 10 : 1 ))  # GROUP BY groups and dimension rows: 1M at 10M

# --- data --------------------------------------------------------------------------------------
CSV="$WORK/readings.csv"; PARQ="$WORK/readings.parquet"; JSONL="$WORK/readings.jsonl"
DIM="$WORK/dim.parquet"; STATIONS="$WORK/stations.csv"; UPD="$WORK/update.parquet"
echo "generating $ROWS rows in $WORK..." >&2
"$DUCK" "COPY (SELECT i AS id, TIMESTAMP '2024-01-01' + INTERVAL (i % 5184000) SECOND AS ts,
    DATE '2024-01-01' + CAST(i % 60 AS INTEGER) AS day, CAST(i % 8 + 1 AS INTEGER) AS location_id,
    round(-10 + (hash(i) % 5000) / 100.0, 2) AS temperature,
    round((hash(i * 7) % 10000) / 100.0, 2) AS humidity,
    ['Sunny','Cloudy','Rainy','Snowy'][CAST(i % 4 AS INTEGER) + 1] AS condition
  FROM range($ROWS) t(i)) TO '$PARQ' (FORMAT parquet, COMPRESSION zstd)" >/dev/null 2>&1
"$DUCK" "COPY (SELECT * FROM read_parquet('$PARQ')) TO '$CSV' (HEADER)" >/dev/null 2>&1
"$DUCK" "COPY (SELECT * FROM read_parquet('$PARQ')) TO '$JSONL' (FORMAT json)" >/dev/null 2>&1
"$DUCK" "COPY (SELECT i AS key, 'c' || (i % 100) AS category FROM range($GROUPS_N) t(i))
  TO '$DIM' (FORMAT parquet, COMPRESSION zstd)" >/dev/null 2>&1
"$DUCK" "COPY (SELECT * FROM read_parquet('$DIM')) TO '$STATIONS' (HEADER)" >/dev/null 2>&1
# 1% of the rows for the upsert: 60% of the first day (of 60), temperature changed.
"$DUCK" "COPY (SELECT id, ts, day, location_id, temperature + 1 AS temperature, humidity, condition
  FROM read_parquet('$PARQ') WHERE day = DATE '2024-01-01' AND id % 5 < 3)
  TO '$UPD' (FORMAT parquet, COMPRESSION zstd)" >/dev/null 2>&1

CSV_COLS="{'id':'BIGINT','ts':'TIMESTAMP','day':'DATE','location_id':'INTEGER','temperature':'DOUBLE','humidity':'DOUBLE','condition':'VARCHAR'}"
SCHEMA='[{name: id, data_type: int64}, {name: ts, data_type: "timestamp<microsecond>"},
  {name: day, data_type: date32}, {name: location_id, data_type: int32},
  {name: temperature, data_type: float64}, {name: humidity, data_type: float64},
  {name: condition, data_type: string}]'
ZSTD="(FORMAT parquet, COMPRESSION zstd)"

# pipeline NAME SOURCES_YAML STAGES_YAML DESTINATION_YAML: writes $WORK/NAME.yml
pipeline() {
  printf 'sources:\n%s\nstages:\n%s\ndestination:\n%s\n' "$2" "$3" "$4" > "$WORK/$1.yml"
}
src_csv() { printf '  - type: file\n    name: %s\n    format: {type: csv, options: {schema: %s}}\n    location: %s\n' "$1" "$3" "$2"; }
src_parquet() { printf '  - type: file\n    name: %s\n    format: {type: parquet, options: {}}\n    location: %s\n' "$1" "$2"; }
stage() { printf '  - - name: %s\n      query: "%s"\n' "$1" "$2"; }
dest_parquet() { printf '  type: file\n  name: out\n  format: {type: parquet, options: {}}\n  location: %s\n' "$1"; }

STATIONS_SCHEMA='[{name: key, data_type: int64}, {name: category, data_type: string}]'
JOIN_SQL="SELECT category, avg(temperature) AS avg_temp, count(*) AS n FROM readings JOIN dim ON readings.id % $GROUPS_N = dim.key GROUP BY category"

pipeline csv_filter "$(src_csv readings "$CSV" "$SCHEMA")" \
  "$(stage f 'SELECT * FROM readings WHERE temperature > 0')" "$(dest_parquet "$OUT/csv_filter.parquet")"
pipeline groupby_1m "$(src_parquet readings "$PARQ")" \
  "$(stage g "SELECT id % $GROUPS_N AS g, avg(temperature) AS avg_temp, max(humidity) AS max_hum, count(*) AS n FROM readings GROUP BY g")" \
  "$(dest_parquet "$OUT/groupby_1m.parquet")"
pipeline join_dim "$(src_parquet readings "$PARQ"; src_parquet dim "$DIM")" \
  "$(stage j "$JOIN_SQL")" "$(dest_parquet "$OUT/join_dim.parquet")"
pipeline csv_partitioned "$(src_csv readings "$CSV" "$SCHEMA")" \
  "$(stage a 'SELECT * FROM readings')" \
  "$(dest_parquet "$OUT/csv_partitioned"; printf '  single_file: false\n  partition_columns: [day]\n')"
pipeline csv_join "$(src_csv readings "$CSV" "$SCHEMA"; src_csv dim "$STATIONS" "$STATIONS_SCHEMA")" \
  "$(stage j "$JOIN_SQL")" "$(dest_parquet "$OUT/csv_join.parquet")"
pipeline three_stages "$(src_parquet readings "$PARQ")" \
  "$(stage warm 'SELECT day, location_id, temperature FROM readings WHERE temperature > 0'
     stage fahrenheit 'SELECT day, location_id, temperature * 1.8 + 32 AS temp_f FROM warm'
     stage daily 'SELECT day, location_id, avg(temp_f) AS avg_temp_f, count(*) AS n FROM fahrenheit GROUP BY day, location_id')" \
  "$(dest_parquet "$OUT/three_stages.parquet")"
pipeline jsonl "$(printf '  - type: file\n    name: readings\n    format: {type: json, options: {schema: %s}}\n    location: %s\n' "$SCHEMA" "$JSONL")" \
  "$(stage a 'SELECT * FROM readings')" "$(dest_parquet "$OUT/jsonl.parquet")"
DELTA_DEST="  type: delta
  name: readings
  location: $OUT/delta
  storage_config: {}
  table_properties: {}
  partition_columns: [day]"
pipeline delta_append "$(src_parquet readings "$PARQ")" "$(stage a 'SELECT * FROM readings')" \
  "$DELTA_DEST
  write_mode: {operation: append}"
pipeline delta_upsert "$(src_parquet upd "$UPD")" "$(stage a 'SELECT * FROM upd')" \
  "$DELTA_DEST
  write_mode: {operation: upsert, params: [day, id]}"

D_CSV="read_csv('$CSV', columns=$CSV_COLS, header=true)"
d_join() { echo "SELECT category, avg(temperature) AS avg_temp, count(*) AS n FROM $1 r JOIN $2 d ON r.id % $GROUPS_N = d.key GROUP BY category"; }
declare -A DUCK_SQL=(
  [csv_filter]="COPY (SELECT * FROM $D_CSV WHERE temperature > 0) TO '$OUT/csv_filter.parquet' $ZSTD"
  [groupby_1m]="COPY (SELECT id % $GROUPS_N AS g, avg(temperature) AS avg_temp, max(humidity) AS max_hum, count(*) AS n FROM read_parquet('$PARQ') GROUP BY g) TO '$OUT/groupby_1m.parquet' $ZSTD"
  [join_dim]="COPY ($(d_join "read_parquet('$PARQ')" "read_parquet('$DIM')")) TO '$OUT/join_dim.parquet' $ZSTD"
  [csv_partitioned]="COPY (SELECT * FROM $D_CSV) TO '$OUT/csv_partitioned' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day))"
  [csv_join]="COPY ($(d_join "$D_CSV" "read_csv('$STATIONS', columns={'key':'BIGINT','category':'VARCHAR'}, header=true)")) TO '$OUT/csv_join.parquet' $ZSTD"
  [three_stages]="COPY (WITH warm AS (SELECT day, location_id, temperature FROM read_parquet('$PARQ') WHERE temperature > 0), fahrenheit AS (SELECT day, location_id, temperature * 1.8 + 32 AS temp_f FROM warm) SELECT day, location_id, avg(temp_f) AS avg_temp_f, count(*) AS n FROM fahrenheit GROUP BY day, location_id) TO '$OUT/three_stages.parquet' $ZSTD"
  [jsonl]="COPY (SELECT * FROM read_json('$JSONL', columns=$CSV_COLS, format='newline_delimited')) TO '$OUT/jsonl.parquet' $ZSTD"
)
declare -A POLARS_ARGS=(
  [csv_filter]="csvfilter $CSV $OUT/csv_filter.parquet"
  [groupby_1m]="groupby_n $PARQ $OUT/groupby_1m.parquet $GROUPS_N"
  [join_dim]="join $PARQ $OUT/join_dim.parquet $DIM $GROUPS_N"
  [csv_join]="csvjoin $CSV $OUT/csv_join.parquet $STATIONS $GROUPS_N"
  [three_stages]="stages3 $PARQ $OUT/three_stages.parquet"
  [jsonl]="jsonl $JSONL $OUT/jsonl.parquet"
)
declare -A LABEL=(
  [csv_filter]="CSV → filter → one Parquet file (zstd)"
  [groupby_1m]="Parquet → GROUP BY $GROUPS_N groups → Parquet"
  [join_dim]="Parquet ⋈ $GROUPS_N-row dimension → aggregate → Parquet"
  [csv_partitioned]="CSV → hive-partitioned Parquet (by day)"
  [csv_join]="two-source CSV join → aggregate → Parquet"
  [three_stages]="Parquet → three chained stages → Parquet"
  [jsonl]="JSON lines → Parquet"
  [delta_append]="Parquet → Delta append (new table, by day)"
  [delta_upsert]="Delta upsert of 1% of the rows (keys day, id)"
)
SCENARIOS=(csv_filter groupby_1m join_dim csv_partitioned csv_join three_stages jsonl delta_append delta_upsert)

# The upsert's base table: the Delta append's result, copied before each (untimed) upsert run.
if [[ delta_upsert =~ $ONLY ]]; then
  rm -rf "$OUT"; mkdir -p "$OUT"
  "$AQ" run -q -f "$WORK/delta_append.yml" >/dev/null 2>&1
  mv "$OUT/delta" "$WORK/delta_base"
fi

# run SCENARIO TOOL COMMAND...: one timed run; appends "scenario tool wall cpu rss_kb bytes"
run() {
  local scenario="$1" tool="$2"; shift 2
  rm -rf "$OUT"; mkdir -p "$OUT"
  [ "$scenario" = delta_upsert ] && cp -r "$WORK/delta_base" "$OUT/delta"
  if ! "$TIME" -f '%e %U %S %M' -o "$WORK/time" "$@" >"$WORK/log" 2>&1; then
    echo "FAILED ($scenario, $tool): $*" >&2; cat "$WORK/log" >&2; exit 1
  fi
  local bytes
  bytes=$(du -sb "$OUT" | cut -f1)
  [ "$scenario" = delta_upsert ] && bytes=$(( bytes - $(du -sb "$WORK/delta_base" | cut -f1) ))
  # Every run must have written something (a smoke check, not a result check).
  [ "$bytes" -gt 0 ] || { echo "FAILED ($scenario, $tool): no output written" >&2; exit 1; }
  awk -v s="$scenario" -v t="$tool" -v b="$bytes" 'END {printf "%s\t%s\t%s\t%.2f\t%d\t%d\n", s, t, $1, $2 + $3, $4, b}' \
    "$WORK/time" >> "$RESULTS"
}

echo "measuring ($RUNS alternating repetitions, $ROWS rows; load: $(cut -d' ' -f1-3 /proc/loadavg))..." >&2
for scenario in "${SCENARIOS[@]}"; do
  [[ $scenario =~ $ONLY ]] || continue
  for _ in $(seq "$RUNS"); do
    run "$scenario" aqueducts "$AQ" run -q -f "$WORK/$scenario.yml"
    [ -n "${DUCK_SQL[$scenario]:-}" ] && run "$scenario" duckdb "$DUCK" "${DUCK_SQL[$scenario]}"
    # shellcheck disable=SC2086
    [ -n "$PL" ] && [ -n "${POLARS_ARGS[$scenario]:-}" ] && run "$scenario" polars $PL ${POLARS_ARGS[$scenario]}
    true
  done
done
rm -rf "$OUT"

echo
echo "$ROWS rows, median of $RUNS alternating runs, $(date -u '+%Y-%m-%d %H:%M UTC'), load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| scenario | wall s: ours / DuckDB / polars | ours ÷ DuckDB | ours ÷ polars | CPU s: ours / DuckDB / polars | peak MB: ours / DuckDB / polars | output MB: ours / DuckDB / polars |"
echo "|---|---|---|---|---|---|---|"
for scenario in "${SCENARIOS[@]}"; do
  [[ $scenario =~ $ONLY ]] || continue
  awk -F'\t' -v s="$scenario" -v label="${LABEL[$scenario]}" '
    function median(list,   n, a, i, j, t) {
      n = split(list, a, " ")
      if (n == 0) return ""
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    function cell(x, fmt) { return x == "" ? "n/a" : sprintf(fmt, x) }
    function ratio(a, b) { return (a == "" || b == "" || b + 0 == 0) ? "n/a" : sprintf("**%.2f**", a / b) }
    $1 == s { wall[$2] = wall[$2] " " $3; cpu[$2] = cpu[$2] " " $4; rss[$2] = rss[$2] " " $5; out[$2] = out[$2] " " $6 }
    END {
      split("aqueducts duckdb polars", tools, " ")
      for (i = 1; i <= 3; i++) {
        t = tools[i]; w[i] = median(wall[t]); c[i] = median(cpu[t]); r[i] = median(rss[t]); o[i] = median(out[t])
        if (r[i] != "") r[i] /= 1024; if (o[i] != "") o[i] /= 1048576
      }
      printf "| %s | %s / %s / %s | %s | %s | %s / %s / %s | %s / %s / %s | %s / %s / %s |\n", label,
        cell(w[1], "%.2f"), cell(w[2], "%.2f"), cell(w[3], "%.2f"), ratio(w[1], w[2]), ratio(w[1], w[3]),
        cell(c[1], "%.2f"), cell(c[2], "%.2f"), cell(c[3], "%.2f"),
        cell(r[1], "%.0f"), cell(r[2], "%.0f"), cell(r[3], "%.0f"),
        cell(o[1], "%.1f"), cell(o[2], "%.1f"), cell(o[3], "%.1f")
    }' "$RESULTS"
done

if [ "$ODBC_ROWS" != 0 ] && [[ odbc =~ $ONLY ]]; then
  echo
  ROWS="$ODBC_ROWS" RUNS="$RUNS" "$ROOT/bench/odbc_bench.sh" "$BUILD"
fi
