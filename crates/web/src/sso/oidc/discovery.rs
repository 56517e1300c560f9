//! What the provider publishes about itself: the discovery document (OpenID Connect Discovery
//! 1.0, RFC 8414), listing only what is supported, and the JWKS of its public signing keys.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::json;

use crate::AppState;
use crate::error::AppError;
use crate::sso::oidc::{SCOPES, claims, issuer, json};

/// How long relying parties may cache the discovery document and the JWKS. A new signing key
/// signs at once: relying parties fetch the JWKS again when they meet an unknown `kid`.
const PUBLIC_CACHE: &str = "public, max-age=300";

/// The client authentication methods of the token and revocation endpoints.
pub(crate) const AUTH_METHODS: [&str; 3] = ["client_secret_basic", "client_secret_post", "none"];

pub(crate) async fn configuration(State(state): State<AppState>) -> Response {
    let issuer = issuer(&state);
    let document = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oidc/authorize"),
        "token_endpoint": format!("{issuer}/oidc/token"),
        "userinfo_endpoint": format!("{issuer}/oidc/userinfo"),
        "jwks_uri": format!("{issuer}/oidc/jwks"),
        "revocation_endpoint": format!("{issuer}/oidc/revoke"),
        "end_session_endpoint": format!("{issuer}/oidc/logout"),
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise", "public"],
        "id_token_signing_alg_values_supported": [store::sso::oidc::SIGNING_ALG],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login"],
        "claims_supported": claims::SUPPORTED,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        "frontchannel_logout_supported": false,
        "backchannel_logout_supported": false,
        "ui_locales_supported": ["fr"],
    });
    public(json(StatusCode::OK, &document))
}

pub(crate) async fn jwks(State(state): State<AppState>) -> Result<Response, AppError> {
    // The first request of a new database draws the signing key, so that the JWKS is never
    // empty.
    state.store.oidc_signing_key(&crate::sso::oidc::policy(&state)).await?;
    let keys = state.store.oidc_public_keys().await?;
    Ok(public(json(StatusCode::OK, &json!({ "keys": keys }))))
}

/// A response relying parties may cache for a few minutes.
fn public(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(PUBLIC_CACHE));
    headers.remove(header::PRAGMA);
    response
}
