#!/usr/bin/env bash
# What `make test` needs beside the checkout, and what it skips without it.
#
#   bash local/testsetup.sh prepare   installs what it can: the npm packages of the
#                                     browser and Redocly tests, and Chromium when run
#                                     as root (apt), as .ci/run does
#   bash local/testsetup.sh report    lists the tests that skipped for a missing piece,
#                                     each with the command that enables it
#
# In CI (CI=true) those tests fail instead of skipping; .ci/run installs everything.
set -uo pipefail
cd "$(dirname "$0")/.."

prepare() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "testsetup: node and npm are missing; the Node SDK, browser and Redocly tests will skip" >&2
    return 0
  fi
  if [ -x /usr/bin/chromium ] || [ "$(id -u)" = 0 ]; then
    bash local/browsertest/setup.sh || echo "testsetup: local/browsertest/setup.sh failed; the browser tests will skip" >&2
  else
    # Without root, apt cannot install Chromium: the npm packages still serve the
    # Redocly lint.
    (cd local/browsertest && { cmp -s package-lock.json node_modules/.spass-installed-lock ||
      { npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.spass-installed-lock; }; }) ||
      echo "testsetup: npm ci in local/browsertest failed" >&2
  fi
}

missing=()
need() { # need <condition command> <tests> <how to enable>
  if ! eval "$1" >/dev/null 2>&1; then missing+=("$2|$3"); fi
}

report() {
  need 'command -v node' "TestNodeSDK, TestDocsNodeExamples, TestBrowser, TestRedoclyLint" "install Node 20+ (apt-get install nodejs npm)"
  need 'test -f local/sdktest/node/node_modules/openai/package.json' "TestNodeSDK, TestDocsNodeExamples" "make node-deps"
  need 'test -x /usr/bin/chromium && test -f local/browsertest/node_modules/playwright-core/package.json' "TestBrowser" "make browser-deps (root: apt-get install chromium)"
  need 'test -f local/browsertest/node_modules/@redocly/cli/package.json' "TestRedoclyLint" "make browser-deps"
  need 'redis-cli -h 127.0.0.1 -p 6379 ping' "the Redis tests (jobs, rate limits, cache, workers)" "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ''"
  need 'pg_isready -q -h 127.0.0.1 -p 5432' "the PostgreSQL halves of the store tests, local/multihost, the Lambda bundle on PostgreSQL" "bash local/pgtest/start.sh (root: installs postgresql, runs a trust-auth cluster on 127.0.0.1:5432)"
  need 'command -v redis-server' "TestRedisOutage (local/outagetest)" "apt-get install redis-server"
  need 'test -f ../shared/reference/sam.schema.json' "TestTemplateMatchesSAMSchema, the OpenAI schema tests (local/openaispec)" "put shared/reference (sam.schema.json, openai-openapi.yaml) beside the checkout"
  need 'command -v promtool' "TestPrometheus, TestMetricsPassPromtool" "apt-get install prometheus"
  need 'command -v systemd-analyze' "TestSystemdUnits" "apt-get install systemd"
  if [ "$(uname -m)" = aarch64 ]; then
    need 'command -v x86_64-linux-gnu-gcc' "TestBootstrapsFitLambda/amd64 (cross build)" "apt-get install gcc-x86-64-linux-gnu libc6-dev-amd64-cross"
  else
    need 'command -v aarch64-linux-gnu-gcc' "TestBootstrapsFitLambda/arm64 (cross build)" "apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
  fi
  if [ ${#missing[@]} -eq 0 ]; then
    echo "make test: every test ran; none was skipped for a missing setup."
    return 0
  fi
  echo
  echo "make test: these tests were SKIPPED for a missing setup (they fail in CI, where .ci/run installs it):"
  for m in "${missing[@]}"; do
    printf '  - %s\n      enable: %s\n' "${m%%|*}" "${m#*|}"
  done
  echo "  (bash .ci/run, as root, installs all of it and runs make test with CI=true)"
}

case "${1:-}" in
  prepare) prepare ;;
  report) report ;;
  *) echo "usage: $0 prepare|report" >&2; exit 2 ;;
esac
