#!/usr/bin/env bash
# The messaging benchmark (not a test). On SQLite, then on PostgreSQL, on a fresh database each:
# the load generator (crates/preau/examples/mail_load.rs) writes the fixture département and a
# bench class (30 pupils, 60 legal guardians, 10 teachers, 6 staff members, and a teacher whose
# inbox holds 10,000 messages); `preau serve` (release build, default settings) runs on a
# loopback port; 16 clients, each on its own keep-alive connection and session, then
#   (a) send one message to the class and its families (90 mailboxes), a new key each time;
#   (b) open the first page of the inbox of 10,000 messages.
# It prints p50, p90, p99, the slowest and the throughput per case and backend; each case is
# measured again with one client alone, which shows the time a request takes without waiting
# behind the others (with 16 clients on 2 cores, most of the latency is queueing).
# Targets on a 2-core machine: p99 under 20 ms for the send, under 10 ms for the inbox page, at
# 16 concurrent clients (each sends its next request as soon as the previous one is answered).
#
# Usage: bash scripts/bench-mail.sh [SENDS_PER_CLIENT] [PAGES_PER_CLIENT]   (defaults: 40, 200)
# PostgreSQL at postgres://postgres@127.0.0.1:5432 (the database preau_bench_mail is dropped).
set -euo pipefail
# A failing load generator inside `$(bench …)` must stop the script too.
shopt -s inherit_errexit

cd "$(dirname "$0")/.."
export PATH="${HOME:-/root}/.cargo/bin:$PATH"
SENDS="${1:-40}"
PAGES="${2:-200}"
CLIENTS=16
# Each send case runs twice (16 clients, then one) with 3 warm-up sends each, all by the
# first client's teacher in the second run: 2 × (SENDS + 3) must stay below a teacher's
# 120 messages an hour.
if ! [[ "$SENDS" =~ ^[0-9]+$ ]] || (( SENDS < 1 || SENDS > 55 )); then
  echo "De 1 à 55 envois par client : un enseignant envoie au plus 120 messages par heure." >&2
  exit 2
fi
PG_URL="postgres://postgres@127.0.0.1:5432"
PG_DB="preau_bench_mail"
export PGOPTIONS="--client-min-messages=warning"

cargo build --release -p preau --bin preau --example mail_load
BIN="$PWD/target/release/preau"
LOAD="$PWD/target/release/examples/mail_load"
WORK="$(mktemp -d /tmp/preau-bench-mail.XXXXXX)"
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh

# Benchmarks one backend; prints its four table rows.
bench() {
  local backend="$1" url port
  if [[ "$backend" == sqlite ]]; then
    url="sqlite://$WORK/bench.db"
  else
    psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null
    psql "$PG_URL/postgres" -qc "CREATE DATABASE $PG_DB" >/dev/null
    url="$PG_URL/$PG_DB"
  fi
  echo "$backend : préparation de la base" >&2
  "$LOAD" prepare --database "$url"
  port="$(free_port)"
  start_server "$url" "$port" "$WORK/data"
  echo "$backend : $CLIENTS clients, $SENDS envois et $PAGES pages chacun" >&2
  for clients in "$CLIENTS" 1; do
    "$LOAD" run --database "$url" --port "$port" --case send --clients "$clients" \
      --requests "$SENDS" --label "$backend"
  done
  for clients in "$CLIENTS" 1; do
    "$LOAD" run --database "$url" --port "$port" --case inbox --clients "$clients" \
      --requests "$PAGES" --label "$backend"
  done
  stop_server
}

sqlite_rows="$(bench sqlite)"
postgres_rows="$(bench postgres)"
echo
echo "Messagerie, $CLIENTS clients simultanés, mode release, $(nproc) cœurs (durées en ms) :"
printf "| %-10s | %-24s | %7s | %8s | %8s | %7s | %7s | %7s | %7s |\n" \
  base cas clients requêtes req/s p50 p90 p99 max
printf "|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n" ------------ -------------------------- --------- \
  ---------- ---------- --------- --------- --------- ---------
echo "$sqlite_rows"
echo "$postgres_rows"
echo "Objectifs : p99 < 20 ms pour l'envoi, < 10 ms pour la page de la boîte de réception."
