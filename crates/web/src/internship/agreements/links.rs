//! The single-use signing links of the parties without an account (the tutor, a host's
//! representative who is not one of its members): `/signature/{token}` shows the agreement's
//! summary and e-mails a six-digit code (valid ten minutes) unless one sent just before is
//! still valid; the code, typed on the same page, signs once. A used, expired or outdated
//! link (the agreement changed since), or one blocked after five wrong codes, shows why and
//! never signs; an unknown token is a page that does not exist. The forms carry the pre-login
//! token (no session here).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use store::internship::signatures::{CodeIssue, LinkSignOutcome, LinkState, LinkView};

use crate::AppState;
use crate::accounts::chrome;
use crate::error::AppError;
use crate::form::Fields;
use crate::session::{check_prelogin_csrf, prelogin_token};
use crate::templates::{Chrome, render};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/signature/{token}", get(open).post(sign))
        .route("/signature/{token}/code", post(new_code))
        .route("/signature/{token}/convention.pdf", get(document))
}

#[derive(Template)]
#[template(path = "internship_sign_link.html")]
struct LinkPage {
    chrome: Chrome,
    csrf: String,
    token: String,
    role: &'static str,
    signer: String,
    email: String,
    pupil: String,
    class: String,
    school: String,
    host: String,
    offer: String,
    dates: String,
    sha256: String,
    /// Why the link cannot sign, if it cannot.
    unusable: Option<&'static str>,
    notice: Option<String>,
    error: Option<String>,
    /// The signature was given.
    done: bool,
}

/// A token as links carry it (64 hex digits), else a page that does not exist.
fn checked(token: &str) -> Result<&str, AppError> {
    if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(token)
    } else {
        Err(AppError::NotFound)
    }
}

fn unusable(state: LinkState) -> Option<&'static str> {
    match state {
        LinkState::Open => None,
        LinkState::Used => Some("Ce lien a déjà servi : la signature a été enregistrée."),
        LinkState::Expired => {
            Some("Ce lien a expiré. Demandez au collège de vous envoyer un nouveau lien.")
        }
        LinkState::Outdated => Some(
            "La convention a changé depuis l'envoi de ce lien, ou n'est plus à signer : ce lien \
             ne vaut plus. Si une nouvelle version est à signer, un nouveau lien vous sera envoyé.",
        ),
        LinkState::Blocked => Some(
            "Trop de codes erronés ont été saisis. Demandez au collège de vous envoyer un nouveau \
             lien.",
        ),
    }
}

/// What the page says after a request.
#[derive(Default)]
struct Said {
    notice: Option<String>,
    error: Option<String>,
    /// The signature was given.
    done: bool,
}

fn page(
    headers: &HeaderMap,
    state: &AppState,
    token: &str,
    view: &LinkView,
    status: StatusCode,
    said: Said,
) -> Result<Response, AppError> {
    let Said { notice, error, done } = said;
    let (csrf, set_cookie) = prelogin_token(headers, &state.site);
    let html = render(&LinkPage {
        chrome: chrome("Signer la convention de stage"),
        csrf,
        token: token.to_owned(),
        role: view.role.label_fr(),
        signer: view.signer_name.clone(),
        email: view.masked_email.clone(),
        pupil: view.pupil_name.clone(),
        class: view.pupil_class.clone(),
        school: view.school_name.clone(),
        host: view.host_name.clone(),
        offer: view.offer_title.clone(),
        dates: super::dates_label(&view.first_day, &view.last_day),
        sha256: view.document_sha256.clone(),
        unusable: if done { None } else { unusable(view.state) },
        notice,
        error,
        done,
    })?;
    let mut response = (status, Html(html)).into_response();
    response.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if let Some(cookie) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

fn code_notice(issue: CodeIssue, email: &str) -> Option<String> {
    match issue {
        CodeIssue::Sent => Some(format!(
            "Un code à six chiffres vient d'être envoyé à {email}. Il est valable dix minutes."
        )),
        CodeIssue::StillValid => Some(format!(
            "Un code à six chiffres a été envoyé à {email} il y a peu ; il est valable dix minutes."
        )),
        CodeIssue::Unusable => None,
    }
}

async fn open(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let token = checked(&token)?;
    let now = store::now_unix();
    let view = state.store.sign_link_view(token, now).await?.ok_or(AppError::NotFound)?;

    let notice = if view.state == LinkState::Open {
        let issue = state.store.send_link_code(token, false, now).await?;
        code_notice(issue, &view.masked_email)
    } else {
        None
    };
    page(&headers, &state, token, &view, StatusCode::OK, Said { notice, ..Said::default() })
}

/// The frozen document, for the link's holder to read before signing.
async fn document(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let token = checked(&token)?;
    let (content, id, version) = state
        .store
        .sign_link_document(token, store::now_unix())
        .await?
        .ok_or(AppError::NotFound)?;

    let pdf = formats::agreement_pdf::render_frozen(&content, &id, version)
        .map_err(|reason| AppError::Internal(format!("agreement {id} not rendered: {reason}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/pdf")),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("inline; filename=\"convention.pdf\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox")),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
            (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        ],
        pdf,
    )
        .into_response())
}

async fn new_code(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, AppError> {
    check_prelogin_csrf(&headers, &state.site, fields.get("csrf_token"))?;
    let token = checked(&token)?;
    let now = store::now_unix();
    let view = state.store.sign_link_view(token, now).await?.ok_or(AppError::NotFound)?;

    let issue = state.store.send_link_code(token, true, now).await?;
    let notice = match issue {
        CodeIssue::StillValid => Some(
            "Le dernier code a été envoyé il y a moins d'une minute : attendez-le un instant."
                .to_owned(),
        ),
        other => code_notice(other, &view.masked_email),
    };
    page(&headers, &state, token, &view, StatusCode::OK, Said { notice, ..Said::default() })
}

async fn sign(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    fields: Fields,
) -> Result<Response, AppError> {
    check_prelogin_csrf(&headers, &state.site, fields.get("csrf_token"))?;
    let token = checked(&token)?;
    let context = super::sign_context(&state, &headers, &extensions);
    let view = state.store.sign_link_view(token, context.now).await?.ok_or(AppError::NotFound)?;

    let code: String = fields.get("code").chars().filter(|c| !c.is_whitespace()).collect();
    let outcome = state.store.sign_with_link(token, &code, fields.get("sha256"), &context).await?;
    match outcome {
        LinkSignOutcome::Signed { agreement_id, completed } => {
            tracing::info!(agreement.id = %agreement_id, "signed with a link");
            if completed {
                super::seal(&state, &agreement_id).await;
            }
            let notice = Some("Votre signature est enregistrée. Merci !".to_owned());
            let said = Said { notice, error: None, done: true };
            page(&headers, &state, token, &view, StatusCode::OK, said)
        }
        LinkSignOutcome::WrongCode { tries_left } => {
            let error = Some(if tries_left > 0 {
                format!(
                    "Ce code n'est pas le bon, ou il a expiré. Essais restants : {tries_left}. \
                     Vous pouvez demander un nouveau code."
                )
            } else {
                "Ce code n'est pas le bon. Trop d'essais : demandez un nouveau lien au collège."
                    .to_owned()
            });
            let view = state.store.sign_link_view(token, context.now).await?.unwrap_or(view);
            let said = Said { error, ..Said::default() };
            page(&headers, &state, token, &view, StatusCode::BAD_REQUEST, said)
        }
        LinkSignOutcome::Refused(reason) => {
            let said = Said { error: Some(reason), ..Said::default() };
            page(&headers, &state, token, &view, StatusCode::CONFLICT, said)
        }
    }
}
