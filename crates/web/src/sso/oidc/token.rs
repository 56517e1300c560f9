//! The token endpoint (RFC 6749 §3.2) and the revocation endpoint (RFC 7009), with client
//! authentication: a confidential client (one with a secret) by HTTP Basic or in the body,
//! its secret's SHA-256 compared in constant time; a public client by its identifier alone,
//! which PKCE then binds. Only the `authorization_code` and `refresh_token` grants exist;
//! anything else is `unsupported_grant_type`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};
use store::sso::Service;
use store::sso::oidc::{CodeExchange, GrantRefusal, Issued, JwtExpectation};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::error::AppError;
use crate::sso::oidc::{Params, authorization, claims, issuer, json, oauth_error, pairs, policy};

/// A refusal of the back channel, as RFC 6749 §5.2 writes it.
pub(crate) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    why: &'static str,
}

impl OAuthError {
    fn new(error: &'static str, why: &'static str) -> OAuthError {
        OAuthError { status: StatusCode::BAD_REQUEST, error, why }
    }

    fn client(why: &'static str) -> OAuthError {
        OAuthError { status: StatusCode::UNAUTHORIZED, error: "invalid_client", why }
    }

    fn response(&self) -> Response {
        let mut response = oauth_error(self.status, self.error, self.why);
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"preau\""),
            );
        }
        response
    }
}

/// The form parameters of a back-channel request: urlencoded, each sent once.
fn form(headers: &HeaderMap, body: &[u8]) -> Result<Params, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(OAuthError::new("invalid_request", "the body must be form-urlencoded"));
    }
    let Some(pairs) = pairs(body) else {
        return Err(OAuthError::new("invalid_request", "the body is malformed"));
    };
    let params = Params::new(pairs);
    if params.duplicate().is_some() {
        return Err(OAuthError::new("invalid_request", "a parameter is repeated"));
    }
    Ok(params)
}

/// A form-urlencoded component of HTTP Basic credentials (RFC 6749 §2.3.1), decoded.
fn basic_component(text: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!("v={text}")).ok()?;
    pairs.into_iter().next().map(|(_, value)| value)
}

/// The client behind a back-channel request (RFC 6749 §2.3): by HTTP Basic, by its secret in
/// the body, or a public client by its identifier alone. One method per request.
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Result<Service, OAuthError>, AppError> {
    let basic = match authorization(headers, "Basic") {
        None => None,
        Some(encoded) => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok());
            let credentials = decoded
                .as_deref()
                .and_then(|text| text.split_once(':'))
                .and_then(|(id, secret)| Some((basic_component(id)?, basic_component(secret)?)));
            match credentials {
                Some(credentials) => Some(credentials),
                None => return Ok(Err(OAuthError::client("malformed Basic credentials"))),
            }
        }
    };
    if basic.is_some() && params.get("client_secret").is_some() {
        return Ok(Err(OAuthError::new("invalid_request", "one client authentication method")));
    }
    let (client_id, secret) = match &basic {
        Some((id, secret)) => {
            if params.get("client_id").is_some_and(|sent| sent != id) {
                return Ok(Err(OAuthError::new("invalid_request", "client_id differs")));
            }
            (id.as_str(), Some(secret.as_str()))
        }
        None => match params.get("client_id") {
            Some(id) => (id, params.get("client_secret")),
            None => return Ok(Err(OAuthError::client("client authentication is required"))),
        },
    };
    if client_id.len() > 256 {
        return Ok(Err(OAuthError::client("unknown client")));
    }
    let Some(service) = state.store.oidc_client(client_id).await? else {
        return Ok(Err(OAuthError::client("unknown client")));
    };
    let authenticated = match (&service.client_secret_hash, secret) {
        (Some(expected), Some(secret)) => {
            let presented = hex::encode(Sha256::digest(secret.as_bytes()));
            bool::from(presented.as_bytes().ct_eq(expected.to_ascii_lowercase().as_bytes()))
        }
        // A public client authenticates with nothing; PKCE binds its code.
        (None, None) => true,
        _ => false,
    };
    if !authenticated {
        tracing::warn!(service.id = %service.id, "client authentication failed");
        return Ok(Err(OAuthError::client("client authentication failed")));
    }
    Ok(Ok(service))
}

/// A PKCE code verifier's shape (RFC 7636 §4.1): 43 to 128 unreserved characters.
fn plausible_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

pub(crate) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let params = match form(&headers, &body) {
        Ok(params) => params,
        Err(refusal) => return Ok(refusal.response()),
    };
    let service = match authenticate(&state, &headers, &params).await? {
        Ok(service) => service,
        Err(refusal) => return Ok(refusal.response()),
    };
    let outcome = match params.get("grant_type") {
        None => Err(OAuthError::new("invalid_request", "grant_type is required")),
        Some("authorization_code") => exchange(&state, &service, &params).await?,
        Some("refresh_token") => refresh(&state, &service, &params).await?,
        Some(_) => Err(OAuthError::new(
            "unsupported_grant_type",
            "only authorization_code and refresh_token are supported",
        )),
    };
    Ok(match outcome {
        Ok(body) => json(StatusCode::OK, &body),
        Err(refusal) => refusal.response(),
    })
}

fn refused(refusal: GrantRefusal) -> OAuthError {
    match refusal {
        GrantRefusal::Invalid => OAuthError::new("invalid_grant", "the grant is not valid"),
        GrantRefusal::Replayed => {
            OAuthError::new("invalid_grant", "the grant was used before: its tokens are revoked")
        }
    }
}

async fn exchange(
    state: &AppState,
    service: &Service,
    params: &Params,
) -> Result<Result<serde_json::Value, OAuthError>, AppError> {
    let (Some(code), Some(redirect_uri)) = (params.get("code"), params.get("redirect_uri")) else {
        return Ok(Err(OAuthError::new("invalid_request", "code and redirect_uri are required")));
    };
    let Some(code_verifier) = params.get("code_verifier") else {
        return Ok(Err(OAuthError::new("invalid_request", "code_verifier is required (PKCE)")));
    };
    if !plausible_verifier(code_verifier) {
        return Ok(Err(OAuthError::new("invalid_request", "code_verifier is malformed")));
    }
    let exchange = CodeExchange { code, service_id: &service.id, redirect_uri, code_verifier };
    let issued = match state.store.oidc_exchange_code(&exchange, &policy(state)).await? {
        Ok(issued) => issued,
        Err(refusal) => return Ok(Err(refused(refusal))),
    };
    tracing::info!(service.id = %service.id, grant.id = %issued.grant.id, "code exchanged");
    respond(state, service, &issued, None).await
}

async fn refresh(
    state: &AppState,
    service: &Service,
    params: &Params,
) -> Result<Result<serde_json::Value, OAuthError>, AppError> {
    let Some(refresh_token) = params.get("refresh_token") else {
        return Ok(Err(OAuthError::new("invalid_request", "refresh_token is required")));
    };
    let issued = match state.store.oidc_refresh(refresh_token, &service.id, &policy(state)).await? {
        Ok(issued) => issued,
        Err(refusal) => return Ok(Err(refused(refusal))),
    };
    tracing::info!(service.id = %service.id, grant.id = %issued.grant.id, "tokens refreshed");
    respond(state, service, &issued, params.get("scope")).await
}

/// The token response, for the grant's scopes or, on a refresh, the fewer ones asked for.
async fn respond(
    state: &AppState,
    service: &Service,
    issued: &Issued,
    asked: Option<&str>,
) -> Result<Result<serde_json::Value, OAuthError>, AppError> {
    let granted: Vec<&str> = issued.grant.scope.split(' ').filter(|s| !s.is_empty()).collect();
    let scopes = match asked {
        None => granted,
        Some(asked) => {
            let asked: Vec<&str> = asked.split(' ').filter(|s| !s.is_empty()).collect();
            if !asked.contains(&"openid") || asked.iter().any(|scope| !granted.contains(scope)) {
                return Ok(Err(OAuthError::new("invalid_scope", "more than the grant holds")));
            }
            granted.into_iter().filter(|scope| asked.contains(scope)).collect()
        }
    };
    Ok(Ok(claims::token_response(state, service, issued, &scopes).await?))
}

/// RFC 7009: revokes a refresh token (with its whole grant) or an access token of the
/// authenticated client. Unknown tokens, and those of other clients, are answered 200 too.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let params = match form(&headers, &body) {
        Ok(params) => params,
        Err(refusal) => return Ok(refusal.response()),
    };
    let service = match authenticate(&state, &headers, &params).await? {
        Ok(service) => service,
        Err(refusal) => return Ok(refusal.response()),
    };
    let Some(token) = params.get("token") else {
        return Ok(OAuthError::new("invalid_request", "token is required").response());
    };
    // An access token is a JWT (three parts); a refresh token is an opaque string.
    let revoked = if token.split('.').count() == 3 {
        let issuer = issuer(&state);
        let expect = JwtExpectation {
            issuer: &issuer,
            typ: "at+jwt",
            audience: service.client_id.as_deref(),
            check_expiry: false,
        };
        match state.store.oidc_verify_jwt(token, &expect).await? {
            Some(claims) => match claims["jti"].as_str() {
                Some(jti) => state.store.oidc_revoke_access_token(jti, &service.id).await?,
                None => false,
            },
            None => false,
        }
    } else {
        state.store.oidc_revoke_refresh_token(token, &service.id).await?
    };
    if revoked {
        tracing::info!(service.id = %service.id, "token revoked");
    }
    Ok(json(StatusCode::OK, &serde_json::json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        assert_eq!(basic_component("a%3Ab+c").as_deref(), Some("a:b c"));
    }

    #[test]
    fn verifiers_have_the_rfc_7636_shape() {
        assert!(plausible_verifier(&"a".repeat(43)));
        assert!(!plausible_verifier(&"a".repeat(42)));
        assert!(!plausible_verifier(&format!("{}/", "a".repeat(43))));
    }
}
