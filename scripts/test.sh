#!/usr/bin/env bash
# The test command: everything a change must pass, on a fresh machine of this project's kind,
# as root and without questions. It installs what it needs (Chromium and its driver), makes sure
# PostgreSQL answers on 127.0.0.1:5432, then runs formatting, lints, the whole test suite on
# SQLite and again on PostgreSQL, and the browser test; it ends with one summary line.
#
# Set PREAU_KEEP_TEST_DATABASES=1 to leave the preau_t_*/preau_tpl_* databases alone (useful
# while another test run uses the same server).
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="${HOME:-/root}/.cargo/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
PG_URL="postgres://postgres@127.0.0.1:5432"

passed=0
failed=0
failures=()

step() {
  local name="$1"
  shift
  echo
  echo "==> $name"
  local started=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    echo "==> $name : réussi ($((SECONDS - started)) s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "==> $name : ÉCHEC ($((SECONDS - started)) s)"
  fi
}

install_browser() {
  if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q chromium chromium-driver
}

start_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432; then
    return 0
  fi
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  for _ in $(seq 1 30); do
    if pg_isready -q -h 127.0.0.1 -p 5432; then
      return 0
    fi
    sleep 1
  done
  echo "PostgreSQL ne répond pas sur 127.0.0.1:5432" >&2
  return 1
}

drop_test_databases() {
  if [[ "${PREAU_KEEP_TEST_DATABASES:-}" == 1 ]]; then
    return 0
  fi
  # One psql session reads the DROP statements from standard input, each in its own
  # transaction (DROP DATABASE cannot run inside one), rather than one process per database.
  psql "$PG_URL/postgres" -Atc \
    "SELECT format('DROP DATABASE IF EXISTS %I;', datname) FROM pg_database
     WHERE datname LIKE 'preau\\_t\\_%' OR datname LIKE 'preau\\_tpl\\_%'" |
    psql "$PG_URL/postgres" -q -v ON_ERROR_STOP=1 >/dev/null
}

tests_sqlite() {
  env -u PREAU_TEST_DATABASE cargo test --workspace --no-fail-fast
}

tests_postgres() {
  PREAU_TEST_DATABASE="$PG_URL" cargo test --workspace --no-fail-fast
}

# Steps run as `if` conditions, where `set -e` does not apply: each one chains with &&.
browser_test() {
  cargo build -p preau &&
    (
      cd tests/browser &&
        npm ci --no-audit --no-fund --loglevel=error &&
        PREAU_BIN="$PWD/../../target/debug/preau" node --test walk.test.mjs
    )
}

step "installation de Chromium" install_browser
step "PostgreSQL sur 127.0.0.1:5432" start_postgres
step "nettoyage des bases de test" drop_test_databases
step "cargo fmt" cargo fmt --all --check
step "cargo clippy" cargo clippy --workspace --all-targets -- -D warnings
step "tests (SQLite)" tests_sqlite
step "tests (PostgreSQL)" tests_postgres
step "test navigateur (Chromium, axe-core)" browser_test
drop_test_databases || true

echo
if ((failed > 0)); then
  echo "Étapes en échec : ${failures[*]}"
fi
echo "test.sh: $passed passed, $failed failed"
((failed == 0))
