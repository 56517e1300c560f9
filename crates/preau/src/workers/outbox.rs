//! The outbox drainer: claims due entries under a lease, delivers what each announces, then
//! completes it, or puts it back with an exponential delay when the relay fails. For a sent
//! message it e-mails each recipient who asked for it, recording each delivery before the next,
//! so that a second pass over the same entry (after a crash, or a lease that ran out) skips
//! whoever was already notified; the window between an accepted e-mail and its record is
//! covered by the stable `Message-ID`. A change of a lesson in the next days
//! (`store::timetable::CHANGE_OUTBOX_KIND`) is e-mailed the same way to the pupils' parents, the
//! pupils and the teachers concerned who asked for e-mails, with the same retries. An
//! internship e-mail (`store::internship::MAIL_OUTBOX_KIND`) is sent as the store queued it, to
//! its one address, then marked sent; the hourly pass also runs the applications' expiry and
//! reminders (`Store::internship_sweep`). Kinds without an e-mail (a recall, news) are
//! completed as they come: the live badges they change are published by the web handlers of
//! the instance that made the change and, on PostgreSQL, by the LISTEN task of every other
//! instance.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::mail::{ChangeNotification, Mailer, Notification, SendError};

/// How many entries one claim takes.
const BATCH: i64 = 16;
/// How long a claimed entry stays this worker's: well above the time its e-mails take.
const LEASE_SECS: i64 = 300;
/// The delivery channel recorded in `notification_deliveries` for e-mails.
pub const EMAIL_CHANNEL: &str = "email";
/// After this many claims an entry whose e-mails still fail is given up (about 15 hours of
/// retries with [`retry_delay`]).
pub const MAX_ATTEMPTS: i64 = 12;
/// The first retry delay, doubled at each attempt up to [`MAX_RETRY_DELAY`].
const FIRST_RETRY_DELAY: Duration = Duration::from_secs(30);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(6 * 3600);
/// How long the loop waits after the database itself failed.
const DATABASE_BACKOFF: Duration = Duration::from_secs(5);

/// What the drainer works with.
pub(crate) struct Drainer {
    pub(crate) store: store::Store,
    pub(crate) mailer: Option<Mailer>,
    /// Where uploads are kept, for the bytes of files no one holds any more.
    pub(crate) files: store::files::FileStore,
    pub(crate) worker_id: String,
    pub(crate) poll_interval: Duration,
    /// Woken by the LISTEN task when another instance committed a send.
    pub(crate) wake: Arc<Notify>,
}

/// How often old idempotency keys and completed entries are removed (`Store::housekeeping`).
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(3600);

/// How one entry ended.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Completed,
    Retried,
    /// The worker is stopping: the entry is left to its lease (or put back when possible).
    Interrupted,
}

/// The delay before the next try of an entry claimed `attempts` times.
pub(crate) fn retry_delay(attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    FIRST_RETRY_DELAY.saturating_mul(2u32.saturating_pow(doublings)).min(MAX_RETRY_DELAY)
}

impl Drainer {
    /// Drains until `stop` turns true: a full batch is followed by the next at once; otherwise
    /// the loop sleeps for the poll interval or until woken.
    pub(crate) async fn run(self, mut stop: watch::Receiver<bool>) {
        let email = self.mailer.is_some();
        tracing::info!(worker.id = %self.worker_id, email, "outbox : démarrage");
        let mut next_housekeeping = tokio::time::Instant::now();
        loop {
            if *stop.borrow() {
                break;
            }
            if tokio::time::Instant::now() >= next_housekeeping {
                next_housekeeping += HOUSEKEEPING_EVERY;
                self.housekeeping().await;
            }
            let drained = self.drain_once(&stop).await;
            // The changes of mailbox counts that the sends just wrote (PostgreSQL), folded
            // while they are few.
            if let Err(error) = self.store.fold_mailbox_counts().await {
                tracing::warn!(?error, "outbox : comptes des dossiers non repliés");
            }
            let pause = match drained {
                Ok(claimed) if claimed >= BATCH => Duration::ZERO,
                Ok(_) => self.poll_interval,
                Err(error) => {
                    tracing::warn!(?error, "outbox : base de données indisponible");
                    DATABASE_BACKOFF
                }
            };
            if pause.is_zero() {
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = self.wake.notified() => {}
                _ = stop.changed() => {}
            }
        }
        tracing::info!(worker.id = %self.worker_id, "outbox : arrêt");
    }

    /// Removes what the send path no longer needs, then the bytes of the files it let go of.
    /// A file that fails to go is only logged: its row is gone, so nothing can serve it.
    async fn housekeeping(&self) {
        // Each sweep goes whether or not the others could.
        match self.store.housekeeping(store::now_unix()).await {
            Ok(done) => {
                for key in &done.file_keys {
                    if let Err(error) = self.files.delete(key).await {
                        tracing::warn!(%error, "outbox : fichier orphelin non supprimé");
                    }
                }
                tracing::debug!(
                    send_keys = done.send_keys,
                    outbox_entries = done.outbox_entries,
                    messages = done.messages,
                    removed_people_rows = done.removed_people_rows,
                    files = done.file_keys.len(),
                    "outbox : ménage"
                );
            }
            Err(error) => tracing::warn!(?error, "outbox : ménage impossible"),
        }

        // The sign-on's short-lived state: expired tickets, codes and tokens.
        match self.store.purge_cas_tickets(store::now_unix()).await {
            Ok(removed) => tracing::debug!(removed, "cas : tickets expirés supprimés"),
            Err(error) => tracing::warn!(?error, "cas : ménage impossible"),
        }
        match self.store.oidc_sweep().await {
            Ok(swept) => tracing::debug!(?swept, "oidc : codes et jetons expirés supprimés"),
            Err(error) => tracing::warn!(?error, "oidc : ménage impossible"),
        }

        // The internship applications whose deadline passed, and the reminders before one.
        match self.store.internship_sweep(store::now_unix()).await {
            Ok(swept) => tracing::debug!(?swept, "stages : échéances des candidatures traitées"),
            Err(error) => tracing::warn!(?error, "stages : échéances impossibles à traiter"),
        }
    }

    /// Claims one batch and handles it; returns how many entries were claimed.
    async fn drain_once(&self, stop: &watch::Receiver<bool>) -> store::StoreResult<i64> {
        let items = self.store.claim_outbox(&self.worker_id, BATCH, LEASE_SECS).await?;
        let claimed = i64::try_from(items.len()).unwrap_or(i64::MAX);
        for item in items {
            if *stop.borrow() {
                // Released for another instance at once rather than at the end of the lease.
                self.store.retry_outbox(&item.id, "arrêt du serveur", store::now_unix()).await?;
                continue;
            }
            // An entry that fails is put back alone: the others of the batch go on.
            let outcome = match self.handle(&item, stop).await {
                Ok(outcome) => outcome,
                Err(error) => {
                    tracing::warn!(outbox.id = %item.id, kind = %item.kind, ?error, "outbox : entrée en échec");
                    self.put_back(&item, "erreur de la base de données").await?
                }
            };
            tracing::debug!(outbox.id = %item.id, kind = %item.kind, ?outcome, "outbox : traité");
        }
        Ok(claimed)
    }

    async fn handle(
        &self,
        item: &store::outbox::OutboxItem,
        stop: &watch::Receiver<bool>,
    ) -> store::StoreResult<Outcome> {
        match (item.kind.as_str(), &self.mailer) {
            ("message_sent", Some(mailer)) => self.send_emails(item, mailer, stop).await,
            (store::timetable::CHANGE_OUTBOX_KIND, Some(mailer)) => {
                self.send_change_emails(item, mailer, stop).await
            }
            (store::internship::MAIL_OUTBOX_KIND, Some(mailer)) => {
                self.send_internship_mail(item, mailer).await
            }
            _ => {
                self.store.complete_outbox(&item.id).await?;
                Ok(Outcome::Completed)
            }
        }
    }

    /// E-mails every recipient of the message who asked for it and was not notified yet.
    async fn send_emails(
        &self,
        item: &store::outbox::OutboxItem,
        mailer: &Mailer,
        stop: &watch::Receiver<bool>,
    ) -> store::StoreResult<Outcome> {
        let message_id = &item.subject_id;
        let targets = self.store.email_targets(message_id).await?;
        let mut sent = 0usize;
        for target in &targets {
            if *stop.borrow() {
                self.store.retry_outbox(&item.id, "arrêt du serveur", store::now_unix()).await?;
                return Ok(Outcome::Interrupted);
            }
            let notification = Notification {
                message_id,
                recipient_id: &target.person_id,
                to: &target.email,
                sender_name: &target.sender_name,
                subject: &target.subject,
            };
            match mailer.send(&notification).await {
                Ok(()) => sent += 1,
                Err(SendError::Permanent(reason)) => {
                    // Recorded like a delivery: trying again would fail the same way.
                    tracing::warn!(
                        message.id = %message_id,
                        person.id = %target.person_id,
                        %reason,
                        "courriel refusé définitivement"
                    );
                }
                Err(SendError::Transient(reason)) => {
                    return self.put_back(item, &reason).await;
                }
            }
            self.store.mark_delivered(message_id, &target.person_id, EMAIL_CHANNEL).await?;
        }
        if !targets.is_empty() {
            tracing::info!(message.id = %message_id, sent, "courriels de notification envoyés");
        }
        self.store.complete_outbox(&item.id).await?;
        Ok(Outcome::Completed)
    }

    /// E-mails everyone concerned by a changed lesson who asked for e-mails and was not told of
    /// this version of the change yet, recording each e-mail under the version's key
    /// (`store::timetable::change_delivery_subject`), so that a second pass sends nothing twice
    /// and a later edit of the change is announced again. Logs carry ids and counts only: the summary may name a
    /// class, never a pupil, but stays out of the logs all the same.
    async fn send_change_emails(
        &self,
        item: &store::outbox::OutboxItem,
        mailer: &Mailer,
        stop: &watch::Receiver<bool>,
    ) -> store::StoreResult<Outcome> {
        let change_id = &item.subject_id;
        // A change reverted or whose course went away since: nothing to announce.
        let Some(notification) = self.store.change_notification(change_id).await? else {
            self.store.complete_outbox(&item.id).await?;
            return Ok(Outcome::Completed);
        };
        let version = &notification.delivery_subject;
        let targets = &notification.targets;
        let mut sent = 0usize;
        for target in targets {
            if *stop.borrow() {
                self.store.retry_outbox(&item.id, "arrêt du serveur", store::now_unix()).await?;
                return Ok(Outcome::Interrupted);
            }
            let change = ChangeNotification {
                change_key: version,
                recipient_id: &target.person_id,
                to: &target.email,
                author: &target.sender_name,
                summary: &target.subject,
            };
            match mailer.send_change(&change).await {
                Ok(()) => sent += 1,
                Err(SendError::Permanent(reason)) => {
                    tracing::warn!(
                        change.id = %change_id,
                        person.id = %target.person_id,
                        %reason,
                        "courriel refusé définitivement"
                    );
                }
                Err(SendError::Transient(reason)) => {
                    return self.put_back(item, &reason).await;
                }
            }
            self.store.mark_delivered(version, &target.person_id, EMAIL_CHANNEL).await?;
        }
        if !targets.is_empty() {
            tracing::info!(change.id = %change_id, sent, "courriels de changement d'emploi du temps envoyés");
        }
        self.store.complete_outbox(&item.id).await?;
        Ok(Outcome::Completed)
    }

    /// Sends one queued internship e-mail (`store::internship::MAIL_OUTBOX_KIND`: an
    /// application's news, a reminder, a signing code), then marks it sent, which forgets its
    /// body. One already sent (a second pass over the entry) is not sent again; the window
    /// between an accepted e-mail and its mark is covered by the stable `Message-ID`. An
    /// address the relay refuses for good is marked sent too: trying again would fail the same
    /// way. Logs carry ids only: the address and the text may name a pupil.
    async fn send_internship_mail(
        &self,
        item: &store::outbox::OutboxItem,
        mailer: &Mailer,
    ) -> store::StoreResult<Outcome> {
        let Some(mail) = self.store.pending_internship_mail(&item.subject_id).await? else {
            self.store.complete_outbox(&item.id).await?;
            return Ok(Outcome::Completed);
        };
        match mailer.send_internship(&mail).await {
            Ok(()) => tracing::info!(mail.id = %mail.id, "courriel de stage envoyé"),
            Err(SendError::Permanent(reason)) => {
                tracing::warn!(mail.id = %mail.id, %reason, "courriel de stage refusé définitivement");
            }
            Err(SendError::Transient(reason)) => return self.put_back(item, &reason).await,
        }
        self.store.internship_mail_sent(&mail.id, store::now_unix()).await?;
        self.store.complete_outbox(&item.id).await?;
        Ok(Outcome::Completed)
    }

    /// Puts an entry back for later, or gives it up after [`MAX_ATTEMPTS`].
    async fn put_back(
        &self,
        item: &store::outbox::OutboxItem,
        reason: &str,
    ) -> store::StoreResult<Outcome> {
        if item.attempts >= MAX_ATTEMPTS {
            tracing::error!(
                outbox.id = %item.id,
                message.id = %item.subject_id,
                attempts = item.attempts,
                %reason,
                "courriels de notification abandonnés"
            );
            self.store.complete_outbox(&item.id).await?;
            return Ok(Outcome::Completed);
        }
        let delay = retry_delay(item.attempts);
        let retry_at =
            store::now_unix().saturating_add(i64::try_from(delay.as_secs()).unwrap_or(i64::MAX));
        tracing::warn!(
            outbox.id = %item.id,
            message.id = %item.subject_id,
            attempts = item.attempts,
            retry_in_secs = delay.as_secs(),
            %reason,
            "notification remise à plus tard"
        );
        self.store.retry_outbox(&item.id, reason, retry_at).await?;
        Ok(Outcome::Retried)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_a_ceiling() {
        assert_eq!(retry_delay(1), Duration::from_secs(30));
        assert_eq!(retry_delay(2), Duration::from_secs(60));
        assert_eq!(retry_delay(5), Duration::from_secs(480));
        assert_eq!(retry_delay(40), MAX_RETRY_DELAY);
        assert_eq!(retry_delay(0), Duration::from_secs(30));
        let total: Duration = (1..MAX_ATTEMPTS).map(retry_delay).sum();
        assert!(total > Duration::from_secs(10 * 3600) && total < Duration::from_secs(20 * 3600));
    }
}
