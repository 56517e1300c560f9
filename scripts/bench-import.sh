#!/usr/bin/env bash
# The import benchmark (not a test): generates the default demo département once (34 collèges,
# about 46,000 people), then times `preau import aaf` in release mode on a fresh SQLite database
# and on a fresh PostgreSQL database (3 runs each, median), the re-import of the same files
# (3 runs, median), and the peak resident memory of each run, and prints a small table.
# Targets on a 2-core machine: under 20 s per import, under 10 s per re-import, under 300 MB.
#
# Usage: bash scripts/bench-import.sh [RUNS]   (PostgreSQL at postgres://postgres@127.0.0.1:5432)
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="${HOME:-/root}/.cargo/bin:$PATH"
RUNS="${1:-3}"
PG_URL="postgres://postgres@127.0.0.1:5432"
export PGOPTIONS="--client-min-messages=warning"

if [[ ! -x /usr/bin/time ]]; then
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q time
fi

cargo build --release -p preau
BIN="$PWD/target/release/preau"
WORK="$(mktemp -d /tmp/preau-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
export PREAU_DATA_DIR="$WORK/data"
export RUST_LOG=warn

"$BIN" demo --generate-only --dir "$WORK/aaf"

# Runs one import under /usr/bin/time; prints "seconds kilobytes".
timed_import() {
  local url="$1" log="$WORK/time.log" status=0
  PREAU_DATABASE_URL="$url" /usr/bin/time -v "$BIN" import aaf "$WORK/aaf" \
    >"$WORK/report.txt" 2>"$log" || status=$?
  if ((status != 0 && status != 2)); then
    cat "$log" >&2
    exit 1
  fi
  if ((status == 2)); then
    echo "attention : l'import a signalé des problèmes (voir le rapport)" >&2
  fi
  awk -F': ' '
    /Elapsed \(wall clock\) time/ {
      n = split($2, t, ":"); s = 0
      for (i = 1; i <= n; i++) s = s * 60 + t[i]
      seconds = s
    }
    /Maximum resident set size/ { kb = $2 }
    END { printf "%.2f %d\n", seconds, kb }
  ' "$log"
}

median() {
  sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# Benchmarks one backend: RUNS fresh imports, then RUNS re-imports on the last database.
bench() {
  local backend="$1" first="" again="" rss=0 url
  for run in $(seq 1 "$RUNS"); do
    if [[ "$backend" == sqlite ]]; then
      rm -f "$WORK"/bench.db*
      url="sqlite://$WORK/bench.db"
    else
      psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS preau_bench" >/dev/null
      psql "$PG_URL/postgres" -qc "CREATE DATABASE preau_bench" >/dev/null
      url="$PG_URL/preau_bench"
    fi
    read -r seconds kb < <(timed_import "$url")
    first+="$seconds"$'\n'
    ((kb > rss)) && rss=$kb
    echo "$backend : import $run : ${seconds} s, $((kb / 1024)) Mo" >&2
  done
  for run in $(seq 1 "$RUNS"); do
    read -r seconds kb < <(timed_import "$url")
    again+="$seconds"$'\n'
    ((kb > rss)) && rss=$kb
    echo "$backend : ré-import $run : ${seconds} s, $((kb / 1024)) Mo" >&2
  done
  if [[ "$backend" == postgres ]]; then
    psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS preau_bench" >/dev/null
  fi
  printf "| %-10s | %12s | %12s | %10s |\n" "$backend" \
    "$(printf '%s' "$first" | median) s" "$(printf '%s' "$again" | median) s" "$((rss / 1024)) Mo"
}

people=$(grep -h -c "<addRequest>" "$WORK"/aaf/*_{Eleve,PersRelEleve,PersEducNat}_*.xml | awk '{ s += $1 } END { print s }')
sqlite_row=$(bench sqlite)
postgres_row=$(bench postgres)
echo
echo "Import AAF de la démo par défaut ($people personnes), $RUNS passages, médianes, mode release :"
echo "| base       |       import |    ré-import |    RSS max |"
printf "|%s|%s|%s|%s|\n" "------------" "--------------" "--------------" "------------"
echo "$sqlite_row"
echo "$postgres_row"
