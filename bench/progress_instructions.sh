#!/usr/bin/env bash
# The CPU work that progress reporting adds to a run, counted in instructions (issue 16): the same
# single-stage CSV -> Parquet pipeline as bench/progress_benchmark, run with progress off and on
# under valgrind's callgrind, which counts every instruction the process executes on every thread.
# Unlike time, the count does not move with the load of a shared machine: with one DuckDB thread
# two runs of the same kind differ by well under 0.01 %. It counts everything progress adds (the
# row tap, the monitor thread's polls and the sink), but not waiting: the wall-time figure is
# bench/progress_benchmark's. The monitor polls every 250 ms of (slowed) wall time, so under
# callgrind it polls about 50 times as often per row as in a normal run: an upper bound.
# Usage: bench/progress_instructions.sh BUILD_DIR [rows=300000] [pairs=2] [threads=1]
set -euo pipefail
build=${1:?usage: progress_instructions.sh BUILD_DIR [rows] [pairs] [threads]}
rows=${2:-300000}
pairs=${3:-2}
threads=${4:-1}
bench="$build/bench/progress_benchmark"
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt install valgrind)" >&2; exit 1; }
[ -x "$bench" ] || { echo "no $bench: build the bench targets first" >&2; exit 1; }
work=$(mktemp -d /tmp/aq_progress_instr.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$bench" generate "$rows" "$work/in.csv"

# Instructions of one run: callgrind's "Collected" line.
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bench" one "$1" "$work/in.csv" \
    "$threads" 2>&1 | awk '/Collected/ {print $NF}'
}

off=()
on=()
for ((i = 0; i < pairs; i++)); do
  if ((i % 2 == 0)); then
    off+=("$(count off)")
    on+=("$(count on)")
  else
    on+=("$(count on)")
    off+=("$(count off)")
  fi
  echo "pair $i: off ${off[$i]}, on ${on[$i]} instructions" >&2
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {printf "%.0f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
m_off=$(median "${off[@]}")
m_on=$(median "${on[@]}")
echo "CSV -> Parquet, $rows rows, $threads DuckDB thread(s), $pairs runs each way (callgrind)"
echo
echo "| progress | instructions, median | min .. max |"
echo "|---|---|---|"
echo "| off | $m_off | $(printf '%s\n' "${off[@]}" | sort -n | head -1) .. $(printf '%s\n' "${off[@]}" | sort -n | tail -1) |"
echo "| on | $m_on | $(printf '%s\n' "${on[@]}" | sort -n | head -1) .. $(printf '%s\n' "${on[@]}" | sort -n | tail -1) |"
awk -v a="$m_off" -v b="$m_on" 'BEGIN {printf "\non vs off: %+.3f %% instructions\n", (b / a - 1) * 100}'
