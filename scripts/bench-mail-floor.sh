#!/usr/bin/env bash
# A floor under the messaging benchmark on PostgreSQL (not a test): part of what one request of
# scripts/bench-mail.sh costs the database, run by pgbench with nothing of Préau in the way. On a
# database written by the same load generator (`mail_load prepare`: the fixture département,
# the bench class, a teacher whose inbox holds 10,000 messages), pgbench (16 clients, each on
# its own connection, as the 16 senders of the class, prepared statements) runs:
#   rows:   the rows of a send: the message (with its recipients' ids and labels, under its
#           indexes, the search index among them) and its 91 mailbox entries (the class's 90
#           and the sender's copy), in one statement, with the counts' trigger switched off;
#   counts: the same with the counts' trigger on (a row of changes per mailbox), as a send
#           writes them;
#   page:   an inbox page's three statements: the session, the folders with their counts, the
#           first page of the inbox of 10,000 messages, as Préau reads them.
# A send of Préau does more in its transaction, which the floor leaves out: the lock on the
# sender's account with the directory's generation, the rules when a group is not kept, the
# key's row, the count of the sender's hour, the outbox row, the draft's deletion, several
# round trips, then the live notification. So each figure is a lower bound: what a request of
# that case costs the database at least, before HTTP, the server's work and those statements.
# Each case runs 3 times (15 s each), alternated; the medians are printed: transactions a
# second, p50 and p99 of a transaction, in milliseconds.
#
# Usage: bash scripts/bench-mail-floor.sh   (KEEP=1 keeps the folder of the pgbench scripts)
# PostgreSQL at postgres://postgres@127.0.0.1:5432; the database PREAU_BENCH_DB (default
# preau_bench_floor) is dropped at the start and at the end, an interruption included.
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "$0")/.."
export PATH="${HOME:-/root}/.cargo/bin:$PATH"
export PGOPTIONS="--client-min-messages=warning"
PG_URL="postgres://postgres@127.0.0.1:5432"
PG_DB="${PREAU_BENCH_DB:-preau_bench_floor}"
SECONDS_PER_RUN=15
ROUNDS=3
CLIENTS=16

cargo build --release -p preau --example mail_load
LOAD="$PWD/target/release/examples/mail_load"
WORK="$(mktemp -d /tmp/preau-bench-floor.XXXXXX)"

# The script's processes below the one given (pgbench, the load generator), deepest first.
stop_children() {
  local child
  for child in $(pgrep -P "$1" || true); do
    stop_children "$child"
    kill "$child" 2>/dev/null || true
  done
}
# On any exit, an interruption included: the processes stopped, the database dropped even if a
# connection is left, the folder removed.
cleanup() {
  trap - EXIT INT TERM
  stop_children $$
  psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
  [[ -n "${KEEP:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
psql "$PG_URL/postgres" -qc "CREATE DATABASE $PG_DB" >/dev/null
echo "préparation de la base" >&2
"$LOAD" prepare --database "$PG_URL/$PG_DB"
sql() { psql "$PG_URL/$PG_DB" -qAtc "$1"; }

# The class's 90 mailboxes; its 16 senders, one per client; a session of the inbox's owner.
class="id LIKE 'bench-pupil-%' OR id LIKE 'bench-parent-%'"
recipients="$(sql "SELECT string_agg(quote_literal(id), ',' ORDER BY id) FROM people WHERE $class")"
recipient_ids="$(sql "SELECT json_agg(id ORDER BY id) FROM people WHERE $class")"
count="$(sql "SELECT COUNT(*) FROM people WHERE $class")"
if [[ "$count" != 90 ]]; then
  echo "la classe du banc compte $count boîtes au lieu de 90" >&2
  exit 1
fi
sql "CREATE TABLE floor_senders (n INTEGER PRIMARY KEY, id TEXT NOT NULL)"
sql "INSERT INTO floor_senders SELECT CAST(row_number() OVER (ORDER BY id) AS INTEGER) - 1, id \
  FROM people WHERE id LIKE 'bench-teacher-%' OR id LIKE 'bench-staff-%'"
if [[ "$(sql "SELECT COUNT(*) FROM floor_senders")" != "$CLIENTS" ]]; then
  echo "le banc n'a pas $CLIENTS expéditeurs" >&2
  exit 1
fi
sql "INSERT INTO sessions (id_hash, person_id, csrf_token, created_at, last_seen_at, expires_at) \
  VALUES ('floor-session', 'bench-teacher-0', 'jeton', 0, 0, 9999999999)"

# A send by the client's sender: ids that grow with time, like Préau's (UUID v7), one per
# connection and microsecond (a colon followed by a name would be a pgbench variable: chr(58)).
cat >"$WORK/send.sql" <<EOF
\set sender :client_id % $CLIENTS
WITH m AS (
  INSERT INTO messages (id, sender_id, thread_id, parent_id, subject, body_html, body_text,
    recipients_label, recipient_ids, search_text, created_at)
  SELECT i.id, s.id, i.id, NULL, 'Sortie au musée',
    '<p>Bonjour, la sortie au musée aura lieu jeudi ; pensez à l''autorisation signée.</p>',
    'Bonjour, la sortie au musée aura lieu jeudi ; pensez à l''autorisation signée.',
    '[{"token":"class_pupils' || chr(58) || 'bench-3b","label":"Élèves de 3B"},'
      || '{"token":"class_parents' || chr(58) || 'bench-3b","label":"Parents de 3B"}]',
    '$recipient_ids',
    'sortie au musee bonjour la sortie au musee aura lieu jeudi pensez a l autorisation signee',
    CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)
  FROM floor_senders s, (SELECT lpad(CAST(CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000
    AS BIGINT) AS TEXT), 20, '0') || '-' || CAST(pg_backend_pid() AS TEXT) AS id) i
  WHERE s.n = :sender
  RETURNING id, sender_id, created_at)
INSERT INTO mailbox_entries (owner_id, message_id, origin, folder, unread, created_at)
SELECT o, m.id, 'inbox', 'inbox', 1, m.created_at FROM m, unnest(ARRAY[$recipients]) o
UNION ALL SELECT m.sender_id, m.id, 'sent', 'sent', 0, m.created_at FROM m;
EOF

# An inbox page, as crates/store/src/sessions.rs and messaging/mailbox.rs read it.
generations=""
for name in directory timetable internship places applications sso; do
  generations+="(SELECT value FROM cache_generations WHERE name = '$name') AS ${name}_g, "
done
cat >"$WORK/page.sql" <<EOF
SELECT s.person_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, s.second_factor_at, s.second_factor_pending, (SELECT COUNT(*) FROM second_factors f WHERE f.person_id = s.person_id) AS factors, ${generations%, } FROM sessions s JOIN people p ON p.id = s.person_id JOIN accounts a ON a.person_id = s.person_id WHERE s.id_hash = 'floor-session' AND p.active = 1 AND a.frozen = 0 AND a.activated_at IS NOT NULL;
SELECT 'c' AS kind, folder, '' AS name, CAST(SUM(total) AS BIGINT) AS total, CAST(SUM(unread) AS BIGINT) AS unread FROM (SELECT folder, total, unread FROM mailbox_counts WHERE owner_id = 'bench-teacher-0' UNION ALL SELECT folder, total, unread FROM mailbox_count_changes WHERE owner_id = 'bench-teacher-0') c GROUP BY folder UNION ALL SELECT 'd', '', '', COUNT(*), CAST(0 AS BIGINT) FROM drafts WHERE owner_id = 'bench-teacher-0' UNION ALL SELECT 'f', id, name, CAST(0 AS BIGINT), CAST(0 AS BIGINT) FROM mail_folders WHERE owner_id = 'bench-teacher-0' ORDER BY 1, 3, 2;
SELECT e.message_id, e.unread, e.folder, e.created_at, m.subject, SUBSTR(m.body_text, 1, 200) AS snippet, m.recipients_label, m.recalled_at, p.id, p.last_name, p.first_name, p.profile, CASE WHEN EXISTS (SELECT 1 FROM message_attachments ma WHERE ma.message_id = m.id) THEN CAST(1 AS BIGINT) ELSE CAST(0 AS BIGINT) END AS has_attachments FROM (SELECT message_id, unread, folder, created_at FROM mailbox_entries WHERE owner_id = 'bench-teacher-0' AND folder = 'inbox' ORDER BY created_at DESC, message_id DESC LIMIT 25 OFFSET 0) e JOIN messages m ON m.id = e.message_id JOIN people p ON p.id = m.sender_id ORDER BY e.created_at DESC, e.message_id DESC;
EOF

# One run of a case: "tps p50 p99".
run() {
  local script="$1"
  rm -f "$WORK"/pgbench_log.*
  local tps
  tps="$(cd "$WORK" && pgbench -h 127.0.0.1 -U postgres -n -M prepared -c "$CLIENTS" -j 2 \
    -T "$SECONDS_PER_RUN" -l -f "$script" "$PG_DB" 2>/dev/null \
    | awk '/^tps/ { print $3 }')"
  cat "$WORK"/pgbench_log.* | awk '{ print $3 / 1000 }' | sort -n \
    | awk -v tps="$tps" '{ a[NR] = $1 } END {
        printf "%.1f %.2f %.2f\n", tps, a[int(NR * 0.5)], a[int(NR * 0.99)] }'
}

declare -A results
for round in $(seq 1 "$ROUNDS"); do
  echo "tour $round / $ROUNDS" >&2
  sql "ALTER TABLE mailbox_entries DISABLE TRIGGER mailbox_counts_entries_added"
  results[rows]+="$(run "$WORK/send.sql")"$'\n'
  sql "ALTER TABLE mailbox_entries ENABLE TRIGGER mailbox_counts_entries_added"
  results[counts]+="$(run "$WORK/send.sql")"$'\n'
  results[page]+="$(run "$WORK/page.sql")"$'\n'
done

# The median of each column over the rounds.
median() {
  sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
echo
echo "PostgreSQL seul, $CLIENTS clients, $(nproc) cœurs, médianes de $ROUNDS tours (durées en ms) :"
printf "| %-8s | %-47s | %8s | %7s | %7s |\n" cas "requêtes d'une transaction" tx/s p50 p99
printf "|%s|%s|%s|%s|%s|\n" ---------- ------------------------------------------------- \
  ---------- --------- ---------
for case in rows counts page; do
  case "$case" in
    rows) label="message + 91 entrées (sans les comptes)" ;;
    counts) label="message + 91 entrées + comptes (comme un envoi)" ;;
    page) label="session, dossiers, page de la boîte" ;;
  esac
  column() { printf "%s" "${results[$case]}" | awk -v c="$1" 'NF { print $c }' | median; }
  printf "| %-8s | %-47s | %8s | %7s | %7s |\n" "$case" "$label" "$(column 1)" "$(column 2)" \
    "$(column 3)"
done
echo "Des planchers. Objectifs de Préau (requête entière) : p99 < 20 ms pour l'envoi, < 10 ms"
echo "pour la page de la boîte de réception."
