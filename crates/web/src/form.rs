//! Reading form bodies and query strings without ever answering 500: a body over the limit, a
//! malformed encoding, NUL bytes, invalid UTF-8 or an oversized field give a French 400 (or
//! 413) page. Handlers then read fields by name. Multipart forms (with a file) read their parts
//! through `read_capped`.

use axum::extract::Multipart;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};

use crate::error::AppError;

/// The largest form body accepted, in bytes.
pub(crate) const MAX_BODY: usize = 64 * 1024;
/// The largest single field accepted, in bytes.
const MAX_FIELD: usize = 4 * 1024;

/// The fields of a submitted `application/x-www-form-urlencoded` form.
#[derive(Debug, Default)]
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    /// The first value of a field, or `""`.
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(key, _)| key == name).map_or("", |(_, value)| value.as_str())
    }

    /// Every value of a field (checkboxes), in order.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(key, _)| key == name).map(|(_, value)| value.as_str()).collect()
    }

    /// Parses a urlencoded text, refusing what a person cannot have typed.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Fields, AppError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
            .map_err(|_| AppError::BadRequest("Le formulaire envoyé est mal formé."))?;
        for (key, value) in &pairs {
            if key.len() > 64 || value.len() > MAX_FIELD {
                return Err(AppError::BadRequest("Un champ du formulaire est trop long."));
            }
            if value.contains(['\0', '\u{FFFD}']) || key.contains(['\0', '\u{FFFD}']) {
                return Err(AppError::BadRequest(
                    "Le formulaire contient des caractères non valides.",
                ));
            }
        }
        Ok(Fields(pairs))
    }

    /// The query string of a URI, leniently: anything malformed reads as no field.
    pub(crate) fn query(uri: &axum::http::Uri) -> Fields {
        uri.query().and_then(|q| Fields::parse(q.as_bytes()).ok()).unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = AppError;

    async fn from_request(request: Request, _state: &S) -> Result<Fields, AppError> {
        let is_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(AppError::BadRequest("Le formulaire envoyé n'est pas au bon format."));
        }

        let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY)
            .await
            .map_err(|_| AppError::TooLarge)?;
        Fields::parse(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_bytes_invalid_utf8_and_long_fields_are_refused() {
        assert!(Fields::parse(b"a=b%00c").is_err());
        assert!(Fields::parse(b"a=%FF%FE").is_err());
        assert!(Fields::parse(format!("a={}", "x".repeat(5000)).as_bytes()).is_err());
        assert_eq!(Fields::parse(b"login=jean.dupont&x=1").unwrap().get("login"), "jean.dupont");
    }
}

/// A person id taken from the path. Anything that cannot be an id (wrong characters, too
/// long, badly encoded) reads as a page that does not exist rather than as a database error.
#[derive(Debug)]
pub(crate) struct PathId(pub(crate) String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PathId {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<PathId, AppError> {
        let axum::extract::Path(id) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| AppError::NotFound)?;
        let plausible = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if plausible { Ok(PathId(id)) } else { Err(AppError::NotFound) }
    }
}

/// The page for a multipart body that cannot be read: `too_large` past the route's limit, a
/// French 400 when it is malformed.
fn multipart_error(error: &MultipartError, too_large: fn() -> AppError) -> AppError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        AppError::BadRequest("Le formulaire envoyé est mal formé.")
    }
}

/// Reads a multipart part up to `cap` bytes; `None` beyond (the rest is read and dropped).
pub(crate) async fn read_capped(
    field: &mut Field<'_>,
    cap: usize,
    too_large: fn() -> AppError,
) -> Result<Option<Vec<u8>>, AppError> {
    let mut bytes = Vec::new();
    let mut over = false;
    while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e, too_large))? {
        if over || bytes.len() + chunk.len() > cap {
            over = true;
            bytes = Vec::new();
            continue;
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(if over { None } else { Some(bytes) })
}

/// A file sent with a multipart form.
pub(crate) struct Upload {
    /// The name the browser gave, as sent.
    pub(crate) name: String,
    pub(crate) bytes: Vec<u8>,
    /// Past the form's cap: `bytes` is then empty.
    pub(crate) too_large: bool,
}

/// The parts of a multipart form: its text fields, and its one file.
#[derive(Default)]
pub(crate) struct MultipartForm {
    pub(crate) fields: Vec<(String, String)>,
    pub(crate) file: Option<Upload>,
}

impl MultipartForm {
    /// The first value of field `name` (`""` if absent).
    pub(crate) fn get(&self, name: &str) -> &str {
        self.fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    /// Every value of field `name`.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
}

/// What a multipart form may hold: the name of its file field and that file's cap, the cap of
/// a text field, how many parts, and the page for a body past the route's limit. Text fields
/// must also be UTF-8 without NUL, with names of at most 64 bytes.
pub(crate) struct MultipartLimits {
    pub(crate) file_field: &'static str,
    pub(crate) file_cap: usize,
    pub(crate) text_cap: usize,
    pub(crate) max_parts: usize,
    pub(crate) too_large: fn() -> AppError,
}

/// Reads a multipart form whole, refusing with a French 400 (or the limits' 413) what it cannot
/// take.
pub(crate) async fn read_multipart(
    mut multipart: Multipart,
    limits: &MultipartLimits,
) -> Result<MultipartForm, AppError> {
    let too_large = limits.too_large;
    let mut form = MultipartForm::default();
    let mut parts = 0;
    while let Some(mut field) =
        multipart.next_field().await.map_err(|e| multipart_error(&e, too_large))?
    {
        parts += 1;
        if parts > limits.max_parts {
            return Err(AppError::BadRequest("Le formulaire envoyé est mal formé."));
        }
        let name = field.name().unwrap_or_default().to_owned();
        if name == limits.file_field {
            let file_name = field.file_name().unwrap_or_default().to_owned();
            form.file = Some(match read_capped(&mut field, limits.file_cap, too_large).await? {
                Some(bytes) => Upload { name: file_name, bytes, too_large: false },
                None => Upload { name: file_name, bytes: Vec::new(), too_large: true },
            });
            continue;
        }

        let Some(bytes) = read_capped(&mut field, limits.text_cap, too_large).await? else {
            return Err(AppError::BadRequest("Un champ du formulaire est trop long."));
        };
        let text = String::from_utf8(bytes).map_err(|_| {
            AppError::BadRequest("Le formulaire contient des caractères non valides.")
        })?;
        if name.len() > 64 || text.contains('\0') {
            return Err(AppError::BadRequest("Le formulaire contient des caractères non valides."));
        }
        form.fields.push((name, text));
    }
    Ok(form)
}

/// Claims a form's one-time token (drawn when the form page was rendered) for `actor_id`, so
/// that a double submit (a double click, a reload) acts once: `Ok(None)` for the first submit,
/// which goes on and then calls `complete_form_submission` or `release_form_submission`;
/// `Ok(Some(result_id))` for a repeat of a submit that already created `result_id`; a French
/// 400 for a missing or malformed token and for a repeat still being processed.
pub(crate) async fn claim_once(
    store: &store::Store,
    actor_id: &str,
    token: &str,
) -> Result<Option<String>, AppError> {
    let well_formed = (1..=64).contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(AppError::BadRequest("Formulaire périmé : rechargez la page et recommencez."));
    }
    match store.claim_form_submission(actor_id, token).await? {
        store::admin::FormSubmission::New => Ok(None),
        store::admin::FormSubmission::Done(result_id) => Ok(Some(result_id)),
        store::admin::FormSubmission::InProgress => Err(AppError::BadRequest(
            "Ce formulaire est déjà en cours d'envoi : patientez puis rechargez la page.",
        )),
    }
}
