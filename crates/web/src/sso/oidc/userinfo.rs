//! The userinfo endpoint (OpenID Connect Core §5.3): a bearer access token (RFC 6750, in the
//! `Authorization` header) whose signature, `typ` (`at+jwt`), issuer and expiry hold, and
//! whose `jti` is still live in the store (not revoked, its grant neither, the person still
//! allowed), gives the claims of its scopes. Anything else is 401 with `WWW-Authenticate`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use store::sso::oidc::JwtExpectation;

use crate::AppState;
use crate::error::AppError;
use crate::sso::oidc::{authorization, claims, issuer, json};

/// 401 with the RFC 6750 challenge: no `error` when no token was sent.
fn unauthorized(sent: bool) -> Response {
    let challenge = if sent {
        "Bearer realm=\"preau\", error=\"invalid_token\""
    } else {
        "Bearer realm=\"preau\""
    };
    let mut response = StatusCode::UNAUTHORIZED.into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(crate) async fn userinfo(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(token) = authorization(&headers, "Bearer").filter(|t| !t.is_empty()) else {
        return Ok(unauthorized(false));
    };
    let issuer = issuer(&state);
    let expect =
        JwtExpectation { issuer: &issuer, typ: "at+jwt", audience: None, check_expiry: true };
    let Some(access) = state.store.oidc_verify_jwt(token, &expect).await? else {
        tracing::warn!("userinfo: access token refused");
        return Ok(unauthorized(true));
    };
    let Some(grant) = state.store.oidc_access_grant(access["jti"].as_str().unwrap_or("")).await?
    else {
        tracing::info!("userinfo: access token revoked or expired");
        return Ok(unauthorized(true));
    };
    let Some(service) = state.store.sso_service(&grant.service_id).await? else {
        return Ok(unauthorized(true));
    };
    // The token names its client as audience: it must be the grant's.
    if service.client_id.is_none() || access["aud"].as_str() != service.client_id.as_deref() {
        return Ok(unauthorized(true));
    }
    let released = state.store.release(&service, &grant.person_id).await?;
    if access["sub"].as_str() != Some(released.principal.as_str()) {
        return Ok(unauthorized(true));
    }

    let granted: Vec<&str> = grant.scope.split(' ').collect();
    let scopes: Vec<&str> = access["scope"]
        .as_str()
        .unwrap_or("")
        .split(' ')
        .filter(|scope| granted.contains(scope))
        .collect();
    let mut body = claims::scope_claims(&released, &scopes);
    body.insert("sub".into(), released.principal.into());
    Ok(json(StatusCode::OK, &Value::Object(body)))
}
