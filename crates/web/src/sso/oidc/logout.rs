//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). The GET only checks and asks:
//! an `id_token_hint` this provider signed (expired or not) names the application, whose
//! registered post-logout URIs (`logout_urls`, exact) are the only places the browser may be
//! sent back to; anything else is a French page and no redirect. The person confirms with a
//! POST form (a GET never changes anything, and a forged link cannot log anyone out); the POST
//! ends the session, revokes the refresh tokens it produced, and sends the browser back to the
//! application through a page (the site's CSP `form-action 'self'` would stop a redirect that
//! leaves the site after a form).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use store::sso::Service;
use store::sso::oidc::JwtExpectation;

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::AppError;
use crate::form::Fields;
use crate::session::{SESSION_COOKIE, find_viewer};
use crate::sso::oidc::{Params, issuer, pairs, refusal_page, with_params};
use crate::templates::Chrome;

#[derive(Template)]
#[template(path = "oidc_logout.html")]
struct ConfirmPage {
    chrome: Chrome,
    csrf: String,
    application: Option<String>,
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
    client_state: Option<String>,
}

#[derive(Template)]
#[template(path = "oidc_logout_done.html")]
struct DonePage {
    css: &'static str,
    application: String,
    target: String,
}

const BAD_HINT: &str = "L'application qui vous a envoyé ici a fourni un jeton d'identité que \
    Préau n'a pas délivré ou qui n'est pas le sien. Vous n'avez pas été déconnecté.";
const BAD_TARGET: &str = "L'adresse de retour demandée par l'application n'est pas enregistrée \
    pour elle. Par sécurité, Préau ne vous y envoie pas. Vous n'avez pas été déconnecté.";

/// A checked logout request: the application, and where to send the browser afterwards.
struct Checked {
    service: Option<Service>,
    /// The registered post-logout URI, with `state` added.
    target: Option<String>,
    post_logout_redirect_uri: Option<String>,
    client_state: Option<String>,
}

/// Checks the parameters of a logout request, from the query (GET) or the form (POST). Only a
/// POST may omit the hint: its client and URI come from the page the GET showed, and are
/// checked against the registry again.
async fn check(
    state: &AppState,
    params: &Params,
    hint_required: bool,
) -> Result<Result<Checked, &'static str>, AppError> {
    if params.duplicate().is_some() {
        return Ok(Err(BAD_TARGET));
    }
    let mut client_id = params.get("client_id").map(str::to_owned);
    if let Some(hint) = params.get("id_token_hint") {
        let issuer = issuer(state);
        let expect =
            JwtExpectation { issuer: &issuer, typ: "JWT", audience: None, check_expiry: false };
        let Some(claims) = state.store.oidc_verify_jwt(hint, &expect).await? else {
            tracing::warn!("logout: id_token_hint refused");
            return Ok(Err(BAD_HINT));
        };
        let audience = match &claims["aud"] {
            serde_json::Value::String(aud) => Some(aud.clone()),
            serde_json::Value::Array(auds) => auds.first().and_then(|a| a.as_str()).map(Into::into),
            _ => None,
        };
        if audience.is_none() || (client_id.is_some() && client_id != audience) {
            return Ok(Err(BAD_HINT));
        }
        client_id = audience;
    }
    let service = match client_id.as_deref().filter(|id| id.len() <= 256) {
        Some(id) => match state.store.oidc_client(id).await? {
            Some(service) => Some(service),
            None => return Ok(Err(BAD_HINT)),
        },
        None => None,
    };

    let client_state = params.get("state").filter(|s| s.len() <= 2048).map(str::to_owned);
    let uri = params.get("post_logout_redirect_uri");
    let target = match (uri, &service) {
        (None, _) => None,
        (Some(_), _) if hint_required && params.get("id_token_hint").is_none() => {
            return Ok(Err(BAD_TARGET));
        }
        (Some(uri), Some(service)) if service.logout_urls.iter().any(|url| url == uri) => {
            let mut extra = Vec::new();
            if let Some(client_state) = &client_state {
                extra.push(("state", client_state.as_str()));
            }
            Some(with_params(uri, &extra))
        }
        (Some(_), _) => return Ok(Err(BAD_TARGET)),
    };
    Ok(Ok(Checked {
        service,
        target,
        post_logout_redirect_uri: uri.map(str::to_owned),
        client_state,
    }))
}

fn refused(message: &str) -> Response {
    refusal_page(StatusCode::BAD_REQUEST, "Déconnexion refusée", message)
}

pub(crate) async fn confirm(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(pairs) = pairs(uri.query().unwrap_or("").as_bytes()) else {
        return Ok(refused(BAD_TARGET));
    };
    let checked = match check(&state, &Params::new(pairs), true).await? {
        Ok(checked) => checked,
        Err(message) => return Ok(refused(message)),
    };
    let Some(viewer) = find_viewer(&state, &headers).await? else {
        // Nobody to log out: straight back to the application, or to the login page.
        return Ok(Redirect::to(checked.target.as_deref().unwrap_or("/connexion")).into_response());
    };
    let page = ConfirmPage {
        chrome: viewer_chrome("Se déconnecter de Préau ?", &viewer),
        csrf: viewer.csrf_token.clone(),
        application: checked.service.as_ref().map(|service| service.name.clone()),
        client_id: checked.service.as_ref().and_then(|service| service.client_id.clone()),
        post_logout_redirect_uri: checked.target.as_ref().and(checked.post_logout_redirect_uri),
        client_state: checked.client_state,
    };
    let html = crate::templates::render(&page)?;
    Ok(Html(html).into_response())
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, AppError> {
    let viewer = find_viewer(&state, &headers).await?;
    if let Some(viewer) = &viewer {
        viewer.check_csrf(fields.get("csrf_token"))?;
    }
    let mut params = Vec::new();
    for name in ["client_id", "post_logout_redirect_uri", "state"] {
        if !fields.get(name).is_empty() {
            params.push((name.to_owned(), fields.get(name).to_owned()));
        }
    }
    let checked = match check(&state, &Params::new(params), false).await? {
        Ok(checked) => checked,
        Err(message) => return Ok(refused(message)),
    };

    if let Some(viewer) = &viewer {
        let revoked = state.store.oidc_end_session(&viewer.session_hash).await?;
        state.store.delete_session(&viewer.session_hash).await?;
        tracing::info!(person.id = %viewer.id(), revoked, "logout requested by an application");
    }
    let mut response = match (checked.target, checked.service) {
        (Some(target), Some(service)) => {
            let html = crate::templates::render(&DonePage {
                css: crate::assets::css_href(),
                application: service.name,
                target,
            })?;
            Html(html).into_response()
        }
        _ => Redirect::to("/connexion").into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&state.site.set_cookie(SESSION_COOKIE, "", Some(0))) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}
