//! The administration of the registry of applications that use Préau's single sign-on:
//! `/departement/applications` (the département's administrators: every application) and
//! `/etablissement/{uai}/applications` (a school's administrators: the applications their school
//! registered, and read-only those of the département that reach the school). Each desk lists,
//! registers (with a one-time form token, so that a double submit registers one application),
//! changes, enables or disables, and deletes after a confirmation; an OpenID Connect client gets
//! a random identifier and, when confidential, a secret drawn here, shown once in the answer to
//! the POST and stored only as its SHA-256. Who may act on which application is decided by the
//! SQL of `store::sso::admin`: anything else is the ordinary 404. The desk and the path
//! parameters are shared with the catalogue's administration (`sso_console/desk.rs`); the form
//! is read in `sso_console/form.rs`.

pub(crate) mod desk;
mod form;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::profile::Profile;
use domain::sso::{Attribute, Principal, Protocol, UrlMatch};
use sha2::{Digest, Sha256};
use store::admin::FormSubmission;
use store::directory::SchoolRef;
use store::sso::admin::{ManagedService, SecretChange, ServiceLine};

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::AppError;
use crate::form::Fields;
use crate::session::{Viewer, random_token};
use crate::templates::{Chrome, render};
use desk::{Choice, Desk, DeskPath, offered_profiles, profile_group, token_ok};
use form::ServiceForm;

/// The registry's administration routes, on the département's desk and on each school's.
pub(crate) fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for console in ["/departement", "/etablissement/{uai}"] {
        let base = format!("{console}/applications");
        router = router
            .route(&base, get(list))
            .route(&format!("{base}/nouvelle"), get(new_form).post(create))
            .route(&format!("{base}/{{id}}"), get(show).post(update))
            .route(&format!("{base}/{{id}}/etat"), post(set_state))
            .route(&format!("{base}/{{id}}/supprimer"), get(confirm_delete).post(delete))
            .route(&format!("{base}/{{id}}/secret"), post(regenerate_secret));
    }
    router
}

/// One application of the list.
pub(crate) struct ServiceRow {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) protocol: &'static str,
    pub(crate) owner: String,
    pub(crate) reach: String,
    pub(crate) profiles: String,
    pub(crate) enabled: bool,
    pub(crate) editable: bool,
}

#[derive(Template)]
#[template(path = "sso_console_list.html")]
pub(crate) struct ListPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) desk: Desk,
    pub(crate) rows: Vec<ServiceRow>,
    pub(crate) notice: Option<&'static str>,
}

/// What the form of an existing application also shows.
pub(crate) struct Editing {
    pub(crate) id: String,
    pub(crate) client_id: Option<String>,
    pub(crate) enabled: bool,
    /// The school a school's application is reserved to (its schools cannot be chosen).
    pub(crate) owner: Option<SchoolRef>,
    /// Whether a confidential client's secret is stored (it can be regenerated).
    pub(crate) has_secret: bool,
}

#[derive(Template)]
#[template(path = "sso_console_form.html")]
pub(crate) struct FormPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) desk: Desk,
    pub(crate) action: String,
    pub(crate) form: ServiceForm,
    pub(crate) editing: Option<Editing>,
    /// The collèges a département application may be reserved to (empty: not offered).
    pub(crate) schools: Vec<Choice>,
    pub(crate) profiles: Vec<Choice>,
    pub(crate) attributes: Vec<Choice>,
    pub(crate) notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "sso_console_view.html")]
pub(crate) struct ViewPage {
    pub(crate) chrome: Chrome,
    pub(crate) desk: Desk,
    pub(crate) protocol: &'static str,
    pub(crate) owner: String,
    pub(crate) reach: String,
    pub(crate) profiles: String,
    pub(crate) principal: &'static str,
    pub(crate) attributes: Vec<&'static str>,
    pub(crate) urls: Vec<String>,
    pub(crate) logout_urls: Vec<String>,
    pub(crate) second_factor: bool,
    pub(crate) enabled: bool,
}

#[derive(Template)]
#[template(path = "sso_console_secret.html")]
pub(crate) struct SecretPage {
    pub(crate) chrome: Chrome,
    pub(crate) name: String,
    pub(crate) client_id: String,
    pub(crate) secret: String,
    /// The application's page.
    pub(crate) back: String,
}

#[derive(Template)]
#[template(path = "sso_console_delete.html")]
pub(crate) struct DeletePage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) desk: Desk,
    pub(crate) id: String,
    pub(crate) name: String,
}

fn profiles_text(profiles: &[Profile]) -> String {
    let labels: Vec<&str> = profiles.iter().map(|p| profile_group(*p)).collect();
    if labels.is_empty() { "Personne".to_owned() } else { labels.join(", ") }
}

fn owner_text(owner: Option<&SchoolRef>) -> String {
    owner.map_or_else(|| "Le département".to_owned(), |s| s.name.clone())
}

fn row_of(line: ServiceLine) -> ServiceRow {
    ServiceRow {
        protocol: line.protocol.label_fr(),
        owner: owner_text(line.owner.as_ref()),
        reach: if line.schools.is_empty() {
            "Tout le département".to_owned()
        } else {
            line.schools.join(", ")
        },
        profiles: profiles_text(&line.profiles),
        enabled: line.enabled,
        editable: line.editable,
        id: line.id,
        name: line.name,
    }
}

fn list_notice(uri: &Uri) -> Option<&'static str> {
    match Fields::query(uri).get("fait") {
        "activee" => {
            Some("L'application est activée : la connexion unique y est de nouveau ouverte.")
        }
        "desactivee" => {
            Some("L'application est désactivée : plus aucun ticket ni jeton ne lui est délivré.")
        }
        "supprimee" => Some("L'application est supprimée du registre."),
        _ => None,
    }
}

async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    path: DeskPath,
    uri: Uri,
) -> Result<Response, AppError> {
    let desk = Desk::of(&state, &viewer, &path).await?;

    let lines = state.store.managed_services(viewer.id(), &desk.scope).await?;
    let html = render(&ListPage {
        chrome: viewer_chrome(&format!("Applications {}", desk.of), &viewer),
        csrf: viewer.csrf_token.clone(),
        rows: lines.into_iter().map(row_of).collect(),
        notice: list_notice(&uri),
        desk,
    })?;
    Ok(Html(html).into_response())
}

async fn form_page(
    state: &AppState,
    viewer: &Viewer,
    desk: Desk,
    status: StatusCode,
    form: ServiceForm,
    editing: Option<Editing>,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    let owned = editing.as_ref().and_then(|e| e.owner.as_ref()).is_some();
    let schools = if desk.is_departement() && !owned {
        let known = desk.known_schools(state, viewer).await?;
        known
            .iter()
            .map(|s| {
                let label = format!("{} ({})", s.name, s.uai);
                Choice::new(&s.id, &label, form.schools.contains(&s.id))
            })
            .collect()
    } else {
        Vec::new()
    };
    let profiles = offered_profiles(&desk)
        .into_iter()
        .filter(|p| !owned || !p.is_departement())
        .map(|p| {
            Choice::new(p.as_str(), profile_group(p), form.profiles.iter().any(|c| c == p.as_str()))
        })
        .collect();
    let attributes = Attribute::ALL
        .into_iter()
        .map(|a| {
            let label = format!("{} — « {} »", a.label_fr(), a.as_str());
            Choice::new(a.as_str(), &label, form.attributes.iter().any(|c| c == a.as_str()))
        })
        .collect();
    let (title, action) = match &editing {
        Some(editing) => (
            format!("Application « {} »", form.name),
            desk.href(&format!("applications/{}", editing.id)),
        ),
        None => ("Enregistrer une application".to_owned(), desk.href("applications/nouvelle")),
    };
    let html = render(&FormPage {
        chrome: viewer_chrome(&title, viewer),
        csrf: viewer.csrf_token.clone(),
        desk,
        action,
        form,
        editing,
        schools,
        profiles,
        attributes,
        notice,
    })?;
    Ok((status, Html(html)).into_response())
}

async fn new_form(
    State(state): State<AppState>,
    viewer: Viewer,
    path: DeskPath,
) -> Result<Response, AppError> {
    let desk = Desk::of(&state, &viewer, &path).await?;

    let form = ServiceForm::blank(store::new_id());
    form_page(&state, &viewer, desk, StatusCode::OK, form, None, None).await
}

/// A client secret as stored: its SHA-256, in hexadecimal.
fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The secret page, answered to the POST that drew the secret, never stored in a URL.
fn secret_page(
    viewer: &Viewer,
    desk: &Desk,
    id: &str,
    name: &str,
    client_id: &str,
    secret: String,
) -> Result<Response, AppError> {
    let html = render(&SecretPage {
        chrome: viewer_chrome("Secret du client OpenID Connect", viewer),
        name: name.to_owned(),
        client_id: client_id.to_owned(),
        secret,
        back: desk.href(&format!("applications/{id}")),
    })?;
    Ok(Html(html).into_response())
}

async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    path: DeskPath,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let desk = Desk::of(&state, &viewer, &path).await?;
    let known: Vec<String> =
        desk.known_schools(&state, &viewer).await?.into_iter().map(|s| s.id).collect();
    let mut form = ServiceForm::read(&fields, &desk, None, &known);
    if form.has_errors() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return form_page(&state, &viewer, desk, status, form, None, None).await;
    }

    let token = form.token.clone();
    if !token_ok(&token) {
        return Err(AppError::BadRequest("Formulaire périmé : rechargez la page et recommencez."));
    }
    match state.store.claim_form_submission(viewer.id(), &token).await? {
        FormSubmission::New => {}
        FormSubmission::Done(id) => {
            let target = desk.href(&format!("applications/{id}?fait=creee"));
            return Ok(Redirect::to(&target).into_response());
        }
        FormSubmission::InProgress => {
            return Err(AppError::BadRequest(
                "Ce formulaire est déjà en cours d'envoi : patientez puis rechargez la page.",
            ));
        }
    }

    let mut new = form.to_new_service(&desk);
    let mut secret = None;
    if new.protocol == Protocol::Oidc {
        new.client_id = Some(random_token(16));
        if form.confidential {
            let drawn = random_token(32);
            new.client_secret_hash = Some(secret_hash(&drawn));
            secret = Some(drawn);
        }
    }
    let id = match state.store.create_service(viewer.id(), &desk.scope, &new).await {
        Ok(id) => id,
        Err(error) => {
            state.store.release_form_submission(viewer.id(), &token).await?;
            let store::StoreError::Conflict(reason) = error else { return Err(error.into()) };
            form.store_error = Some(reason);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return form_page(&state, &viewer, desk, status, form, None, None).await;
        }
    };
    state.store.complete_form_submission(viewer.id(), &token, &id).await?;

    match (secret, &new.client_id) {
        (Some(secret), Some(client_id)) => {
            secret_page(&viewer, &desk, &id, &new.name, client_id, secret)
        }
        _ => Ok(Redirect::to(&desk.href(&format!("applications/{id}?fait=creee"))).into_response()),
    }
}

/// An application the desk may read, else 404.
async fn managed(
    state: &AppState,
    viewer: &Viewer,
    desk: &Desk,
    id: &str,
) -> Result<ManagedService, AppError> {
    state.store.managed_service(viewer.id(), &desk.scope, id).await?.ok_or(AppError::NotFound)
}

/// An application the desk may change, else 404 (a school reads the département's, but
/// cannot change them).
async fn editable(
    state: &AppState,
    viewer: &Viewer,
    desk: &Desk,
    id: &str,
) -> Result<ManagedService, AppError> {
    Some(managed(state, viewer, desk, id).await?).filter(|m| m.editable).ok_or(AppError::NotFound)
}

fn editing_of(managed: &ManagedService) -> Editing {
    Editing {
        id: managed.service.id.clone(),
        client_id: managed.service.client_id.clone(),
        enabled: managed.service.enabled,
        owner: managed.owner.clone(),
        has_secret: managed.service.client_secret_hash.is_some(),
    }
}

async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    path: DeskPath,
    uri: Uri,
) -> Result<Response, AppError> {
    let desk = Desk::of(&state, &viewer, &path).await?;
    let managed = managed(&state, &viewer, &desk, path.id()?).await?;

    if managed.editable {
        let notice = match Fields::query(&uri).get("fait") {
            "creee" => Some("L'application est enregistrée."),
            "enregistree" => Some("Les modifications sont enregistrées."),
            _ => None,
        };
        let form = ServiceForm::of(&managed);
        let editing = Some(editing_of(&managed));
        return form_page(&state, &viewer, desk, StatusCode::OK, form, editing, notice).await;
    }
    let service = &managed.service;
    let schools = &managed.schools;
    let html = render(&ViewPage {
        chrome: viewer_chrome(&format!("Application « {} »", service.name), &viewer),
        protocol: service.protocol.label_fr(),
        owner: owner_text(managed.owner.as_ref()),
        reach: if schools.is_empty() {
            "Tout le département".to_owned()
        } else {
            schools.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
        },
        profiles: profiles_text(&managed.profiles),
        principal: match service.principal {
            Principal::Opaque => "Identifiant opaque, propre à l'application",
            Principal::Login => "Identifiant Préau",
        },
        attributes: service.attributes.iter().map(|a| a.label_fr()).collect(),
        urls: service
            .urls
            .iter()
            .map(|u| match u.match_kind {
                UrlMatch::Exact => format!("{} (exacte)", u.url),
                UrlMatch::Prefix => format!("{} (préfixe)", u.url),
            })
            .collect(),
        logout_urls: service.logout_urls.clone(),
        second_factor: service.require_second_factor,
        enabled: service.enabled,
        desk,
    })?;
    Ok(Html(html).into_response())
}

async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    path: DeskPath,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let desk = Desk::of(&state, &viewer, &path).await?;
    let managed = editable(&state, &viewer, &desk, path.id()?).await?;
    let known: Vec<String> =
        desk.known_schools(&state, &viewer).await?.into_iter().map(|s| s.id).collect();
    let protocol = managed.service.protocol;
    let mut form = ServiceForm::read(&fields, &desk, Some(protocol), &known);
    let editing = editing_of(&managed);
    if form.has_errors() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return form_page(&state, &viewer, desk, status, form, Some(editing), None).await;
    }

    let new = form.to_new_service(&desk);
    let mut secret = None;
    let change = match (protocol, editing.has_secret, form.confidential) {
        (Protocol::Oidc, false, true) => {
            let drawn = random_token(32);
            let hash = secret_hash(&drawn);
            secret = Some(drawn);
            SecretChange::Set(hash)
        }
        (Protocol::Oidc, true, false) => SecretChange::Clear,
        _ => SecretChange::Keep,
    };
    let id = editing.id.clone();
    match state.store.update_service(viewer.id(), &desk.scope, &id, &new, &change).await {
        Ok(()) => {}
        Err(store::StoreError::Conflict(reason)) => {
            form.store_error = Some(reason);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return form_page(&state, &viewer, desk, status, form, Some(editing), None).await;
        }
        Err(other) => return Err(other.into()),
    }

    match (secret, &editing.client_id) {
        (Some(secret), Some(client_id)) => {
            secret_page(&viewer, &desk, &id, &new.name, client_id, secret)
        }
        _ => Ok(Redirect::to(&desk.href(&format!("applications/{id}?fait=enregistree")))
            .into_response()),
    }
}

async fn set_state(
    State(state): State<AppState>,
    viewer: Viewer,
    path: DeskPath,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let desk = Desk::of(&state, &viewer, &path).await?;
    let enabled = match fields.get("actif") {
        "1" => true,
        "0" => false,
        _ => return Err(AppError::BadRequest("L'action demandée n'est pas comprise.")),
    };

    state.store.set_service_enabled(viewer.id(), &desk.scope, path.id()?, enabled).await?;
    let done = if enabled { "activee" } else { "desactivee" };
    Ok(Redirect::to(&desk.href(&format!("applications?fait={done}"))).into_response())
}

async fn confirm_delete(
    State(state): State<AppState>,
    viewer: Viewer,
    path: DeskPath,
) -> Result<Response, AppError> {
    let desk = Desk::of(&state, &viewer, &path).await?;
    let managed = editable(&state, &viewer, &desk, path.id()?).await?;

    let html = render(&DeletePage {
        chrome: viewer_chrome("Supprimer une application", &viewer),
        csrf: viewer.csrf_token.clone(),
        id: managed.service.id.clone(),
        name: managed.service.name.clone(),
        desk,
    })?;
    Ok(Html(html).into_response())
}

async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    path: DeskPath,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let desk = Desk::of(&state, &viewer, &path).await?;

    state.store.delete_service(viewer.id(), &desk.scope, path.id()?).await?;
    Ok(Redirect::to(&desk.href("applications?fait=supprimee")).into_response())
}

async fn regenerate_secret(
    State(state): State<AppState>,
    viewer: Viewer,
    path: DeskPath,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let desk = Desk::of(&state, &viewer, &path).await?;
    let managed = editable(&state, &viewer, &desk, path.id()?).await?;
    let service = &managed.service;
    let Some(client_id) =
        service.client_id.as_deref().filter(|_| service.client_secret_hash.is_some())
    else {
        return Err(AppError::NotFound);
    };

    let secret = random_token(32);
    state
        .store
        .set_service_secret(viewer.id(), &desk.scope, &service.id, &secret_hash(&secret))
        .await?;
    secret_page(&viewer, &desk, &service.id, &service.name, client_id, secret)
}
