//! Attachment downloads, `/messagerie/pieces-jointes/{id}`: only for the uploader or a person
//! holding a message that carries the file (the store decides, 404 otherwise). The bytes are
//! checked against their recorded SHA-256 and always served as a download of their own,
//! inert origin: `Content-Disposition: attachment` (RFC 6266 name), `nosniff`,
//! `Content-Security-Policy: sandbox`, and never cached by a shared cache.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::AppError;
use crate::form::PathId;
use crate::session::Viewer;

pub(crate) async fn attachment(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
) -> Result<Response, AppError> {
    let stored = state.store.attachment_for(viewer.id(), &id).await?;

    let bytes =
        state.files()?.get(&stored.storage_key).await.map_err(|error| {
            AppError::Internal(format!("file store get {}: {error}", stored.id))
        })?;
    if hex::encode(Sha256::digest(&bytes)) != stored.sha256 {
        return Err(AppError::Internal(format!(
            "attachment {} does not match its hash",
            stored.id
        )));
    }
    let content_type = HeaderValue::from_str(&stored.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let disposition =
        HeaderValue::from_str(&domain::files::content_disposition(&stored.display_name))
            .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    tracing::info!(person.id = %viewer.id(), attachment.id = %stored.id, "attachment downloaded");
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox")),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
        ],
        bytes,
    )
        .into_response())
}
