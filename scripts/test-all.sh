#!/usr/bin/env bash
# The README's test command: installs everything the tests need, then runs typecheck, lint and all tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
npm ci --no-audit --no-fund
npm run typecheck
npm run lint
npm run build
npm test
