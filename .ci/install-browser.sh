#!/usr/bin/env bash
# Installs what the browser tests need when it is missing: Debian's chromium
# and the npm packages of the workspace (playwright-core drives Chromium; no
# browser download). Safe to run repeatedly; quiet when all is present.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium from Debian's packages" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null
  $SUDO apt-get install -y -qq chromium >/dev/null
fi
if [ ! -d node_modules/playwright-core ]; then
  echo "installing npm packages" >&2
  npm ci --no-audit --no-fund --loglevel=error </dev/null
fi
