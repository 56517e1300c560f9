//! Sessions and the viewer. A session id is 128 random bits from the thread CSPRNG, sent in a
//! cookie and stored only as its SHA-256; the [`Viewer`] extractor finds the session, applies
//! the idle and absolute timeouts, and reads once who the person is and what they are linked
//! to. Form tokens (per session, or a pre-login cookie) are compared in constant time here.

use std::sync::atomic::Ordering;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::error::AppError;
use crate::security::{Site, cookie};
use store::directory::ViewerFacts;

pub(crate) const SESSION_COOKIE: &str = "preau_session";
pub(crate) const CSRF_COOKIE: &str = "preau_csrf";

/// How often `last_seen_at` is written at most, in seconds.
const TOUCH_EVERY: i64 = 60;

/// The person behind a request, with their links, read once per request.
#[derive(Debug, Clone)]
pub(crate) struct Viewer {
    pub(crate) facts: ViewerFacts,
    pub(crate) csrf_token: String,
    pub(crate) session_hash: String,
}

impl Viewer {
    pub(crate) fn id(&self) -> &str {
        &self.facts.person.id
    }

    /// Checks a submitted form's token against the session's.
    pub(crate) fn check_csrf(&self, submitted: &str) -> Result<(), AppError> {
        if tokens_match(&self.csrf_token, submitted) { Ok(()) } else { Err(AppError::Forbidden) }
    }

    /// Whether the person administers some school (role or direction) or the département.
    pub(crate) fn is_admin(&self) -> bool {
        !self.facts.roles.is_empty()
            || self
                .facts
                .functions
                .iter()
                .any(|(_, code)| domain::profile::is_direction_function(code))
    }
}

/// Constant-time equality of two tokens; an empty token never matches.
pub(crate) fn tokens_match(expected: &str, submitted: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
}

/// A random token of `n` bytes, URL-safe base64.
pub(crate) fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::fill(&mut bytes[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a session id.
pub(crate) fn hash_session_id(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// The pre-login form token: the browser's cookie when it has a plausible one, else a new one
/// (then returned with the `Set-Cookie` to send).
pub(crate) fn prelogin_token(headers: &HeaderMap, site: &Site) -> (String, Option<String>) {
    match cookie(headers, &site.cookie_name(CSRF_COOKIE)) {
        Some(token) if token.len() >= 22 && token.len() <= 64 => (token, None),
        _ => {
            let token = random_token(32);
            let set = site.set_cookie(CSRF_COOKIE, &token, None);
            (token, Some(set))
        }
    }
}

/// Checks a pre-login form's hidden token against its cookie.
pub(crate) fn check_prelogin_csrf(
    headers: &HeaderMap,
    site: &Site,
    submitted: &str,
) -> Result<(), AppError> {
    let expected = cookie(headers, &site.cookie_name(CSRF_COOKIE)).unwrap_or_default();
    if tokens_match(&expected, submitted) { Ok(()) } else { Err(AppError::Forbidden) }
}

/// How often expired sessions are swept at most, in seconds.
const PURGE_EVERY: i64 = 600;

/// Opens a session for a person: returns the `Set-Cookie` header value. Expired sessions of
/// everyone are swept now and then on the way.
pub(crate) async fn open_session(state: &AppState, person_id: &str) -> Result<String, AppError> {
    let id = random_token(16);
    let now = store::now_unix();
    let last = state.last_purge.load(Ordering::Relaxed);
    if now - last >= PURGE_EVERY
        && state
            .last_purge
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        let idle = i64::try_from(state.config.session_idle.as_secs()).unwrap_or(i64::MAX);
        let purged = state.store.purge_sessions(now, idle).await?;
        tracing::debug!(purged, "expired sessions swept");
    }

    let absolute = i64::try_from(state.config.session_absolute.as_secs()).unwrap_or(i64::MAX);
    state
        .store
        .create_session(
            &hash_session_id(&id),
            person_id,
            &random_token(32),
            now,
            now.saturating_add(absolute),
        )
        .await?;
    Ok(state.site.set_cookie(SESSION_COOKIE, &id, None))
}

/// The session hash the request's cookie names, if any.
pub(crate) fn session_hash_of(headers: &HeaderMap, site: &Site) -> Option<String> {
    cookie(headers, &site.cookie_name(SESSION_COOKIE))
        .filter(|id| !id.is_empty() && id.len() <= 64)
        .map(|id| hash_session_id(&id))
}

/// Finds a live session and its viewer; expired sessions are deleted on sight.
pub(crate) async fn find_viewer(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Viewer>, AppError> {
    let Some(hash) = session_hash_of(headers, &state.site) else { return Ok(None) };
    let Some(session) = state.store.session(&hash).await? else { return Ok(None) };

    let now = store::now_unix();
    let idle = i64::try_from(state.config.session_idle.as_secs()).unwrap_or(i64::MAX);
    if now >= session.expires_at || now.saturating_sub(session.last_seen_at) >= idle {
        state.store.delete_session(&hash).await?;
        return Ok(None);
    }
    // Written at most once a minute, and at least twice per idle period when that is shorter,
    // so that an active person is never taken for idle.
    if now.saturating_sub(session.last_seen_at) >= TOUCH_EVERY.min(idle / 2) {
        state.store.touch_session(&hash, now).await?;
    }

    let Some(facts) = state.store.viewer_facts(&session.person_id).await? else {
        return Ok(None);
    };
    Ok(Some(Viewer { facts, csrf_token: session.csrf_token, session_hash: hash }))
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Viewer, AppError> {
        match find_viewer(state, &parts.headers).await? {
            Some(viewer) => Ok(viewer),
            None => {
                let next = parts.uri.path_and_query().map_or("/accueil", |pq| pq.as_str());
                let next = if parts.method == axum::http::Method::GET { next } else { "/accueil" };
                Err(AppError::LoginRequired(next.to_owned()))
            }
        }
    }
}
