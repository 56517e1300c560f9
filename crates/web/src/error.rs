//! The one error type of the web interface. Each variant is answered with a stable French page
//! and status; the internal cause of a server fault is logged once here and never shown.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::templates::{ErrorPage, render};

/// Why a request could not be answered normally.
#[derive(Debug)]
pub(crate) enum AppError {
    /// The page does not exist or is not the viewer's to see.
    NotFound,
    /// A cross-site request or a missing or wrong form token.
    Forbidden,
    /// Malformed input; the message is shown as is.
    BadRequest(&'static str),
    /// A form body over the size limit.
    TooLarge,
    /// An upload form whose file is over its limit, in MB (the page names it).
    FileTooLarge { limit_mb: usize },
    /// No valid session: go to the login page, then back to `next`.
    LoginRequired(String),
    /// The request contradicts the stored state (`StoreError::Conflict`); the French reason
    /// is shown as is.
    Conflict(String),
    /// A server fault; the cause is logged, never shown.
    Internal(String),
}

impl From<store::StoreError> for AppError {
    fn from(error: store::StoreError) -> AppError {
        match error {
            store::StoreError::NotFound => AppError::NotFound,
            store::StoreError::Conflict(reason) => AppError::Conflict(reason),
            other => AppError::Internal(format!("store: {other:?}")),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            AppError::NotFound => (
                StatusCode::NOT_FOUND,
                "Page introuvable",
                "Cette page n'existe pas ou ne vous est pas accessible.",
            ),
            AppError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Action refusée",
                "Cette action a été refusée par mesure de sécurité. Revenez à la page précédente, \
                 rechargez-la et recommencez.",
            ),
            AppError::BadRequest(message) => {
                (StatusCode::BAD_REQUEST, "Demande non valide", message)
            }
            AppError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Demande trop volumineuse",
                "Le formulaire envoyé est trop volumineux.",
            ),
            AppError::FileTooLarge { limit_mb } => {
                let message = format!(
                    "Le fichier dépasse {limit_mb} Mo : il n'a pas été lu. Revenez au formulaire \
                     et choisissez un fichier plus petit."
                );
                return error_page(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "Fichier trop volumineux",
                    &message,
                );
            }
            AppError::Conflict(reason) => {
                return error_page(StatusCode::CONFLICT, "Action impossible", &reason);
            }
            AppError::LoginRequired(next) => {
                let target = format!("/connexion?next={}", percent_encode(&next));
                return Redirect::to(&target).into_response();
            }
            AppError::Internal(cause) => {
                tracing::error!(%cause, "server fault");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Erreur du serveur",
                    "Une erreur est survenue de notre côté. Réessayez dans quelques instants.",
                )
            }
        };
        error_page(status, title, message)
    }
}

/// A minimal French page for a status.
pub(crate) fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let page = ErrorPage { title, message, css: crate::assets::css_href() };
    match render(&page) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => {
            (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message.to_owned())
                .into_response()
        }
    }
}

/// Percent-encodes everything but unreserved characters and `/`.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
