#!/usr/bin/env bash
# npm run bench [-- --million] [-- --json file]: the benchmark (bench/run.ts),
# on Node 24 and compiled like production; it builds dist/ itself when stale.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/ensure-redis.sh
source ./scripts/ensure-node.sh
if [ ! -d node_modules ]; then npm ci --no-audit --no-fund; fi
rm -rf dist-bench
npx tsc -p tsconfig.bench.json
exec node --enable-source-maps dist-bench/bench/run.js "$@"
