//! The school's side of signing. `/etablissement/{uai}/conventions` lists the collège's
//! agreements with their state and the signatures they still miss, with a checkbox on each one
//! the head may sign now and one « Signer la sélection » button: each selected agreement is
//! signed on its own, each after checking the head's right and the hash of the document the
//! list was built on. `/conventions/{id}/papier` marks a party as signed on paper with the
//! scan attached (a PDF or an image, checked by its content and kept in the FileStore), and
//! `/conventions/{id}/papier/{role}` serves that scan to the agreement's parties.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::internship::{AgreementState, SignatoryRole};
use formats::attachment::FileKind;
use store::StoreError;

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::AppError;
use crate::form::{Fields, MultipartLimits, PathId, read_multipart};
use crate::session::Viewer;
use crate::templates::{Chrome, render};

/// The largest scan accepted, in bytes.
const MAX_SCAN_BYTES: usize = 10 * 1024 * 1024;
/// The largest body of the paper form: the scan and a few fields.
const MAX_PAPER_BODY: usize = MAX_SCAN_BYTES + 64 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/etablissement/{uai}/conventions", get(school_list))
        .route("/etablissement/{uai}/conventions/signer", post(sign_selection))
        .route("/conventions/{id}/papier", post(paper).layer(DefaultBodyLimit::max(MAX_PAPER_BODY)))
        .route("/conventions/{id}/papier/{role}", get(scan))
}

/// One agreement of the school's list.
pub(crate) struct SchoolLine {
    pub(crate) id: String,
    pub(crate) pupil: String,
    pub(crate) class: String,
    pub(crate) host: String,
    pub(crate) dates: String,
    pub(crate) state: &'static str,
    pub(crate) missing: String,
    /// `id:sha256` when the head may sign it now.
    pub(crate) signable: Option<String>,
}

#[derive(Template)]
#[template(path = "internship_agreement_school_list.html")]
struct SchoolListPage {
    chrome: Chrome,
    csrf: String,
    uai: String,
    lines: Vec<SchoolLine>,
    /// After signing a selection: what was signed, what was refused and why.
    results: Vec<String>,
    signed: usize,
}

async fn school_list(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(uai): Path<String>,
) -> Result<Response, AppError> {
    list_page(&state, &viewer, &uai, Vec::new(), 0).await
}

async fn list_page(
    state: &AppState,
    viewer: &Viewer,
    uai: &str,
    results: Vec<String>,
    signed: usize,
) -> Result<Response, AppError> {
    let (school, summaries) =
        state.store.school_agreements(viewer.id(), uai).await?.ok_or(AppError::NotFound)?;

    let lines = summaries
        .into_iter()
        .map(|s| {
            let head_missing = s.missing.contains(&SignatoryRole::Head);
            let signable = match (&s.document_sha256, s.state, head_missing) {
                (Some(sha), AgreementState::Signing, true) => Some(format!("{}:{sha}", s.id)),
                _ => None,
            };
            SchoolLine {
                missing: super::roles_text(&s.missing),
                dates: super::dates_label(&s.first_day, &s.last_day),
                id: s.id,
                pupil: s.pupil_name,
                class: s.pupil_class,
                host: s.host_name,
                state: s.state.label_fr(),
                signable,
            }
        })
        .collect();
    let html = render(&SchoolListPage {
        chrome: viewer_chrome(&format!("Conventions de stage · {}", school.name), viewer),
        csrf: viewer.csrf_token.clone(),
        uai: crate::error::percent_encode(&school.uai),
        lines,
        results,
        signed,
    })?;
    Ok(Html(html).into_response())
}

async fn sign_selection(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(uai): Path<String>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    if state.store.school_agreements(viewer.id(), &uai).await?.is_none() {
        return Err(AppError::NotFound);
    }
    let items: Vec<(String, String)> = fields
        .all("convention")
        .into_iter()
        .filter_map(|value| value.split_once(':'))
        .map(|(id, sha)| (id.to_owned(), sha.to_owned()))
        .collect();
    if items.is_empty() {
        let results = vec!["Cochez au moins une convention à signer.".to_owned()];
        return list_page(&state, &viewer, &uai, results, 0).await;
    }

    let context = super::sign_context(&state, &headers, &extensions);
    let outcomes = state.store.sign_selection_as_head(viewer.id(), &uai, &items, &context).await?;
    let mut results = Vec::new();
    let mut signed = 0;
    for (id, outcome) in outcomes {
        match outcome {
            Ok(done) => {
                signed += 1;
                if done.completed {
                    super::seal(&state, &id).await;
                }
            }
            Err(reason) => results.push(reason),
        }
    }
    tracing::info!(
        person.id = %viewer.id(),
        signed,
        refused = results.len(),
        "selection of agreements signed"
    );
    list_page(&state, &viewer, &uai, results, signed).await
}

/// The page for a paper form over its route's limit.
fn scan_too_large() -> AppError {
    AppError::FileTooLarge { limit_mb: MAX_SCAN_BYTES / (1024 * 1024) }
}

const PAPER_LIMITS: MultipartLimits = MultipartLimits {
    file_field: "scan",
    file_cap: MAX_SCAN_BYTES,
    text_cap: 1024,
    max_parts: 8,
    too_large: scan_too_large,
};

async fn paper(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, AppError> {
    let multipart = multipart
        .map_err(|_| AppError::BadRequest("Le formulaire envoyé n'est pas au bon format."))?;
    let form = read_multipart(multipart, &PAPER_LIMITS).await?;
    viewer.check_csrf(form.get("csrf_token"))?;
    let back = format!("/conventions/{id}");
    let (_, standing) =
        state.store.agreement_page(viewer.id(), &id).await?.ok_or(AppError::NotFound)?;
    if !standing.school_admin {
        return Err(AppError::NotFound);
    }
    let role = SignatoryRole::parse(form.get("role"))
        .ok_or(AppError::BadRequest("Le rôle de signature n'est pas reconnu."))?;

    let reason = match &form.file {
        None => Some("Joignez le scan de la convention signée.".to_owned()),
        Some(upload) if upload.too_large => {
            Some(format!("Le scan dépasse {} Mo.", MAX_SCAN_BYTES / (1024 * 1024)))
        }
        Some(upload) if upload.bytes.is_empty() => {
            Some("Joignez le scan de la convention signée.".to_owned())
        }
        Some(upload) => match formats::attachment::sniff(&upload.bytes, &upload.name) {
            Ok(kind) if kind == FileKind::Pdf || kind.is_image() => None,
            Ok(_) => Some("Le scan doit être un PDF ou une image (PNG, JPEG, GIF, WebP).".into()),
            Err(reason) => Some(format!("Scan refusé : {reason}")),
        },
    };
    if let Some(reason) = reason {
        return super::refused_page(&viewer, StatusCode::BAD_REQUEST, reason, &back);
    }
    let shown_sha256 = form.get("sha256").to_owned();
    let Some(upload) = form.file else { return Err(AppError::NotFound) };

    let key = store::files::FileStore::new_key();
    state
        .files()?
        .put(&key, upload.bytes)
        .await
        .map_err(|e| AppError::Internal(format!("agreement scan {id}: {e}")))?;
    let context = super::sign_context(&state, &headers, &extensions);
    let outcome =
        state.store.sign_on_paper(viewer.id(), &id, role, &shown_sha256, &key, &context).await;
    let signed = match outcome {
        Ok(signed) => signed,
        Err(error) => {
            if let Err(e) = state.files()?.delete(&key).await {
                tracing::warn!(agreement.id = %id, error = %e, "unused scan not deleted");
            }
            return match error {
                StoreError::Conflict(message) => {
                    super::refused_page(&viewer, StatusCode::CONFLICT, message, &back)
                }
                other => Err(other.into()),
            };
        }
    };
    tracing::info!(person.id = %viewer.id(), agreement.id = %id, role = role.as_str(), "paper");
    if signed.completed {
        super::seal(&state, &id).await;
        return Ok(Redirect::to(&format!("{back}?fait=complete")).into_response());
    }
    Ok(Redirect::to(&format!("{back}?fait=papier")).into_response())
}

async fn scan(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, role)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let role = SignatoryRole::parse(&role).ok_or(AppError::NotFound)?;
    if id.len() > 64 {
        return Err(AppError::NotFound);
    }
    let key = state
        .store
        .paper_scan_for_viewer(viewer.id(), &id, role)
        .await?
        .ok_or(AppError::NotFound)?;

    let bytes = state
        .files()?
        .get(&key)
        .await
        .map_err(|e| AppError::Internal(format!("agreement scan {id}: {e}")))?;
    // The scan was checked at upload; its kind is read again from its bytes.
    let kind = ["scan.pdf", "scan.png", "scan.jpg", "scan.gif", "scan.webp"]
        .into_iter()
        .find_map(|name| formats::attachment::sniff(&bytes, name).ok())
        .ok_or_else(|| AppError::Internal(format!("agreement scan {id}: unknown kind")))?;
    let disposition =
        format!("attachment; filename=\"scan-{}.{}\"", role.as_str(), kind.extension());
    let disposition = HeaderValue::from_str(&disposition)
        .map_err(|_| AppError::Internal(format!("agreement scan {id}: disposition")))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind.content_type())),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox")),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
        ],
        bytes,
    )
        .into_response())
}
