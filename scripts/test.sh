#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what the tests need
# (Debian's redis-server, Node 24, npm packages), checks the generated code
# and the proto lint, type-checks, builds dist/ (the production entry point
# the tests start), then runs the tests against a real Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/ensure-redis.sh
./scripts/ensure-chromium.sh
source ./scripts/ensure-node.sh
npm ci --no-audit --no-fund
./scripts/check-generated.sh
npx buf lint
npx tsc --noEmit -p .
npm run build
npx vitest run
