#!/usr/bin/env bash
# Fails when gen/ is not exactly what `buf generate` makes from proto/ now.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r proto buf.yaml buf.gen.yaml "$tmp"/
ln -s "$PWD/node_modules" "$tmp/node_modules"
(cd "$tmp" && PATH="$PWD/node_modules/.bin:$PATH" buf generate)
if ! diff -r gen "$tmp/gen" >/dev/null; then
  echo "gen/ is stale: run 'npm run generate' and commit gen/" >&2
  diff -rq gen "$tmp/gen" >&2 || true
  exit 1
fi
echo "gen/ matches proto/"
