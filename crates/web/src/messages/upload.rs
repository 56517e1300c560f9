//! Attaching a file to a draft: the type is decided by the content (`formats::attachment::sniff`,
//! the name's extension must agree), images have their declared dimensions checked before
//! anything decodes them, the name is made safe for display (`domain::files::display_name`:
//! no path, no bidi or invisible characters, no reserved names, the real extension), and the
//! bytes are stored under a fresh internal id, never under the name. The compose form's
//! multipart bodies are also limited in number: a few at once per person and a bounded number
//! in all, so that parallel uploads cannot fill the memory; past that, a form waits a few
//! seconds for a place, then gets 429 with `Retry-After`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use domain::communication::{MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS};
use sha2::{Digest, Sha256};
use store::messaging::{Draft, NewAttachment};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::compose_form::Upload;
use super::size_label;
use crate::AppState;
use crate::error::AppError;
use crate::session::Viewer;

/// How many compose forms one person may have in flight at once.
const PER_PERSON: usize = 2;
/// How long a refused upload should wait before trying again, in seconds.
const RETRY_AFTER_SECS: u64 = 5;

/// Counts the compose forms being received, per person and in all. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Uploads(Arc<UploadGate>);

#[derive(Debug)]
struct UploadGate {
    per_person: Mutex<HashMap<String, usize>>,
    total: Arc<Semaphore>,
    /// Told whenever a place is given back, for the forms waiting for one.
    freed: tokio::sync::Notify,
}

/// How long a form waits for a place before it is refused with 429.
const WAIT_FOR_PLACE: std::time::Duration = std::time::Duration::from_secs(5);

/// One compose form being received; its place is given back when dropped.
pub(crate) struct UploadSlot {
    gate: Arc<UploadGate>,
    person: String,
    /// Given back before the waiting forms are told (so that they find it free).
    permit: Option<OwnedSemaphorePermit>,
}

impl Uploads {
    /// A gate letting `total` compose forms in at once.
    pub(crate) fn new(total: usize) -> Uploads {
        Uploads(Arc::new(UploadGate {
            per_person: Mutex::new(HashMap::new()),
            total: Arc::new(Semaphore::new(total.max(1))),
            freed: tokio::sync::Notify::new(),
        }))
    }

    /// Enters the gate, waiting a few seconds for a place when the person or the server has
    /// too many forms in flight: a double click or a retry then runs after the first, and is
    /// answered as a retry of a completed send (the first message) rather than refused.
    /// `None` when no place came in time.
    pub(crate) async fn enter_waiting(&self, person: &str) -> Option<UploadSlot> {
        let deadline = tokio::time::Instant::now() + WAIT_FOR_PLACE;
        loop {
            let freed = self.0.freed.notified();
            tokio::pin!(freed);
            // Registered before trying, so that a place given back in between is not missed.
            freed.as_mut().enable();
            if let Some(slot) = self.enter(person) {
                return Some(slot);
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                return None;
            }
        }
    }

    /// Enters the gate, or `None` when the person or the server has too many forms in flight.
    pub(crate) fn enter(&self, person: &str) -> Option<UploadSlot> {
        let permit = self.0.total.clone().try_acquire_owned().ok()?;
        let mut counts = self.0.per_person.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = counts.entry(person.to_owned()).or_insert(0);
        if *count >= PER_PERSON {
            return None;
        }
        *count += 1;
        Some(UploadSlot { gate: self.0.clone(), person: person.to_owned(), permit: Some(permit) })
    }
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut counts =
            self.gate.per_person.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = counts.get_mut(&self.person) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.person);
            }
        }
        drop(counts);
        drop(self.permit.take());
        self.gate.freed.notify_waiters();
    }
}

/// The 429 page of a form refused at the gate.
pub(super) fn too_many_uploads() -> Response {
    let mut response = crate::error::error_page(
        StatusCode::TOO_MANY_REQUESTS,
        "Trop d'envois en cours",
        "Plusieurs envois de ce formulaire sont déjà en cours. Patientez quelques secondes, puis \
         recommencez.",
    );
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}

/// A file whose content was checked: what it is, and the name to show.
pub(super) struct CheckedFile {
    bytes: Vec<u8>,
    kind: formats::attachment::FileKind,
    display_name: String,
}

/// Checks a file before anything is written: its size, its type by content (the name's
/// extension must agree), an image's declared dimensions; and makes its name safe. `Err` is
/// the French reason of a refusal.
pub(super) fn check(upload: Upload) -> Result<CheckedFile, String> {
    if upload.too_big {
        let cap = size_label(i64::try_from(MAX_ATTACHMENT_BYTES).unwrap_or(i64::MAX));
        return Err(format!("Le fichier dépasse la taille permise ({cap})."));
    }
    let kind = formats::attachment::sniff(&upload.bytes, &upload.name).map_err(str::to_owned)?;
    if kind.is_image() && !formats::attachment::image_dimensions_ok(&upload.bytes) {
        return Err(formats::attachment::IMAGE_TOO_LARGE.to_owned());
    }
    let display_name = domain::files::display_name(&upload.name, kind.extension());
    Ok(CheckedFile { bytes: upload.bytes, kind, display_name })
}

/// Stores a checked file under a fresh key and attaches it to a saved draft. `Err` is the
/// French reason of a refusal (too many attachments).
pub(super) async fn attach(
    state: &AppState,
    viewer: &Viewer,
    draft: &Draft,
    file: CheckedFile,
) -> Result<Result<(), String>, AppError> {
    if draft.attachments.len() >= MAX_ATTACHMENTS {
        return Ok(Err(format!(
            "Un message peut porter au plus {MAX_ATTACHMENTS} pièces jointes."
        )));
    }
    let CheckedFile { bytes, kind, display_name } = file;
    let size_bytes = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let storage_key = store::files::FileStore::new_key();

    let files = state.files()?;
    files
        .put(&storage_key, bytes)
        .await
        .map_err(|error| AppError::Internal(format!("file store put: {error}")))?;
    let meta = NewAttachment {
        display_name,
        content_type: kind.content_type().to_owned(),
        size_bytes,
        sha256,
        storage_key: storage_key.clone(),
    };
    let owner = viewer.id();
    let attachment = match state.store.create_attachment(owner, &meta).await {
        Ok(attachment) => attachment,
        Err(error) => {
            // Nothing refers to the bytes: they go.
            if let Err(cleanup) = files.delete(&storage_key).await {
                tracing::warn!(%cleanup, "stored file left behind");
            }
            return match error {
                store::StoreError::Conflict(reason) => Ok(Err(reason)),
                other => Err(other.into()),
            };
        }
    };
    match state.store.attach_to_draft(owner, &draft.id, &attachment.id).await {
        Ok(()) => {
            tracing::info!(person.id = %owner, draft.id = %draft.id, size_bytes, "file attached");
            Ok(Ok(()))
        }
        // The file stays the owner's upload (a later attempt may attach it).
        Err(store::StoreError::Conflict(reason)) => Ok(Err(reason)),
        Err(other) => Err(other.into()),
    }
}
