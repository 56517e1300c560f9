#!/usr/bin/env bash
# The internship search benchmark (not a test). On SQLite, then on PostgreSQL, on a fresh
# database each: the load generator (crates/preau/examples/internship_load.rs) `prepare`s the
# test fixtures, the built-in gazetteer and 5,000 offers spread over the towns of
# ../shared/data/geo/towns-around-vienne.csv (read in place; seeded, so every run has the same
# offers), with 16 more 3e pupils who have already applied to a few; on PostgreSQL the
# planner's statistics are refreshed (ANALYZE). `preau serve` (release build, default settings)
# runs on a loopback port; the generator then `run`s a 3e pupil's search around home within
# 30 km with filters, GET /stages?rayon=30&semaine=<a 3e week>&mots=<a trade> for half the
# clients and …&secteur=<a sector> for the others, one pupil per client on its own keep-alive
# connection, with 1 client, then 16 at once (each sends its next request as soon as the
# previous one is answered). Every answer must be a 200 listing offers. It prints the server's
# time (from `Server-Timing: app;dur=`) and the latency the client saw: p50, p95, p99 and the
# slowest, and the throughput, as the median of RUNS runs.
# Target on this machine: p99 of the server's time under 10 ms at 16 concurrent clients.
#
# Pages keep what they read in memory (store::cache) until it changes, so after each client's
# first request the figures are those of kept answers. With PREAU_BENCH_COLD=internship, each
# search first moves the generation of the offers (a statement of the load generator, not
# timed), so that every search reads the département's offers from the database, as the first
# search after an offer changed does; with PREAU_BENCH_COLD=places, only the places taken are
# counted again, as after a confirmation.
# Usage: bash scripts/bench-internship.sh [RUNS] [REQUESTS_PER_CLIENT]   (defaults: 3, 150)
# PostgreSQL at postgres://postgres@127.0.0.1:5432; the database PREAU_BENCH_DB (default
# preau_bench_stages) is created and dropped. PREAU_BENCH_PORT fixes the port (default: any
# free loopback port).
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="${HOME:-/root}/.cargo/bin:$PATH"
RUNS="${1:-3}"
REQUESTS="${2:-150}"
CLIENTS=16
PG_URL="postgres://postgres@127.0.0.1:5432"
PG_DB="${PREAU_BENCH_DB:-preau_bench_stages}"
TOWNS="$PWD/../shared/data/geo/towns-around-vienne.csv"
export PGOPTIONS="--client-min-messages=warning"
STARTED=$SECONDS

[[ -f "$TOWNS" ]] || {
  echo "$TOWNS introuvable" >&2
  exit 1
}
cargo build --release -p preau --bin preau --example internship_load
BIN="$PWD/target/release/preau"
LOAD="$PWD/target/release/examples/internship_load"
WORK="$(mktemp -d /tmp/preau-bench-stages.XXXXXX)"
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh

# Benchmarks one backend; prints its two table rows.
bench() {
  local backend="$1" url port data="$WORK/data-$1"
  if [[ "$backend" == sqlite ]]; then
    url="sqlite://$WORK/bench.db"
  else
    psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null
    psql "$PG_URL/postgres" -qc "CREATE DATABASE $PG_DB" >/dev/null
    url="$PG_URL/$PG_DB"
  fi
  echo "$backend : préparation des offres" >&2
  RUST_LOG=warn "$LOAD" prepare --database "$url" --towns "$TOWNS"
  port="${PREAU_BENCH_PORT:-$(free_port)}"
  start_server "$url" "$port" "$data"
  echo "$backend : 1 puis $CLIENTS clients, $RUNS passe(s), $REQUESTS requêtes par client" >&2
  "$LOAD" run --database "$url" --port "$port" --clients "$CLIENTS" --requests "$REQUESTS" \
    --runs "$RUNS" --label "$backend" ${PREAU_BENCH_COLD:+--cold "$PREAU_BENCH_COLD"}
  stop_server
}

bench sqlite >"$WORK/rows-sqlite"
bench postgres >"$WORK/rows-postgres"
if ((RUNS == 1)); then
  runs_text="1 passe"
else
  runs_text="médianes de $RUNS passes"
fi
echo
echo "Recherche de stages (5 000 offres, 30 km, semaine + mot-clé ou secteur), mode release," \
  "$(nproc) cœurs, $runs_text (durées en ms ; charge moyenne à la fin : $(cut -d' ' -f1-3 /proc/loadavg)) :"
printf "| %-10s | %7s | %8s | %7s | %6s | %6s | %6s | %6s | %6s | %6s | %6s | %6s |\n" \
  base clients requêtes req/s "s p50" "s p95" "s p99" "s max" "c p50" "c p95" "c p99" "c max"
printf "|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n" ------------ --------- ---------- --------- \
  -------- -------- -------- -------- -------- -------- -------- --------
cat "$WORK/rows-sqlite" "$WORK/rows-postgres"
echo "s = temps du serveur (Server-Timing: app), c = latence vue par le client."
echo "Objectif : p99 du temps du serveur < 10 ms à $CLIENTS clients simultanés." \
  "Durée totale : $((SECONDS - STARTED)) s."
