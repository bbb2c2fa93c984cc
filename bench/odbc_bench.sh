#!/usr/bin/env bash
# ODBC benchmarks (issue #5): 1M rows PostgreSQL -> Parquet and Parquet -> PostgreSQL through
# aqueducts pipelines, against `psql \copy` of the same data. Starts its own PostgreSQL 15 on a
# free loopback port (as the postgres OS user when run as root); leaves nothing behind.
# Usage: bench/odbc_bench.sh [build-dir]   Env: ROWS (default 1000000), RUNS (default 3),
# BATCH (destination batch_size, default 10000), CONN_EXTRA (appended to the connection string,
# e.g. "Protocol=7.4-1;", or "AqueductsPgCopy=0;" to read through psqlODBC instead of the
# PostgreSQL COPY read path, docs/odbc.md), KEEP=1 (keep the server and files in /tmp/aq_odbc_bench.* for
# profiling). Runs are paired and alternating (see below); prints a Markdown table of medians.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(cd "${1:-$ROOT/build-release}" && pwd)"
ROWS="${ROWS:-1000000}"
RUNS="${RUNS:-3}"
BATCH="${BATCH:-10000}"
AQ="$BUILD/src/cli/aqueducts"
DUCK="$BUILD/bench/duckdb_sql"
PGBIN=/usr/lib/postgresql/15/bin
AS_PG=""
[ "$(id -u)" = 0 ] && AS_PG="runuser -u postgres --"

WORK="$(mktemp -d /tmp/aq_odbc_bench.XXXXXX)"
chmod 777 "$WORK"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
  $AS_PG "$PGBIN/pg_ctl" -D "$WORK/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
[ -n "${KEEP:-}" ] || trap cleanup EXIT

echo postgres > "$WORK/pw"; chmod 644 "$WORK/pw"
$AS_PG "$PGBIN/initdb" -D "$WORK/data" -U postgres --pwfile="$WORK/pw" --auth-local=trust \
  --auth-host=md5 -N -E UTF8 --locale=C >/dev/null
$AS_PG "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/log" -w -o \
  "-p $PORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" start >/dev/null
DRIVER=""
for d in /usr/lib/*/odbc/psqlodbcw.so /usr/lib/odbc/psqlodbcw.so; do
  [ -f "$d" ] && { DRIVER="$d"; break; }
done
printf '[PostgreSQL Unicode]\nDriver=%s\n' "$DRIVER" > "$WORK/odbcinst.ini"
export ODBCSYSINI="$WORK" PGPASSWORD=postgres
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d postgres)
CONN="Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=$PORT;Database=postgres;UID=postgres;PWD=postgres;${CONN_EXTRA:-}"

# --- data: ROWS readings as Parquet, CSV and a PostgreSQL table --------------------------------
PARQ="$WORK/readings.parquet"
"$DUCK" "COPY (SELECT i AS id, TIMESTAMP '2024-01-01' + INTERVAL (i % 5184000) SECOND AS ts,
    DATE '2024-01-01' + CAST(i % 60 AS INTEGER) AS day, CAST(i % 8 + 1 AS INTEGER) AS location_id,
    round(-10 + (hash(i) % 5000) / 100.0, 2) AS temperature,
    round((hash(i * 7) % 10000) / 100.0, 2) AS humidity,
    ['Sunny','Cloudy','Rainy','Snowy'][CAST(i % 4 AS INTEGER) + 1] AS condition
  FROM range($ROWS) t(i)) TO '$PARQ' (FORMAT parquet)" >/dev/null 2>&1
"$DUCK" "COPY (SELECT * FROM read_parquet('$PARQ')) TO '$WORK/readings.csv' (HEADER)" >/dev/null 2>&1
DDL="(id bigint, ts timestamp, day date, location_id integer, temperature double precision,
      humidity double precision, condition text)"
"${PSQL[@]}" -c "CREATE TABLE readings $DDL; CREATE TABLE target $DDL;"
"${PSQL[@]}" -c "\\copy readings FROM '$WORK/readings.csv' CSV HEADER"

cat > "$WORK/pg2parquet.yml" <<YAML
sources:
  - type: odbc
    name: readings
    connection_string: "$CONN"
    load_query: SELECT * FROM readings
stages:
  - - name: all_rows
      query: SELECT * FROM readings
destination:
  type: file
  name: out
  format: {type: parquet, options: {}}
  location: $WORK/out.parquet
YAML
cat > "$WORK/parquet2pg.yml" <<YAML
sources:
  - type: file
    name: readings
    format: {type: parquet, options: {}}
    location: $PARQ
stages:
  - - name: all_rows
      query: SELECT * FROM readings
destination:
  type: odbc
  name: target
  connection_string: "$CONN"
  write_mode: {operation: append}
  batch_size: $BATCH
YAML

# One timed run of a command: prints "wall cpu" (seconds; cpu = user + sys of the process and
# its children, from GNU time). $1 runs before it, untimed.
once() {
  local before="$1"; shift
  eval "$before"
  /usr/bin/time -f '%e %U %S' -o "$WORK/time" "$@" >/dev/null 2>"$WORK/err" ||
    { echo "FAILED: $*" >&2; cat "$WORK/err" >&2; exit 1; }
  awk '{printf "%s %.2f\n", $1, $2 + $3}' "$WORK/time"
}
median() { sort -n | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'; }
rate() { echo "$ROWS / $1" | bc -l | awk '{printf "%.0f", $1}'; }
TRUNC="\"\${PSQL[@]}\" -c 'TRUNCATE target' >/dev/null; rm -f '$WORK/out.parquet' '$WORK/out.csv'"

# Paired, alternating runs: each repetition runs ours and \copy back to back for both directions,
# so both see the same machine load; the ratio column is the median of the per-pair ratios.
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "measuring ($RUNS paired runs, $ROWS rows; load average $load_start)..." >&2
: > "$WORK/runs"
for run in $(seq "$RUNS"); do
  read -r rw rc < <(once "$TRUNC" "$AQ" run -q -f "$WORK/pg2parquet.yml")
  read -r cw cc < <(once "$TRUNC" "${PSQL[@]}" -c "\\copy readings TO '$WORK/out.csv' CSV")
  read -r ww wc < <(once "$TRUNC" "$AQ" run -q -f "$WORK/parquet2pg.yml")
  [ "$("${PSQL[@]}" -At -c 'SELECT count(*) FROM target')" = "$ROWS" ] ||
    { echo "row count mismatch after the aqueducts write" >&2; exit 1; }
  read -r iw ic < <(once "$TRUNC" "${PSQL[@]}" -c "\\copy target FROM '$WORK/readings.csv' CSV HEADER")
  echo "$rw $rc $cw $ww $wc $iw" >> "$WORK/runs"
  echo "  run $run: read $rw s (cpu $rc) vs \\copy $cw s; write $ww s (cpu $wc) vs \\copy $iw s;" \
    "load $(cut -d' ' -f1 /proc/loadavg)" >&2
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
col() { awk -v c="$1" '{print $c}' "$WORK/runs" | median; }
pair() { awk -v a="$1" -v b="$2" '{print $a / $b}' "$WORK/runs" | median; }
t_read=$(col 1); c_read=$(col 2); t_copy_out=$(col 3)
t_write=$(col 4); c_write=$(col 5); t_copy_in=$(col 6)

cat <<MD
Load average (1, 5, 15 min): $load_start at the start, $load_end at the end; $RUNS paired runs.

| scenario ($ROWS rows, 7 columns) | aqueducts (s) | aqueducts CPU (s) | rows/s | psql \\copy (s) | rows/s | aqueducts / \\copy (median of pairs) |
|---|---|---|---|---|---|---|
| PostgreSQL → Parquet (odbc source) | $t_read | $c_read | $(rate "$t_read") | $t_copy_out (to CSV) | $(rate "$t_copy_out") | $(pair 1 3) |
| Parquet → PostgreSQL (odbc append, batch_size $BATCH) | $t_write | $c_write | $(rate "$t_write") | $t_copy_in (from CSV) | $(rate "$t_copy_in") | $(pair 4 6) |
MD
