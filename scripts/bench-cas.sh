#!/usr/bin/env bash
# The CAS benchmark against a peer (not a test): service ticket issued + serviceValidate round
# trips per second, for Préau and for the reference CAS server django-cas-server (PyPI), on this
# machine, with the same load generator (crates/preau/examples/cas_load.rs), the same
# concurrency and the same paths (/cas/login?service=S, then /cas/serviceValidate).
#
#   - Préau: release build, default settings, on SQLite, then on PostgreSQL (a database
#     preau_bench_cas created and dropped here); the fixture département, its accounts
#     activated, the service registered with Pronote's attribute profile; each client's session
#     written into the store.
#   - The peer: django-cas-server in a virtualenv (target/cas-peer-venv, created on first use),
#     the Django project of scripts/cas_peer on SQLite (persistent database connections),
#     served by gunicorn with as many sync worker processes as cores, its best setup here
#     (gthread workers with 4 threads each gave it less than half the throughput at 16
#     clients: the threads of a process share its interpreter lock); its users created, the
#     same service registered (a pattern matching the URL and its paths, releasing nom, prenom
#     and email); each client logs in once through its login form. A sync worker closes the
#     connection after each answer: the load generator opens another.
#
# Each side runs alone on the machine while it is measured, with 16 clients (each on its own
# keep-alive connection, opened again when the server closes it) and then with 1 client; each
# case runs 3 times and the medians are printed: round trips, round trips per second, p50 and
# p99 of a round trip, in milliseconds. Then the ratio Préau / peer. Target: at least 20 times
# the peer's throughput.
#
# Usage: bash scripts/bench-cas.sh [PREAU_ROUND_TRIPS_PER_CLIENT] [PEER_ROUND_TRIPS_PER_CLIENT]
#        (defaults: 300 and 60 per client at 16 clients; ten times as many for the lone client)
# Environment: PEER_WORKER_CLASS (gunicorn's, default sync), PEER_THREADS (default 4, gthread
# only).
# Ports: 127.0.0.1:18510 (Préau), 18520 (the peer); the service URL is
# http://127.0.0.1:18590/pronote/, where nothing needs to listen. PostgreSQL at
# postgres://postgres@127.0.0.1:5432.
set -euo pipefail
# A failing load generator inside `$(bench …)` must stop the script too.
shopt -s inherit_errexit

cd "$(dirname "$0")/.."
export PATH="${HOME:-/root}/.cargo/bin:$PATH"
PREAU_REQUESTS="${1:-300}"
PEER_REQUESTS="${2:-60}"
CLIENTS=16
RUNS=3
PREAU_PORT=18510
PEER_PORT=18520
SERVICE="http://127.0.0.1:18590/pronote/"
PEER_WORKER_CLASS="${PEER_WORKER_CLASS:-sync}"
PEER_THREADS="${PEER_THREADS:-4}"
PG_URL="postgres://postgres@127.0.0.1:5432"
PG_DB="preau_bench_cas"
VENV="$PWD/target/cas-peer-venv"
# The peer's versions, fixed so that two runs of the benchmark compare the same peer.
PEER_PACKAGES=(django-cas-server==3.1.0 Django==5.2.19 gunicorn==27.0.1)
export PGOPTIONS="--client-min-messages=warning"

cargo build --release -p preau --bin preau --example cas_load
BIN="$PWD/target/release/preau"
LOAD="$PWD/target/release/examples/cas_load"
WORK="$(mktemp -d /tmp/preau-bench-cas.XXXXXX)"
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh

PEER_PID=""
stop_peer() {
  if [[ -n "$PEER_PID" ]]; then
    kill -TERM "$PEER_PID" 2>/dev/null || true
    wait "$PEER_PID" 2>/dev/null || true
    PEER_PID=""
  fi
}
trap 'stop_peer; cleanup' EXIT

for port in "$PREAU_PORT" "$PEER_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "le port 127.0.0.1:$port est déjà pris" >&2
    exit 1
  fi
done

# The peer's virtualenv, with the fixed versions.
install_peer() {
  if "$VENV/bin/python" -c 'import cas_server, gunicorn, django
assert django.get_version() == "5.2.19"' 2>/dev/null; then
    return 0
  fi
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PEER_PACKAGES[@]}"
}

# Benchmarks Préau on one backend; prints its rows.
bench_preau() {
  local backend="$1" url
  if [[ "$backend" == sqlite ]]; then
    url="sqlite://$WORK/bench.db"
  else
    psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null
    psql "$PG_URL/postgres" -qc "CREATE DATABASE $PG_DB" >/dev/null
    url="$PG_URL/$PG_DB"
  fi
  # This runs in `$(…)`, a subshell: its own trap stops the server if the run fails.
  trap 'stop_server' EXIT
  echo "Préau ($backend) : préparation de la base" >&2
  "$LOAD" prepare --database "$url" --service "$SERVICE"
  start_server "$url" "$PREAU_PORT" "$WORK/data-$backend"
  echo "Préau ($backend) : $CLIENTS clients × $PREAU_REQUESTS allers-retours, $RUNS fois" >&2
  "$LOAD" run --target preau --database "$url" --port "$PREAU_PORT" --service "$SERVICE" \
    --clients "$CLIENTS" --requests "$PREAU_REQUESTS" \
    --single-requests "$((PREAU_REQUESTS * 10))" --runs "$RUNS" --label "$backend"
  stop_server
}

# Benchmarks the peer; prints its rows.
bench_peer() {
  local password
  # This runs in `$(…)`, a subshell: its own trap stops the peer if the run fails.
  trap 'stop_peer' EXIT
  password="$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
  mkdir -p "$WORK/peer"
  (
    export CAS_PEER_DIR="$WORK/peer" PYTHONPATH="$PWD/scripts" \
      DJANGO_SETTINGS_MODULE=cas_peer.settings
    CAS_PEER_SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
    export CAS_PEER_SECRET_KEY
    echo "django-cas-server : migrations, utilisateurs, service" >&2
    "$VENV/bin/python" -m django migrate -v 0 >&2
    "$VENV/bin/python" -m cas_peer.prepare --service "$SERVICE" --users "$CLIENTS" \
      --password "$password" >&2
    local threads=()
    # gunicorn turns a sync worker with threads into a gthread one: threads only when asked.
    if [[ "$PEER_WORKER_CLASS" == gthread ]]; then
      threads=(--threads "$PEER_THREADS")
    fi
    exec "$VENV/bin/gunicorn" --bind "127.0.0.1:$PEER_PORT" --workers "$(nproc)" \
      --worker-class "$PEER_WORKER_CLASS" "${threads[@]}" \
      --error-logfile "$WORK/peer.log" cas_peer.wsgi:application
  ) &
  PEER_PID=$!
  local up=""
  for _ in $(seq 1 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PEER_PORT") 2>/dev/null; then
      up=1
      break
    fi
    sleep 0.1
  done
  if [[ -z "$up" ]]; then
    echo "django-cas-server ne répond pas sur 127.0.0.1:$PEER_PORT" >&2
    cat "$WORK/peer.log" >&2 || true
    exit 1
  fi
  echo "django-cas-server (gunicorn $PEER_WORKER_CLASS, $(nproc) processus) :" \
    "$CLIENTS clients × $PEER_REQUESTS allers-retours, $RUNS fois" >&2
  "$LOAD" run --target django --port "$PEER_PORT" --service "$SERVICE" \
    --password "$password" --clients "$CLIENTS" --requests "$PEER_REQUESTS" \
    --single-requests "$((PEER_REQUESTS * 10))" --runs "$RUNS" --label sqlite
  stop_peer
}

install_peer
sqlite_rows="$(bench_preau sqlite)"
postgres_rows="$(bench_preau postgres)"
peer_rows="$(bench_peer)"

# The round trips per second of a row set at a number of clients.
throughput() {
  awk -F'|' -v clients="$2" '$4 + 0 == clients { gsub(/ /, "", $6); print $6 }' <<<"$1"
}

echo
echo "CAS : ticket émis puis validé (serviceValidate), allers-retours par seconde et durée d'un"
echo "aller-retour en ms (médianes de $RUNS passes), mode release, $(nproc) cœurs :"
printf "| %-10s | %-17s | %7s | %8s | %8s | %7s | %7s |\n" \
  base serveur clients "allers-r" "a-r/s" p50 p99
printf "|%s|%s|%s|%s|%s|%s|%s|\n" ------------ ------------------- --------- ---------- \
  ---------- --------- ---------
echo "$sqlite_rows"
echo "$postgres_rows"
echo "$peer_rows"
echo
missed=0
for clients in "$CLIENTS" 1; do
  peer="$(throughput "$peer_rows" "$clients")"
  for backend in sqlite postgres; do
    rows="$sqlite_rows"
    [[ "$backend" == postgres ]] && rows="$postgres_rows"
    ours="$(throughput "$rows" "$clients")"
    ratio="$(awk -v a="$ours" -v b="$peer" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')"
    echo "Préau ($backend) / django-cas-server, $clients client(s) : ${ratio} ×"
    if [[ "$clients" == "$CLIENTS" ]] && awk -v r="$ratio" 'BEGIN { exit !(r < 20) }'; then
      missed=1
    fi
  done
done
echo "Objectif : au moins 20 fois le débit de django-cas-server à $CLIENTS clients."
if ((missed)); then
  echo "Objectif manqué."
fi
