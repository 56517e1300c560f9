//! The background work of `preau serve`, next to the web server: the outbox drainer (e-mail
//! notifications of new messages, at least once and never twice per recipient) and, on
//! PostgreSQL, the LISTEN task that carries live updates between instances. [`Workers::start`]
//! spawns them; [`Workers::stop`] tells them to stop and waits for them, within a bound.
//!
//! Who publishes live updates: the web handlers of the instance that made a change (a send, a
//! recall, a move) publish to their own hub after the commit; on PostgreSQL the send and the
//! recall also `pg_notify('preau_live', <message id>)` in their transaction, and the LISTEN task
//! of every instance (the sender's included, harmlessly: a page only re-reads its count)
//! publishes the recipients to its hub. The outbox therefore publishes nothing.

mod live;
pub mod mail;
mod outbox;

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::config::{Config, SmtpConfig};

pub use outbox::{EMAIL_CHANNEL, MAX_ATTEMPTS};

/// Tells the open pages of these people that their mailbox changed (`web::LiveHub::publish`).
pub type Publish = Arc<dyn Fn(&[String]) + Send + Sync>;

/// What the workers need from the configuration.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// The relay for e-mail notifications; `None`: the outbox is drained without e-mails.
    pub smtp: Option<SmtpConfig>,
    /// The public address, for the links in e-mails.
    pub base_url: String,
    /// How often the outbox is read when nothing woke the drainer.
    pub poll_interval: Duration,
    /// The database, for the LISTEN connection (PostgreSQL only).
    pub database_url: SecretString,
}

impl WorkerSettings {
    /// The workers' part of the configuration.
    pub fn from_config(config: &Config) -> WorkerSettings {
        WorkerSettings {
            smtp: config.smtp.clone(),
            base_url: config.base_url.clone(),
            poll_interval: config.worker_poll_interval,
            database_url: config.database_url.clone(),
        }
    }
}

/// The running workers.
#[derive(Debug)]
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<(&'static str, JoinHandle<()>)>,
}

impl Workers {
    /// Spawns the outbox drainer, and the LISTEN task on PostgreSQL.
    ///
    /// # Errors
    /// SMTP settings the transport cannot use (checked before anything starts).
    pub fn start(
        store: store::Store,
        publish: Publish,
        settings: &WorkerSettings,
        files: store::files::FileStore,
    ) -> anyhow::Result<Workers> {
        let mailer = match &settings.smtp {
            Some(smtp) => Some(mail::Mailer::new(smtp, &settings.base_url)?),
            None => None,
        };
        let (stop, stopped) = watch::channel(false);
        let wake = Arc::new(Notify::new());
        let mut tasks = Vec::new();

        if store.backend() == store::Backend::Postgres {
            let listener = live::Listener {
                database_url: settings.database_url.clone(),
                store: store.clone(),
                publish,
                wake: wake.clone(),
            };
            tasks.push(("live", tokio::spawn(listener.run(stopped.clone()))));
        }

        let drainer = outbox::Drainer {
            store,
            mailer,
            files,
            worker_id: format!("preau-{}-{}", std::process::id(), store::new_id()),
            poll_interval: settings.poll_interval,
            wake,
        };
        tasks.push(("outbox", tokio::spawn(drainer.run(stopped))));
        Ok(Workers { stop, tasks })
    }

    /// Tells every worker to stop, and waits for them at most `grace` in all: one in the middle
    /// of an SMTP exchange finishes it (its entry is put back), and one still running after
    /// `grace` is aborted (its claimed entries come back when their lease ends).
    pub async fn stop(self, grace: Duration) {
        self.stop.send_replace(true);
        let deadline = tokio::time::Instant::now() + grace;
        for (name, mut task) in self.tasks {
            match tokio::time::timeout_at(deadline, &mut task).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::error!(worker = name, %error, "tâche de fond en échec"),
                Err(_) => {
                    tracing::warn!(worker = name, "tâche de fond arrêtée de force");
                    task.abort();
                }
            }
        }
    }
}
