//! The authorization endpoint (OpenID Connect Core §3.1.2, RFC 9700). The application and its
//! redirect URI are checked first, by exact string comparison with the registry: when either
//! fails, a French page says so and the browser is never sent anywhere. Every other error is
//! sent back to that redirect URI with `state` and `iss` (RFC 9207).
//!
//! A request that needs the person to log in (no session, `prompt=login`, an old login for
//! `max_age`) or to pass their second factor is kept server-side under a one-time token, and
//! the login form or the second-factor page is given the short resume URL as `next`: the
//! request's own URL can be longer than a `next` may be. A forced login is answered only by a
//! session opened after the request started, other than the one it found.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use domain::sso::UrlMatch;
use serde::{Deserialize, Serialize};
use store::sso::Service;
use store::sso::oidc::{NewCode, PendingRequest};

use crate::AppState;
use crate::error::{AppError, percent_encode};
use crate::session::{Viewer, find_viewer};
use crate::sso::oidc::{Params, SCOPES, issuer, pairs, policy, refusal_page, with_params};

/// The longest `state` and `nonce` accepted (they are stored and sent back).
const MAX_STATE: usize = 2048;
const MAX_NONCE: usize = 512;

/// The path that takes a waiting request up again after the login.
const RESUME_PATH: &str = "/oidc/authorize/resume";

/// A checked authorization request, as it is kept while the person logs in.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AuthRequest {
    client_id: String,
    redirect_uri: String,
    /// The granted scopes: `openid` and the other known scopes asked for, in [`SCOPES`] order.
    scopes: Vec<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: String,
    prompt_none: bool,
    prompt_login: bool,
    max_age: Option<i64>,
}

/// Why a request is refused, before or after its redirect URI is known to be safe.
enum Refusal {
    /// The application or its redirect URI cannot be trusted: a page, never a redirect.
    Page(&'static str),
    /// An error sent back to the registered redirect URI.
    Redirect { redirect_uri: String, state: Option<String>, error: &'static str, why: &'static str },
}

pub(crate) async fn authorize(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (service, request) = match check(&state, &uri).await? {
        Ok(checked) => checked,
        Err(refusal) => return Ok(refuse(&state, refusal)),
    };
    decide(&state, &headers, &service, &request, None).await
}

/// Takes a waiting request up again after the login or the second factor.
pub(crate) async fn resume(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let token = uri
        .query()
        .and_then(|query| pairs(query.as_bytes()))
        .and_then(|pairs| pairs.into_iter().find(|(key, _)| key == "request"))
        .map(|(_, value)| value)
        .unwrap_or_default();
    let pending = state.store.oidc_pending_request(&token).await?;
    let Some(pending) = pending else { return Ok(expired_page()) };
    let Ok(request) = serde_json::from_str::<AuthRequest>(&pending.parameters) else {
        return Ok(expired_page());
    };
    // The registry may have changed since: the application must still be enabled and the
    // redirect URI still registered.
    let service = state.store.oidc_client(&request.client_id).await?;
    let Some(service) = service.filter(|s| s.id == pending.service_id) else {
        state.store.oidc_finish_request(&token).await?;
        return Ok(refuse(&state, Refusal::Page(UNKNOWN_CLIENT)));
    };
    if !redirect_registered(&service, &request.redirect_uri) {
        state.store.oidc_finish_request(&token).await?;
        return Ok(refuse(&state, Refusal::Page(UNREGISTERED_REDIRECT)));
    }
    decide(&state, &headers, &service, &request, Some((&token, &pending))).await
}

const UNKNOWN_CLIENT: &str = "L'application qui vous a envoyé ici n'est pas enregistrée auprès \
    de Préau, ou elle a été désactivée. Vous n'avez pas été connecté à cette application. \
    Si vous pensez qu'il s'agit d'une erreur, prévenez l'administrateur de votre établissement.";
const UNREGISTERED_REDIRECT: &str = "L'adresse de retour demandée par l'application n'est pas \
    celle que le département a enregistrée pour elle. Par sécurité, Préau ne vous y envoie pas \
    et ne lui transmet aucune information. Prévenez l'administrateur de votre établissement.";
const MALFORMED: &str = "La demande de l'application est mal formée : Préau ne peut pas y \
    répondre. Revenez à l'application et recommencez.";

fn expired_page() -> Response {
    refusal_page(
        StatusCode::BAD_REQUEST,
        "Demande expirée",
        "Cette demande de connexion a expiré ou a déjà servi. Revenez à l'application et \
         recommencez.",
    )
}

fn refuse(state: &AppState, refusal: Refusal) -> Response {
    match refusal {
        Refusal::Page(message) => {
            tracing::warn!("authorization request refused without redirect");
            refusal_page(StatusCode::BAD_REQUEST, "Application non autorisée", message)
        }
        Refusal::Redirect { redirect_uri, state: client_state, error, why } => {
            error_redirect(state, &redirect_uri, client_state.as_deref(), error, why)
        }
    }
}

/// An authorization error sent back to a registered redirect URI (RFC 6749 §4.1.2.1).
fn error_redirect(
    state: &AppState,
    redirect_uri: &str,
    client_state: Option<&str>,
    error: &str,
    why: &str,
) -> Response {
    let issuer = issuer(state);
    let mut params = vec![("error", error), ("error_description", why)];
    if let Some(client_state) = client_state {
        params.push(("state", client_state));
    }
    params.push(("iss", issuer.as_str()));
    found(&with_params(redirect_uri, &params))
}

/// A `302 Found` to a URL.
fn found(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(_) => AppError::BadRequest("Adresse de retour non valide.").into_response(),
    }
}

/// Whether a redirect URI is one of the application's, character for character.
fn redirect_registered(service: &Service, redirect_uri: &str) -> bool {
    service
        .urls
        .iter()
        .any(|url| url.match_kind == UrlMatch::Exact && domain::sso::url_matches(url, redirect_uri))
}

/// A PKCE S256 challenge: 43 characters of URL-safe base64 (a SHA-256).
fn plausible_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Checks an authorization request: the application and redirect URI, then every parameter.
async fn check(
    state: &AppState,
    uri: &Uri,
) -> Result<Result<(Service, AuthRequest), Refusal>, AppError> {
    let query = uri.query().unwrap_or("");
    let Some(pairs) = pairs(query.as_bytes()) else { return Ok(Err(Refusal::Page(MALFORMED))) };
    let params = Params::new(pairs);
    if params.repeated("client_id") || params.repeated("redirect_uri") {
        return Ok(Err(Refusal::Page(MALFORMED)));
    }
    let Some(client_id) = params.get("client_id").filter(|id| id.len() <= 256) else {
        return Ok(Err(Refusal::Page(UNKNOWN_CLIENT)));
    };
    let Some(service) = state.store.oidc_client(client_id).await? else {
        return Ok(Err(Refusal::Page(UNKNOWN_CLIENT)));
    };
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return Ok(Err(Refusal::Page(UNREGISTERED_REDIRECT)));
    };
    if !redirect_registered(&service, redirect_uri) {
        return Ok(Err(Refusal::Page(UNREGISTERED_REDIRECT)));
    }

    // From here on, errors go back to the application.
    let client_state = if params.repeated("state") {
        None
    } else {
        params.get("state").filter(|s| s.len() <= MAX_STATE).map(str::to_owned)
    };
    let refusal = |error: &'static str, why: &'static str| Refusal::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        state: client_state.clone(),
        error,
        why,
    };
    Ok(check_parameters(&params, client_state.clone(), &refusal).map(|mut request| {
        request.client_id = client_id.to_owned();
        request.redirect_uri = redirect_uri.to_owned();
        (service, request)
    }))
}

/// The parameters other than the application and its redirect URI.
fn check_parameters(
    params: &Params,
    client_state: Option<String>,
    refusal: &dyn Fn(&'static str, &'static str) -> Refusal,
) -> Result<AuthRequest, Refusal> {
    if params.duplicate().is_some() {
        return Err(refusal("invalid_request", "a parameter is repeated"));
    }
    if params.get("state").is_some_and(|s| s.len() > MAX_STATE) {
        return Err(refusal("invalid_request", "state is too long"));
    }
    if params.get("request").is_some() {
        return Err(refusal("request_not_supported", "request objects are not supported"));
    }
    if params.get("request_uri").is_some() {
        return Err(refusal("request_uri_not_supported", "request_uri is not supported"));
    }
    if params.get("registration").is_some() {
        return Err(refusal("registration_not_supported", "registration is not supported"));
    }
    match params.get("response_type") {
        None => return Err(refusal("invalid_request", "response_type is required")),
        Some("code") => {}
        Some(_) => {
            return Err(refusal(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
    }
    if params.get("response_mode").is_some_and(|mode| mode != "query") {
        return Err(refusal("invalid_request", "only response_mode=query is supported"));
    }
    let asked: Vec<&str> = params.get("scope").unwrap_or("").split(' ').collect();
    if !asked.contains(&"openid") {
        return Err(refusal("invalid_scope", "the openid scope is required"));
    }
    let scopes: Vec<String> =
        SCOPES.iter().filter(|scope| asked.contains(scope)).map(|s| (*s).to_owned()).collect();
    match params.get("code_challenge_method") {
        Some("S256") => {}
        None => return Err(refusal("invalid_request", "PKCE is required (S256)")),
        Some(_) => return Err(refusal("invalid_request", "only code_challenge_method=S256")),
    }
    let Some(challenge) = params.get("code_challenge").filter(|c| plausible_challenge(c)) else {
        return Err(refusal("invalid_request", "code_challenge is missing or malformed"));
    };
    let nonce = params.get("nonce");
    if nonce.is_some_and(|nonce| nonce.len() > MAX_NONCE) {
        return Err(refusal("invalid_request", "nonce is too long"));
    }
    let prompts: Vec<&str> = params.get("prompt").unwrap_or("").split(' ').collect();
    let prompt_none = prompts.contains(&"none");
    if prompt_none && prompts.iter().any(|p| !p.is_empty() && *p != "none") {
        return Err(refusal("invalid_request", "prompt=none cannot be combined"));
    }
    let max_age = match params.get("max_age") {
        None => None,
        Some(text) => match text.parse::<i64>() {
            Ok(age) if age >= 0 => Some(age),
            _ => return Err(refusal("invalid_request", "max_age must be a number of seconds")),
        },
    };
    Ok(AuthRequest {
        client_id: String::new(),
        redirect_uri: String::new(),
        scopes,
        state: client_state,
        nonce: nonce.map(str::to_owned),
        code_challenge: challenge.to_owned(),
        prompt_none,
        prompt_login: prompts.contains(&"login"),
        max_age,
    })
}

/// Answers a checked request for whoever is logged in: a detour through the login or the
/// second factor, an error, or a code.
async fn decide(
    state: &AppState,
    headers: &HeaderMap,
    service: &Service,
    request: &AuthRequest,
    pending: Option<(&str, &PendingRequest)>,
) -> Result<Response, AppError> {
    let viewer = find_viewer(state, headers).await?;
    let now = store::now_unix();
    let redirect_error = |error: &str, why: &str| {
        error_redirect(state, &request.redirect_uri, request.state.as_deref(), error, why)
    };
    let finish = |response: Response| async move {
        if let Some((token, _)) = pending {
            state.store.oidc_finish_request(token).await?;
        }
        Ok::<Response, AppError>(response)
    };

    // A login since the request started, in another session than the one it found, answers
    // `prompt=login` and `max_age`.
    let logged_in_since = |viewer: &Viewer| {
        pending.is_some_and(|(_, pending)| {
            viewer.authenticated_at >= pending.started_at
                && pending.session_hash.as_deref() != Some(viewer.session_hash.as_str())
        })
    };
    let Some(viewer) = viewer else {
        if request.prompt_none {
            return finish(redirect_error("login_required", "no session")).await;
        }
        let resume = keep(state, service, request, None, pending).await?;
        return Err(AppError::LoginRequired(resume));
    };
    let too_old =
        request.max_age.is_some_and(|age| now.saturating_sub(viewer.authenticated_at) > age);
    if (request.prompt_login || too_old) && !logged_in_since(&viewer) {
        if request.prompt_none {
            return finish(redirect_error("login_required", "the login is too old")).await;
        }
        let resume = keep(state, service, request, Some(&viewer.session_hash), pending).await?;
        return Err(AppError::LoginRequired(resume));
    }
    if service.require_second_factor && !viewer.second_factor {
        if request.prompt_none {
            return finish(redirect_error("interaction_required", "a second factor is required"))
                .await;
        }
        let resume = keep(state, service, request, Some(&viewer.session_hash), pending).await?;
        let target = format!("/connexion/second-facteur?next={}", percent_encode(&resume));
        return Ok(found(&target));
    }
    if !state.store.service_allows(&service.id, viewer.id()).await? {
        tracing::info!(service.id = %service.id, person.id = %viewer.id(), "sign-on refused");
        return finish(redirect_error("access_denied", "this person may not use this application"))
            .await;
    }

    let response = issue_code(state, service, request, &viewer).await?;
    finish(response).await
}

/// Issues a code to the viewer and sends it to the redirect URI with `state` and `iss`.
async fn issue_code(
    state: &AppState,
    service: &Service,
    request: &AuthRequest,
    viewer: &Viewer,
) -> Result<Response, AppError> {
    let scope = request.scopes.join(" ");
    let code = NewCode {
        service_id: &service.id,
        person_id: viewer.id(),
        session_hash: &viewer.session_hash,
        redirect_uri: &request.redirect_uri,
        code_challenge: &request.code_challenge,
        scope: &scope,
        nonce: request.nonce.as_deref(),
        auth_time: viewer.authenticated_at,
        second_factor: viewer.second_factor,
    };
    let code = state.store.oidc_issue_code(&code, &policy(state)).await?;
    tracing::info!(service.id = %service.id, person.id = %viewer.id(), "authorization code issued");
    let issuer = issuer(state);
    let mut params = vec![("code", code.as_str())];
    if let Some(client_state) = &request.state {
        params.push(("state", client_state.as_str()));
    }
    params.push(("iss", issuer.as_str()));
    Ok(found(&with_params(&request.redirect_uri, &params)))
}

/// Keeps a request while the person logs in (or reuses the one being resumed); returns its
/// resume path.
async fn keep(
    state: &AppState,
    service: &Service,
    request: &AuthRequest,
    session_hash: Option<&str>,
    pending: Option<(&str, &PendingRequest)>,
) -> Result<String, AppError> {
    let token = match pending {
        Some((token, _)) => token.to_owned(),
        None => {
            let parameters = serde_json::to_string(request)
                .map_err(|error| AppError::Internal(format!("authorization request: {error}")))?;
            state
                .store
                .oidc_save_request(&service.id, &parameters, session_hash, &policy(state))
                .await?
        }
    };
    Ok(format!("{RESUME_PATH}?request={token}"))
}
