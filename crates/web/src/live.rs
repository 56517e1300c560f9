//! Live updates of open pages: the [`LiveHub`] every part of an instance publishes changed
//! mailboxes to (the send, recall and move handlers after their commit; a PostgreSQL LISTEN
//! task for the sends of other instances), and the server-sent events endpoint
//! `/messagerie/evenements` that tells an open page its unread count (`event: unread`).
//! The stream reads the session without touching it, so an open page never keeps an idle
//! session alive, and it ends when the session would expire; the browser then reconnects, and
//! a session that is gone gets 204, which stops it for good.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, broadcast, watch};

use crate::AppState;
use crate::session::session_hash_of;

/// How many changes may wait for a slow page before it lags (it then reads its count again).
const CHANNEL_CAPACITY: usize = 1024;
/// How often a comment keeps an idle stream (and the proxies on its way) open.
const KEEP_ALIVE: Duration = Duration::from_secs(20);

/// The hub of one instance: a broadcast of the ids of people whose mailbox changed. Cheap to
/// clone; every clone publishes to the same subscribers.
#[derive(Clone, Debug)]
pub struct LiveHub {
    changes: broadcast::Sender<Arc<[String]>>,
    stop: Arc<watch::Sender<bool>>,
}

impl Default for LiveHub {
    fn default() -> LiveHub {
        LiveHub::new()
    }
}

impl LiveHub {
    /// A hub without subscribers yet.
    pub fn new() -> LiveHub {
        let (changes, _) = broadcast::channel(CHANNEL_CAPACITY);
        let (stop, _) = watch::channel(false);
        LiveHub { changes, stop: Arc::new(stop) }
    }

    /// Tells the open pages of these people that their mailbox changed. Publishing when no
    /// page is open does nothing.
    pub fn publish(&self, person_ids: &[String]) {
        if person_ids.is_empty() {
            return;
        }
        // An error only means that nobody listens right now.
        let _ = self.changes.send(person_ids.iter().cloned().collect());
    }

    /// Ends every open stream (at shutdown, so that the graceful stop does not wait for them).
    /// Streams opened afterwards end at once.
    pub fn shut_down(&self) {
        self.stop.send_replace(true);
    }

    fn subscribe(&self) -> (broadcast::Receiver<Arc<[String]>>, watch::Receiver<bool>) {
        (self.changes.subscribe(), self.stop.subscribe())
    }
}

/// One open stream: whose it is, what it last said, until when its session holds.
struct Watch {
    state: AppState,
    changes: broadcast::Receiver<Arc<[String]>>,
    stop: watch::Receiver<bool>,
    session_hash: String,
    person_id: String,
    /// When the session would expire if nothing else happened (Unix seconds).
    deadline: i64,
    /// The count last sent; `None` before the first event.
    last: Option<i64>,
    /// Holds one of the instance's stream slots while the stream lives.
    _slot: OwnedSemaphorePermit,
}

/// Why the stream should wake.
enum Wake {
    Changed,
    Deadline,
    Stop,
}

impl Watch {
    /// The session's deadline, or `None` when it is gone or expired (the stream then ends).
    async fn session_deadline(&self) -> Option<i64> {
        let session = self.state.store.session(&self.session_hash).await.ok()??;
        deadline_of(&self.state, &session)
            .filter(|_| session.person_id == self.person_id)
            .filter(|deadline| *deadline > store::now_unix())
    }

    /// Waits for the next count worth sending; `None` ends the stream.
    async fn next_count(&mut self) -> Option<i64> {
        if self.last.is_none() {
            return self.read_count().await;
        }
        loop {
            let wait = self.deadline.saturating_sub(store::now_unix()).max(0);
            let wake = tokio::select! {
                received = self.changes.recv() => match received {
                    Ok(ids) if ids.contains(&self.person_id) => Wake::Changed,
                    Ok(_) => continue,
                    // Changes were missed: one of them may have been ours.
                    Err(broadcast::error::RecvError::Lagged(_)) => Wake::Changed,
                    Err(broadcast::error::RecvError::Closed) => Wake::Stop,
                },
                () = tokio::time::sleep(Duration::from_secs(wait.unsigned_abs())) => Wake::Deadline,
                _ = self.stop.wait_for(|stop| *stop) => Wake::Stop,
            };
            match wake {
                Wake::Stop => return None,
                Wake::Deadline => {
                    // Another tab may have kept the session alive meanwhile.
                    self.deadline = self.session_deadline().await?;
                }
                Wake::Changed => {
                    self.deadline = self.session_deadline().await?;
                    let previous = self.last;
                    let count = self.read_count().await?;
                    if previous != Some(count) {
                        return Some(count);
                    }
                }
            }
        }
    }

    async fn read_count(&mut self) -> Option<i64> {
        match self.state.store.unread_count(&self.person_id).await {
            Ok(count) => {
                self.last = Some(count);
                Some(count)
            }
            Err(error) => {
                tracing::warn!(?error, person.id = %self.person_id, "unread count unavailable");
                None
            }
        }
    }
}

/// When a session expires if it is not used again: its absolute end or its idle end, whichever
/// comes first; `None` when that is already past.
fn deadline_of(state: &AppState, session: &store::sessions::SessionRow) -> Option<i64> {
    let idle = i64::try_from(state.config.session_idle.as_secs()).unwrap_or(i64::MAX);
    let deadline = session.expires_at.min(session.last_seen_at.saturating_add(idle));
    (deadline > store::now_unix()).then_some(deadline)
}

/// `GET /messagerie/evenements`: the viewer's unread count now, then each time it changes.
pub(crate) async fn events(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(session_hash) = session_hash_of(&headers, &state.site) else {
        return StatusCode::NO_CONTENT.into_response();
    };
    // A session that still owes its second factor follows nothing.
    match crate::session::find_viewer(&state, &headers).await {
        Ok(Some(_)) => {}
        Ok(None) => return StatusCode::NO_CONTENT.into_response(),
        Err(error) => return error.into_response(),
    }
    let session = match state.store.session(&session_hash).await {
        Ok(Some(session)) => session,
        Ok(None) => return StatusCode::NO_CONTENT.into_response(),
        Err(error) => return crate::error::AppError::from(error).into_response(),
    };
    let Some(deadline) = deadline_of(&state, &session) else {
        return StatusCode::NO_CONTENT.into_response();
    };
    let Ok(slot) = state.live_streams.clone().try_acquire_owned() else {
        // Too many open pages: this one goes without the live badge.
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };

    let (changes, stop) = state.live.subscribe();
    let watch = Watch {
        state: state.clone(),
        changes,
        stop,
        session_hash,
        person_id: session.person_id,
        deadline,
        last: None,
        _slot: slot,
    };
    let stream = futures_util::stream::unfold(watch, |mut watch| async move {
        let count = watch.next_count().await?;
        let event = Event::default().event("unread").data(count.to_string());
        Some((Ok::<Event, Infallible>(event), watch))
    });
    let mut response =
        Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)).into_response();
    // Reverse proxies must pass each event on at once.
    response.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_hear_what_is_published_after_they_subscribed() {
        let hub = LiveHub::new();
        hub.publish(&["before".to_owned()]);
        let (mut changes, _) = hub.subscribe();

        hub.clone().publish(&["p-1".to_owned(), "p-2".to_owned()]);
        hub.publish(&[]);

        let ids = changes.recv().await.unwrap();
        assert_eq!(&ids[..], ["p-1".to_owned(), "p-2".to_owned()]);
        assert!(changes.try_recv().is_err());
    }

    #[tokio::test]
    async fn shutting_down_wakes_every_stream() {
        let hub = LiveHub::new();
        let (_, mut stop) = hub.subscribe();
        hub.shut_down();
        assert!(stop.wait_for(|stop| *stop).await.is_ok());
        let (_, late) = hub.subscribe();
        assert!(*late.borrow());
    }
}
