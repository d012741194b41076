#!/usr/bin/env bash
# npm run bench [-- --million] [-- --json file]: the benchmark (bench/run.ts),
# or with --parts (npm run bench:parts) the in-process breakdown (bench/hot-path-parts.ts),
# on Node 24 and compiled like production; it builds dist/ itself when stale.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/ensure-redis.sh
source ./scripts/ensure-node.sh
if [ ! -d node_modules ]; then npm ci --no-audit --no-fund; fi
rm -rf dist-bench
npx tsc -p tsconfig.bench.json
if [ "${1:-}" = "--parts" ]; then
  # One process on core 0 (its redis-server on core 1), when taskset is there.
  shift
  pin=(); if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then pin=(taskset -c 0); fi
  exec "${pin[@]}" node --enable-source-maps --max-semi-space-size=32 dist-bench/bench/hot-path-parts.js "$@"
fi
exec node --enable-source-maps dist-bench/bench/run.js "$@"
