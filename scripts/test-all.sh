#!/usr/bin/env bash
# The full test suite, runnable on a fresh machine: installs the real clients the interop tests
# drive (Debian packages litmus, python3-caldav, vdirsyncer, khal, todoman) and PostgreSQL (the tests start
# their own throw-away cluster from its binaries), installs npm dependencies (which builds dist/),
# then typechecks, lints and runs every test. CI runs exactly this (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v litmus >/dev/null 2>&1 || missing+=(litmus)
/usr/bin/python3 -c 'import caldav' >/dev/null 2>&1 || missing+=(python3-caldav)
command -v vdirsyncer >/dev/null 2>&1 || missing+=(vdirsyncer)
command -v khal >/dev/null 2>&1 || missing+=(khal)
dpkg -s todoman >/dev/null 2>&1 || missing+=(todoman)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "== npm ci"
npm ci --no-audit --no-fund

echo "== typecheck"
npx tsc -p tsconfig.json --noEmit

echo "== lint"
npx eslint .

echo "== tests"
# Interop tests fail (instead of skipping) when a client is missing, so a green run means they ran.
ALMANAC_REQUIRE_INTEROP=1 npm test

echo "== scenarios and client suites again, on PostgreSQL"
# The same client-observable behaviour on the second store: the in-process scenarios and the real
# client programs, each test file on its own throw-away cluster (test/support/test-store.ts).
ALMANAC_TEST_STORE=postgres ALMANAC_REQUIRE_INTEROP=1 TZ=UTC npx node --test --test-reporter=spec \
  'test/scenarios/*.test.ts' test/replay/replay.test.ts test/interop/python-caldav.test.ts test/interop/caldav-app.test.ts \
  test/interop/vdirsyncer.test.ts test/interop/litmus.test.ts test/interop/khal-todoman.test.ts
