//! The OpenID Connect provider over HTTP, in the strict profile of RFC 9700: discovery and
//! the JWKS (`oidc/discovery.rs`), the authorization endpoint with its login detour
//! (`oidc/authorize.rs`), the token and revocation endpoints with client authentication
//! (`oidc/token.rs`), userinfo (`oidc/userinfo.rs`), RP-initiated logout (`oidc/logout.rs`),
//! and what goes into the tokens (`oidc/claims.rs`). The state (keys, codes, grants, tokens)
//! is `store::sso::oidc`'s.
//!
//! Only the authorization code flow with PKCE S256 exists: no implicit flow, no password or
//! client-credentials grant, no `plain` challenge. Registered applications need no consent
//! screen: the département's registry, which says what each application receives, is the
//! consent. Codes, tokens and secrets are never logged.

mod authorize;
mod claims;
mod discovery;
mod logout;
mod token;
mod userinfo;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use store::sso::oidc::OidcPolicy;

use crate::AppState;
use crate::error::AppError;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery::configuration))
        .route("/oidc/jwks", get(discovery::jwks))
        .route("/oidc/authorize", get(authorize::authorize))
        .route("/oidc/authorize/resume", get(authorize::resume))
        .route("/oidc/token", post(token::token))
        .route("/oidc/revoke", post(token::revoke))
        .route("/oidc/userinfo", get(userinfo::userinfo).post(userinfo::userinfo))
        .route("/oidc/logout", get(logout::confirm).post(logout::logout))
}

/// The issuer: the site's base URL, without a trailing slash.
pub(crate) fn issuer(state: &AppState) -> String {
    state.config.base_url.trim().trim_end_matches('/').to_owned()
}

/// How long codes, tokens and keys live.
pub(crate) fn policy(state: &AppState) -> OidcPolicy {
    state.config.oidc
}

/// The scopes the provider knows, in the order they are listed; others are ignored.
pub(crate) const SCOPES: [&str; 4] = ["openid", "profile", "email", "address"];

/// A JSON response that no cache keeps (tokens, userinfo, errors of the back channel).
pub(crate) fn json(status: StatusCode, value: &Value) -> Response {
    let mut response = (status, value.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// A protocol error of the back channel (RFC 6749 §5.2), with an ASCII description for the
/// application's developers.
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json(status, &serde_json::json!({ "error": error, "error_description": description }))
}

/// The pairs of a query string or form body, in order; `None` when it is not valid
/// `application/x-www-form-urlencoded` UTF-8, or holds a NUL.
pub(crate) fn pairs(text: &[u8]) -> Option<Vec<(String, String)>> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(text).ok()?;
    let clean = pairs.iter().all(|(key, value)| !key.contains('\0') && !value.contains('\0'));
    clean.then_some(pairs)
}

/// Parameters read once each: a parameter sent twice is an error (RFC 6749 §3.1).
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub(crate) fn new(pairs: Vec<(String, String)>) -> Params {
        Params(pairs)
    }

    /// The value of a parameter sent once; `""` and `None` read alike (RFC 6749 §3.1).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    }

    /// The first parameter sent more than once, if any.
    pub(crate) fn duplicate(&self) -> Option<&str> {
        self.0.iter().enumerate().find_map(|(i, (key, _))| {
            self.0[..i].iter().any(|(other, _)| other == key).then_some(key.as_str())
        })
    }

    /// Whether one parameter was sent more than once.
    pub(crate) fn repeated(&self, name: &str) -> bool {
        self.0.iter().filter(|(key, _)| key == name).count() > 1
    }
}

/// A French page that explains why an application's request is refused, without ever sending
/// the browser back to it (an unknown application, an unregistered address).
pub(crate) fn refusal_page(status: StatusCode, title: &str, message: &str) -> Response {
    let page = RefusalPage {
        chrome: crate::templates::Chrome {
            title: title.to_owned(),
            css: crate::assets::css_href(),
            reading_mode: false,
            user: None,
        },
        message: message.to_owned(),
    };
    match askama::Template::render(&page) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => AppError::Internal(format!("template: {error}")).into_response(),
    }
}

#[derive(askama::Template)]
#[template(path = "oidc_refused.html")]
struct RefusalPage {
    chrome: crate::templates::Chrome,
    message: String,
}

/// `?` or `&`, whichever joins parameters to this URL.
pub(crate) fn joiner(url: &str) -> char {
    if url.contains('?') { '&' } else { '?' }
}

/// A URL with parameters added (form-encoded), keeping the query it already has.
pub(crate) fn with_params(url: &str, params: &[(&str, &str)]) -> String {
    if params.is_empty() {
        return url.to_owned();
    }
    let query = serde_urlencoded::to_string(params).unwrap_or_default();
    format!("{url}{}{query}", joiner(url))
}

/// The token of an `Authorization: <scheme> <token>` header, the scheme compared without case.
pub(crate) fn authorization<'a>(headers: &'a HeaderMap, scheme: &str) -> Option<&'a str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (sent, token) = value.split_once(' ')?;
    sent.eq_ignore_ascii_case(scheme).then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_found() {
        let params = Params::new(vec![
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "".to_owned()),
            ("a".to_owned(), "2".to_owned()),
        ]);
        assert_eq!(params.duplicate(), Some("a"));
        assert!(params.repeated("a"));
        assert_eq!(params.get("b"), None);
    }

    #[test]
    fn parameters_join_an_existing_query() {
        assert_eq!(with_params("https://a.fr/cb", &[("code", "x y")]), "https://a.fr/cb?code=x+y");
        assert_eq!(with_params("https://a.fr/cb?t=1", &[("s", "&")]), "https://a.fr/cb?t=1&s=%26");
    }
}
