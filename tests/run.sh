#!/usr/bin/env bash
# The whole suite on Deno, Bun and Node (Node last: CI reads its closing "# pass / # fail" lines).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=node_modules/.bin
[ -x "$bin/tsx" ] || { echo "dependencies missing: run 'npm ci' first" >&2; exit 1; }
failed=()
echo "== typecheck (tsc)"
"$bin/tsc" -p tsconfig.json || failed+=(typecheck)
# Deno and Bun find every *.test.ts under tests/, tests/faults/ included; Node's runner is given
# the files.
echo "== deno"
"$bin/deno" test -A --quiet tests/ || failed+=(deno)
echo "== bun"
"$bin/bun" test --timeout 30000 tests/ || failed+=(bun)
echo "== node"
"$bin/tsx" --test --test-reporter=tap tests/*.test.ts tests/faults/*.test.ts || failed+=(node)
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED on: ${failed[*]}" >&2
  exit 1
fi
