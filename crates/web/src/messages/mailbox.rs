//! The folders: a folder's page of messages (25 a page, newest first), the search in one's
//! mailbox, the bulk actions on ticked messages (read, unread, move, trash, restore, delete
//! drafts), emptying the trash, and creating or deleting one's own folders. Every action
//! names messages by id and the store changes only those of the viewer's own mailbox.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use store::messaging::{Folder, MailboxPage, MessageSummary};

use super::views::{FolderKind, FolderPage, MessageLine};
use super::{Clock, folder_href, mail_nav, move_targets, page_number, publish_own};
use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::AppError;
use crate::form::Fields;
use crate::session::Viewer;
use crate::templates::render;

/// The longest search accepted, in characters.
const MAX_QUERY_CHARS: usize = 100;

pub(crate) async fn root() -> Redirect {
    Redirect::to("/messagerie/dossiers/reception")
}

/// The notice a folder page shows after an action (`?fait=`).
fn notice(uri: &Uri) -> Option<&'static str> {
    Some(match Fields::query(uri).get("fait") {
        "lu" => "Les messages sont marqués comme lus.",
        "non-lu" => "Les messages sont marqués comme non lus.",
        "corbeille" => "Les messages sont placés dans la corbeille.",
        "restaurer" => "Les messages sont restaurés.",
        "deplacer" => "Les messages sont déplacés.",
        "supprimer" => "Les brouillons sont supprimés.",
        "vide" => "La corbeille est vidée.",
        "dossier" => "Le dossier est créé.",
        "dossier-supprime" => "Le dossier est supprimé ; ses messages sont revenus à leur place.",
        "aucun" => "Cochez au moins un message.",
        "inchange" => "Aucun message n'a changé.",
        "signale" => "Le message est signalé aux responsables de l'établissement.",
        "rappele" => "Le message est rappelé : il a été retiré des boîtes de ses destinataires.",
        _ => return None,
    })
}

/// A folder's or a search's messages as the list shows them.
pub(super) fn lines(page: &MailboxPage, clock: &Clock, show_recipients: bool) -> Vec<MessageLine> {
    page.messages.iter().map(|m| line(m, clock, show_recipients)).collect()
}

pub(super) fn line(m: &MessageSummary, clock: &Clock, show_recipients: bool) -> MessageLine {
    let drafts = m.folder == Folder::Drafts;
    let (who, profile) = if show_recipients || drafts {
        let who = if m.recipients.is_empty() {
            "(aucun destinataire)".to_owned()
        } else {
            format!("À : {}", m.recipients)
        };
        (who, "")
    } else {
        (format!("{} {}", m.sender.first_name, m.sender.last_name), m.sender.profile.label_fr())
    };
    let href = if drafts {
        format!("/messagerie/ecrire?brouillon={}", crate::error::percent_encode(&m.id))
    } else {
        format!("/messagerie/messages/{}", crate::error::percent_encode(&m.id))
    };
    MessageLine {
        id: m.id.clone(),
        href,
        who,
        profile,
        subject: if m.subject.is_empty() { "(sans objet)".to_owned() } else { m.subject.clone() },
        snippet: m.snippet.clone(),
        date_short: clock.short(m.created_at),
        date_full: clock.full(m.created_at),
        date_iso: clock.iso(m.created_at),
        unread: m.unread,
        has_attachments: m.has_attachments,
        recalled: m.recalled,
    }
}

fn kind_of(folder: &Folder) -> FolderKind {
    match folder {
        Folder::Inbox => FolderKind::Inbox,
        Folder::Sent => FolderKind::Sent,
        Folder::Drafts => FolderKind::Drafts,
        Folder::Trash => FolderKind::Trash,
        Folder::Custom(_) => FolderKind::Custom,
    }
}

/// The number of pages of a listing (at least one).
fn page_count(page: &MailboxPage) -> i64 {
    let size = page.page_size.max(1);
    ((page.total + size - 1) / size).max(1)
}

pub(crate) async fn folder(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    uri: Uri,
) -> Result<Response, AppError> {
    let folder = Folder::parse(&slug).ok_or(AppError::NotFound)?;
    let query = Fields::query(&uri);
    let page_no = page_number(query.get("page"));
    // The viewer's folders first: a folder that is not among them is not found, and the
    // listing's count serves the page.
    let (nav, folders) = mail_nav(&state, &viewer, Some(&folder), "").await?;
    let listed = folders.iter().find(|f| f.folder == folder).ok_or(AppError::NotFound)?;
    let name = listed.name.clone();
    let listing = state.store.mailbox_listed(viewer.id(), listed, page_no).await?;
    let clock = Clock::for_viewer(&viewer);
    let pages = page_count(&listing);
    let base = folder_href(&folder);
    let page = FolderPage {
        chrome: viewer_chrome(&name, &viewer),
        csrf: viewer.csrf_token.clone(),
        kind: kind_of(&folder),
        slug: folder.slug(),
        messages: lines(&listing, &clock, folder == Folder::Sent),
        total: listing.total,
        page: listing.page,
        pages,
        previous: (listing.page > 1).then(|| format!("{base}?page={}", listing.page - 1)),
        next: (listing.page < pages).then(|| format!("{base}?page={}", listing.page + 1)),
        move_targets: move_targets(&folders, Some(&folder)),
        back: format!("{base}?page={}", listing.page),
        notice: notice(&uri),
        query: String::new(),
        nav,
    };
    Ok(Html(render(&page)?).into_response())
}

pub(crate) async fn search(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    let query = Fields::query(&uri);
    let q: String = query.get("q").trim().chars().take(MAX_QUERY_CHARS).collect();
    let page_no = page_number(query.get("page"));
    let listing = if q.is_empty() {
        MailboxPage { messages: Vec::new(), total: 0, page: 1, page_size: 25 }
    } else {
        state.store.search_mailbox(viewer.id(), &q, page_no).await?
    };

    let (nav, folders) = mail_nav(&state, &viewer, None, &q).await?;
    let clock = Clock::for_viewer(&viewer);
    let pages = page_count(&listing);
    let base = format!("/messagerie/recherche?q={}", crate::error::percent_encode(&q));
    let page = FolderPage {
        chrome: viewer_chrome("Recherche dans la messagerie", &viewer),
        csrf: viewer.csrf_token.clone(),
        kind: FolderKind::Search,
        slug: String::new(),
        messages: lines(&listing, &clock, false),
        total: listing.total,
        page: listing.page,
        pages,
        previous: (listing.page > 1).then(|| format!("{base}&page={}", listing.page - 1)),
        next: (listing.page < pages).then(|| format!("{base}&page={}", listing.page + 1)),
        move_targets: move_targets(&folders, None),
        back: format!("{base}&page={}", listing.page),
        notice: notice(&uri),
        query: q,
        nav,
    };
    Ok(Html(render(&page)?).into_response())
}

/// What a bulk or single action does.
pub(super) enum Action {
    Read,
    Unread,
    Trash,
    Restore,
    Move(Folder),
    DeleteDrafts,
}

impl Action {
    /// The action a form asks for: `action=lu|non-lu|corbeille|restaurer|deplacer|supprimer`,
    /// with `dossier=<slug>` for a move.
    pub(super) fn from_fields(fields: &Fields) -> Result<Action, AppError> {
        Ok(match fields.get("action") {
            "lu" => Action::Read,
            "non-lu" => Action::Unread,
            "corbeille" => Action::Trash,
            "restaurer" => Action::Restore,
            "supprimer" => Action::DeleteDrafts,
            "deplacer" => {
                let target = Folder::parse(fields.get("dossier"))
                    .filter(|f| !matches!(f, Folder::Drafts | Folder::Trash))
                    .ok_or(AppError::BadRequest("Choisissez le dossier où déplacer."))?;
                Action::Move(target)
            }
            _ => return Err(AppError::BadRequest("L'action demandée n'est pas comprise.")),
        })
    }

    /// The `fait=` code of the notice shown afterwards.
    pub(super) fn done(&self) -> &'static str {
        match self {
            Action::Read => "lu",
            Action::Unread => "non-lu",
            Action::Trash => "corbeille",
            Action::Restore => "restaurer",
            Action::Move(_) => "deplacer",
            Action::DeleteDrafts => "supprimer",
        }
    }

    /// Applies the action to messages (or drafts) of the viewer's mailbox; the others' are
    /// left alone by the store. The viewer's open pages hear of it.
    pub(super) async fn apply(
        &self,
        state: &AppState,
        viewer: &Viewer,
        ids: &[String],
    ) -> Result<u64, AppError> {
        let owner = viewer.id();
        let changed = match self {
            Action::Read => state.store.set_unread(owner, ids, false).await?,
            Action::Unread => state.store.set_unread(owner, ids, true).await?,
            Action::Trash => state.store.move_messages(owner, ids, &Folder::Trash).await?,
            Action::Restore => state.store.move_messages(owner, ids, &Folder::Inbox).await?,
            Action::Move(target) => state.store.move_messages(owner, ids, target).await?,
            Action::DeleteDrafts => {
                let mut deleted = 0;
                for id in ids {
                    match state.store.delete_draft(owner, id).await {
                        Ok(()) => deleted += 1,
                        Err(store::StoreError::NotFound) => {}
                        Err(other) => return Err(other.into()),
                    }
                }
                deleted
            }
        };
        publish_own(state, owner).await;
        Ok(changed)
    }
}

/// The ticked ids of a form, capped at what one action changes.
pub(super) fn ticked(fields: &Fields) -> Result<Vec<String>, AppError> {
    let ids: Vec<String> = fields.all("ids").into_iter().map(str::to_owned).collect();
    if ids.len() > store::messaging::MAX_BATCH {
        return Err(AppError::BadRequest("Trop de messages cochés à la fois."));
    }
    Ok(ids)
}

/// A local folder or search page to come back to, else the inbox.
fn back_of(fields: &Fields) -> String {
    let back = crate::security::safe_next(Some(fields.get("retour")));
    if back.starts_with("/messagerie/") && !back.contains('#') {
        back
    } else {
        "/messagerie/dossiers/reception".to_owned()
    }
}

/// `back` with `fait=<code>` added to its query string.
pub(super) fn with_notice(back: &str, code: &str) -> String {
    let (path, query) = back.split_once('?').unwrap_or((back, ""));
    let kept: Vec<&str> =
        query.split('&').filter(|p| !p.is_empty() && !p.starts_with("fait=")).collect();
    if kept.is_empty() {
        format!("{path}?fait={code}")
    } else {
        format!("{path}?{}&fait={code}", kept.join("&"))
    }
}

pub(crate) async fn bulk_action(
    State(state): State<AppState>,
    viewer: Viewer,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let back = back_of(&fields);
    let ids = ticked(&fields)?;
    if ids.is_empty() {
        return Ok(Redirect::to(&with_notice(&back, "aucun")).into_response());
    }
    let action = Action::from_fields(&fields)?;

    let changed = action.apply(&state, &viewer, &ids).await?;
    tracing::info!(person.id = %viewer.id(), asked = ids.len(), changed, "mailbox action");
    let done = if changed == 0 { "inchange" } else { action.done() };
    Ok(Redirect::to(&with_notice(&back, done)).into_response())
}

pub(crate) async fn empty_trash(
    State(state): State<AppState>,
    viewer: Viewer,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;

    let emptied = state.store.empty_trash(viewer.id()).await?;
    tracing::info!(person.id = %viewer.id(), emptied, "trash emptied");
    Ok(Redirect::to("/messagerie/dossiers/corbeille?fait=vide").into_response())
}

pub(crate) async fn create_folder(
    State(state): State<AppState>,
    viewer: Viewer,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let name = fields.get("nom");

    match state.store.create_folder(viewer.id(), name).await {
        Ok(id) => {
            let href = folder_href(&Folder::Custom(id));
            Ok(Redirect::to(&format!("{href}?fait=dossier")).into_response())
        }
        Err(store::StoreError::Conflict(reason)) => {
            // The inbox again, with the refusal next to the folder form.
            let folder = Folder::Inbox;
            let listing = state.store.mailbox(viewer.id(), &folder, 1).await?;
            let (mut nav, folders) = mail_nav(&state, &viewer, Some(&folder), "").await?;
            nav.new_folder = name.to_owned();
            nav.folder_error = Some(reason);
            let clock = Clock::for_viewer(&viewer);
            let pages = page_count(&listing);
            let base = folder_href(&folder);
            let page = FolderPage {
                chrome: viewer_chrome("Boîte de réception", &viewer),
                csrf: viewer.csrf_token.clone(),
                kind: FolderKind::Inbox,
                slug: folder.slug(),
                messages: lines(&listing, &clock, false),
                total: listing.total,
                page: 1,
                pages,
                previous: None,
                next: (pages > 1).then(|| format!("{base}?page=2")),
                move_targets: move_targets(&folders, Some(&folder)),
                back: format!("{base}?page=1"),
                notice: None,
                query: String::new(),
                nav,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(render(&page)?)).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

pub(crate) async fn delete_folder(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let Some(Folder::Custom(id)) = Folder::parse(&slug) else { return Err(AppError::NotFound) };

    state.store.delete_folder(viewer.id(), &id).await?;
    publish_own(&state, viewer.id()).await;
    Ok(Redirect::to("/messagerie/dossiers/reception?fait=dossier-supprime").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_replace_the_previous_one() {
        assert_eq!(
            with_notice("/messagerie/dossiers/reception", "lu"),
            "/messagerie/dossiers/reception?fait=lu"
        );
        assert_eq!(
            with_notice("/messagerie/recherche?q=a&page=2&fait=lu", "corbeille"),
            "/messagerie/recherche?q=a&page=2&fait=corbeille"
        );
    }
}
