#!/usr/bin/env bash
# The timetable benchmark (not a test). On SQLite, then on PostgreSQL, on a fresh database each:
# `preau demo --no-serve` writes and imports the default demo département (34 collèges, about
# 46,000 people, a timetable for every collège, teachers shared between collèges) into a
# temporary folder; on PostgreSQL the planner's statistics are then refreshed (ANALYZE), as
# autovacuum would have done on a live database; `preau serve` (release build, default
# settings) runs on a loopback port; the load generator
# (crates/preau/examples/timetable_load.rs) opens sessions for the showcase teacher (who teaches
# in two collèges) and pupil and for other teachers and pupils with lessons, one person per
# client, each on its own keep-alive connection, then measures
#   (a) a teacher's week merged across collèges: GET /emploi-du-temps?vue=semaine&date=<Monday>;
#   (b) a pupil's day: GET /emploi-du-temps?vue=jour&date=<weekday>;
# with 1 client, then 16 clients at once (each sends its next request as soon as the previous
# one is answered). Every answer must be a 200 showing lessons. It prints the server's time
# (from `Server-Timing: app;dur=`) and the latency the client saw: p50, p90, p99 and the
# slowest, and the throughput, as the median of RUNS runs (each cell's median on its own).
# Target on a 2-core machine: p99 of the server's time under 5 ms at 16 concurrent clients.
#
# Pages keep what they read in memory (store::cache) until it changes, so after each client's
# first request the figures are those of kept answers. With PREAU_BENCH_COLD=1, each request
# first moves the generation of what it reads (a statement of the load generator, not timed),
# so that every request reads the database as a first visit does.
# Usage: bash scripts/bench-timetable.sh [RUNS] [REQUESTS_PER_CLIENT]   (defaults: 3, 150)
# PostgreSQL at postgres://postgres@127.0.0.1:5432 (the database preau_bench_tt is dropped).
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="${HOME:-/root}/.cargo/bin:$PATH"
RUNS="${1:-3}"
REQUESTS="${2:-150}"
CLIENTS=16
PG_URL="postgres://postgres@127.0.0.1:5432"
PG_DB="preau_bench_tt"
export PGOPTIONS="--client-min-messages=warning"
STARTED=$SECONDS

cargo build --release -p preau --bin preau --example timetable_load
BIN="$PWD/target/release/preau"
LOAD="$PWD/target/release/examples/timetable_load"
WORK="$(mktemp -d /tmp/preau-bench-tt.XXXXXX)"
# shellcheck source=scripts/bench-common.sh
source scripts/bench-common.sh

# Benchmarks one backend; prints its four table rows.
bench() {
  local backend="$1" url port data="$WORK/data-$1" started=$SECONDS
  if [[ "$backend" == sqlite ]]; then
    url="sqlite://$WORK/bench.db"
  else
    psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null
    psql "$PG_URL/postgres" -qc "CREATE DATABASE $PG_DB" >/dev/null
    url="$PG_URL/$PG_DB"
  fi
  echo "$backend : département de démonstration (preau demo)" >&2
  port="$(free_port)"
  PREAU_DATABASE_URL="$url" PREAU_DATA_DIR="$data" PREAU_BASE_URL="http://127.0.0.1:$port" \
    RUST_LOG=warn "$BIN" demo --no-serve >"$WORK/demo-$backend.txt" 2>&1 ||
    {
      cat "$WORK/demo-$backend.txt" >&2
      exit 1
    }
  if [[ "$backend" == postgres ]]; then
    # The demo's imports analyse the tables they fill the most, not all of them (schools,
    # school years, slot grids, accounts): statistics as a live database would have them.
    psql "$url" -qc "ANALYZE" >/dev/null
  fi
  grep -h "^Département de démonstration\|^Emplois du temps" "$WORK/demo-$backend.txt" >&2 || true
  echo "$backend : démonstration prête en $((SECONDS - started)) s" >&2
  start_server "$url" "$port" "$data"
  echo "$backend : 1 puis $CLIENTS clients, $RUNS passe(s), $REQUESTS requêtes par client" >&2
  "$LOAD" --database "$url" --port "$port" --accounts "$data/demo-accounts.json" \
    --clients "$CLIENTS" --requests "$REQUESTS" --runs "$RUNS" --label "$backend" \
    ${PREAU_BENCH_COLD:+--cold}
  stop_server
}

# In the main shell (not in a command substitution), so that a failure stops the script and
# the exit trap stops the server.
bench sqlite >"$WORK/rows-sqlite"
bench postgres >"$WORK/rows-postgres"
if ((RUNS == 1)); then
  runs_text="1 passe"
else
  runs_text="médianes de $RUNS passes"
fi
echo
echo "Emplois du temps, mode release, $(nproc) cœurs, $runs_text (durées en ms ; charge" \
  "moyenne à la fin : $(cut -d' ' -f1-3 /proc/loadavg)) :"
printf "| %-10s | %-18s | %7s | %8s | %7s | %6s | %6s | %6s | %6s | %6s | %6s | %6s | %6s |\n" \
  base cas clients requêtes req/s "s p50" "s p90" "s p99" "s max" "c p50" "c p90" "c p99" \
  "c max"
printf "|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n" ------------ -------------------- \
  --------- ---------- --------- -------- -------- -------- -------- -------- -------- \
  -------- --------
cat "$WORK/rows-sqlite" "$WORK/rows-postgres"
echo "s = temps du serveur (Server-Timing: app), c = latence vue par le client."
echo "Objectif : p99 du temps du serveur < 5 ms à $CLIENTS clients simultanés." \
  "Durée totale : $((SECONDS - STARTED)) s."
