//! The PostgreSQL LISTEN task: every instance listens on `preau_live`, where a send or a recall
//! announces its message id when it commits (whichever instance made it), reads who received
//! that message and publishes them to its own live hub (`web::LiveHub`), so that pages open on any
//! instance learn of it. It also wakes the outbox drainer, so that e-mails leave without waiting
//! for the next poll. A lost connection is opened again with a growing delay; what was announced
//! meanwhile is not replayed (PostgreSQL keeps nothing for an absent listener), so open pages
//! are brought up to date by the next change of theirs or when they reconnect.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgListener;
use tokio::sync::{Notify, watch};

/// The first delay before connecting again, doubled up to [`MAX_RECONNECT_DELAY`].
const FIRST_RECONNECT_DELAY: Duration = Duration::from_millis(500);
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(30);

/// What the LISTEN task works with.
pub(crate) struct Listener {
    pub(crate) database_url: SecretString,
    pub(crate) store: store::Store,
    pub(crate) publish: super::Publish,
    /// Wakes the outbox drainer.
    pub(crate) wake: Arc<Notify>,
}

impl Listener {
    /// Listens until `stop` turns true, connecting again after any failure.
    pub(crate) async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut delay = FIRST_RECONNECT_DELAY;
        loop {
            if *stop.borrow() {
                break;
            }
            let listened = tokio::select! {
                listened = self.listen_once(&mut delay) => listened,
                _ = stop.changed() => break,
            };
            match listened {
                Ok(()) => tracing::warn!("live : connexion LISTEN perdue, reconnexion"),
                Err(error) => tracing::warn!(
                    error = %store::redact(&error.to_string()),
                    retry_in_ms = delay.as_millis(),
                    "live : LISTEN impossible"
                ),
            }
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                _ = stop.changed() => break,
            }
            delay = delay.saturating_mul(2).min(MAX_RECONNECT_DELAY);
        }
        tracing::info!("live : arrêt");
    }

    /// Connects, listens and relays notifications until the connection is lost (`Ok`) or
    /// fails (`Err`). A connection that worked resets the reconnection delay.
    async fn listen_once(&self, delay: &mut Duration) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect(self.database_url.expose_secret()).await?;
        // Reconnections go through `run`, with its delay, rather than inside sqlx.
        listener.eager_reconnect(false);
        listener.listen(store::outbox::LIVE_CHANNEL).await?;
        tracing::info!(channel = store::outbox::LIVE_CHANNEL, "live : à l'écoute");
        *delay = FIRST_RECONNECT_DELAY;

        while let Some(notification) = listener.try_recv().await? {
            self.relay(notification.payload()).await;
        }
        Ok(())
    }

    /// Publishes the recipients of the announced message to this instance's pages, or the
    /// person announced (`store::outbox::LIVE_PERSON_PREFIX`) who changed their own mailbox.
    async fn relay(&self, payload: &str) {
        if let Some(person_id) = payload.strip_prefix(store::outbox::LIVE_PERSON_PREFIX) {
            (self.publish)(&[person_id.to_owned()]);
            return;
        }
        let message_id = payload;
        self.wake.notify_one();
        match self.store.message_recipient_ids(message_id).await {
            Ok(ids) => {
                tracing::debug!(message.id = %message_id, recipients = ids.len(), "live : relais");
                (self.publish)(&ids);
            }
            Err(error) => {
                tracing::warn!(?error, message.id = %message_id, "live : destinataires illisibles");
            }
        }
    }
}
