#!/usr/bin/env bash
# Installs every build and test dependency of Aqueducts on Debian 12 and fetches DuckDB 1.4.4
# into third_party/duckdb (the prebuilt library and matching headers from the npm registry,
# pinned by sha1 below). Idempotent: a second run does nothing that is done.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Only what the build, the tests and `make package` use (cmake/dependencies.cmake lists the
# libraries; libcurl, OpenSSL and expat are for src/storage, SQLite for src/server).
# libcpp-httplib-dev brings zlib and brotli with it (its pkg-config file requires them); `file`
# and dpkg-dev (in build-essential) are for CPack's dpkg-shlibdeps. python3-dask and
# python3-distributed (for /usr/bin/python3) run `aqueducts run --dask` and its tests. `time`
# (GNU time) measures CPU and peak memory in bench/suite.sh.
PKGS=(build-essential cmake ninja-build ccache pkg-config file
      libyaml-cpp-dev nlohmann-json3-dev libtomlplusplus-dev libcli11-dev libcpp-httplib-dev
      libfmt-dev libcurl4-openssl-dev libssl-dev libexpat1-dev libre2-dev
      libgtest-dev libgmock-dev libbenchmark-dev libroaring-dev
      unixodbc unixodbc-dev odbc-postgresql postgresql libpq-dev openssl libsqlite3-dev
      chromium python3-dask python3-distributed time)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v npm >/dev/null; then
  echo "setup: npm is missing; installing Debian's nodejs and npm"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi

# The JSON Schema test's validator (ajv) and YAML/TOML parsers, pinned by tests/js/package-lock.json.
if [ ! -d "$ROOT/tests/js/node_modules/ajv" ]; then
  echo "setup: installing tests/js (ajv)"
  (cd "$ROOT/tests/js" && npm ci --no-audit --no-fund --silent)
fi

# The web UI's modules (Preact, htm: embedded in aqueducts-server) and its browser test's
# puppeteer-core and axe-core, pinned by web/package-lock.json; reinstalled when the lock changes.
WEB="$ROOT/web"
web_sum=$(sha1sum "$WEB/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$WEB/node_modules/.aq-lock" 2>/dev/null)" != "$web_sum" ]; then
  echo "setup: installing web/ (npm ci: preact, htm, puppeteer-core, axe-core)"
  (cd "$WEB" && npm ci --silent --no-audit --no-fund >/dev/null)
  echo "$web_sum" > "$WEB/node_modules/.aq-lock"
fi

# DuckDB: prebuilt library + matching headers from npm, pinned by sha1.
DUCK="$ROOT/third_party/duckdb"
if [ ! -f "$DUCK/.ok-1.4.4" ]; then
  echo "setup: fetching DuckDB 1.4.4"
  rm -rf "$DUCK" && mkdir -p "$DUCK/lib" "$DUCK/include" "$DUCK/tmp"
  cd "$DUCK/tmp"
  fetch() { # name@version sha1
    local f; f=$(npm pack --silent "$1" 2>/dev/null | tail -1)
    local got; got=$(sha1sum "$f" | cut -d' ' -f1)
    if [ "$got" != "$2" ]; then echo "setup: sha1 mismatch for $1: $got" >&2; exit 1; fi
    echo "$f"
  }
  so_tgz=$(fetch @duckdb/node-bindings-linux-x64@1.4.4-r.4 35b98717b3ffc480554d6705d3a2a082ce66193d)
  hdr_tgz=$(fetch duckdb@1.4.4 7878d3c20c23b0f6c583c1b389c2632f0de5b0b1)
  tar -xzf "$so_tgz" package/libduckdb.so
  cp package/libduckdb.so "$DUCK/lib/" && rm -rf package
  tar -xzf "$hdr_tgz" package/src/duckdb/src/include
  cp -r package/src/duckdb/src/include/. "$DUCK/include/"
  cd "$DUCK" && rm -rf tmp
  touch "$DUCK/.ok-1.4.4"
fi

# Object-store emulators for the storage tests (S3: s3rver, Azure: azurite), pinned by
# tests/emulators/package-lock.json; reinstalled when the lock file changes.
EMU="$ROOT/tests/emulators"
lock_sum=$(sha1sum "$EMU/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$EMU/node_modules/.aq-lock" 2>/dev/null)" != "$lock_sum" ]; then
  echo "setup: installing the object-store emulators (npm ci in tests/emulators)"
  (cd "$EMU" && npm ci --silent --no-audit --no-fund >/dev/null)
  echo "$lock_sum" > "$EMU/node_modules/.aq-lock"
fi

# Benchmark-only tools (polars via npm) are fetched by bench/setup.sh, not here.
echo "setup: ok"
