#!/usr/bin/env bash
# The install a user gets (docs/install.md), checked from outside the build tree:
#   install_test.sh <build dir> <source dir> <version>
# 1. `cmake --install` into a staging prefix, then moves the prefix elsewhere (relocatable).
# 2. The binaries and libaqueducts.so carry only the RUNPATH $ORIGIN/../lib, and with an empty
#    environment (no LD_LIBRARY_PATH) every library they load from this project comes from the
#    moved prefix, none from the build or source tree.
# 3. The installed `aqueducts --version` and `aqueducts-executor --version`, and the example
#    pipeline (`make example`'s) run from the prefix; its Parquet output is read back by the
#    installed binary and compared with the input.
# 4. examples/embed_example.cc builds in a separate CMake project with find_package(aqueducts)
#    against the moved prefix, and runs.
set -euo pipefail
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
VERSION=$3
T=$(mktemp -d "${TMPDIR:-/tmp}/aq_install_test.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail() { echo "install_test: FAIL: $*" >&2; exit 1; }
# A clean environment: nothing from the caller's (or ctest's) environment can point at the build.
clean() { env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$T/home" LANG=C.UTF-8 "$@"; }
mkdir -p "$T/home"
# The file the dynamic loader ran <library>'s initialisers from, per an LD_DEBUG=libs log.
loaded() { # <log> <library file name>
  local f
  f=$(sed -n "s|.*calling init: \(.*/$2\)\$|\1|p" "$1" | head -1)
  [ -n "$f" ] && realpath "$f"
}

# 1. Install and move.
cmake --install "$BUILD" --prefix "$T/stage" >"$T/install.log"
mv "$T/stage" "$T/prefix"
P=$(realpath "$T/prefix")
for f in bin/aqueducts bin/aqueducts-executor lib/libduckdb.so lib/libaqueducts.so \
         include/aqueducts/aqueducts.h include/aqueducts/run.h \
         lib/cmake/aqueducts/aqueductsConfig.cmake lib/cmake/aqueducts/aqueductsConfigVersion.cmake \
         lib/cmake/aqueducts/aqueductsTargets.cmake; do
  [ -e "$P/$f" ] || fail "missing $f in the installed tree"
done
if find "$P/include" -name '*.h' | xargs grep -l '#include *[<"]duckdb' >/dev/null; then
  fail "an installed header includes DuckDB"
fi

# 2. RUNPATH and the libraries actually loaded.
for f in bin/aqueducts bin/aqueducts-executor lib/libaqueducts.so; do
  runpath=$(readelf -d "$P/$f" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
  [ "$runpath" = '$ORIGIN/../lib' ] || fail "$f has RUNPATH '$runpath', want \$ORIGIN/../lib"
done
clean env LD_DEBUG=libs "$P/bin/aqueducts" --version >"$T/version.txt" 2>"$T/ld.log" ||
  fail "installed aqueducts --version failed: $(cat "$T/version.txt")"
[ "$(loaded "$T/ld.log" libduckdb.so)" = "$P/lib/libduckdb.so" ] ||
  fail "libduckdb.so not loaded from $P/lib: $(grep libduckdb "$T/ld.log" | head -3)"
if grep -F -e "$SRC/" -e "$BUILD/" "$T/ld.log" | grep -q .; then
  fail "the installed binary looked into the source or build tree: $(grep -F "$SRC/" "$T/ld.log" | head -3)"
fi

# 3. The installed binaries.
grep -q "$VERSION" "$T/version.txt" || fail "aqueducts --version printed '$(cat "$T/version.txt")'"
clean "$P/bin/aqueducts-executor" --version | grep -q "$VERSION" || fail "aqueducts-executor --version"
mkdir -p "$T/work"
cp -r "$SRC/tests/fixtures/aqueducts-examples/examples" "$T/work/examples"
(cd "$T/work" && clean "$P/bin/aqueducts" run --file examples/aqueduct_pipeline_simple.yml \
   -p month=jan -p year=2024 >"$T/run.log" 2>&1) || fail "example pipeline: $(cat "$T/run.log")"
[ -s "$T/work/examples/output_jan_2024.parquet" ] || fail "example pipeline wrote no output"
cat >"$T/work/check.yml" <<'YML'
version: v2
sources:
  - {type: file, name: results, format: {type: parquet, options: {}},
     location: ./examples/output_jan_2024.parquet}
  - {type: file, name: readings, format: {type: csv, options: {}},
     location: ./examples/temp_readings_jan_2024.csv}
stages:
  - - name: counts
      query: >
        SELECT (SELECT count(*) FROM results) AS written,
               (SELECT count(*) FROM (SELECT DISTINCT cast(timestamp AS date), location_id
                                      FROM readings)) AS expected
destination:
  {type: file, name: counts, format: {type: csv, options: {has_header: false}},
   location: ./counts.csv}
YML
(cd "$T/work" && clean "$P/bin/aqueducts" run --file check.yml >"$T/check.log" 2>&1) ||
  fail "reading the output back: $(cat "$T/check.log")"
IFS=, read -r written expected <"$T/work/counts.csv"
[ "$written" -gt 0 ] && [ "$written" = "$expected" ] ||
  fail "example output has $written rows, the input has $expected (date, location) pairs"

# 4. An embedder's project against the installed package.
clean cmake -S "$SRC/tests/install/embed_project" -B "$T/embed" -G Ninja \
  -DCMAKE_PREFIX_PATH="$P" -DAQ_EXAMPLE="$SRC/examples/embed_example.cc" >"$T/embed.log" 2>&1 ||
  fail "configuring the embedding project: $(cat "$T/embed.log")"
grep -q "^aqueducts_DIR:PATH=$P/lib/cmake/aqueducts$" "$T/embed/CMakeCache.txt" ||
  fail "find_package(aqueducts) did not use $P: $(grep aqueducts_DIR "$T/embed/CMakeCache.txt")"
clean cmake --build "$T/embed" >>"$T/embed.log" 2>&1 ||
  fail "building the embedding project: $(cat "$T/embed.log")"
clean env LD_DEBUG=libs "$T/embed/embed_example" >"$T/embed_run.log" 2>"$T/embed_ld.log" ||
  fail "embed_example: $(cat "$T/embed_run.log")"
[ "$(loaded "$T/embed_ld.log" "libaqueducts.so.[0-9.]*")" = \
  "$(realpath "$P/lib/libaqueducts.so")" ] || fail "embed_example did not load $P/lib/libaqueducts.so"
[ "$(loaded "$T/embed_ld.log" libduckdb.so)" = "$P/lib/libduckdb.so" ] ||
  fail "embed_example did not load $P/lib/libduckdb.so"
grep -q "^alice: 2 orders, total 15.0$" "$T/embed_run.log" ||
  fail "embed_example printed: $(cat "$T/embed_run.log")"
echo "install_test: ok (prefix moved to $P; $(du -sh "$P" | cut -f1) installed)"
