//! The static assets, embedded in the binary and served under a URL that carries a hash of
//! their content, so that they can be cached for a year and still change with each release.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

const CSS: &str = include_str!("../static/preau.css");

/// The route of the style sheet (the hash is checked by the handler).
pub(crate) const CSS_ROUTE: &str = "/static/{file}";

/// The URL of the style sheet, with its content hash.
pub(crate) fn css_href() -> &'static str {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| {
        let digest = hex::encode(Sha256::digest(CSS.as_bytes()));
        format!("/static/preau-{}.css", &digest[..12])
    })
}

pub(crate) async fn css(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    if format!("/static/{file}") != css_href() {
        return crate::error::AppError::NotFound.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        CSS,
    )
        .into_response()
}
