//! One message: reading it (which marks it read), its thread, its attachments, and what can be
//! done from it: reply, reply to all, forward, mark unread, move, trash or restore, report it
//! to the school's administrators, and recall it when the viewer sent it. A message that is
//! not in the viewer's mailbox is a 404, whatever the action.

use axum::extract::State;
use axum::http::Uri;
use axum::response::{Html, IntoResponse, Redirect, Response};
use store::messaging::Folder;

use super::mailbox::{Action, line, with_notice};
use super::views::{AttachmentLine, MessagePage, RecipientLabel};
use super::{Clock, folder_href, mail_nav, move_targets, publish, publish_own, size_label};
use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::{AppError, percent_encode};
use crate::form::{Fields, PathId};
use crate::session::Viewer;
use crate::templates::render;

/// The longest reason a report may give, in characters.
const MAX_REASON_CHARS: usize = 1000;

fn notice(uri: &Uri) -> Option<&'static str> {
    Some(match Fields::query(uri).get("fait") {
        "envoye" => "Votre message est envoyé.",
        "lu" => "Le message est marqué comme lu.",
        "deplacer" => "Le message est déplacé.",
        "restaurer" => "Le message est restauré.",
        "signale" => "Le message est signalé aux responsables de l'établissement. Merci.",
        "rappele" => "Le message est rappelé : il a été retiré des boîtes de ses destinataires.",
        _ => return None,
    })
}

/// A content type as a reader names it.
pub(super) fn kind_label(content_type: &str) -> String {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    match essence {
        "application/pdf" => "PDF".to_owned(),
        "image/png" => "image PNG".to_owned(),
        "image/jpeg" => "image JPEG".to_owned(),
        "image/gif" => "image GIF".to_owned(),
        "image/webp" => "image WebP".to_owned(),
        "text/plain" => "texte".to_owned(),
        "audio/mpeg" => "audio MP3".to_owned(),
        "audio/mp4" => "audio M4A".to_owned(),
        "audio/ogg" => "audio Ogg".to_owned(),
        "video/mp4" => "vidéo MP4".to_owned(),
        other if other.starts_with("application/vnd.oasis.opendocument") => {
            "document OpenDocument".to_owned()
        }
        other if other.starts_with("application/vnd.openxmlformats") => {
            "document Office".to_owned()
        }
        _ => "fichier".to_owned(),
    }
}

/// The attachment lines of a message or a draft.
pub(super) fn attachment_lines(
    attachments: &[store::messaging::AttachmentRef],
) -> Vec<AttachmentLine> {
    attachments
        .iter()
        .map(|a| AttachmentLine {
            id: a.id.clone(),
            href: format!("/messagerie/pieces-jointes/{}", percent_encode(&a.id)),
            name: a.display_name.clone(),
            size: size_label(a.size_bytes),
            kind: kind_label(&a.content_type),
        })
        .collect()
}

pub(crate) async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    uri: Uri,
) -> Result<Response, AppError> {
    let message = state.store.open_message(viewer.id(), &id).await?;
    // Opening marked it read: the viewer's other pages update their badge.
    publish_own(&state, viewer.id()).await;

    let (nav, folders) = mail_nav(&state, &viewer, Some(&message.folder), "").await?;
    let clock = Clock::for_viewer(&viewer);
    let subject = if message.subject.is_empty() {
        "(sans objet)".to_owned()
    } else {
        message.subject.clone()
    };
    let page = MessagePage {
        chrome: viewer_chrome(&subject, &viewer),
        csrf: viewer.csrf_token.clone(),
        id: message.id.clone(),
        sender: format!("{} {}", message.sender.first_name, message.sender.last_name),
        sender_profile: message.sender.profile.label_fr(),
        date_full: clock.full(message.created_at),
        date_iso: clock.iso(message.created_at),
        recipients: message
            .recipients
            .iter()
            .map(|(token, label)| RecipientLabel {
                label: label.clone(),
                group: !token.starts_with("p:"),
            })
            .collect(),
        // Sanitised when it was sent; sanitised again here, so that nothing else is ever
        // printed unescaped.
        body_html: formats::rich_text::sanitize(&message.body_html),
        attachments: if message.recalled_at.is_some() {
            Vec::new()
        } else {
            attachment_lines(&message.attachments)
        },
        thread: message.thread.iter().map(|m| line(m, &clock, false)).collect(),
        recalled: message.recalled_at.map(|at| clock.full(at)),
        received: !message.origin_sent,
        in_trash: message.folder == Folder::Trash,
        can_recall: message.can_recall,
        move_targets: move_targets(&folders, Some(&message.folder)),
        notice: notice(&uri),
        nav,
    };
    Ok(Html(render(&page)?).into_response())
}

pub(crate) async fn action(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let action = Action::from_fields(&fields)?;

    let changed = action.apply(&state, &viewer, std::slice::from_ref(&id)).await?;
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    let message_href = format!("/messagerie/messages/{}", percent_encode(&id));
    let target = match &action {
        // Opening the message again would mark it read: back to the inbox.
        Action::Unread => with_notice(&folder_href(&Folder::Inbox), "non-lu"),
        Action::Trash => with_notice(&folder_href(&Folder::Inbox), "corbeille"),
        Action::DeleteDrafts => return Err(AppError::NotFound),
        other => with_notice(&message_href, other.done()),
    };
    Ok(Redirect::to(&target).into_response())
}

pub(crate) async fn report(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let reason: String = fields.get("raison").trim().chars().take(MAX_REASON_CHARS).collect();

    match state.store.report_message(viewer.id(), &id, &reason).await {
        Ok(()) => {}
        Err(store::StoreError::Conflict(_)) => {
            return Err(AppError::BadRequest("Le motif du signalement est trop long."));
        }
        Err(other) => return Err(other.into()),
    }
    tracing::info!(person.id = %viewer.id(), message.id = %id, "message reported");
    let href = format!("/messagerie/messages/{}", percent_encode(&id));
    Ok(Redirect::to(&with_notice(&href, "signale")).into_response())
}

pub(crate) async fn recall(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;

    let removed = state.store.recall_message(viewer.id(), &id).await?;
    let mut people = state.store.message_recipient_ids(&id).await?;
    people.push(viewer.id().to_owned());
    publish(&state, &people);
    tracing::info!(person.id = %viewer.id(), message.id = %id, removed, "message recalled");
    let href = format!("/messagerie/messages/{}", percent_encode(&id));
    Ok(Redirect::to(&with_notice(&href, "rappele")).into_response())
}
