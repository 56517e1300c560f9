//! The database: one [`Store`] over SQLite (the embedded default) or PostgreSQL (for scale),
//! chosen by the URL, with the migrations of each backend applied at start-up. Each module owns
//! one aggregate and its SQL; SQL is written once with `$n` placeholders and only portable types
//! (text, BIGINT, DOUBLE PRECISION), and a query differs per backend only where the dialects do.
//! Nothing here renders anything or knows HTTP.

pub mod accounts;
pub mod admin;
pub mod cache;
pub mod directory;
pub mod files;
pub mod fixtures;
pub mod import;
pub mod internship;
pub mod messaging;
pub mod news;
pub mod outbox;
pub mod provisioning;
pub mod resources;
pub mod rules;
pub mod second_factor;
pub mod sessions;
pub mod sso;
#[cfg(feature = "testing")]
pub mod testing;
pub mod timetable;

use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Errors of the storage boundary. `NotFound` is separated so callers can answer 404.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The request contradicts the stored state; the text is French and shown as is.
    #[error("{0}")]
    Conflict(String),
    #[error("database url not understood: {0}")]
    BadUrl(String),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("migration failed")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The handle every part of Préau uses to reach the database. Cheap to clone.
///
/// **Writes on SQLite queue in process.** SQLite lets one connection write at a time; a
/// connection that finds the database locked sleeps in its busy handler (up to 100 ms between
/// tries) and may be overtaken by later writers. So on SQLite every write transaction (see
/// `Store::begin_write`, and the transactions of sends of `messaging::send`) and the
/// single-statement writes of the busy paths (sessions, marking a message read) first take
/// `write_lock`, an async FIFO mutex of this process held for the whole transaction: writers
/// of this process wait their turn in order, awake, and SQLite's own lock is then almost always free at once (the busy
/// timeout stays as the guard against other processes, such as a CLI import). PostgreSQL
/// locks rows, not the database: there the lock is not taken.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// SQLite: the one connection of the transactions of sends.
    send_pool: Option<AnyPool>,
    /// SQLite: the write-ahead log that a transaction of sends is synced in after its commit
    /// (`Store::sync_sends`); `None` for a database in memory and on PostgreSQL.
    send_log: Option<Arc<std::path::Path>>,
    /// SQLite: held while a checkpoint runs outside the writers' queue, and for
    /// [`CHECKPOINT_PAUSE`] after it (`Store::checkpoint_in_background`).
    checkpointing: Arc<tokio::sync::Mutex<()>>,
    /// SQLite: a checkpoint was asked for while one ran or paused; it runs after the pause.
    checkpoint_wanted: Arc<std::sync::atomic::AtomicBool>,
    backend: Backend,
    /// The in-process queue of SQLite writers (see above); `None` on PostgreSQL.
    write_lock: Option<Arc<tokio::sync::Mutex<()>>>,
    /// The key of opaque identifiers once read (`sso::Store::opaque_subject`): drawn once per
    /// database and never changed, so it is read once per process.
    subject_key: Arc<std::sync::OnceLock<Vec<u8>>>,
    /// What is kept in memory between requests (`cache`).
    caches: Arc<cache::Caches>,
    /// The sends waiting for the next SQLite transaction of sends (`messaging::send`).
    send_queue: Arc<messaging::SendQueue>,
}

/// A write transaction (from [`Store::begin_write`]), holding the SQLite write queue's place
/// until it ends. It derefs to the connection, like an `sqlx::Transaction`; dropped without
/// a commit, it rolls back.
pub(crate) struct WriteTransaction {
    // Field order matters: the transaction is dropped (rolled back) before the place in the
    // queue is given up.
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _place: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTransaction {
    /// Commits, then gives the place in the queue up.
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    /// Rolls back, then gives the place in the queue up.
    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }

    /// Rolls back and keeps the place in the queue, for a writer that starts again at once.
    pub(crate) async fn rollback_keeping_place(
        self,
    ) -> (Result<(), sqlx::Error>, Option<tokio::sync::OwnedMutexGuard<()>>) {
        let WriteTransaction { tx, _place: place } = self;
        (tx.rollback().await, place)
    }
}

impl Deref for WriteTransaction {
    type Target = sqlx::AnyConnection;

    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl DerefMut for WriteTransaction {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

/// How to open the database.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `sqlite://path/to/preau.db` or `postgres://user@host/db`.
    pub url: String,
    pub max_connections: u32,
}

/// The size SQLite's write-ahead log is cut back to when it is written again from its start.
/// Under a burst of sends the log grows to some 35 MiB between checkpoints: cut back to 16 MiB
/// each time, its file was extended again at once, and the commits that paid for the cut and
/// for the new blocks were the slowest sends (p99 35 ms instead of 27 at 16 clients).
pub const SQLITE_LOG_LIMIT_BYTES: u64 = 64 << 20;

/// The least time between two background checkpoints of SQLite's log
/// ([`Store::checkpoint_in_background`]). The transactions of sends rewrite the same pages
/// (the mailboxes of a class, their counts) again and again: one checkpoint after each of
/// them, back to back, copied those pages into the database each time, on the second core
/// that the requests need; one every 100 ms copies each of them once for a dozen
/// transactions, and the log still holds no more than some 8 MiB between two. Sends a second
/// at 16 clients went up by a tenth to a fifth (1,038/947/960 against 1,218/1,208/1,016, in
/// alternated runs), the median send from 15–16 ms to 12.6–14.6 ms.
pub(crate) const CHECKPOINT_PAUSE: Duration = Duration::from_millis(100);

/// A pool of SQLite connections. Their commits write to the write-ahead log without waiting
/// for the disk (`synchronous = NORMAL`): a crash of the process loses nothing committed, a
/// power cut may lose the last commits (a session, a "read" mark; a transaction of sends is
/// synced by `Store::sync_sends` before any of its sends is acknowledged). A commit copies the
/// log into the database (a checkpoint, which syncs both files) once the log holds 10,000
/// pages rather than 1,000: a commit that checkpoints holds the writers' queue meanwhile, and
/// the transactions of sends have the log copied beside that queue
/// (`Store::checkpoint_in_background`) long before. The log's file, written again from its
/// start once copied, is cut back to [`SQLITE_LOG_LIMIT_BYTES`] then (it keeps its largest
/// size otherwise, far more after a reader held the checkpoints off).
/// A file on this machine does not go stale under a pooled connection: no ping before each
/// hand-out (each one is a round trip to the connection's thread). A transaction of sends
/// (`messaging::send`) keeps each send in a savepoint, whose journal of pages is kept in memory
/// rather than in a temporary file, and touches thousands of pages: a cache of 32 MiB instead
/// of 2 MiB keeps them from being spilled to the log before the commit. Recursive triggers: a
/// row that `INSERT OR REPLACE` replaces fires its delete triggers (only then), so that the
/// mailbox counts (migration 0015) follow it.
async fn sqlite_pool(
    options: AnyConnectOptions,
    max_connections: u32,
) -> Result<AnyPool, sqlx::Error> {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                conn.execute(sqlx::AssertSqlSafe(format!(
                    "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                     PRAGMA busy_timeout = 10000; PRAGMA temp_store = MEMORY; \
                     PRAGMA cache_size = -32768; PRAGMA recursive_triggers = ON; \
                     PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 10000; \
                     PRAGMA journal_size_limit = {SQLITE_LOG_LIMIT_BYTES};",
                )))
                .await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
}

impl Store {
    /// Opens the database, creating the SQLite file if needed, and applies the migrations.
    ///
    /// # Errors
    /// An unknown URL scheme, a connection failure or a failed migration.
    pub async fn open(config: &StoreConfig) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();

        let backend = backend_of(&config.url)?;
        let url = match backend {
            Backend::Sqlite if !config.url.contains('?') => format!("{}?mode=rwc", config.url),
            _ => config.url.clone(),
        };
        let options =
            AnyConnectOptions::from_str(&url).map_err(|_| StoreError::BadUrl(redact(&url)))?;

        let pool_options = AnyPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(Duration::from_secs(30));
        let pool = match backend {
            Backend::Sqlite => sqlite_pool(options.clone(), config.max_connections).await?,
            // The rule engine's statements look costly enough to the planner for JIT
            // compilation, which then adds 0.1 to 0.8 s to queries that run in milliseconds.
            // Index lookups cost PostgreSQL's planner four times a sequential read by default, a
            // rule for spinning disks: with that, it joins the few dozen rows of a timetable
            // against whole tables by hashing, twice as slow as following the indexes on the
            // SSD or memory a database lives on today, hence 1.1.
            // A statement stops after 25 s, before the 30 s a request is given: a request that
            // times out does not leave its statement running. The limit is per statement, so
            // the imports' long transactions of many short statements are not affected.
            // A connection is pinged before it is handed out only when it sat idle for a
            // second or more (a server restarted meanwhile is then noticed, and the connection
            // replaced): under load, a ping before each statement doubled its round trips.
            Backend::Postgres => {
                pool_options
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| {
                        Box::pin(async move {
                            if meta.idle_for >= Duration::from_secs(1) {
                                sqlx::Connection::ping(conn).await?;
                            }
                            Ok(true)
                        })
                    })
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute("SET jit = off").await?;
                            conn.execute("SET statement_timeout = '25s'").await?;
                            conn.execute("SET random_page_cost = 1.1").await?;
                            Ok(())
                        })
                    })
                    .connect_with(options.clone())
                    .await?
            }
        };

        // The transaction of sends (`messaging::send`) has a connection of its own on SQLite,
        // and its log is synced after each of its commits (`Store::sync_sends`).
        let send_pool = match backend {
            Backend::Sqlite => Some(sqlite_pool(options.clone(), 1).await?),
            Backend::Postgres => None,
        };
        let send_log = match &send_pool {
            Some(send_pool) => {
                let file: String =
                    sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                        .fetch_one(send_pool)
                        .await?;
                (!file.is_empty()).then(|| Arc::from(std::path::Path::new(&format!("{file}-wal"))))
            }
            None => None,
        };
        let write_lock = match backend {
            Backend::Sqlite => Some(Arc::new(tokio::sync::Mutex::new(()))),
            Backend::Postgres => None,
        };
        let subject_key = Arc::new(std::sync::OnceLock::new());
        let caches = Arc::new(cache::Caches::new());
        let send_queue = Arc::new(messaging::SendQueue::default());
        let store = Store {
            pool,
            send_pool,
            send_log,
            checkpointing: Arc::new(tokio::sync::Mutex::new(())),
            checkpoint_wanted: Arc::default(),
            backend,
            write_lock,
            subject_key,
            caches,
            send_queue,
        };
        store.migrate().await?;
        store.stamp_membership_ends().await?;
        Ok(store)
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection pool, for the modules of this crate.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A place in the SQLite write queue (see [`Store`]), for a write outside
    /// [`Store::begin_write`]; `None` on PostgreSQL. Hold it across the statement.
    pub(crate) async fn write_place(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        }
    }

    /// A transaction that writes. On SQLite it first waits for its place in the write queue
    /// (see [`Store`]), then takes SQLite's write lock at once (`BEGIN IMMEDIATE`), so that a
    /// transaction that starts by reading never fails to upgrade when another connection wrote
    /// in between; both are held until the transaction ends.
    pub(crate) async fn begin_write(&self) -> StoreResult<WriteTransaction> {
        let place = self.write_place().await;
        self.begin_write_at(place).await
    }

    /// [`Store::begin_write`] for a writer that already holds its place in the queue.
    pub(crate) async fn begin_write_at(
        &self,
        place: Option<tokio::sync::OwnedMutexGuard<()>>,
    ) -> StoreResult<WriteTransaction> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTransaction { tx, _place: place })
    }

    /// [`Store::begin_write_at`] for a transaction of sends: on SQLite, on the connection of
    /// sends, whose commits [`Store::sync_sends`] syncs.
    pub(crate) async fn begin_send_write_at(
        &self,
        place: Option<tokio::sync::OwnedMutexGuard<()>>,
    ) -> StoreResult<WriteTransaction> {
        match &self.send_pool {
            Some(send_pool) => {
                let tx = send_pool.begin_with("BEGIN IMMEDIATE").await?;
                Ok(WriteTransaction { tx, _place: place })
            }
            None => self.begin_write_at(place).await,
        }
    }

    /// Waits until every transaction of sends committed so far is on disk (SQLite; nothing to
    /// do on PostgreSQL, whose commits wait for the disk). Their commits only wrote to the
    /// write-ahead log, so that the next transaction of sends can start while this one is
    /// synced; syncing the log's file covers them all. SQLite removes the log only when its
    /// last connection closes, and this process keeps its connections open: a log missing
    /// here was removed by someone else, the commits since went to a file that no longer has
    /// a name, and no send is acknowledged.
    pub(crate) async fn sync_sends(&self) -> StoreResult<()> {
        let Some(log) = self.send_log.clone() else { return Ok(()) };
        let synced = tokio::task::spawn_blocking(move || {
            std::fs::File::open(&log).and_then(|file| file.sync_data()).map_err(|error| {
                StoreError::Corrupt(format!(
                    "the sends' log {} cannot be synced: {error}",
                    log.display()
                ))
            })
        })
        .await;
        match synced {
            Ok(result) => result,
            Err(error) => Err(StoreError::Corrupt(format!("the sync of sends stopped: {error}"))),
        }
    }

    /// Copies the write-ahead log into the database file (SQLite), on a task of its own and a
    /// connection outside the writers' queue: a passive checkpoint does not stop the writer,
    /// who goes on appending to the log meanwhile. One asked for while one runs, or within
    /// [`CHECKPOINT_PAUSE`] of its end, runs once that pause is over, for all those asked; one
    /// that could not copy the whole log (a reader held part of it) is tried again after each
    /// pause until it could, so that the end of a burst reaches the database without waiting
    /// for the next send.
    pub(crate) fn checkpoint_in_background(&self) {
        if self.backend != Backend::Sqlite {
            return;
        }
        let Ok(running) = self.checkpointing.clone().try_lock_owned() else {
            self.checkpoint_wanted.store(true, std::sync::atomic::Ordering::SeqCst);
            return;
        };
        let store = self.clone();
        tokio::spawn(async move {
            loop {
                store.checkpoint_wanted.store(false, std::sync::atomic::Ordering::SeqCst);
                let whole = store.checkpoint_passive().await;

                tokio::time::sleep(CHECKPOINT_PAUSE).await;
                if whole && !store.checkpoint_wanted.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
            }
            drop(running);

            // One asked for between the last look and the release found it held: it runs now.
            if store.checkpoint_wanted.load(std::sync::atomic::Ordering::SeqCst) {
                store.checkpoint_in_background();
            }
        });
    }

    /// One passive checkpoint; true when the whole log is in the database file. A failure is
    /// only logged (the next one does the work).
    async fn checkpoint_passive(&self) -> bool {
        match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&self.pool).await {
            Ok(row) => {
                let log: i64 = sqlx::Row::try_get(&row, 1).unwrap_or(-1);
                let copied: i64 = sqlx::Row::try_get(&row, 2).unwrap_or(-1);
                log == copied
            }
            Err(error) => {
                tracing::debug!(%error, "a background checkpoint failed");
                false
            }
        }
    }

    /// Test support: SQLite's `synchronous` level (1 normal, 2 full) of the connection of
    /// sends, and the file that [`Store::sync_sends`] syncs; `None` on PostgreSQL.
    #[cfg(feature = "testing")]
    pub async fn sqlite_send_durability(
        &self,
    ) -> StoreResult<Option<(i64, Option<std::path::PathBuf>)>> {
        let Some(send_pool) = &self.send_pool else { return Ok(None) };
        let level: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(send_pool).await?;
        Ok(Some((level, self.send_log.as_deref().map(std::path::Path::to_path_buf))))
    }

    /// Whether the database answers; used by `/readyz`.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Closes every connection; used at shutdown.
    pub async fn close(&self) {
        if let Some(send_pool) = &self.send_pool {
            send_pool.close().await;
        }
        self.pool.close().await;
    }

    async fn migrate(&self) -> StoreResult<()> {
        match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&self.pool).await?,
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&self.pool).await?,
        }
        Ok(())
    }
}

/// The backend a database URL names.
///
/// # Errors
/// [`StoreError::BadUrl`] for any other scheme.
pub fn backend_of(url: &str) -> StoreResult<Backend> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(StoreError::BadUrl(redact(url)))
    }
}

/// A database URL with its password replaced, safe to print or log: the one in the user
/// information and any `password=` query parameter.
pub fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut redacted = match base.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((credentials, host)) => match credentials.split_once(':') {
                Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
                None => base.to_owned(),
            },
            None => base.to_owned(),
        },
        None => base.to_owned(),
    };
    if let Some(query) = query {
        let parameters: Vec<String> = query
            .split('&')
            .map(|parameter| match parameter.split_once('=') {
                Some((key, _)) if percent_decoded(key).eq_ignore_ascii_case("password") => {
                    format!("{key}=***")
                }
                _ => parameter.to_owned(),
            })
            .collect();
        redacted = format!("{redacted}?{}", parameters.join("&"));
    }
    redacted
}

/// A URL component with its `%XX` escapes decoded (bytes that do not form UTF-8 are kept as
/// escapes), enough to recognise a parameter name however it was written.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Now, as Unix seconds. Every instant the store writes goes through here.
pub fn now_unix() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// A new internal identifier (UUIDv7, time-ordered).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite://data/preau.db"), "sqlite://data/preau.db");
        assert_eq!(
            redact("postgres://u:a@h/db?password=other&sslmode=require"),
            "postgres://u:***@h/db?password=***&sslmode=require"
        );
        assert_eq!(redact("postgres://u@h/db?pass%77ord=x"), "postgres://u@h/db?pass%77ord=***");
        assert_eq!(redact("postgres://u:pa@ss@h/db"), "postgres://u:***@h/db");
    }

    #[test]
    fn backends_follow_the_scheme() {
        assert_eq!(backend_of("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(backend_of("postgresql://h/db").unwrap(), Backend::Postgres);
        assert!(backend_of("mysql://h/db").is_err());
    }
}
