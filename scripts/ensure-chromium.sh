#!/usr/bin/env bash
# Installs Debian's chromium package when the machine has no /usr/bin/chromium:
# the browser example's test drives it with playwright-core (a test tool's own
# browser download is not used).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
echo "/usr/bin/chromium not found: installing Debian's chromium package" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
/usr/bin/chromium --version
