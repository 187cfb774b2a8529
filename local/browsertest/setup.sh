#!/usr/bin/env bash
# Installs what the browser test and the OpenAPI lint need: Debian's chromium (the
# test drives it with playwright-core, which downloads no browser of its own) and the
# locked npm packages of this directory. Idempotent: a second run changes nothing.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  # apt-get update only when the package lists do not know chromium yet.
  if ! apt-cache show chromium >/dev/null 2>&1; then
    apt-get update -qq
  fi
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

# npm ci wipes node_modules, so skip it when the installed tree matches the lockfile.
if ! cmp -s package-lock.json node_modules/.spass-installed-lock; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.spass-installed-lock
fi
