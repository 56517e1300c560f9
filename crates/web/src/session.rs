//! Sessions and the viewer. A session id is 128 random bits from the thread CSPRNG, sent in a
//! cookie and stored only as its SHA-256; the [`Viewer`] extractor finds the session, applies
//! the idle and absolute timeouts, and reads once who the person is and what they are linked
//! to. A session that still awaits its second factor (opened waiting for it, or of a person who
//! must pass one and has not in this session) is no [`Viewer`]: every page, console, API and
//! sign-on treats it as logged out; only the second-factor step reads it, through
//! [`find_signed_in`]. Form tokens (per session, or a pre-login cookie) are compared in constant
//! time here.

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
    /// When the person presented their password for this session (Unix seconds): CAS `renew`
    /// and OpenID Connect `max_age` compare it with the start of their request.
    pub(crate) authenticated_at: i64,
    /// Whether this session passed a second factor.
    pub(crate) second_factor: bool,
    /// The generations read with the session: the reads of this request may use what the
    /// store kept under them (`store::cache`).
    pub(crate) generations: store::cache::Generations,
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
        administers(&self.facts)
    }
}

/// Whether a person administers some school (a role or a direction function) or the
/// département (a role too).
pub(crate) fn administers(facts: &ViewerFacts) -> bool {
    !facts.roles.is_empty()
        || facts.functions.iter().any(|(_, code)| domain::profile::is_direction_function(code))
}

/// Whether every session of this person must pass a second factor: they enrolled one, or they
/// administer something and the deployment requires it of administrators.
pub(crate) fn second_factor_required(
    state: &AppState,
    facts: &ViewerFacts,
    has_second_factor: bool,
) -> bool {
    has_second_factor || (state.config.second_factor_for_admins && administers(facts))
}

/// A live session at any stage.
#[derive(Debug, Clone)]
pub(crate) struct SignedIn {
    pub(crate) viewer: Viewer,
    /// The session was opened waiting for its second factor (its id changes when it passes).
    pub(crate) pending: bool,
    /// The session may do nothing but pass (or enrol) a second factor: it is pending, or its
    /// person must pass one and has not in this session.
    pub(crate) awaiting_second_factor: bool,
    /// Whether the person has a confirmed factor.
    pub(crate) has_second_factor: bool,
}

/// Constant-time equality of two tokens; an empty token never matches.
pub(crate) fn tokens_match(expected: &str, submitted: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
}

/// A new session id: 128 random bits as 32 hexadecimal digits (the CAS specification wants the
/// ticket-granting cookie, which the session cookie is, in `[A-Za-z0-9-]`).
pub(crate) fn new_session_id() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes[..]);
    hex::encode(bytes)
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

/// How long a session waiting for its second factor lives, in seconds: the time to type a code
/// (or enrol a factor, for an administrator's first login).
const PENDING_LIFETIME: i64 = 15 * 60;

/// Opens a whole session for a person: returns the `Set-Cookie` header value. Expired sessions
/// of everyone are swept now and then on the way.
pub(crate) async fn open_session(state: &AppState, person_id: &str) -> Result<String, AppError> {
    let id = new_session_id();
    let now = store::now_unix();
    sweep_now_and_then(state, now).await?;

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

/// Opens a session that waits for the person's second factor (their password was right):
/// returns the `Set-Cookie` header value.
pub(crate) async fn open_pending_session(
    state: &AppState,
    person_id: &str,
) -> Result<String, AppError> {
    let id = new_session_id();
    let now = store::now_unix();
    sweep_now_and_then(state, now).await?;

    state
        .store
        .create_pending_session(
            &hash_session_id(&id),
            person_id,
            &random_token(32),
            now,
            now.saturating_add(PENDING_LIFETIME),
        )
        .await?;
    Ok(state.site.set_cookie(SESSION_COOKIE, &id, None))
}

/// A waiting session passed its second factor: it goes on under a new id (the privilege
/// changed) and a new form token, for the whole absolute lifetime. Returns the `Set-Cookie`
/// value and the new form token, or `None` when the session was no longer waiting (a parallel
/// request completed it, or it ended).
pub(crate) async fn complete_pending_session(
    state: &AppState,
    old_hash: &str,
) -> Result<Option<(String, String)>, AppError> {
    let id = new_session_id();
    let csrf = random_token(32);
    let now = store::now_unix();
    let absolute = i64::try_from(state.config.session_absolute.as_secs()).unwrap_or(i64::MAX);
    let completed = state
        .store
        .complete_second_factor(
            old_hash,
            &hash_session_id(&id),
            &csrf,
            now,
            now.saturating_add(absolute),
        )
        .await?;
    Ok(completed.then(|| (state.site.set_cookie(SESSION_COOKIE, &id, None), csrf)))
}

/// Sweeps everyone's expired sessions, at most once per [`PURGE_EVERY`].
async fn sweep_now_and_then(state: &AppState, now: i64) -> Result<(), AppError> {
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
    Ok(())
}

/// The session hash the request's cookie names, if any.
pub(crate) fn session_hash_of(headers: &HeaderMap, site: &Site) -> Option<String> {
    cookie(headers, &site.cookie_name(SESSION_COOKIE))
        .filter(|id| !id.is_empty() && id.len() <= 64)
        .map(|id| hash_session_id(&id))
}

/// Finds a live session that may do everything (not awaiting a second factor) and its viewer;
/// expired sessions are deleted on sight.
pub(crate) async fn find_viewer(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Viewer>, AppError> {
    let signed_in = find_signed_in(state, headers).await?;
    Ok(signed_in.filter(|s| !s.awaiting_second_factor).map(|s| s.viewer))
}

/// Finds a live session whatever its stage (for the second-factor step and the enrolment of a
/// factor only); expired sessions are deleted on sight.
pub(crate) async fn find_signed_in(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<SignedIn>, AppError> {
    let Some(hash) = session_hash_of(headers, &state.site) else { return Ok(None) };
    let Some(session) = state.store.session_at_any_stage(&hash).await? else { return Ok(None) };

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

    let Some(facts) =
        state.store.viewer_facts_kept(&session.person_id, session.generations).await?
    else {
        return Ok(None);
    };
    let awaiting_second_factor = session.second_factor_pending
        || (session.second_factor_at.is_none()
            && second_factor_required(state, &facts, session.has_second_factor));
    Ok(Some(SignedIn {
        viewer: Viewer {
            facts,
            csrf_token: session.csrf_token,
            session_hash: hash,
            authenticated_at: session.created_at,
            second_factor: session.second_factor_at.is_some(),
            generations: session.generations,
        },
        pending: session.second_factor_pending,
        awaiting_second_factor,
        has_second_factor: session.has_second_factor,
    }))
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
