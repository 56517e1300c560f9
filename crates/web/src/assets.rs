//! The static assets, embedded in the binary and served under a URL that carries a hash of
//! their content, so that they can be cached for a year and still change with each release:
//! the style sheet, and `mail.js`, the optional script of the messaging pages (drafts saved as
//! one types, recipient suggestions, the live unread badge, a small editor).

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

const CSS: &str = include_str!("../static/preau.css");
const MAIL_JS: &str = include_str!("../static/mail.js");

/// The route of the static assets (the hash is checked by the handler).
pub(crate) const CSS_ROUTE: &str = "/static/{file}";

/// `/static/<stem>-<first 12 hex digits of the content's SHA-256>.<extension>`.
fn hashed_href(stem: &str, extension: &str, content: &str) -> String {
    let digest = hex::encode(Sha256::digest(content.as_bytes()));
    format!("/static/{stem}-{}.{extension}", &digest[..12])
}

/// The URL of the style sheet, with its content hash.
pub(crate) fn css_href() -> &'static str {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| hashed_href("preau", "css", CSS))
}

/// The URL of the messaging script, with its content hash.
pub(crate) fn mail_js_href() -> &'static str {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| hashed_href("mail", "js", MAIL_JS))
}

pub(crate) async fn css(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let path = format!("/static/{file}");
    let (content_type, body) = if path == css_href() {
        ("text/css; charset=utf-8", CSS)
    } else if path == mail_js_href() {
        ("text/javascript; charset=utf-8", MAIL_JS)
    } else {
        return crate::error::AppError::NotFound.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        body,
    )
        .into_response()
}
