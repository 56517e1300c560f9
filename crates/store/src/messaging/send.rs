//! The send: one idempotency key per compose window, then one transaction that locks the
//! sender's account (on SQLite, the writer's lock does), applies the caps, resolves the
//! recipients under the communication rules, writes the message (with its recipients' ids
//! and, on SQLite, its search row), every mailbox entry, the attachment references, the
//! outbox entry, deletes the draft; its key is claimed in the same transaction, already
//! 'done' with the message's id. A retry of a completed send gets the first message back, the
//! same key with another content is refused; a refused or failed send leaves nothing, not even
//! its key.
//!
//! On PostgreSQL, where transactions run side by side, the send's transaction first locks the
//! sender's account row, then claims the key: a concurrent send of the same key waits for the
//! first one's end, then replays its message (or sends, if the first one failed). On SQLite,
//! where one transaction writes at a time, the sends waiting for the writer go together into
//! one transaction. Their keys' rows and their senders' accounts are read first, once for all
//! of them and at one time, which is every send's time there; then each send is checked
//! against these and the sends before it in the transaction; then the writes of them all,
//! their keys' rows included, go in one round trip, with their mailboxes' counts added once
//! for all: a refused send has written nothing, and if the writes fail the transaction is
//! rolled back and written again one send at a time, its counts by the trigger, so that the
//! send whose writes or counts fail rolls it back alone, the others being written again in
//! the next one (a savepoint per send, which SQLite keeps by copying every page the send
//! changes, cost about a tenth of the writer's time). None is acknowledged before the commit.
//! Sends to the same people then write the pages of their mailboxes once per commit, not once
//! per send (a class of 90 mailboxes is some 500 pages of the write-ahead log). A retry that
//! comes while its first send waits is in the same or a later transaction, and so replays the
//! first send.

use std::collections::HashMap;
use std::sync::Arc;

use domain::communication::{
    MAX_ATTACHMENTS, MAX_STORED_BODY_BYTES, MAX_SUBJECT_BYTES, MAX_SUBJECT_CHARS, Recipient,
    send_caps,
};
use domain::profile::Profile;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::drafts::is_key;
use super::{
    ComposeMode, SendOutcome, SendRefusal, SendRequest, StoredLabel, clean_line, is_id,
    json_strings, without_nul,
};
use crate::cache::Generations;
use crate::directory::membership_clock;
use crate::import::sql::{Value, bind_all};
use crate::rules::GroupReach;
use crate::{Backend, Store, StoreError, StoreResult, new_id, now_unix};

/// How long a pending key blocks a retry before the retry may take it over (earlier versions
/// claimed a key 'pending' before the send's transaction, and a request could die in between).
const PENDING_SECS: i64 = 60;

/// The window of the hourly cap.
const HOUR_SECS: i64 = 3_600;

/// The most sends one SQLite transaction writes.
const MAX_BATCH: usize = 64;

/// A send waiting for the SQLite writer, with where to answer.
struct SendJob {
    request: SendRequest,
    subject: String,
    attachments: Vec<String>,
    fingerprint: String,
    known: KnownGroups,
    answer: tokio::sync::oneshot::Sender<SendAnswer>,
}

/// What a send's caller is answered.
type SendAnswer = StoreResult<Result<SendOutcome, SendRefusal>>;

/// The sends waiting for the next SQLite transaction of sends, oldest first, and whether a
/// runner ([`Store::run_send_batches`]) is writing them: one at a time, started by the send
/// that finds none, stopped when it finds the queue empty.
#[derive(Default)]
pub(crate) struct SendQueue {
    state: std::sync::Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    waiting: std::collections::VecDeque<SendJob>,
    running: bool,
}

impl std::fmt::Debug for SendQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SendQueue")
    }
}

impl SendQueue {
    fn state(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues a send; true if no runner is writing, and the caller must start one.
    fn push(&self, job: SendJob) -> bool {
        let mut state = self.state();
        state.waiting.push_back(job);
        !std::mem::replace(&mut state.running, true)
    }

    /// The oldest waiting sends, at most [`MAX_BATCH`]; `None` when there are none, and the
    /// runner stops (the next send starts another).
    fn take_or_stop(&self) -> Option<Vec<SendJob>> {
        let mut state = self.state();
        if state.waiting.is_empty() {
            state.running = false;
            return None;
        }
        let count = state.waiting.len().min(MAX_BATCH);
        Some(state.waiting.drain(..count).collect())
    }
}

/// Held by the runner: should it end any other way than by [`SendQueue::take_or_stop`] (a
/// panic), the queue gets no runner stuck "running", and the sends waiting are answered with
/// an error (their answers dropped) instead of waiting for ever. Once the runner stopped, a
/// new one may already be running: the guard then leaves the queue alone.
struct RunnerGuard<'a> {
    queue: &'a SendQueue,
    stopped: bool,
}

impl Drop for RunnerGuard<'_> {
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        let mut state = self.queue.state();
        state.running = false;
        state.waiting.clear();
    }
}

/// A transaction of sends that failed as a whole: why, and the sends it held.
struct FailedJobs {
    error: StoreError,
    jobs: Vec<SendJob>,
}

/// A transaction of sends as [`Store::write_send_batch`] ended it: the sends answered already
/// (those whose statements failed), and the others, committed with their outcomes or failed.
struct WrittenBatch {
    answered: Vec<(SendJob, SendAnswer)>,
    committed: Result<Vec<(SendJob, SendAnswer)>, FailedJobs>,
}

/// Why a transaction of sends stopped before its commit.
enum BatchFailure {
    /// The statements of the job at this index failed; the transaction must be rolled back.
    Job(usize, StoreError),
    /// The writes of all the jobs, sent together, failed; the transaction must be rolled back
    /// and its jobs written again one at a time, to find the one that fails.
    Together(StoreError),
    /// The transaction itself.
    Transaction(StoreError),
}

/// What the sends of one SQLite transaction of sends did so far, which the database does not
/// show yet when their writes go together at the end ([`Store::batch_statements`]): the keys
/// they took, how many messages each sender sent, and what they add to their mailboxes'
/// counts by (owner, folder), each recipient's inbox gaining an unread message and each
/// sender's sent folder a read one. The counts are written once for the whole transaction,
/// the trigger of counts standing aside meanwhile (migration 0018).
#[derive(Default)]
struct SendsSoFar {
    /// By (sender, key): the fingerprint and the message.
    keys: HashMap<(String, String), (String, String)>,
    sent_by: HashMap<String, i64>,
    counts: std::collections::BTreeMap<(String, &'static str), (i64, i64)>,
}

impl SendsSoFar {
    /// What an earlier send of this transaction with the same key decides for `job`.
    fn claim(&self, job: &SendJob) -> Option<Claim> {
        let key = (job.request.sender_id.clone(), job.request.idempotency_key.clone());
        let (fingerprint, message_id) = self.keys.get(&key)?;
        Some(if *fingerprint == job.fingerprint {
            Claim::Done(message_id.clone())
        } else {
            Claim::Refused(SendRefusal::KeyReused)
        })
    }

    /// How many messages `sender` sent earlier in this transaction.
    fn sent_by(&self, sender: &str) -> i64 {
        self.sent_by.get(sender).copied().unwrap_or(0)
    }

    fn sent(&mut self, job: &SendJob, message_id: &str, recipients: &[String]) {
        let sender = &job.request.sender_id;
        self.keys.insert(
            (sender.clone(), job.request.idempotency_key.clone()),
            (job.fingerprint.clone(), message_id.to_owned()),
        );
        *self.sent_by.entry(sender.clone()).or_default() += 1;
        for recipient in recipients {
            let count = self.counts.entry((recipient.clone(), "inbox")).or_default();
            count.0 += 1;
            count.1 += 1;
        }
        self.counts.entry((sender.clone(), "sent")).or_default().0 += 1;
    }

    /// The statements that add the counts and hand the counting back to the trigger: a row of
    /// counts missing is made at zero first, as the trigger does.
    fn counts_written(&self, writes: &mut Writes) -> StoreResult<()> {
        let rows: Vec<(&str, &str, i64, i64)> = self
            .counts
            .iter()
            .map(|((owner, folder), (total, unread))| (owner.as_str(), *folder, *total, *unread))
            .collect();
        let rows = serde_json::to_string(&rows)
            .map_err(|error| StoreError::Corrupt(format!("mailbox counts: {error}")))?;
        writes.push(
            "INSERT OR ROLLBACK INTO mailbox_counts (owner_id, folder, total, unread) \
             SELECT value ->> 0, value ->> 1, 0, 0 FROM json_each($1) AS added \
             WHERE NOT EXISTS (SELECT 1 FROM mailbox_counts c \
               WHERE c.owner_id = added.value ->> 0 AND c.folder = added.value ->> 1)",
            vec![Value::Text(rows.clone())],
        );
        writes.push(
            "UPDATE OR ROLLBACK mailbox_counts \
             SET total = mailbox_counts.total + added.total, \
               unread = mailbox_counts.unread + added.unread \
             FROM (SELECT value ->> 0 AS owner_id, value ->> 1 AS folder, \
               value ->> 2 AS total, value ->> 3 AS unread FROM json_each($1)) AS added \
             WHERE mailbox_counts.owner_id = added.owner_id \
               AND mailbox_counts.folder = added.folder",
            vec![Value::Text(rows)],
        );
        writes.push(COUNTING_BY_TRIGGERS, Vec::new());
        Ok(())
    }
}

/// The trigger of counts stands aside (see [`SendsSoFar`]), then counts again.
const COUNTING_BY_HAND: &str = "UPDATE OR ROLLBACK mailbox_counting SET by_triggers = 0";
const COUNTING_BY_TRIGGERS: &str = "UPDATE OR ROLLBACK mailbox_counting SET by_triggers = 1";

/// What claiming a key gave.
enum Claim {
    /// The key is ours.
    Mine,
    /// The key's send completed with this message.
    Done(String),
    Refused(SendRefusal),
}

/// A send's key, claimed in its transaction: the id its message takes and, in a transaction
/// of sends on SQLite, where the claim only read the key (see [`BatchReads`]), what the
/// send writes with the others' at the end.
struct ClaimedKey<'a> {
    message_id: String,
    later: Option<WrittenLater<'a>>,
}

/// A send of a transaction of sends: the request's fingerprint for its key's row, where its
/// writes go to run with the others', the transaction's time, and its sender's account as the
/// transaction read it before its first send, with the messages they sent before this one in
/// the transaction.
struct WrittenLater<'a> {
    fingerprint: String,
    writes: &'a mut Writes,
    /// The time of every send of the transaction, which its accounts' hourly counts were read
    /// at: a cap checked at another second than its count could count a message that just
    /// left the hour.
    now: i64,
    account: Option<SenderAccount>,
    /// The sender's messages earlier in the transaction, and how many of them the database
    /// does not show yet (all of them when the transaction's writes go together at its end).
    sent_before: i64,
    unwritten_before: i64,
}

/// The SHA-256 (hex) of what makes a send the same send: the recipients' tokens (sorted), the
/// cleaned subject, the body, the mode, the parent and the attachments (sorted), encoded as one
/// JSON array so that no two different requests share an encoding.
pub(crate) fn fingerprint(request: &SendRequest, subject: &str) -> String {
    let mut tokens: Vec<String> = request.recipients.iter().map(|r| r.token()).collect();
    tokens.sort();
    tokens.dedup();
    let mut attachments = request.attachment_ids.clone();
    attachments.sort();
    attachments.dedup();
    let canonical = serde_json::json!([
        tokens,
        subject,
        request.body_html,
        request.mode.code(),
        request.parent_id,
        attachments
    ]);
    Sha256::digest(canonical.to_string().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// What a send's caller is told when its transaction of sends failed as a whole (the cause is
/// logged once, by the task that ran it).
fn batch_failed() -> StoreError {
    StoreError::Database(sqlx::Error::Protocol("a transaction of sends failed".to_owned()))
}

/// The writes of a send, statements that read none of the others' rows and return none, each
/// numbering its parameters from `$1`. On SQLite each `INSERT INTO` runs as `INSERT OR
/// ROLLBACK INTO`: a failure rolls the transaction of sends back anyway, and a statement that
/// could stop halfway would have SQLite copy every page it changes (migration 0017).
/// They go to the database in one round trip, each numbered on from the previous ones: on
/// SQLite as one query of several statements (its driver runs them in turn and binds `$N` to
/// the query's N-th value whichever statement holds it), on PostgreSQL, whose protocol takes
/// one statement with values at a time, as one statement whose `WITH` clause holds them
/// all. (A round trip to SQLite's connection thread is some 70 µs during which the one
/// writer waits, more than most of these statements take; on PostgreSQL each costs both
/// processes their share of the two cores.)
#[derive(Default)]
struct Writes {
    statements: Vec<(String, Vec<Value>)>,
}

impl Writes {
    fn push(&mut self, sql: impl Into<String>, values: Vec<Value>) {
        self.statements.push((sql.into(), values));
    }

    fn append(&mut self, other: Writes) {
        self.statements.extend(other.statements);
    }

    fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// Runs the statements on `conn`. On PostgreSQL the last one is the main statement, the
    /// others its `WITH` clause (a statement there runs whether or not the main one reads it).
    async fn run(self, conn: &mut sqlx::AnyConnection, backend: Backend) -> StoreResult<()> {
        let mut sql = String::new();
        let mut all_values = Vec::new();
        let last = self.statements.len().saturating_sub(1);
        for (index, (statement, values)) in self.statements.into_iter().enumerate() {
            let statement = numbered_from(&statement, all_values.len());
            all_values.extend(values);
            match backend {
                Backend::Sqlite => {
                    let statement = match statement.strip_prefix("INSERT INTO ") {
                        Some(rest) => format!("INSERT OR ROLLBACK INTO {rest}"),
                        None => statement,
                    };
                    sql.push_str(&statement);
                    sql.push_str(";\n");
                }
                Backend::Postgres if index == last => {
                    sql.push_str(if index == 0 { "" } else { "\n" });
                    sql.push_str(&statement);
                }
                Backend::Postgres => {
                    sql.push_str(if index == 0 { "WITH " } else { ",\n" });
                    sql.push_str(&format!("w{index} AS ({statement})"));
                }
            }
        }
        bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), all_values).execute(&mut *conn).await?;
        Ok(())
    }
}

/// `sql` with each parameter `$N` renumbered `$(N + offset)` (the statements of a send hold
/// no `$` otherwise).
fn numbered_from(sql: &str, offset: usize) -> String {
    let mut numbered = String::with_capacity(sql.len() + 16);
    let mut rest = sql;
    while let Some(dollar) = rest.find('$') {
        numbered.push_str(&rest[..=dollar]);
        rest = &rest[dollar + 1..];
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        match rest[..digits].parse::<usize>() {
            Ok(number) => numbered.push_str(&(number + offset).to_string()),
            Err(_) => numbered.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    numbered.push_str(rest);
    numbered
}

/// The `directory` generation (see `Store::known_groups`), as the caller's transaction reads it.
async fn directory_generation(conn: &mut sqlx::AnyConnection) -> StoreResult<i64> {
    Ok(sqlx::query_scalar("SELECT value FROM cache_generations WHERE name = 'directory'")
        .fetch_one(&mut *conn)
        .await?)
}

/// The recipient groups of a send as [`crate::rules::group_reach`] resolves them, read before
/// the send's transaction (concurrently, outside SQLite's one writer) and kept between sends:
/// they hold in the transaction if it reads the same `directory` generation before `until`.
struct KnownGroups {
    directory: i64,
    until: i64,
    /// By recipient token.
    groups: HashMap<String, Arc<GroupReach>>,
}

/// The groups of no [`KnownGroups`]: each resolved in the transaction.
static NO_GROUPS: std::sync::LazyLock<HashMap<String, Arc<GroupReach>>> =
    std::sync::LazyLock::new(HashMap::new);

impl KnownGroups {
    /// The groups that hold in a transaction that read the `directory` generation: all of
    /// them if the directory has not changed since they were resolved, nor a class
    /// membership started or stopped counting; none otherwise.
    fn holding(&self, directory: i64) -> &HashMap<String, Arc<GroupReach>> {
        if directory == self.directory && now_unix() < self.until {
            &self.groups
        } else {
            &NO_GROUPS
        }
    }
}

/// Claims the request's key on `conn`, in the send's transaction, already 'done' with the
/// message id `message_id`: ours if new (or left pending for too long), else what the first
/// request with that key became.
async fn claim_on(
    conn: &mut sqlx::AnyConnection,
    request: &SendRequest,
    fingerprint: &str,
    message_id: &str,
) -> StoreResult<Claim> {
    let sender = &request.sender_id;
    let key = &request.idempotency_key;
    for _ in 0..3 {
        let now = now_unix();
        let inserted = sqlx::query(
            "INSERT INTO send_requests (sender_id, idempotency_key, fingerprint, state, \
             created_at, message_id) VALUES ($1, $2, $3, 'done', $4, $5) \
             ON CONFLICT (sender_id, idempotency_key) DO NOTHING",
        )
        .bind(sender)
        .bind(key)
        .bind(fingerprint)
        .bind(now)
        .bind(message_id)
        .execute(&mut *conn)
        .await;
        let inserted = match inserted {
            Ok(done) => done.rows_affected(),
            Err(sqlx::Error::Database(error)) if error.is_foreign_key_violation() => {
                return Ok(Claim::Refused(SendRefusal::Frozen));
            }
            Err(error) => return Err(error.into()),
        };
        if inserted == 1 {
            return Ok(Claim::Mine);
        }

        let Some(stored) = read_key(conn, request).await? else { continue };
        let created_at = stored.created_at;
        if let Some(settled) = stored.settled(fingerprint, now)? {
            return Ok(settled);
        }
        let taken = sqlx::query(
            "UPDATE send_requests SET created_at = $3, state = 'done', message_id = $5 \
             WHERE sender_id = $1 AND idempotency_key = $2 AND state = 'pending' \
             AND created_at = $4",
        )
        .bind(sender)
        .bind(key)
        .bind(now)
        .bind(created_at)
        .bind(message_id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        return Ok(if taken == 1 { Claim::Mine } else { Claim::Refused(SendRefusal::InProgress) });
    }
    Ok(Claim::Refused(SendRefusal::InProgress))
}

/// What a transaction of sends (SQLite) reads for all its sends at once, before the first
/// one's checks: the directory's generation, their keys' rows and their senders' accounts,
/// at one time. Nothing else writes while the transaction does, so these stay true for every
/// send of it, with what the sends before it in the transaction did ([`SendsSoFar`]). One statement each for the whole transaction:
/// two per send were each a round trip to SQLite's connection thread, nearly half the time
/// the writer spent on a send's checks. A row that cannot be read (one edited by hand) fails
/// the send that needs it, not the others.
struct BatchReads {
    /// When they were read: the time of every send of the transaction (see
    /// [`WrittenLater::now`]).
    now: i64,
    /// The directory's generation, which holds for every send of the transaction.
    directory: i64,
    /// By (sender, key).
    keys: HashMap<(String, String), Read<StoredKey>>,
    /// By sender; a sender without an account is missing.
    accounts: HashMap<String, Read<SenderAccount>>,
}

/// A row of [`BatchReads`], or why it could not be read.
type Read<T> = Result<T, String>;

impl BatchReads {
    async fn of(
        conn: &mut sqlx::AnyConnection,
        jobs: &[SendJob],
        now: i64,
    ) -> StoreResult<BatchReads> {
        let directory = directory_generation(conn).await?;

        let wanted: Vec<(&str, &str)> = jobs
            .iter()
            .map(|job| (job.request.sender_id.as_str(), job.request.idempotency_key.as_str()))
            .collect();
        let wanted = serde_json::to_string(&wanted)
            .map_err(|error| StoreError::Corrupt(format!("send keys: {error}")))?;
        let rows = sqlx::query(
            "SELECT r.sender_id, r.idempotency_key, r.fingerprint, r.state, r.message_id, \
             r.created_at FROM send_requests r WHERE (r.sender_id, r.idempotency_key) IN \
             (SELECT value ->> 0, value ->> 1 FROM json_each($1))",
        )
        .bind(wanted)
        .fetch_all(&mut *conn)
        .await?;
        let mut keys = HashMap::with_capacity(rows.len());
        for row in rows {
            let sender: String = row.try_get("sender_id")?;
            let key: String = row.try_get("idempotency_key")?;
            keys.insert((sender, key), StoredKey::of(&row).map_err(|error| error.to_string()));
        }

        let mut senders: Vec<&str> =
            jobs.iter().map(|job| job.request.sender_id.as_str()).collect();
        senders.sort_unstable();
        senders.dedup();
        let senders = serde_json::to_string(&senders)
            .map_err(|error| StoreError::Corrupt(format!("senders: {error}")))?;
        let accounts =
            sender_accounts(conn, "IN (SELECT value FROM json_each($1))", senders, now).await?;
        Ok(BatchReads { now, directory, keys, accounts })
    }

    /// What the key's row read before the transaction decides for `job` (a key taken by a
    /// send before it in the transaction is [`SendsSoFar::claim`]'s).
    fn claim(&self, job: &SendJob) -> StoreResult<Claim> {
        let key = (job.request.sender_id.clone(), job.request.idempotency_key.clone());
        match self.keys.get(&key) {
            None => Ok(Claim::Mine),
            Some(Ok(stored)) => {
                Ok(stored.clone().settled(&job.fingerprint, self.now)?.unwrap_or(Claim::Mine))
            }
            Some(Err(error)) => Err(StoreError::Corrupt(format!("a send key's row: {error}"))),
        }
    }

    /// The account of `job`'s sender, `None` if they have none.
    fn account(&self, job: &SendJob) -> StoreResult<Option<SenderAccount>> {
        readable_account(self.accounts.get(&job.request.sender_id).cloned())
    }
}

/// A sender's account as a send checks it, with the messages they sent in the past hour.
#[derive(Clone)]
struct SenderAccount {
    frozen: i64,
    active: i64,
    profile: String,
    first_name: String,
    last_name: String,
    sent_last_hour: i64,
}

/// The accounts of the senders `$1` picks out (`whose`, a condition on their id: `= $1` for
/// one, a list in `$1` for several), those that have one, each with the messages they sent in
/// the hour before `now`, in one statement.
async fn sender_accounts(
    conn: &mut sqlx::AnyConnection,
    whose: &str,
    senders: String,
    now: i64,
) -> StoreResult<HashMap<String, Read<SenderAccount>>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT a.person_id, a.frozen, p.active, p.profile, p.first_name, p.last_name, \
         (SELECT COUNT(*) FROM messages m WHERE m.sender_id = a.person_id \
           AND m.created_at > $2) AS sent_last_hour \
         FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.person_id {whose}"
    )))
    .bind(senders)
    .bind(now - HOUR_SECS)
    .fetch_all(&mut *conn)
    .await?;
    let mut accounts = HashMap::with_capacity(rows.len());
    for row in rows {
        let account = || -> Result<SenderAccount, sqlx::Error> {
            Ok(SenderAccount {
                frozen: row.try_get("frozen")?,
                active: row.try_get("active")?,
                profile: row.try_get("profile")?,
                first_name: row.try_get("first_name")?,
                last_name: row.try_get("last_name")?,
                sent_last_hour: row.try_get("sent_last_hour")?,
            })
        };
        accounts.insert(row.try_get("person_id")?, account().map_err(|error| error.to_string()));
    }
    Ok(accounts)
}

/// An account as [`sender_accounts`] read it: `None` if there is none, an error if its row
/// cannot be read.
fn readable_account(read: Option<Read<SenderAccount>>) -> StoreResult<Option<SenderAccount>> {
    read.transpose().map_err(|error| StoreError::Corrupt(format!("a sender's account: {error}")))
}

/// A key's row as a claim finds it.
#[derive(Clone)]
struct StoredKey {
    fingerprint: String,
    state: String,
    message_id: Option<String>,
    created_at: i64,
}

impl StoredKey {
    fn of(row: &sqlx::any::AnyRow) -> Result<StoredKey, sqlx::Error> {
        Ok(StoredKey {
            fingerprint: row.try_get("fingerprint")?,
            state: row.try_get("state")?,
            message_id: row.try_get("message_id")?,
            created_at: row.try_get("created_at")?,
        })
    }

    /// What the key's row decides for a request of `fingerprint` at `now`: refused if reused
    /// with another content or pending for less than [`PENDING_SECS`], the first message if
    /// done; `None` for a key left pending too long, which the request may take over.
    fn settled(self, fingerprint: &str, now: i64) -> StoreResult<Option<Claim>> {
        if self.fingerprint != fingerprint {
            return Ok(Some(Claim::Refused(SendRefusal::KeyReused)));
        }
        if self.state == "done" {
            return self.message_id.map(|id| Some(Claim::Done(id))).ok_or_else(|| {
                StoreError::Corrupt("a completed send request has no message".to_owned())
            });
        }
        if self.created_at > now - PENDING_SECS {
            return Ok(Some(Claim::Refused(SendRefusal::InProgress)));
        }
        Ok(None)
    }
}

/// The request's key's row, if any.
async fn read_key(
    conn: &mut sqlx::AnyConnection,
    request: &SendRequest,
) -> StoreResult<Option<StoredKey>> {
    let row = sqlx::query(
        "SELECT fingerprint, state, message_id, created_at FROM send_requests \
         WHERE sender_id = $1 AND idempotency_key = $2",
    )
    .bind(&request.sender_id)
    .bind(&request.idempotency_key)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(StoredKey::of).transpose()?)
}

impl Store {
    /// Sends a message once per idempotency key (see the module's description).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (French) for an invalid key, an overlong subject or body;
    /// database errors. Refusals by the rules are `Ok(Err(_))`.
    pub async fn send_message(
        &self,
        request: &SendRequest,
    ) -> StoreResult<Result<SendOutcome, SendRefusal>> {
        let subject = clean_line(&request.subject);
        if subject.is_empty() {
            return Ok(Err(SendRefusal::EmptySubject));
        }
        if subject.chars().count() > MAX_SUBJECT_CHARS || subject.len() > MAX_SUBJECT_BYTES {
            return Err(StoreError::Conflict(format!(
                "L'objet ne peut dépasser {MAX_SUBJECT_CHARS} caractères."
            )));
        }
        if request.body_html.len() > MAX_STORED_BODY_BYTES
            || request.body_text.len() > MAX_STORED_BODY_BYTES
        {
            return Err(StoreError::Conflict("Le message est trop long.".to_owned()));
        }
        if !is_key(&request.idempotency_key) {
            return Err(StoreError::Conflict(
                "Ce formulaire n'est plus valide : rouvrez-le pour envoyer le message.".to_owned(),
            ));
        }
        let mut attachments: Vec<&str> = Vec::new();
        for id in &request.attachment_ids {
            if !attachments.contains(&id.as_str()) {
                attachments.push(id);
            }
        }
        if attachments.len() > MAX_ATTACHMENTS || !attachments.iter().all(|id| is_id(id)) {
            return Ok(Err(SendRefusal::BadAttachment));
        }
        match (request.mode, &request.parent_id) {
            (ComposeMode::New, None) => {}
            (ComposeMode::New, Some(_)) | (_, None) => return Ok(Err(SendRefusal::BadParent)),
            (_, Some(_)) => {}
        }

        let fingerprint = fingerprint(request, &subject);
        if self.backend() == Backend::Sqlite {
            let attachments = attachments.iter().map(|id| (*id).to_owned()).collect();
            return self.send_in_batch(request, subject, attachments, fingerprint).await;
        }
        self.send_transaction(request, &subject, &attachments, &fingerprint).await
    }

    /// The groups among `recipients` as the sender's links reach them (see [`KnownGroups`]),
    /// each kept per sender and group under the directory's generation.
    async fn known_groups(
        &self,
        sender: &str,
        recipients: &[Recipient],
    ) -> StoreResult<KnownGroups> {
        let mut known = KnownGroups { directory: 0, until: 0, groups: HashMap::new() };
        if !recipients.iter().any(|recipient| matches!(recipient, Recipient::Group(..))) {
            return Ok(known);
        }

        let generations = self.generations().await?;
        known.directory = generations.directory;
        known.until = self.kept_until(generations).await?;
        let stamp = Generations { directory: generations.directory, ..Generations::default() };
        let clock = membership_clock();
        for recipient in recipients {
            let Recipient::Group(kind, target) = recipient else { continue };
            let token = recipient.token();
            let reach = self
                .kept_or_read(
                    &self.caches.group_reaches,
                    format!("{sender}\u{1f}{token}"),
                    stamp,
                    generations,
                    async {
                        let mut conn = self.pool().acquire().await?;
                        crate::rules::group_reach(&mut conn, sender, *kind, target, &clock).await
                    },
                )
                .await?;
            known.groups.insert(token, reach);
        }
        Ok(known)
    }

    /// The one transaction of a send on PostgreSQL. A refusal or a replay rolls it back.
    async fn send_transaction(
        &self,
        request: &SendRequest,
        subject: &str,
        attachments: &[&str],
        fingerprint: &str,
    ) -> StoreResult<Result<SendOutcome, SendRefusal>> {
        let known = self.known_groups(&request.sender_id, &request.recipients).await?;
        let mut tx = self.begin_write().await?;

        // The sender's account is locked first: a freeze committed from here on waits for this
        // send, one committed before is read below, and the sender's other sends (the same key
        // among them) wait for this one, so that the hourly cap counts them all. The rule
        // engine's statements take PostgreSQL about 20 ms to plan and 2 ms to run: planned
        // once per connection for any parameters, they are then only run (the setting is the
        // transaction's). Both go with the read of the generation, in one round trip.
        let directory: i64 = sqlx::query_scalar(
            "SELECT g.value, \
             (SELECT 1 FROM accounts a WHERE a.person_id = $1 FOR NO KEY UPDATE) AS locked \
             FROM cache_generations g, \
             (SELECT set_config('plan_cache_mode', 'force_generic_plan', true)) AS planned \
             WHERE g.name = 'directory'",
        )
        .bind(&request.sender_id)
        .fetch_one(&mut *tx)
        .await?;
        let message_id = new_id();
        match claim_on(&mut tx, request, fingerprint, &message_id).await? {
            Claim::Mine => {}
            Claim::Done(message_id) => return Ok(Ok(SendOutcome::Replayed { message_id })),
            Claim::Refused(refusal) => return Ok(Err(refusal)),
        }
        let groups = known.holding(directory);
        let sent = self
            .send_statements(
                &mut tx,
                request,
                subject,
                attachments,
                ClaimedKey { message_id, later: None },
                groups,
            )
            .await?;
        let outcome = match sent {
            Ok(outcome) => outcome,
            Err(refusal) => return Ok(Err(refusal)),
        };

        tx.commit().await?;
        if let SendOutcome::Sent { message_id, recipient_ids } = &outcome {
            tracing::info!(%message_id, recipients = recipient_ids.len(), "message sent");
            // The message is sent whether or not its live notification goes.
            if let Err(error) = self.announce_live(message_id).await {
                tracing::warn!(%error, %message_id, "could not announce a sent message");
            }
        }
        Ok(Ok(outcome))
    }

    /// A send on SQLite: queued for the next transaction of sends, which the queue's one
    /// runner writes (a request that goes away does not take the others' sends with it);
    /// answered once that transaction committed and is on disk, or failed.
    async fn send_in_batch(
        &self,
        request: &SendRequest,
        subject: String,
        attachments: Vec<String>,
        fingerprint: String,
    ) -> StoreResult<Result<SendOutcome, SendRefusal>> {
        let known = self.known_groups(&request.sender_id, &request.recipients).await?;
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job =
            SendJob { request: request.clone(), subject, attachments, fingerprint, known, answer };

        if self.send_queue.push(job) {
            let store = self.clone();
            tokio::spawn(async move { store.run_send_batches().await });
        }
        answered.await.unwrap_or_else(|_| {
            Err(StoreError::Corrupt("a transaction of sends ended without an answer".to_owned()))
        })
    }

    /// The queue's runner: takes the writer's place, writes the sends waiting by then in one
    /// transaction, hands the sync and the answers to a task of their own, and starts again at
    /// once, until the queue is empty.
    async fn run_send_batches(self) {
        let mut runner = RunnerGuard { queue: &self.send_queue, stopped: false };
        loop {
            let place = self.write_place().await;
            let Some(jobs) = self.send_queue.take_or_stop() else {
                runner.stopped = true;
                return;
            };
            let written = self.write_send_batch(place, jobs).await;
            let store = self.clone();
            tokio::spawn(async move { store.answer_send_batch(written).await });
        }
    }

    /// One transaction of sends, from the writer's place to its commit, which gives the place
    /// up. Its sends' writes go together; if they fail, the transaction is written again one
    /// send at a time. A send whose statements fail then takes the transaction down with it:
    /// that send gets its error, and the others are written again at once in a new
    /// transaction.
    async fn write_send_batch(
        &self,
        mut place: Option<tokio::sync::OwnedMutexGuard<()>>,
        mut jobs: Vec<SendJob>,
    ) -> WrittenBatch {
        let mut answered = Vec::new();
        let mut together = true;
        loop {
            let mut tx = match self.begin_send_write_at(place.take()).await {
                Ok(tx) => tx,
                Err(error) => {
                    return WrittenBatch { answered, committed: Err(FailedJobs { error, jobs }) };
                }
            };
            match self.batch_statements(&mut tx, &jobs, together).await {
                Ok(outcomes) => {
                    let committed = match tx.commit().await {
                        Ok(()) => Ok(jobs.into_iter().zip(outcomes).collect()),
                        Err(error) => Err(FailedJobs { error: error.into(), jobs }),
                    };
                    return WrittenBatch { answered, committed };
                }
                Err(BatchFailure::Job(index, error)) => {
                    let (rolled_back, kept) = tx.rollback_keeping_place().await;
                    if let Err(rollback) = rolled_back {
                        return WrittenBatch {
                            answered,
                            committed: Err(FailedJobs { error: rollback.into(), jobs }),
                        };
                    }
                    tracing::error!(error = ?error, "a send failed; the others are written again");
                    place = kept;
                    answered.push((jobs.remove(index), Err(error)));
                    if jobs.is_empty() {
                        return WrittenBatch { answered, committed: Ok(Vec::new()) };
                    }
                }
                Err(BatchFailure::Together(error)) => {
                    let (rolled_back, kept) = tx.rollback_keeping_place().await;
                    if let Err(rollback) = rolled_back {
                        return WrittenBatch {
                            answered,
                            committed: Err(FailedJobs { error: rollback.into(), jobs }),
                        };
                    }
                    tracing::warn!(error = ?error, "sends written together failed; one at a time");
                    place = kept;
                    together = false;
                }
                Err(BatchFailure::Transaction(error)) => {
                    return WrittenBatch { answered, committed: Err(FailedJobs { error, jobs }) };
                }
            }
        }
    }

    /// Syncs a committed transaction of sends (the next one runs meanwhile), then answers
    /// every send of it; none is acknowledged before its commit is on disk.
    async fn answer_send_batch(self, written: WrittenBatch) {
        let WrittenBatch { answered: mut answers, committed } = written;
        let synced = match committed {
            Ok(committed) if committed.is_empty() => Ok(committed),
            Ok(committed) => {
                self.checkpoint_in_background();
                match self.sync_sends().await {
                    Ok(()) => Ok(committed),
                    Err(error) => Err(FailedJobs {
                        error,
                        jobs: committed.into_iter().map(|(job, _)| job).collect(),
                    }),
                }
            }
            Err(failed) => Err(failed),
        };
        match synced {
            Ok(committed) => answers.extend(committed),
            Err(FailedJobs { error, jobs }) => {
                tracing::error!(error = ?error, sends = jobs.len(), "a transaction of sends failed");
                answers.extend(jobs.into_iter().map(|job| (job, Err(batch_failed()))));
            }
        }
        for (job, outcome) in answers {
            if let Ok(Ok(SendOutcome::Sent { message_id, recipient_ids })) = &outcome {
                tracing::info!(%message_id, recipients = recipient_ids.len(), "message sent");
            }
            // The request may have gone away: its send stays done, and a retry replays it.
            let _ = job.answer.send(outcome);
        }
    }
    /// Each job in turn: its key read and its checks, against the database and the jobs
    /// before it ([`SendsSoFar`]); then, `together`, the writes of them all in one round trip
    /// with their counts (a round trip to SQLite's connection thread, and the wait for the
    /// runner's next turn on the runtime, cost about as much as a send's writes); otherwise
    /// each job's writes in turn, its counts written by the trigger, so that a job whose
    /// writes or counts fail is known and stops the transaction. A refused job writes
    /// nothing.
    async fn batch_statements(
        &self,
        conn: &mut sqlx::AnyConnection,
        jobs: &[SendJob],
        together: bool,
    ) -> Result<Vec<SendAnswer>, BatchFailure> {
        let read =
            BatchReads::of(conn, jobs, now_unix()).await.map_err(BatchFailure::Transaction)?;
        let mut so_far = SendsSoFar::default();
        let mut writes = Writes::default();
        if together {
            writes.push(COUNTING_BY_HAND, Vec::new());
        }

        let mut outcomes = Vec::with_capacity(jobs.len());
        for (index, job) in jobs.iter().enumerate() {
            let outcome = self
                .batched_send(conn, job, &read, together, &mut so_far, &mut writes)
                .await
                .map_err(|error| BatchFailure::Job(index, error))?;
            if !together && !writes.is_empty() {
                std::mem::take(&mut writes)
                    .run(conn, Backend::Sqlite)
                    .await
                    .map_err(|error| BatchFailure::Job(index, error))?;
            }
            outcomes.push(Ok(outcome));
        }

        // One at a time, the trigger counts each job's entries with its writes, so that a
        // job whose counts fail is known too.
        if together {
            so_far.counts_written(&mut writes).map_err(BatchFailure::Transaction)?;
            writes.run(conn, Backend::Sqlite).await.map_err(BatchFailure::Together)?;
        }
        Ok(outcomes)
    }

    /// One send of a transaction of sends: its key read, then its statements, whose writes
    /// go `together` with the others' at the end, or at once.
    async fn batched_send(
        &self,
        conn: &mut sqlx::AnyConnection,
        job: &SendJob,
        read: &BatchReads,
        together: bool,
        so_far: &mut SendsSoFar,
        writes: &mut Writes,
    ) -> StoreResult<Result<SendOutcome, SendRefusal>> {
        let claim = match so_far.claim(job) {
            Some(claim) => claim,
            None => read.claim(job)?,
        };
        match claim {
            Claim::Mine => {}
            Claim::Done(message_id) => return Ok(Ok(SendOutcome::Replayed { message_id })),
            Claim::Refused(refusal) => return Ok(Err(refusal)),
        };
        let attachments: Vec<&str> = job.attachments.iter().map(String::as_str).collect();
        let sent_before = so_far.sent_by(&job.request.sender_id);
        let outcome = self
            .send_statements(
                conn,
                &job.request,
                &job.subject,
                &attachments,
                ClaimedKey {
                    message_id: new_id(),
                    later: Some(WrittenLater {
                        fingerprint: job.fingerprint.clone(),
                        writes,
                        now: read.now,
                        account: read.account(job)?,
                        sent_before,
                        unwritten_before: if together { sent_before } else { 0 },
                    }),
                },
                job.known.holding(read.directory),
            )
            .await?;
        if let Ok(SendOutcome::Sent { message_id, recipient_ids }) = &outcome {
            so_far.sent(job, message_id, recipient_ids);
        }
        Ok(outcome)
    }

    /// The statements of a send, in the caller's transaction, after its key's claim and, on
    /// PostgreSQL, the lock of the sender's account (SQLite's writer lock, held since the
    /// transaction began, does the same), taking the recipient groups resolved before it that
    /// hold there ([`KnownGroups::holding`]) as they are. Any refusal returns before writing
    /// anything the caller would keep: the caller rolls back unless the send is sent. The
    /// writes run at once, or later with those of the other sends of a transaction of sends.
    async fn send_statements(
        &self,
        conn: &mut sqlx::AnyConnection,
        request: &SendRequest,
        subject: &str,
        attachments: &[&str],
        key: ClaimedKey<'_>,
        groups: &HashMap<String, Arc<GroupReach>>,
    ) -> StoreResult<Result<SendOutcome, SendRefusal>> {
        let sender = request.sender_id.as_str();
        let ClaimedKey { message_id, mut later } = key;
        let (now, sent_before, unwritten_before) = match &later {
            Some(later) => (later.now, later.sent_before, later.unwritten_before),
            None => (now_unix(), 0, 0),
        };

        // The messages of the past hour are counted with the account (one round trip, or one
        // for a whole transaction of sends); the time the cap is reached again is read only
        // for a sender at their cap.
        let account = match later.as_mut() {
            Some(later) => later.account.take(),
            None => readable_account(
                sender_accounts(conn, "= $1", sender.to_owned(), now).await?.remove(sender),
            )?,
        };
        let Some(SenderAccount { frozen, active, profile, first_name, last_name, sent_last_hour }) =
            account
        else {
            return Ok(Err(SendRefusal::Frozen));
        };
        let sent_last_hour = sent_last_hour + sent_before;
        if frozen != 0 || active != 1 {
            return Ok(Err(SendRefusal::Frozen));
        }
        let profile = Profile::parse(&profile)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown profile {profile}")))?;
        let caps = send_caps(profile);

        let per_hour = i64::try_from(caps.per_hour).unwrap_or(i64::MAX);
        if sent_last_hour >= per_hour {
            // The cap's oldest message, among the database's or, if the sends of this
            // transaction that it does not show yet already reach the cap, one of theirs,
            // sent now.
            let offset = per_hour.saturating_sub(1).saturating_sub(unwritten_before);
            let limiting: Option<i64> = if offset < 0 {
                None
            } else {
                sqlx::query_scalar(
                    "SELECT created_at FROM messages WHERE sender_id = $1 AND created_at > $2 \
                     ORDER BY created_at DESC LIMIT 1 OFFSET $3",
                )
                .bind(sender)
                .bind(now - HOUR_SECS)
                .bind(offset)
                .fetch_optional(&mut *conn)
                .await?
            };
            let at = limiting.unwrap_or(now);
            let retry_after_secs = (at + HOUR_SECS - now).max(1);
            return Ok(Err(SendRefusal::RateLimited { retry_after_secs }));
        }

        let thread_id = match &request.parent_id {
            None => message_id.clone(),
            Some(parent) => {
                let thread: Option<String> = sqlx::query_scalar(
                    "SELECT m.thread_id FROM mailbox_entries e \
                     JOIN messages m ON m.id = e.message_id \
                     WHERE e.owner_id = $1 AND e.message_id = $2 AND m.recalled_at IS NULL",
                )
                .bind(sender)
                .bind(parent)
                .fetch_optional(&mut *conn)
                .await?;
                match thread {
                    Some(thread) => thread,
                    None => return Ok(Err(SendRefusal::BadParent)),
                }
            }
        };

        let resolved = match crate::rules::resolve_recipients(
            conn,
            sender,
            Some(profile),
            &request.recipients,
            &membership_clock(),
            groups,
        )
        .await?
        {
            Ok(resolved) => resolved,
            Err(refusal) => return Ok(Err(SendRefusal::Rules(refusal))),
        };
        if resolved.person_ids.len() > caps.max_recipients {
            return Ok(Err(SendRefusal::TooManyRecipients { max: caps.max_recipients }));
        }

        let forwarded = match request.mode {
            ComposeMode::Forward => request.parent_id.clone(),
            _ => None,
        };
        for id in attachments {
            let usable: Option<String> = sqlx::query_scalar(
                "SELECT a.id FROM attachments a WHERE a.id = $2 AND (a.owner_id = $1 \
                 OR EXISTS (SELECT 1 FROM message_attachments ma \
                   WHERE ma.message_id = $3 AND ma.attachment_id = a.id))",
            )
            .bind(sender)
            .bind(*id)
            .bind(&forwarded)
            .fetch_optional(&mut *conn)
            .await?;
            if usable.is_none() {
                return Ok(Err(SendRefusal::BadAttachment));
            }
        }

        let labels: Vec<StoredLabel> = resolved
            .labels
            .iter()
            .map(|(token, label)| StoredLabel { token: token.clone(), label: label.clone() })
            .collect();
        let labels = serde_json::to_string(&labels)
            .map_err(|error| StoreError::Corrupt(format!("recipient labels: {error}")))?;
        let body_html = without_nul(&request.body_html);
        let body_text = without_nul(&request.body_text);
        let search_text = domain::names::fold_for_search(&format!(
            "{subject} {body_text} {first_name} {last_name}"
        ));
        let mut writes = Writes::default();
        if let Some(WrittenLater { fingerprint, .. }) = &later {
            // The key's row, already done; one left pending by an earlier version, which the
            // claim found stale, is taken over.
            writes.push(
                "INSERT INTO send_requests (sender_id, idempotency_key, fingerprint, state, \
                 created_at, message_id) VALUES ($1, $2, $3, 'done', $4, $5) \
                 ON CONFLICT (sender_id, idempotency_key) DO UPDATE SET state = 'done', \
                 created_at = excluded.created_at, message_id = excluded.message_id",
                vec![
                    Value::Text(sender.to_owned()),
                    Value::Text(request.idempotency_key.clone()),
                    Value::Text(fingerprint.clone()),
                    Value::Int(now),
                    Value::Text(message_id.clone()),
                ],
            );
        }
        let recipients = serde_json::to_string(&resolved.person_ids)
            .map_err(|error| StoreError::Corrupt(format!("recipients: {error}")))?;
        writes.push(
            "INSERT INTO messages (id, sender_id, thread_id, parent_id, subject, body_html, \
             body_text, recipients_label, recipient_ids, search_text, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            vec![
                Value::Text(message_id.clone()),
                Value::Text(sender.to_owned()),
                Value::Text(thread_id),
                Value::from(request.parent_id.clone()),
                Value::Text(subject.to_owned()),
                Value::Text(body_html),
                Value::Text(body_text),
                Value::Text(labels),
                Value::Text(recipients.clone()),
                Value::Text(search_text.clone()),
                Value::Int(now),
            ],
        );
        if self.backend() == Backend::Sqlite {
            writes.push(
                "INSERT INTO messages_fts (message_id, search_text) VALUES ($1, $2)",
                vec![Value::Text(message_id.clone()), Value::Text(search_text)],
            );
        }
        // The recipients' entries and the sender's copy in one statement (the sender is never
        // among the recipients): on PostgreSQL their counts' changes are then written once.
        writes.push(
            format!(
                "INSERT INTO mailbox_entries (owner_id, message_id, origin, folder, unread, \
                 created_at) SELECT value, $1, 'inbox', 'inbox', 1, $2 FROM {} \
                 UNION ALL SELECT $3, $1, 'sent', 'sent', 0, $2",
                json_strings(self.backend(), 4, "chosen")
            ),
            vec![
                Value::Text(message_id.clone()),
                Value::Int(now),
                Value::Text(sender.to_owned()),
                Value::Text(recipients),
            ],
        );
        for (position, id) in attachments.iter().enumerate() {
            writes.push(
                "INSERT INTO message_attachments (message_id, attachment_id, position) \
                 VALUES ($1, $2, $3)",
                vec![
                    Value::Text(message_id.clone()),
                    Value::Text((*id).to_owned()),
                    Value::Int(i64::try_from(position).unwrap_or(i64::MAX)),
                ],
            );
        }
        writes.push(
            crate::outbox::ENQUEUE,
            vec![
                Value::Text(new_id()),
                Value::Text("message_sent".to_owned()),
                Value::Text(message_id.clone()),
                Value::Int(now),
            ],
        );
        if let Some(draft) = &request.draft_id {
            writes.push(
                "DELETE FROM drafts WHERE id = $1 AND owner_id = $2",
                vec![Value::Text(draft.clone()), Value::Text(sender.to_owned())],
            );
        }
        match later {
            Some(WrittenLater { writes: to, .. }) => to.append(writes),
            None => writes.run(conn, self.backend()).await?,
        }
        Ok(Ok(SendOutcome::Sent { message_id, recipient_ids: resolved.person_ids }))
    }
}

#[cfg(test)]
mod tests {
    use domain::communication::{GroupKind, Recipient};

    use super::*;

    fn request() -> SendRequest {
        SendRequest {
            sender_id: "t".to_owned(),
            idempotency_key: "k".to_owned(),
            recipients: vec![
                Recipient::Person("b".to_owned()),
                Recipient::Group(GroupKind::ClassParents, "c".to_owned()),
            ],
            subject: "S".to_owned(),
            body_html: "<p>x</p>".to_owned(),
            body_text: "x".to_owned(),
            mode: ComposeMode::New,
            parent_id: None,
            attachment_ids: vec!["2".to_owned(), "1".to_owned()],
            draft_id: None,
        }
    }

    #[test]
    fn fingerprints_ignore_order_but_not_content() {
        let first = request();
        let mut reordered = request();
        reordered.recipients.reverse();
        reordered.attachment_ids.reverse();
        reordered.draft_id = Some("d".to_owned());
        assert_eq!(fingerprint(&first, "S"), fingerprint(&reordered, "S"));

        let mut other = request();
        other.body_html = "<p>y</p>".to_owned();
        assert_ne!(fingerprint(&first, "S"), fingerprint(&other, "S"));
        assert_ne!(fingerprint(&first, "S"), fingerprint(&first, "T"));
        assert_eq!(fingerprint(&first, "S").len(), 64);
    }

    #[test]
    fn statements_numbered_on_keep_their_order_of_values() {
        assert_eq!(
            numbered_from("UPDATE t SET a = $2 WHERE b = $1 AND c = $10", 4),
            "UPDATE t SET a = $6 WHERE b = $5 AND c = $14"
        );
        assert_eq!(numbered_from("SELECT $1, 'x$' || $2", 0), "SELECT $1, 'x$' || $2");
        assert_eq!(numbered_from("DELETE FROM t", 7), "DELETE FROM t");
    }
}
