//! Reading the compose form without ever answering 500: the multipart body of the page's form
//! (fields, the clicked button, at most one file) and the urlencoded body of the drafts saved
//! as one types. Each field has a cap (the message body's is `MAX_BODY_BYTES`, the file's
//! `MAX_ATTACHMENT_BYTES`); text must be UTF-8 without NUL. Fields the form does not have,
//! such as a forged `from` or `sender`, are read and dropped.

use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use domain::communication::{MAX_ATTACHMENT_BYTES, MAX_BODY_BYTES};

use crate::error::AppError;

/// The largest value of a field other than the body and the file.
const MAX_FIELD: usize = 4 * 1024;
/// The most fields one form may hold.
const MAX_FIELDS: usize = 2_000;

/// What the clicked button asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Button {
    Send,
    Save,
    Attach,
    Search,
    Add,
    RemoveRecipient(String),
    RemoveAttachment(String),
}

/// A file sent with the form.
#[derive(Debug)]
pub(super) struct Upload {
    /// The name the browser gave, as is (made safe by `domain::files::display_name`).
    pub(super) name: String,
    pub(super) bytes: Vec<u8>,
    /// Whether it went past `MAX_ATTACHMENT_BYTES` (the bytes were then dropped).
    pub(super) too_big: bool,
}

/// The compose form as submitted.
#[derive(Debug, Default)]
pub(super) struct ComposeForm {
    pub(super) csrf: String,
    pub(super) draft_id: String,
    pub(super) key: String,
    pub(super) mode: String,
    pub(super) parent: String,
    pub(super) subject: String,
    pub(super) body: String,
    /// Whether the body is the editor's HTML (`format=html`) rather than typed text.
    pub(super) html: bool,
    /// The chosen recipients' tokens.
    pub(super) recipients: Vec<String>,
    /// Tokens ticked among the search's proposals.
    pub(super) add: Vec<String>,
    /// Attachment ids the form lists (a forward's, before its draft is saved).
    pub(super) pieces: Vec<String>,
    pub(super) query: String,
    pub(super) button: Option<Button>,
    pub(super) file: Option<Upload>,
}

impl ComposeForm {
    /// Takes one text field.
    fn set(&mut self, name: &str, value: String) {
        match name {
            "csrf_token" => self.csrf = value,
            "brouillon" => self.draft_id = value,
            "cle" => self.key = value,
            "mode" => self.mode = value,
            "parent" => self.parent = value,
            "sujet" => self.subject = value,
            "corps" => self.body = value,
            "format" => self.html = value == "html",
            "dest" => self.recipients.push(value),
            "ajouter" => self.add.push(value),
            "piece" => self.pieces.push(value),
            "q" => self.query = value,
            "envoyer" => self.button = Some(Button::Send),
            "enregistrer" => self.button = Some(Button::Save),
            "joindre" => self.button = Some(Button::Attach),
            "chercher" => self.button = Some(Button::Search),
            "ajouter_coches" => self.button = Some(Button::Add),
            "retirer_destinataire" => self.button = Some(Button::RemoveRecipient(value)),
            "retirer" => self.button = Some(Button::RemoveAttachment(value)),
            // Anything else (a forged sender among them) is not the form's.
            _ => {}
        }
    }

    /// Reads the multipart body of the compose page.
    pub(super) async fn from_multipart(request: Request) -> Result<ComposeForm, AppError> {
        let mut multipart = Multipart::from_request(request, &())
            .await
            .map_err(|_| AppError::BadRequest("Le formulaire envoyé n'est pas au bon format."))?;
        let mut form = ComposeForm::default();
        let mut count = 0;
        while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
            count += 1;
            if count > MAX_FIELDS {
                return Err(AppError::BadRequest("Le formulaire envoyé contient trop de champs."));
            }
            let name = field.name().unwrap_or("").to_owned();
            if name == "fichier" {
                let upload = read_file(&mut field).await?;
                if upload.too_big || !upload.bytes.is_empty() || !upload.name.is_empty() {
                    form.file = Some(upload);
                }
                continue;
            }
            let cap = if name == "corps" { MAX_BODY_BYTES } else { MAX_FIELD };
            let Some(value) = read_text(&mut field, cap).await? else {
                if name == "corps" {
                    return Err(AppError::TooLarge);
                }
                return Err(AppError::BadRequest("Un champ du formulaire est trop long."));
            };
            form.set(&name, value);
        }
        Ok(form)
    }

    /// Reads the urlencoded body of a draft saved as one types (`corps` may be long).
    pub(super) async fn from_urlencoded(request: Request) -> Result<ComposeForm, AppError> {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES + 64 * 1024)
            .await
            .map_err(|_| AppError::TooLarge)?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| AppError::BadRequest("Le formulaire envoyé est mal formé."))?;
        if pairs.len() > MAX_FIELDS {
            return Err(AppError::BadRequest("Le formulaire envoyé contient trop de champs."));
        }
        let mut form = ComposeForm::default();
        for (name, value) in pairs {
            let cap = if name == "corps" { MAX_BODY_BYTES } else { MAX_FIELD };
            if value.len() > cap {
                return Err(AppError::TooLarge);
            }
            if !acceptable(&value) {
                return Err(invalid_characters());
            }
            form.set(&name, value);
        }
        form.button = Some(Button::Save);
        Ok(form)
    }
}

fn invalid_characters() -> AppError {
    AppError::BadRequest("Le formulaire contient des caractères non valides.")
}

/// Text a person can have typed: no NUL, no replacement character left by bad UTF-8.
fn acceptable(text: &str) -> bool {
    !text.contains(['\0', '\u{FFFD}'])
}

fn multipart_error(error: MultipartError) -> AppError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge
    } else {
        AppError::BadRequest("Le formulaire envoyé est mal formé.")
    }
}

/// A text field's value, or `None` past `cap` bytes.
async fn read_text(field: &mut Field<'_>, cap: usize) -> Result<Option<String>, AppError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        if bytes.len() + chunk.len() > cap {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(bytes).map_err(|_| invalid_characters())?;
    if !acceptable(&text) {
        return Err(invalid_characters());
    }
    Ok(Some(text))
}

/// A file field: its bytes up to the cap; past it, the rest is read and dropped so that the
/// fields after it still arrive.
async fn read_file(field: &mut Field<'_>) -> Result<Upload, AppError> {
    let name = field.file_name().unwrap_or("").chars().take(2_000).collect();
    let mut bytes = Vec::new();
    let mut too_big = false;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        if too_big {
            continue;
        }
        if bytes.len() + chunk.len() > MAX_ATTACHMENT_BYTES {
            too_big = true;
            bytes = Vec::new();
            continue;
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Upload { name, bytes, too_big })
}
