#!/usr/bin/env bash
# The whole test suite: servers up, formatting check, type-check, lint (with module boundaries), then every jest
# project (unit, integration against the real servers, e2e with each service as its own process).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/node ]; then npm install --no-audit --no-fund; fi
bash infra/servers.sh
bash infra/peers.sh
echo "[test] formatting"; npx prettier --check . >/dev/null || { npx prettier --check . 2>&1 | tail -n 20; echo "run: npm run format"; exit 1; }
echo "[test] type-check"; npx tsc -p tsconfig.json --noEmit
echo "[test] lint"; npx eslint --max-warnings 0 .
echo "[test] jest"
mkdir -p .arcwatch
status=0
npx jest --ci --json --outputFile=.arcwatch/jest-results.json "$@" || status=$?
# One closing line in the plain form, counted from jest's own results.
node -e '
  const r = require("./.arcwatch/jest-results.json");
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
exit $status
