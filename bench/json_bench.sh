#!/usr/bin/env bash
# The json_get* functions (src/engine/json_functions.cc) against DuckDB's own JSON extension doing
# the same extraction, on ROWS generated documents, whole processes, median of RUNS.
# Usage: bench/json_bench.sh [build-dir]   (a Release build; default build-release)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(cd "${1:-$ROOT/build-release}" && pwd)"
ROWS="${ROWS:-3000000}"
RUNS="${RUNS:-5}"
AQ="$BUILD/src/cli/aqueducts"
DUCK="$BUILD/bench/duckdb_sql"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

DOCS="SELECT '{\"id\": ' || i || ', \"a\": {\"b\": [' || i || ', 2.5, \"x\"]}, \"s\": \"text value\"}' AS doc FROM range($ROWS) t(i)"
OURS="SELECT sum(json_get_int(doc, 'a', 'b', 0)) AS s, count(json_get_str(doc, 's')) AS c, sum(json_length(doc, 'a', 'b')) AS l, count(json_get_json(doc, 'a')) AS j FROM docs"
THEIRS="SELECT sum(CAST(json_extract(doc, '\$.a.b[0]') AS BIGINT)) AS s, count(json_extract_string(doc, '\$.s')) AS c, sum(json_array_length(doc, '\$.a.b')) AS l, count(json_extract(doc, '\$.a')) AS j FROM docs"
cat > "$WORK/p.yml" <<YAML
version: v2
sources: []
stages:
  - - name: docs
      query: "$(echo "$DOCS" | sed 's/"/\\"/g')"
  - - name: agg
      query: "$OURS"
      show: 1
YAML

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ours=() duck=()
for _ in $(seq "$RUNS"); do
  s=$(date +%s.%N); "$AQ" run -f "$WORK/p.yml" >/dev/null 2>&1; e=$(date +%s.%N)
  ours+=("$(echo "$e - $s" | bc -l)")
  s=$(date +%s.%N); "$DUCK" "CREATE TABLE docs AS $DOCS" "$THEIRS" >/dev/null 2>&1; e=$(date +%s.%N)
  duck+=("$(echo "$e - $s" | bc -l)")
done
mo=$(median "${ours[@]}") md=$(median "${duck[@]}")
printf '| rows | aqueducts json_get_* (s) | DuckDB json_extract* (s) | ratio |\n|---|---|---|---|\n'
printf '| %s | %.2f | %.2f | %.2f |\n' "$ROWS" "$mo" "$md" "$(echo "$mo / $md" | bc -l)"
