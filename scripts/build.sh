#!/usr/bin/env bash
# npm run build: compiles src + gen to dist/ and copies the files the code
# reads at run time (the Lua scripts, any non-TypeScript file under src/)
# next to the compiled modules, so `new URL('./lua/x.lua', import.meta.url)`
# resolves in dist/ as it does in src/. Then builds the client package
# (packages/client/dist: JS + .d.ts), type-checks its tests and the browser example.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist # no stale modules from deleted sources
npx tsc -p tsconfig.build.json
(cd src && find . -type f ! -name '*.ts' -exec cp --parents {} ../dist/src/ \;)
echo "built dist/src/main.js"
npm run build --silent --workspace packages/client
npm run typecheck --silent --workspace packages/client
npx tsc -p examples/web/tsconfig.json
echo "built packages/client/dist; examples/web type-checks"
