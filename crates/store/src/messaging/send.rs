//! The send: one idempotency key per compose window, then one transaction that locks the
//! sender's account (on SQLite, the writer's lock does), applies the caps, resolves the
//! recipients under the communication rules, writes the message (with its search row, by a
//! trigger on SQLite), its recipients, every mailbox entry, the attachment references, the
//! outbox entry, deletes the draft; its key is claimed in the same transaction, already
//! 'done' with the message's id. A retry of a completed send gets the first message back, the
//! same key with another content is refused; a refused or failed send leaves nothing, not even
//! its key.
//!
//! On PostgreSQL, where transactions run side by side, the send's transaction first locks the
//! sender's account row, then claims the key: a concurrent send of the same key waits for the
//! first one's end, then replays its message (or sends, if the first one failed). On SQLite,
//! where one transaction writes at a time, the sends waiting for the writer go together into
//! one transaction, each in a savepoint that holds its claim and its statements, the
//! savepoint's release going in the writes' round trip: a refused or failed send is rolled
//! back to its savepoint alone, and none is acknowledged before the commit. Sends to the same
//! people then write the pages of their mailboxes once per commit, not once per send (a class
//! of 90 mailboxes is some 500 pages of the write-ahead log). A retry that comes while its
//! first send waits is in the same or a later transaction, and so replays the first send.

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
    ComposeMode, SendOutcome, SendRefusal, SendRequest, StoredLabel, clean_line, is_id, without_nul,
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
    answer: tokio::sync::oneshot::Sender<StoreResult<Result<SendOutcome, SendRefusal>>>,
}

/// The sends waiting for the next SQLite transaction of sends, oldest first.
#[derive(Default)]
pub(crate) struct SendQueue {
    waiting: std::sync::Mutex<std::collections::VecDeque<SendJob>>,
}

impl std::fmt::Debug for SendQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SendQueue")
    }
}

impl SendQueue {
    fn push(&self, job: SendJob) {
        self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push_back(job);
    }

    /// The oldest waiting sends, at most [`MAX_BATCH`].
    fn take(&self) -> Vec<SendJob> {
        let mut waiting = self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = waiting.len().min(MAX_BATCH);
        waiting.drain(..count).collect()
    }
}

/// What claiming a key gave.
enum Claim {
    /// The key is ours.
    Mine,
    /// The key's send completed with this message.
    Done(String),
    Refused(SendRefusal),
}

/// A send's key, claimed in its transaction: the id its message takes, and what goes in the
/// round trip of its writes after them (on SQLite, the release of the send's savepoint and the
/// next send's).
struct ClaimedKey {
    message_id: String,
    then: &'static str,
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
/// numbering its parameters from `$1` (on SQLite, a last one may release the send's
/// savepoint: there the statements run in turn).
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

/// `($first), ($first + 1), …` for `rows` recipients (the list of distinct ids is padded with
/// empty ones up to a power of two, so that a few statements serve every size; the statements
/// leave the padding out).
fn recipient_rows(rows: usize, first: usize) -> String {
    (0..rows).map(|i| format!("(${})", i + first)).collect::<Vec<_>>().join(", ")
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

        let row = sqlx::query(
            "SELECT fingerprint, state, message_id, created_at FROM send_requests \
             WHERE sender_id = $1 AND idempotency_key = $2",
        )
        .bind(sender)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else { continue };
        let stored: String = row.try_get("fingerprint")?;
        let state: String = row.try_get("state")?;
        let sent_as: Option<String> = row.try_get("message_id")?;
        let created_at: i64 = row.try_get("created_at")?;
        if stored != fingerprint {
            return Ok(Claim::Refused(SendRefusal::KeyReused));
        }
        if state == "done" {
            return sent_as.map(Claim::Done).ok_or_else(|| {
                StoreError::Corrupt("a completed send request has no message".to_owned())
            });
        }
        if created_at > now - PENDING_SECS {
            return Ok(Claim::Refused(SendRefusal::InProgress));
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
                ClaimedKey { message_id, then: "" },
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

    /// A send on SQLite: queued for the next transaction of sends, which a task of its own
    /// runs (a request that goes away does not take the others' sends with it); answered
    /// once that transaction committed or failed.
    async fn send_in_batch(
        &self,
        request: &SendRequest,
        subject: String,
        attachments: Vec<String>,
        fingerprint: String,
    ) -> StoreResult<Result<SendOutcome, SendRefusal>> {
        let known = self.known_groups(&request.sender_id, &request.recipients).await?;
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.send_queue.push(SendJob {
            request: request.clone(),
            subject,
            attachments,
            fingerprint,
            known,
            answer,
        });

        let store = self.clone();
        tokio::spawn(async move { store.run_send_batch().await });
        answered.await.unwrap_or_else(|_| {
            Err(StoreError::Corrupt("a transaction of sends ended without an answer".to_owned()))
        })
    }

    /// Takes the writer's place, then writes the sends waiting by then (none if an earlier
    /// task took them) in one transaction, and answers each.
    async fn run_send_batch(self) {
        let place = self.write_place().await;
        let jobs = self.send_queue.take();
        if jobs.is_empty() {
            return;
        }

        let outcomes = match self.begin_send_write_at(place).await {
            Ok(mut tx) => {
                let outcomes = self.batch_statements(&mut tx, &jobs).await;
                match outcomes {
                    Ok(outcomes) => tx.commit().await.map(|()| outcomes).map_err(StoreError::from),
                    Err(error) => Err(error),
                }
            }
            Err(error) => Err(error),
        };
        // The writer's place is free again: the next transaction of sends runs while this one
        // is synced, and none of its sends is answered before.
        let outcomes = match outcomes {
            Ok(outcomes) => {
                self.checkpoint_in_background();
                self.sync_sends().await.map(|()| outcomes)
            }
            Err(error) => Err(error),
        };

        let outcomes = match outcomes {
            Ok(outcomes) => outcomes,
            Err(error) => {
                tracing::error!(error = ?error, sends = jobs.len(), "a transaction of sends failed");
                jobs.iter().map(|_| Err(batch_failed())).collect()
            }
        };
        for (job, outcome) in jobs.into_iter().zip(outcomes) {
            if let Ok(Ok(SendOutcome::Sent { message_id, recipient_ids })) = &outcome {
                tracing::info!(%message_id, recipients = recipient_ids.len(), "message sent");
            }
            // The request may have gone away: its send stays done, and a retry replays it.
            let _ = job.answer.send(outcome);
        }
    }

    /// Each job in its savepoint: claimed, then written; rolled back to its savepoint when
    /// refused or failed. An error here (a savepoint that cannot be rolled back to) fails the
    /// whole transaction.
    async fn batch_statements(
        &self,
        conn: &mut sqlx::AnyConnection,
        jobs: &[SendJob],
    ) -> StoreResult<Vec<StoreResult<Result<SendOutcome, SendRefusal>>>> {
        // Nothing else writes while this transaction does: the generation holds for every job.
        let directory = directory_generation(conn).await?;
        let mut outcomes = Vec::with_capacity(jobs.len());
        sqlx::query("SAVEPOINT send_job").execute(&mut *conn).await?;
        for (index, job) in jobs.iter().enumerate() {
            // The next job's savepoint goes in the same round trip.
            let next = if index + 1 < jobs.len() {
                "RELEASE send_job; SAVEPOINT send_job"
            } else {
                "RELEASE send_job"
            };
            let outcome = self.batched_send(conn, job, directory, next).await;
            // A sent job's writes ended with `next`; any other wrote nothing or failed before.
            if !matches!(outcome, Ok(Ok(SendOutcome::Sent { .. }))) {
                sqlx::query("ROLLBACK TO send_job").execute(&mut *conn).await?;
                sqlx::raw_sql(next).execute(&mut *conn).await?;
            }
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// One send of a transaction of sends: its claim, then its statements, whose round trip
    /// ends with `then` if the send is sent.
    async fn batched_send(
        &self,
        conn: &mut sqlx::AnyConnection,
        job: &SendJob,
        directory: i64,
        then: &'static str,
    ) -> StoreResult<Result<SendOutcome, SendRefusal>> {
        let message_id = new_id();
        match claim_on(conn, &job.request, &job.fingerprint, &message_id).await? {
            Claim::Mine => {}
            Claim::Done(message_id) => return Ok(Ok(SendOutcome::Replayed { message_id })),
            Claim::Refused(refusal) => return Ok(Err(refusal)),
        };
        let attachments: Vec<&str> = job.attachments.iter().map(String::as_str).collect();
        self.send_statements(
            conn,
            &job.request,
            &job.subject,
            &attachments,
            ClaimedKey { message_id, then },
            job.known.holding(directory),
        )
        .await
    }

    /// The statements of a send, in the caller's transaction, after its key's claim and, on
    /// PostgreSQL, the lock of the sender's account (SQLite's writer lock, held since the
    /// transaction began, does the same), taking the recipient groups resolved before it that
    /// hold there ([`KnownGroups::holding`]) as they are. Any refusal returns before writing
    /// anything the caller would keep: the caller rolls back unless the send is sent.
    async fn send_statements(
        &self,
        conn: &mut sqlx::AnyConnection,
        request: &SendRequest,
        subject: &str,
        attachments: &[&str],
        key: ClaimedKey,
        groups: &HashMap<String, Arc<GroupReach>>,
    ) -> StoreResult<Result<SendOutcome, SendRefusal>> {
        let sender = request.sender_id.as_str();
        let ClaimedKey { message_id, then } = key;
        let now = now_unix();

        // The messages of the past hour are counted with the account (one round trip); the
        // time the cap is reached again is read only for a sender at their cap.
        let account = sqlx::query(
            "SELECT a.frozen, p.active, p.profile, p.first_name, p.last_name, \
             (SELECT COUNT(*) FROM messages m WHERE m.sender_id = a.person_id \
               AND m.created_at > $2) AS sent_last_hour \
             FROM accounts a JOIN people p ON p.id = a.person_id WHERE a.person_id = $1",
        )
        .bind(sender)
        .bind(now - HOUR_SECS)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(account) = account else { return Ok(Err(SendRefusal::Frozen)) };
        let frozen: i64 = account.try_get("frozen")?;
        let active: i64 = account.try_get("active")?;
        let profile: String = account.try_get("profile")?;
        let first_name: String = account.try_get("first_name")?;
        let last_name: String = account.try_get("last_name")?;
        let sent_last_hour: i64 = account.try_get("sent_last_hour")?;
        if frozen != 0 || active != 1 {
            return Ok(Err(SendRefusal::Frozen));
        }
        let profile = Profile::parse(&profile)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown profile {profile}")))?;
        let caps = send_caps(profile);

        let per_hour = i64::try_from(caps.per_hour).unwrap_or(i64::MAX);
        if sent_last_hour >= per_hour {
            let limiting: Option<i64> = sqlx::query_scalar(
                "SELECT created_at FROM messages WHERE sender_id = $1 AND created_at > $2 \
                 ORDER BY created_at DESC LIMIT 1 OFFSET $3",
            )
            .bind(sender)
            .bind(now - HOUR_SECS)
            .bind(per_hour.saturating_sub(1).max(0))
            .fetch_optional(&mut *conn)
            .await?;
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
        writes.push(
            "INSERT INTO messages (id, sender_id, thread_id, parent_id, subject, body_html, \
             body_text, recipients_label, search_text, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            vec![
                Value::Text(message_id.clone()),
                Value::Text(sender.to_owned()),
                Value::Text(thread_id),
                Value::from(request.parent_id.clone()),
                Value::Text(subject.to_owned()),
                Value::Text(body_html),
                Value::Text(body_text),
                Value::Text(labels),
                Value::Text(search_text),
                Value::Int(now),
            ],
        );
        let slots = resolved.person_ids.len().next_power_of_two();
        let recipients = || {
            (0..slots).map(|i| {
                Value::Text(resolved.person_ids.get(i).map_or("", String::as_str).to_owned())
            })
        };
        let mut values = vec![Value::Text(message_id.clone())];
        values.extend(recipients());
        writes.push(
            format!(
                "INSERT INTO message_recipients (message_id, person_id) \
                 SELECT $1, column1 FROM (VALUES {}) AS chosen WHERE column1 <> ''",
                recipient_rows(slots, 2)
            ),
            values,
        );
        // The recipients' entries and the sender's copy in one statement (the sender is never
        // among the recipients): on PostgreSQL their counts' changes are then written once.
        let mut values =
            vec![Value::Text(message_id.clone()), Value::Int(now), Value::Text(sender.to_owned())];
        values.extend(recipients());
        writes.push(
            format!(
                "INSERT INTO mailbox_entries (owner_id, message_id, origin, folder, unread, \
                 created_at) SELECT column1, $1, 'inbox', 'inbox', 1, $2 \
                 FROM (VALUES {}) AS chosen WHERE column1 <> '' \
                 UNION ALL SELECT $3, $1, 'sent', 'sent', 0, $2",
                recipient_rows(slots, 4)
            ),
            values,
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
        if !then.is_empty() {
            writes.push(then, Vec::new());
        }
        writes.run(conn, self.backend()).await?;
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
        assert_eq!(recipient_rows(2, 4), "($4), ($5)");
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
