#!/usr/bin/env bash
# Runs the service. With no Redis configured (REDIS_URL, REDIS_SENTINELS or
# REDIS_CLUSTER_NODES) it starts its own redis-server, with its data and
# generated local secrets under .data/ (or DATA_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${REDIS_URL:-}${REDIS_SENTINELS:-}${REDIS_CLUSTER_NODES:-}" ]; then ./scripts/ensure-redis.sh; fi
if [ ! -d node_modules ]; then npm ci --no-audit --no-fund; fi
exec npm start
