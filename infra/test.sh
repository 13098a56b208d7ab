#!/usr/bin/env bash
# The whole test suite: servers up, type-check, lint (with module boundaries), then every jest
# project (unit, integration against the real servers, e2e with each service as its own process).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/node ]; then npm install --no-audit --no-fund; fi
bash infra/servers.sh
echo "[test] type-check"; npx tsc -p tsconfig.json --noEmit
echo "[test] lint"; npx eslint --max-warnings 0 .
echo "[test] jest"; npx jest --ci "$@"
