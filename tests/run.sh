#!/usr/bin/env bash
# The README's test command (`npm test`), and all CI runs (.ci/run calls it). It sets up what the
# suites need, then runs lint, the format check, the type check and the suite on Deno, Bun and Node (Node last: CI reads
# its closing "# pass / # fail" lines).
# Set-up: as root with apt-get, the Debian packages the tests start (redis-server, postgresql,
# websockify) and drive (chromium) are installed when missing (POOL_TEST_NO_INSTALL=1 turns that
# off); `npm ci` runs when node_modules lacks the test tools. A suite whose service cannot be had
# is skipped (tests/helpers/requires.ts) and named in the summary at the end; with
# POOL_TEST_STRICT=1 (set by .ci/run) a skip fails the run, so CI cannot go green on less.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=node_modules/.bin

missing_packages() {
  local need=()
  command -v redis-server >/dev/null || need+=(redis-server)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  command -v websockify >/dev/null || need+=(websockify)
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || need+=(chromium)
  echo "${need[*]}"
}

need=$(missing_packages)
if [ -n "$need" ]; then
  if [ "${POOL_TEST_NO_INSTALL:-}" = 1 ]; then
    echo "== not installing $need (POOL_TEST_NO_INSTALL=1)"
  elif [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "== cannot install $need here (needs root and apt-get); the suites that need them will be skipped"
  else
    echo "== installing $need (apt-get, 20-60 s on a fresh machine)"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086 # one word per package
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends $need >/dev/null; } \
      || echo "== apt-get failed; the suites that need $need will be skipped" >&2
  fi
fi

if ! [ -x "$bin/tsx" ] || ! [ -x "$bin/deno" ] || ! [ -x "$bin/bun" ]; then
  echo "== npm ci (node_modules is missing or incomplete)"
  npm ci --no-audit --no-fund
fi

# Every skipped suite writes one line here: suite <TAB> reason <TAB> runtime <TAB> opt-in|missing.
POOL_TEST_SKIP_LOG=$(mktemp)
export POOL_TEST_SKIP_LOG
trap 'rm -f "$POOL_TEST_SKIP_LOG"' EXIT

failed=()
# Lint and format first: cheap, and a red run should say so before ten minutes of suites.
# `npm run fmt` fixes formatting (deno.json: lineWidth 120; Markdown is left as written).
echo "== lint (deno lint, deno fmt --check)"
"$bin/deno" lint --quiet || failed+=(lint)
"$bin/deno" fmt --check --quiet || failed+=("fmt (run: npm run fmt)")
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

if [ -s "$POOL_TEST_SKIP_LOG" ]; then
  {
    echo
    echo "=================================================================="
    echo "SKIPPED: these suites did not run (install or set what is named, then re-run):"
    awk -F'\t' '{ k = $1 "\t" $2; if (!(k in seen)) { order[++n] = k; seen[k] = $3 } else if (index(seen[k], $3) == 0) seen[k] = seen[k] ", " $3 }
      END { for (i = 1; i <= n; i++) { split(order[i], p, "\t"); printf "  - %s [%s]\n      %s\n", p[1], seen[order[i]], p[2] } }' "$POOL_TEST_SKIP_LOG"
    echo "=================================================================="
  } >&2
  # Opt-in suites (the coding agents) are listed but never fail a strict run.
  if [ "${POOL_TEST_STRICT:-}" = 1 ] && grep -q $'\tmissing$' "$POOL_TEST_SKIP_LOG"; then
    failed+=("skips (POOL_TEST_STRICT=1)")
  fi
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED on: ${failed[*]}" >&2
  exit 1
fi
