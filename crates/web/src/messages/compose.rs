//! The compose form, `/messagerie/ecrire`: a new message, a reply, a reply to all, a forward
//! or a draft taken up again. Without JavaScript everything is a button of one multipart form
//! (search reachable people and groups, add the ticked ones, remove a recipient, attach or
//! remove a file, save, send) and each action but the send saves the draft and comes back to
//! it (303). The send carries the idempotency key drawn when the window opened and kept in the
//! draft; the store's refusals come back as the same form with the input kept and a French
//! reason (409, 422 or 429 with `Retry-After` where the protocol says so). With `mail.js`,
//! drafts are also saved as one types (`/messagerie/brouillons/{id}`) and recipients are
//! suggested from `/messagerie/destinataires`.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use domain::communication::{
    MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, MAX_STORED_BODY_BYTES, MAX_SUBJECT_BYTES,
    MAX_SUBJECT_CHARS, Recipient,
};
use formats::rich_text;
use store::messaging::{
    AttachmentRef, ComposeMode, Draft, DraftInput, SendOutcome, SendRefusal, SendRequest,
};

use super::compose_form::{Button, ComposeForm};
use super::reading::attachment_lines;
use super::views::{Candidate, ChosenRecipient, ComposePage};
use super::{mail_nav, publish, size_label, upload};
use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::{AppError, percent_encode};
use crate::form::{Fields, PathId};
use crate::session::Viewer;
use crate::templates::render;

/// The most groups the compose search proposes at once.
const MAX_GROUPS_SHOWN: usize = 60;
/// The most suggestions the JSON picker returns.
const MAX_SUGGESTIONS: usize = 20;
/// The longest search, in characters.
const MAX_QUERY_CHARS: usize = 100;

/// A fresh idempotency key (UUIDv7: unique, and ordered by time for the index).
fn new_key() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Whether a key can be one: 1 to 64 characters of `[A-Za-z0-9_-]`.
fn plausible_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What the compose form holds, from a stored draft or from a submitted form.
struct Composition {
    draft_id: String,
    key: String,
    mode: ComposeMode,
    parent: Option<String>,
    subject: String,
    /// Sanitised HTML, for the editor and for the draft.
    body_html: String,
    /// The body as plain text, for the text field.
    body_text: String,
    recipients: Vec<Recipient>,
    /// Attachment ids the form lists, before its draft holds them (a forward's).
    pieces: Vec<String>,
}

impl Composition {
    fn from_draft(draft: &Draft) -> Composition {
        let body_html = rich_text::sanitize(&draft.body_html);
        Composition {
            draft_id: draft.id.clone(),
            key: if plausible_key(&draft.idempotency_key) {
                draft.idempotency_key.clone()
            } else {
                new_key()
            },
            mode: draft.mode,
            parent: draft.parent_id.clone(),
            subject: draft.subject.clone(),
            body_text: rich_text::to_plain_text(&body_html),
            body_html,
            recipients: draft.recipients.clone(),
            pieces: draft.attachments.iter().map(|a| a.id.clone()).collect(),
        }
    }

    /// The submitted form, with the ticked proposals added and a removed recipient taken off.
    /// Malformed tokens are dropped: no person or group can be named by them.
    fn from_form(form: &ComposeForm, headers: Option<&HeaderMap>) -> Composition {
        let removed = match &form.button {
            Some(Button::RemoveRecipient(token)) => Some(token.as_str()),
            _ => None,
        };
        let mut recipients: Vec<Recipient> = Vec::new();
        for token in form.recipients.iter().chain(&form.add) {
            if Some(token.as_str()) == removed {
                continue;
            }
            if let Some(recipient) = Recipient::parse(token)
                && !recipients.contains(&recipient)
            {
                recipients.push(recipient);
            }
        }
        let (body_html, body_text) = if form.html {
            let html = rich_text::sanitize(&form.body);
            let text = rich_text::to_plain_text(&html);
            (html, text)
        } else {
            (rich_text::from_plain_text(&form.body), form.body.clone())
        };
        let header_key = headers
            .and_then(|h| h.get("idempotency-key"))
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim_matches('"').to_owned())
            .unwrap_or_default();
        let key = if form.key.is_empty() { header_key } else { form.key.clone() };
        let mut pieces: Vec<String> = Vec::new();
        for piece in &form.pieces {
            if !pieces.contains(piece) && pieces.len() < MAX_ATTACHMENTS * 2 {
                pieces.push(piece.clone());
            }
        }
        Composition {
            draft_id: form.draft_id.clone(),
            key,
            mode: ComposeMode::parse(&form.mode).unwrap_or(ComposeMode::New),
            parent: Some(form.parent.clone()).filter(|p| !p.is_empty()),
            subject: form.subject.clone(),
            body_html,
            body_text,
            recipients,
            pieces,
        }
    }

    fn draft_input(&self) -> DraftInput {
        DraftInput {
            id: Some(self.draft_id.clone()).filter(|id| !id.is_empty()),
            subject: self.subject.clone(),
            body_html: self.body_html.clone(),
            recipients: self.recipients.clone(),
            mode: self.mode,
            parent_id: self.parent.clone(),
            idempotency_key: self.key.clone(),
        }
    }

    /// A French reason when the form cannot be kept as is.
    fn problem(&self) -> Option<String> {
        if self.subject.chars().count() > MAX_SUBJECT_CHARS
            || self.subject.len() > MAX_SUBJECT_BYTES
        {
            return Some(format!(
                "L'objet est trop long : {MAX_SUBJECT_CHARS} caractères au plus."
            ));
        }
        // What is typed is capped by the form; once escaped or sanitised it may grow (a `<`
        // becomes `&lt;`), and the store refuses a body past its own cap.
        let body_too_long = self.body_html.len() > MAX_STORED_BODY_BYTES
            || self.body_text.len() > MAX_STORED_BODY_BYTES;
        body_too_long.then(|| {
            "Le message est trop long une fois mis en forme : raccourcissez-le, ou joignez-le \
             en fichier."
                .to_owned()
        })
    }
}

/// What a page of the compose form shows besides the composition.
#[derive(Default)]
struct Extras {
    /// The search to run, when one was asked for (possibly empty: every group).
    search: Option<String>,
    error: Option<String>,
    notice: Option<&'static str>,
}

/// The people and groups a search proposes, minus those already chosen.
async fn candidates(
    state: &AppState,
    viewer: &Viewer,
    query: &str,
    chosen: &[Recipient],
) -> Result<(Vec<Candidate>, Vec<Candidate>, bool), AppError> {
    let chosen: Vec<String> = chosen.iter().map(Recipient::token).collect();
    let searchable = query.chars().count() >= 2;
    let people = if searchable {
        state
            .store
            .search_directory(viewer.id(), query)
            .await?
            .into_iter()
            .map(|p| Candidate {
                token: Recipient::Person(p.id.clone()).token(),
                label: format!("{} {}", p.first_name, p.last_name),
                detail: p.profile.label_fr().to_owned(),
            })
            .filter(|c| !chosen.contains(&c.token))
            .collect()
    } else {
        Vec::new()
    };
    let folded = domain::names::fold_for_search(query);
    let groups = state
        .store
        .recipient_groups(viewer.id())
        .await?
        .into_iter()
        .filter(|g| {
            folded.is_empty()
                || domain::names::fold_for_search(&format!("{} {}", g.label, g.school_name))
                    .contains(&folded)
        })
        .filter(|g| !chosen.contains(&g.token))
        .take(MAX_GROUPS_SHOWN)
        .map(|g| Candidate {
            detail: format!(
                "{}, {} personne{}",
                g.school_name,
                g.members,
                if g.members > 1 { "s" } else { "" }
            ),
            token: g.token,
            label: g.label,
        })
        .collect();
    Ok((people, groups, !query.is_empty() && !searchable))
}

/// The compose page for a composition.
async fn page(
    state: &AppState,
    viewer: &Viewer,
    composition: Composition,
    attachments: &[AttachmentRef],
    extras: Extras,
    status: StatusCode,
) -> Result<Response, AppError> {
    let labels = state.store.recipient_labels(viewer.id(), &composition.recipients).await?;
    let (people, groups, too_short) = match &extras.search {
        Some(query) => candidates(state, viewer, query, &composition.recipients).await?,
        None => (Vec::new(), Vec::new(), false),
    };
    let (nav, _) = mail_nav(state, viewer, None, "").await?;
    let title = match composition.mode {
        ComposeMode::New => "Nouveau message",
        ComposeMode::Reply => "Répondre",
        ComposeMode::ReplyAll => "Répondre à tous",
        ComposeMode::Forward => "Transférer",
    };
    let page = ComposePage {
        chrome: viewer_chrome(title, viewer),
        csrf: viewer.csrf_token.clone(),
        draft_id: composition.draft_id,
        key: composition.key,
        mode: composition.mode.code(),
        parent_id: composition.parent.unwrap_or_default(),
        subject: composition.subject,
        body: composition.body_text,
        body_html: composition.body_html,
        recipients: labels
            .into_iter()
            .map(|(token, label)| ChosenRecipient { token, label })
            .collect(),
        searched: extras.search.is_some(),
        query: extras.search.unwrap_or_default(),
        too_short,
        people,
        groups,
        attachments: attachment_lines(attachments),
        error: extras.error,
        notice: extras.notice,
        max_attachment: size_label(i64::try_from(MAX_ATTACHMENT_BYTES).unwrap_or(i64::MAX)),
        max_attachments: MAX_ATTACHMENTS,
        nav,
    };
    Ok((status, Html(render(&page)?)).into_response())
}

/// The draft a query names (`brouillon`), or the form of a reply (`reponse`), a reply to all
/// (`reponse_tous`), a forward (`transfert`), or a new message (`a=<token>` optional).
async fn requested_draft(
    state: &AppState,
    viewer: &Viewer,
    query: &Fields,
) -> Result<Draft, AppError> {
    let owner = viewer.id();
    for (name, mode) in [
        ("reponse", ComposeMode::Reply),
        ("reponse_tous", ComposeMode::ReplyAll),
        ("transfert", ComposeMode::Forward),
    ] {
        let id = query.get(name);
        if !id.is_empty() {
            return Ok(state.store.compose_from(owner, mode, id).await?);
        }
    }
    let draft_id = query.get("brouillon");
    if !draft_id.is_empty() {
        return Ok(state.store.draft(owner, draft_id).await?);
    }
    let recipients: Vec<Recipient> = Recipient::parse(query.get("a")).into_iter().collect();
    Ok(Draft {
        id: String::new(),
        subject: String::new(),
        body_html: String::new(),
        recipients,
        recipient_labels: Vec::new(),
        mode: ComposeMode::New,
        parent_id: None,
        idempotency_key: new_key(),
        attachments: Vec::new(),
        updated_at: 0,
    })
}

pub(crate) async fn form(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    let query = Fields::query(&uri);
    let draft = requested_draft(&state, &viewer, &query).await?;
    let search = (query.get("chercher") == "1")
        .then(|| query.get("q").trim().chars().take(MAX_QUERY_CHARS).collect());
    let notice = match query.get("fait") {
        "enregistre" => Some("Le brouillon est enregistré."),
        "joint" => Some("Le fichier est joint au message."),
        "retire" => Some("Le fichier est retiré du message."),
        _ => None,
    };

    let composition = Composition::from_draft(&draft);
    let extras = Extras { search, error: None, notice };
    page(&state, &viewer, composition, &draft.attachments, extras, StatusCode::OK).await
}

/// Saves the composition as a draft (creating it when it has no id, or with `recreate` when
/// its draft was sent or deleted meanwhile: the page was older) and attaches the files the form
/// lists. `Err` is a French refusal; a draft that is not the viewer's is a 404 otherwise.
async fn save(
    state: &AppState,
    viewer: &Viewer,
    composition: &mut Composition,
    recreate: bool,
) -> Result<Result<Draft, String>, AppError> {
    if let Some(problem) = composition.problem() {
        return Ok(Err(problem));
    }
    let owner = viewer.id();
    let mut input = composition.draft_input();
    let saved = match state.store.save_draft(owner, &input).await {
        Err(store::StoreError::NotFound) if recreate && input.id.is_some() => {
            input.id = None;
            state.store.save_draft(owner, &input).await
        }
        other => other,
    };
    let id = match saved {
        Ok(id) => id,
        Err(store::StoreError::Conflict(reason)) => return Ok(Err(reason)),
        Err(other) => return Err(other.into()),
    };
    composition.draft_id = id.clone();

    let draft = state.store.draft(owner, &id).await?;
    for piece in &composition.pieces {
        if draft.attachments.iter().any(|a| a.id == *piece) {
            continue;
        }
        match state.store.attach_to_draft(owner, &id, piece).await {
            // An id that is not the viewer's to use is simply not attached.
            Ok(()) | Err(store::StoreError::NotFound) => {}
            Err(store::StoreError::Conflict(reason)) => return Ok(Err(reason)),
            Err(other) => return Err(other.into()),
        }
    }
    let draft = state.store.draft(owner, &id).await?;
    composition.pieces = draft.attachments.iter().map(|a| a.id.clone()).collect();
    Ok(Ok(draft))
}

/// The compose page again with a refusal, the input kept.
async fn refused(
    state: &AppState,
    viewer: &Viewer,
    composition: Composition,
    error: String,
    status: StatusCode,
) -> Result<Response, AppError> {
    let attachments = listed_attachments(state, viewer, &composition).await?;
    let extras = Extras { error: Some(error), ..Extras::default() };
    page(state, viewer, composition, &attachments, extras, status).await
}

/// The attachments a composition shows: its draft's, else nothing known yet.
async fn listed_attachments(
    state: &AppState,
    viewer: &Viewer,
    composition: &Composition,
) -> Result<Vec<AttachmentRef>, AppError> {
    if composition.draft_id.is_empty() {
        return Ok(Vec::new());
    }
    match state.store.draft(viewer.id(), &composition.draft_id).await {
        Ok(draft) => Ok(draft.attachments),
        Err(store::StoreError::NotFound) => Ok(Vec::new()),
        Err(other) => Err(other.into()),
    }
}

/// `/messagerie/ecrire?brouillon=<id>` with more query parameters.
fn back_to_draft(id: &str, more: &str) -> String {
    format!("/messagerie/ecrire?brouillon={}{more}", percent_encode(id))
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, AppError> {
    let Some(_slot) = state.uploads.enter_waiting(viewer.id()).await else {
        return Ok(upload::too_many_uploads());
    };
    let mut form = ComposeForm::from_multipart(request).await?;
    viewer.check_csrf(&form.csrf)?;
    let mut composition = Composition::from_form(&form, Some(&headers));
    let button = form.button.clone().unwrap_or(Button::Save);
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    // A file is checked before anything is saved: a refused one leaves no trace.
    let file = match form.file.take().map(upload::check) {
        Some(Err(reason)) => {
            return refused(&state, &viewer, composition, reason, unprocessable).await;
        }
        Some(Ok(file)) => Some(file),
        None => None,
    };
    if button == Button::Send && file.is_none() {
        return send(&state, &viewer, composition).await;
    }

    // Every other action works on the saved draft; a file chosen is attached whatever the
    // button (a file chosen, then "Envoyer", is sent with the message).
    if !plausible_key(&composition.key) {
        composition.key = new_key();
    }
    let draft = match save(&state, &viewer, &mut composition, true).await? {
        Ok(draft) => draft,
        Err(reason) => return refused(&state, &viewer, composition, reason, unprocessable).await,
    };
    let attached = match file {
        Some(file) => match upload::attach(&state, &viewer, &draft, file).await? {
            Ok(()) => true,
            Err(reason) => {
                return refused(&state, &viewer, composition, reason, unprocessable).await;
            }
        },
        None => false,
    };
    let target = match button {
        Button::Send => return send(&state, &viewer, composition).await,
        Button::Search => {
            let query: String = form.query.trim().chars().take(MAX_QUERY_CHARS).collect();
            back_to_draft(&draft.id, &format!("&chercher=1&q={}", percent_encode(&query)))
        }
        Button::Attach if !attached => {
            let error = "Choisissez d'abord un fichier à joindre.".to_owned();
            return refused(&state, &viewer, composition, error, unprocessable).await;
        }
        Button::RemoveAttachment(attachment_id) => {
            state.store.detach_from_draft(viewer.id(), &draft.id, &attachment_id).await?;
            back_to_draft(&draft.id, "&fait=retire")
        }
        _ if attached => back_to_draft(&draft.id, "&fait=joint"),
        Button::Attach | Button::Save | Button::Add | Button::RemoveRecipient(_) => {
            back_to_draft(&draft.id, "&fait=enregistre")
        }
    };
    Ok(Redirect::to(&target).into_response())
}

/// Sends the composition as the viewer; the outcome is a redirect to the message, or the form
/// again with the refusal.
async fn send(
    state: &AppState,
    viewer: &Viewer,
    mut composition: Composition,
) -> Result<Response, AppError> {
    if !plausible_key(&composition.key) {
        return Err(AppError::BadRequest(
            "La clé d'envoi de ce formulaire manque : rouvrez la page d'écriture et recommencez.",
        ));
    }
    if let Some(problem) = composition.problem() {
        return refused(state, viewer, composition, problem, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    }
    let mut attachment_ids = listed_attachments(state, viewer, &composition)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect::<Vec<_>>();
    for piece in &composition.pieces {
        if !attachment_ids.contains(piece) {
            attachment_ids.push(piece.clone());
        }
    }
    let request = SendRequest {
        sender_id: viewer.id().to_owned(),
        idempotency_key: composition.key.clone(),
        recipients: composition.recipients.clone(),
        subject: composition.subject.clone(),
        body_html: composition.body_html.clone(),
        body_text: rich_text::to_plain_text(&composition.body_html),
        mode: composition.mode,
        parent_id: composition.parent.clone(),
        attachment_ids,
        draft_id: Some(composition.draft_id.clone()).filter(|id| !id.is_empty()),
    };

    let sent = match state.store.send_message(&request).await {
        Err(store::StoreError::Conflict(reason)) => {
            return refused(state, viewer, composition, reason, StatusCode::UNPROCESSABLE_ENTITY)
                .await;
        }
        other => other?,
    };
    let refusal = match sent {
        Ok(SendOutcome::Sent { message_id, recipient_ids }) => {
            let mut people = recipient_ids;
            tracing::info!(person.id = %viewer.id(), message.id = %message_id, recipients = people.len(), "message sent");
            people.push(viewer.id().to_owned());
            publish(state, &people);
            return Ok(Redirect::to(&sent_href(&message_id)).into_response());
        }
        Ok(SendOutcome::Replayed { message_id }) => {
            return Ok(Redirect::to(&sent_href(&message_id)).into_response());
        }
        Err(refusal) => refusal,
    };
    tracing::info!(person.id = %viewer.id(), ?refusal, "send refused");
    let (status, error, retry_after) = match refusal {
        SendRefusal::InProgress => (
            StatusCode::CONFLICT,
            "Ce message est déjà en cours d'envoi. Patientez quelques secondes, puis consultez \
             vos messages envoyés avant de recommencer."
                .to_owned(),
            None,
        ),
        SendRefusal::KeyReused => {
            // This window already sent another message: a new send is a new message.
            composition.key = new_key();
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Ce formulaire a déjà servi à envoyer un autre message. Vérifiez vos messages \
                 envoyés ; pour envoyer celui-ci comme un nouveau message, cliquez de nouveau \
                 sur « Envoyer »."
                    .to_owned(),
                None,
            )
        }
        SendRefusal::RateLimited { retry_after_secs } => {
            let seconds = retry_after_secs.max(1);
            let minutes = (seconds + 59) / 60;
            (
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Vous avez envoyé beaucoup de messages en peu de temps. Votre message est \
                     gardé ci-dessous : réessayez dans {minutes} minute{}.",
                    if minutes > 1 { "s" } else { "" }
                ),
                Some(seconds),
            )
        }
        SendRefusal::Rules(rule) => {
            (StatusCode::UNPROCESSABLE_ENTITY, rule.message_fr().to_owned(), None)
        }
        SendRefusal::TooManyRecipients { max } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "Ce message atteindrait trop de personnes : {max} au plus pour votre profil. \
                 Choisissez moins de destinataires."
            ),
            None,
        ),
        SendRefusal::Frozen => (
            StatusCode::FORBIDDEN,
            "Votre compte est gelé : vous ne pouvez pas envoyer de message.".to_owned(),
            None,
        ),
        SendRefusal::BadAttachment => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "L'une des pièces jointes ne peut pas être envoyée : retirez-la et joignez-la de \
             nouveau."
                .to_owned(),
            None,
        ),
        SendRefusal::BadParent => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Le message auquel vous répondez n'est plus dans votre messagerie.".to_owned(),
            None,
        ),
        SendRefusal::EmptySubject => {
            (StatusCode::UNPROCESSABLE_ENTITY, "Indiquez l'objet du message.".to_owned(), None)
        }
    };
    let mut response = refused(state, viewer, composition, error, status).await?;
    if let Some(seconds) = retry_after
        && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Ok(response)
}

fn sent_href(message_id: &str) -> String {
    format!("/messagerie/messages/{}?fait=envoye", percent_encode(message_id))
}

/// `POST /messagerie/brouillons/{id}` (`nouveau` for a draft not saved yet): saves the form
/// as one types. 204 for an update; 200 with `{"id": …}` for a creation.
pub(crate) async fn autosave(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, AppError> {
    let form = ComposeForm::from_urlencoded(request).await?;
    viewer.check_csrf(&form.csrf)?;
    let mut composition = Composition::from_form(&form, None);
    composition.draft_id = if id == "nouveau" { String::new() } else { id };
    if !composition.draft_id.is_empty() && !plausible_key(&composition.draft_id) {
        return Err(AppError::NotFound);
    }
    if !plausible_key(&composition.key) {
        composition.key = new_key();
    }
    let created = composition.draft_id.is_empty();

    let draft = match save(&state, &viewer, &mut composition, false).await? {
        Ok(draft) => draft,
        Err(reason) => {
            let body = serde_json::json!({ "erreur": reason }).to_string();
            return Ok(json(StatusCode::UNPROCESSABLE_ENTITY, body));
        }
    };
    if created {
        Ok(json(StatusCode::OK, serde_json::json!({ "id": draft.id }).to_string()))
    } else {
        Ok(StatusCode::NO_CONTENT.into_response())
    }
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], body).into_response()
}

pub(crate) async fn delete_draft(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;

    state.store.delete_draft(viewer.id(), &id).await?;
    Ok(Redirect::to("/messagerie/dossiers/brouillons?fait=supprimer").into_response())
}

/// `GET /messagerie/destinataires?q=`: the people and groups the viewer may write to that
/// match, as JSON (`[{"token", "label", "detail"}]`), for the picker of `mail.js`.
pub(crate) async fn suggestions(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    let query: String = Fields::query(&uri).get("q").trim().chars().take(MAX_QUERY_CHARS).collect();
    if query.chars().count() < 2 {
        return Ok(json(StatusCode::OK, "[]".to_owned()));
    }

    let (people, groups, _) = candidates(&state, &viewer, &query, &[]).await?;
    let found: Vec<serde_json::Value> = groups
        .into_iter()
        .chain(people)
        .take(MAX_SUGGESTIONS)
        .map(|c| serde_json::json!({ "token": c.token, "label": c.label, "detail": c.detail }))
        .collect();
    Ok(json(StatusCode::OK, serde_json::Value::Array(found).to_string()))
}
