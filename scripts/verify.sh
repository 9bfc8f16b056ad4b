#!/usr/bin/env bash
# scripts/verify.sh [loaders|caching|resilience|system|all]   (default: all)
#
# Four groups of checks, each PASS or FAIL, and a summary at the end; exits 1 when any check
# failed (2 on bad usage).
#   loaders     test/loaders/*.test.ts, then a short `npm run bench:loaders`
#   caching     test/cache/*.test.ts, then `npm run bench:cache` when it exists
#   resilience  timeouts, limits, faults: test/deadline, test/limits, test/faults, test/shutdown
#               (an area with no tests is a FAIL: each of them must be covered)
#   system      typecheck, the full `npm test`, and a short open-model load test against a
#               freshly seeded server (bench/bench-server.ts) judged by the SLO
#               (p99 < 200 ms, success >= 99 %; VERIFY_RATE rps for VERIFY_DURATION s, default 200 × 20)
# The tests use TEST_DATABASE_URL when set, else an embedded PostgreSQL (see scripts/test.ts);
# the load test uses DATABASE_URL's server when set, else an embedded PostgreSQL.
set -u
cd "$(dirname "$0")/.."

target="${1:-all}"
results=()
failures=0

record () { # record PASS|FAIL name
  results+=("$1  $2")
  [ "$1" = PASS ] || failures=$((failures + 1))
}

check () { # check name command...
  local name="$1"; shift
  printf '\n=== %s: %s\n' "$name" "$*"
  if "$@"; then record PASS "$name"; else record FAIL "$name"; fi
}

check_tests () { # check_tests name dir...
  local name="$1"; shift
  local files=()
  for dir in "$@"; do
    for file in "$dir"/*.test.ts; do [ -e "$file" ] && files+=("$file"); done
  done
  if [ ${#files[@]} -eq 0 ]; then
    printf '\n=== %s: no test files in %s\n' "$name" "$*"
    record FAIL "$name (no tests in $*)"
    return
  fi
  check "$name" npm test -- "${files[@]}"
}

has_script () { node -e "process.exit(require('./package.json').scripts['$1'] ? 0 : 1)"; }

loaders () {
  check_tests 'loaders: loader tests' test/loaders
  check 'loaders: bench:loaders (short)' npm run --silent bench:loaders -- --requests 10 --warmup 2
}

caching () {
  check_tests 'caching: cache tests' test/cache
  if has_script bench:cache; then
    check 'caching: bench:cache' npm run --silent bench:cache
  else
    record FAIL 'caching: bench:cache (no such npm script)'
  fi
}

resilience () {
  for area in deadline limits faults shutdown; do
    check_tests "resilience: $area tests" "test/$area"
  done
}

system () {
  check 'system: typecheck' npm run --silent typecheck
  check 'system: full test suite' npm test
  check "system: load test ${VERIFY_RATE:-200} rps × ${VERIFY_DURATION:-20} s within the SLO" \
    node --import tsx bench/bench-server.ts --users 200 -- \
    npm run --silent load-test -- --url '{url}' --rate "${VERIFY_RATE:-200}" --duration "${VERIFY_DURATION:-20}" --users 200
}

case "$target" in
  loaders|caching|resilience|system) "$target" ;;
  all) loaders; caching; resilience; system ;;
  *) echo "usage: scripts/verify.sh [loaders|caching|resilience|system|all]: got '$target'" >&2; exit 2 ;;
esac

printf '\n=== verify %s: summary\n' "$target"
printf '%s\n' "${results[@]}"
if [ "$failures" -eq 0 ]; then echo "ALL PASSED (${#results[@]} checks)"; exit 0; fi
echo "$failures of ${#results[@]} checks FAILED"
exit 1
