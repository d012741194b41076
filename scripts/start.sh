#!/usr/bin/env bash
# Runs the service as production does: compiled JavaScript (dist/) on Node 24.
# With no Redis configured (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES)
# it starts its own redis-server, with its data and generated local secrets
# under .data/ (or DATA_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${REDIS_URL:-}${REDIS_SENTINELS:-}${REDIS_CLUSTER_NODES:-}" ]; then ./scripts/ensure-redis.sh; fi
source ./scripts/ensure-node.sh
# A fresh clone, or packages installed for a different package-lock.json.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build
exec npm start
