#!/usr/bin/env bash
# npm run build: compiles src + gen to dist/ and copies the files the code
# reads at run time (the Lua scripts, any non-TypeScript file under src/)
# next to the compiled modules, so `new URL('./lua/x.lua', import.meta.url)`
# resolves in dist/ as it does in src/.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist # no stale modules from deleted sources
npx tsc -p tsconfig.build.json
(cd src && find . -type f ! -name '*.ts' -exec cp --parents {} ../dist/src/ \;)
echo "built dist/src/main.js"
