//! The agreement's PDF on the web: `seal_completed` seals an agreement once its last signature
//! lands (the sealed bytes kept in the FileStore, their key recorded);
//! `/conventions/{id}/convention.pdf` serves its parties the sealed PDF when it is signed
//! (sealed on demand when the seal is missing), the frozen document while it is being signed,
//! and a draft before; and `/verification`, public, tells anyone who uploads a PDF whether it
//! is an authentic, complete and known agreement, with what its seal says and nothing more
//! from the database.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use domain::internship::AgreementState;
use sha2::{Digest, Sha256};
use store::internship::seal::Verification;

use crate::AppState;
use crate::accounts::chrome;
use crate::error::AppError;
use crate::form::{MultipartLimits, PathId, read_multipart};
use crate::session::{Viewer, check_prelogin_csrf, prelogin_token};
use crate::templates::{Chrome, render};

/// The largest PDF the verification page reads, in bytes.
const MAX_PDF_BYTES: usize = 15 * 1024 * 1024;
/// The largest body of the verification form: the PDF and its token.
const MAX_VERIFY_BODY: usize = MAX_PDF_BYTES + 64 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/conventions/{id}/convention.pdf", get(download)).route(
        "/verification",
        get(verify_form).post(verify_upload).layer(DefaultBodyLimit::max(MAX_VERIFY_BODY)),
    )
}

/// Seals a signed agreement and keeps the sealed file: called when the last signature lands,
/// and by the download when the seal is missing. Returns nothing; the sealed bytes are in the
/// FileStore under the recorded key.
pub(crate) async fn seal_completed(state: &AppState, agreement_id: &str) -> Result<(), AppError> {
    seal_and_keep(state, agreement_id).await.map(|_| ())
}

async fn seal_and_keep(state: &AppState, agreement_id: &str) -> Result<Vec<u8>, AppError> {
    let sealed = state.store.seal_agreement(agreement_id).await?;
    let sha256 = hex::encode(Sha256::digest(&sealed));

    let key = store::files::FileStore::new_key();
    state
        .files()?
        .put(&key, sealed.clone())
        .await
        .map_err(|e| AppError::Internal(format!("sealed agreement {agreement_id}: {e}")))?;
    state.store.record_sealed_file(agreement_id, &key, &sha256).await?;
    tracing::info!(agreement.id = %agreement_id, "sealed agreement kept");
    Ok(sealed)
}

/// The PDF of an agreement for one of its parties.
async fn download(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
) -> Result<Response, AppError> {
    let record =
        state.store.agreement_for_viewer(viewer.id(), &id).await?.ok_or(AppError::NotFound)?;
    let unrendered = |reason: String| AppError::Internal(format!("agreement {id}: {reason}"));

    let bytes = match record.state {
        AgreementState::Signed => {
            let kept = match record.sealed_file_key.as_deref() {
                Some(key) => state.files()?.get(key).await.ok(),
                None => None,
            };
            match kept {
                Some(bytes) => bytes,
                None => seal_and_keep(&state, &id).await?,
            }
        }
        AgreementState::Signing => {
            formats::agreement_pdf::render_frozen(&record.content, &record.id, record.version)
                .map_err(unrendered)?
        }
        AgreementState::HostPending | AgreementState::SchoolPending | AgreementState::Cancelled => {
            formats::agreement_pdf::render_draft(&record.content, &record.id, record.version)
                .map_err(unrendered)?
        }
    };

    let suffix = match record.state {
        AgreementState::Signed => "-signee",
        AgreementState::Signing => "",
        _ => "-projet",
    };
    // The id passed `PathId`: ASCII letters, digits, `-` and `_` only.
    let disposition = format!("attachment; filename=\"convention-{id}{suffix}.pdf\"");
    let disposition = HeaderValue::from_str(&disposition)
        .map_err(|_| AppError::Internal(format!("agreement {id}: disposition")))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/pdf")),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox")),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
        ],
        bytes,
    )
        .into_response())
}

/// One signature of the seal, as the page shows it.
struct SignatureView {
    role: String,
    name: String,
    method: String,
    at: String,
    on_frozen_document: bool,
}

/// What a verified file's seal says.
struct SealView {
    agreement_id: String,
    version: i64,
    key_id: String,
    frozen_sha256: String,
    signatures: Vec<SignatureView>,
}

/// The verdict shown after an upload.
struct VerdictView {
    file_name: String,
    sha256: String,
    authentic: bool,
    complete: bool,
    known: bool,
    /// Authentic, complete and known.
    valid: bool,
    explanations: Vec<String>,
    seal: Option<SealView>,
}

#[derive(Template)]
#[template(path = "internship_verify.html")]
struct VerifyPage {
    chrome: Chrome,
    csrf: String,
    error: Option<&'static str>,
    verdict: Option<VerdictView>,
}

fn verdict_view(file_name: &str, bytes: &[u8], verification: Verification) -> VerdictView {
    let name = domain::files::display_name(file_name, "pdf");
    VerdictView {
        file_name: if name.is_empty() { "document.pdf".to_owned() } else { name },
        sha256: hex::encode(Sha256::digest(bytes)),
        authentic: verification.authentic,
        complete: verification.complete,
        known: verification.known,
        valid: verification.authentic && verification.complete && verification.known,
        explanations: verification.explanations,
        seal: verification.seal.map(|seal| SealView {
            agreement_id: seal.agreement_id,
            version: seal.version,
            key_id: seal.key_id,
            frozen_sha256: seal.frozen_sha256,
            signatures: seal
                .signatures
                .into_iter()
                .map(|signature| SignatureView {
                    role: signature.role_label,
                    name: signature.name,
                    method: signature.method_label,
                    at: signature.signed_at_local,
                    on_frozen_document: signature.on_frozen_document,
                })
                .collect(),
        }),
    }
}

fn page(
    headers: &HeaderMap,
    state: &AppState,
    status: StatusCode,
    error: Option<&'static str>,
    verdict: Option<VerdictView>,
) -> Result<Response, AppError> {
    let (csrf, set_cookie) = prelogin_token(headers, &state.site);
    let page =
        VerifyPage { chrome: chrome("Vérifier une convention de stage"), csrf, error, verdict };
    let mut response = (status, Html(render(&page)?)).into_response();
    if let Some(cookie) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

async fn verify_form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    page(&headers, &state, StatusCode::OK, None, None)
}

fn pdf_too_large() -> AppError {
    AppError::FileTooLarge { limit_mb: MAX_PDF_BYTES / (1024 * 1024) }
}

const LIMITS: MultipartLimits = MultipartLimits {
    file_field: "fichier",
    file_cap: MAX_PDF_BYTES,
    text_cap: 256,
    max_parts: 4,
    too_large: pdf_too_large,
};

async fn verify_upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, AppError> {
    let multipart = multipart
        .map_err(|_| AppError::BadRequest("Le formulaire envoyé n'est pas au bon format."))?;
    let form = read_multipart(multipart, &LIMITS).await?;
    check_prelogin_csrf(&headers, &state.site, form.get("csrf_token"))?;

    let Some(upload) = form.file.filter(|file| !file.bytes.is_empty() || file.too_large) else {
        let error = Some("Choisissez le fichier PDF de la convention à vérifier.");
        return page(&headers, &state, StatusCode::UNPROCESSABLE_ENTITY, error, None);
    };
    if upload.too_large {
        let error = Some("Ce fichier dépasse 15 Mo : ce n'est pas une convention de Préau.");
        return page(&headers, &state, StatusCode::PAYLOAD_TOO_LARGE, error, None);
    }
    let verification = state.store.verify_agreement_pdf(&upload.bytes).await?;
    tracing::info!(
        authentic = verification.authentic,
        complete = verification.complete,
        known = verification.known,
        "agreement verified"
    );
    let verdict = verdict_view(&upload.name, &upload.bytes, verification);
    page(&headers, &state, StatusCode::OK, None, Some(verdict))
}
