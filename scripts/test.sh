#!/usr/bin/env bash
# The test command: everything a change must pass, on a fresh machine of this project's kind,
# as root and without questions. It installs what it needs (Chromium and its driver; aiosmtpd,
# moto, icalendar, python-cas, Authlib and requests from PyPI), makes sure PostgreSQL answers
# on 127.0.0.1:5432, starts on the loopback an SMTP server that keeps what it receives in a
# folder (PREAU_TEST_SMTP, PREAU_TEST_SMTP_DIR) and an S3-compatible server
# (PREAU_TEST_S3_ENDPOINT) for the tests that read them, then runs formatting, lints, the whole
# test suite on SQLite and again on PostgreSQL, and the browser tests (the walk, and the Pronote
# tiles opened through CAS); it ends with one summary line.
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

install_poppler() {
  if command -v pdftotext >/dev/null; then
    return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q poppler-utils
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

# The SMTP server of the e-mail tests: aiosmtpd with scripts/smtp_sink.py, which writes each
# message it receives to a folder. Its address and folder are exported for the tests.
SMTP_PYTHON=python3
SMTP_PID=""
SMTP_DIR=""

install_aiosmtpd() {
  if "$SMTP_PYTHON" -c 'import aiosmtpd' 2>/dev/null; then
    return 0
  fi
  "$SMTP_PYTHON" -m pip install -q --disable-pip-version-check --root-user-action=ignore \
    aiosmtpd 2>/dev/null || true
  if "$SMTP_PYTHON" -c 'import aiosmtpd' 2>/dev/null; then
    return 0
  fi
  # A Python that refuses pip (externally managed): Debian's package, for Debian's Python.
  SMTP_PYTHON=/usr/bin/python3
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q python3-aiosmtpd &&
    "$SMTP_PYTHON" -c 'import aiosmtpd'
}

start_smtp() {
  install_aiosmtpd || return 1
  SMTP_DIR="$(mktemp -d /tmp/preau-smtp.XXXXXX)"
  local port
  # A free loopback port, chosen by the kernel.
  port="$("$SMTP_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')"
  PYTHONPATH="$PWD/scripts" "$SMTP_PYTHON" -m aiosmtpd -n -l "127.0.0.1:$port" \
    -c smtp_sink.FolderSink "$SMTP_DIR/messages" >"$SMTP_DIR/server.log" 2>&1 &
  SMTP_PID=$!
  for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      export PREAU_TEST_SMTP="127.0.0.1:$port"
      export PREAU_TEST_SMTP_DIR="$SMTP_DIR/messages"
      echo "aiosmtpd sur $PREAU_TEST_SMTP, messages dans $PREAU_TEST_SMTP_DIR"
      return 0
    fi
    sleep 0.2
  done
  echo "aiosmtpd ne répond pas sur 127.0.0.1:$port :" >&2
  cat "$SMTP_DIR/server.log" >&2
  return 1
}

stop_smtp() {
  if [[ -n "$SMTP_PID" ]]; then
    kill "$SMTP_PID" 2>/dev/null || true
    wait "$SMTP_PID" 2>/dev/null || true
    SMTP_PID=""
  fi
  if [[ -n "$SMTP_DIR" ]]; then
    rm -rf "$SMTP_DIR"
    SMTP_DIR=""
  fi
}

# The S3-compatible server of the file-store test (crates/store/tests/files.rs): moto, on the
# loopback. Its address is exported as PREAU_TEST_S3_ENDPOINT.
MOTO_PYTHON=python3
MOTO_PID=""

install_moto() {
  if "$MOTO_PYTHON" -c 'import moto.server' 2>/dev/null; then
    return 0
  fi
  "$MOTO_PYTHON" -m pip install -q --disable-pip-version-check --root-user-action=ignore \
    'moto[server]' 2>/dev/null || true
  if "$MOTO_PYTHON" -c 'import moto.server' 2>/dev/null; then
    return 0
  fi
  MOTO_PYTHON=/usr/bin/python3
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q python3-moto python3-flask python3-flask-cors &&
    "$MOTO_PYTHON" -c 'import moto.server'
}

start_moto() {
  install_moto || return 1
  local port
  port="$("$MOTO_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')"
  "$MOTO_PYTHON" -m moto.server -H 127.0.0.1 -p "$port" >/tmp/preau-moto.log 2>&1 &
  MOTO_PID=$!
  for _ in $(seq 1 150); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      export PREAU_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
      echo "moto (S3) sur $PREAU_TEST_S3_ENDPOINT"
      return 0
    fi
    sleep 0.2
  done
  echo "moto ne répond pas sur 127.0.0.1:$port :" >&2
  cat /tmp/preau-moto.log >&2
  return 1
}

stop_moto() {
  if [[ -n "$MOTO_PID" ]]; then
    kill "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
    MOTO_PID=""
  fi
}
trap 'stop_smtp; stop_moto' EXIT

# The independent iCalendar parser of the calendar feeds' round trip
# (crates/preau/tests/timetable_ical_roundtrip.rs runs scripts/ical_occurrences.py with it): the
# `icalendar` package from PyPI, else Debian's for Debian's Python (the test tries `python3`,
# then /usr/bin/python3).
install_icalendar() {
  if python3 -c 'import icalendar' 2>/dev/null ||
    /usr/bin/python3 -c 'import icalendar' 2>/dev/null; then
    return 0
  fi
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
    icalendar 2>/dev/null || true
  if python3 -c 'import icalendar' 2>/dev/null; then
    return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q python3-icalendar &&
    /usr/bin/python3 -c 'import icalendar'
}

# The single sign-on clients nobody here wrote, for the interoperability tests: `python-cas`
# (crates/preau/tests/sso_cas_interop.rs runs scripts/cas_client_check.py with it), `Authlib`
# (the OpenID Connect relying party) and `requests`, from PyPI; else, for Debian's Python,
# Debian's requests, lxml and Authlib, and python-cas from PyPI (Debian has no package of it).
# The tests try `python3`, then /usr/bin/python3, and fail when neither has them.
SSO_CLIENTS_CHECK='import cas, requests, authlib'
install_sso_clients() {
  if python3 -c "$SSO_CLIENTS_CHECK" 2>/dev/null ||
    /usr/bin/python3 -c "$SSO_CLIENTS_CHECK" 2>/dev/null; then
    return 0
  fi
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
    python-cas Authlib requests 2>/dev/null || true
  if python3 -c "$SSO_CLIENTS_CHECK" 2>/dev/null; then
    return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q &&
    apt-get install -y -q python3-requests python3-lxml python3-authlib python3-pip &&
    /usr/bin/python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
      --break-system-packages --no-deps python-cas &&
    /usr/bin/python3 -c "$SSO_CLIENTS_CHECK"
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
# The walk, the Pronote tiles opened through CAS (pronote.test.mjs runs
# scripts/pronote_stub.py with the Python that has python-cas), and the internship journey
# (internship.test.mjs reads the demo's SQLite database with the sqlite3 command).
browser_test() {
  local python=python3
  if ! python3 -c 'import cas' 2>/dev/null; then
    python=/usr/bin/python3
  fi
  cargo build -p preau &&
    (
      cd tests/browser &&
        npm ci --no-audit --no-fund --loglevel=error &&
        PREAU_BIN="$PWD/../../target/debug/preau" PYTHON="$python" \
          node --test walk.test.mjs pronote.test.mjs internship.test.mjs
    )
}

step "installation de Chromium" install_browser
step "installation de pdftotext (poppler-utils)" install_poppler
step "PostgreSQL sur 127.0.0.1:5432" start_postgres
step "nettoyage des bases de test" drop_test_databases
step "serveur SMTP de test (aiosmtpd)" start_smtp
step "serveur S3 de test (moto)" start_moto
step "analyseur iCalendar de test (icalendar)" install_icalendar
step "clients CAS et OpenID Connect de test (python-cas, Authlib)" install_sso_clients
step "cargo fmt" cargo fmt --all --check
step "cargo clippy" cargo clippy --workspace --all-targets -- -D warnings
step "tests (SQLite)" tests_sqlite
step "tests (PostgreSQL)" tests_postgres
step "test navigateur (Chromium, axe-core)" browser_test
drop_test_databases || true
stop_smtp
stop_moto

echo
if ((failed > 0)); then
  echo "Étapes en échec : ${failures[*]}"
fi
echo "test.sh: $passed passed, $failed failed"
((failed == 0))
