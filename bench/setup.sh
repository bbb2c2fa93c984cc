#!/usr/bin/env bash
# Fetches the benchmark-only tools: polars for Node.js (npm), into bench/.deps (git-ignored).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p .deps
if [ ! -d .deps/node_modules/nodejs-polars ]; then
  (cd .deps && npm install --silent --no-audit --no-fund \
     nodejs-polars@0.25.2 nodejs-polars-linux-x64-gnu@0.25.2)
fi
