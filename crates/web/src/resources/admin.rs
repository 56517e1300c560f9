//! The catalogue's administration: `/departement/ressources` (every resource; a resource may
//! reach the whole département or chosen collèges) and `/etablissement/{uai}/ressources` (the
//! school's own resources, for its people; the département's that reach the school are listed
//! read-only). Create (with a one-time form token), change, delete after a confirmation; the
//! form comes back with what was typed and each refusal next to its field, the address's
//! with the precise reason of `domain::sso::UrlError`. A resource may open through one of the
//! registered applications the desk may use; a CAS one must cover its address.

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use domain::profile::Profile;
use domain::sso::Protocol;
use store::admin::FormSubmission;
use store::directory::SchoolRef;
use store::resources::{
    DYS_TAGS, KINDS, LEVELS, ManagedResource, NewResource, ResourceField, SUBJECTS, check_resource,
};

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::AppError;
use crate::form::Fields;
use crate::resources::catalogue::kind_label;
use crate::session::Viewer;
use crate::sso_console::desk::{Choice, Desk, DeskPath, offered_profiles, profile_group, token_ok};
use crate::templates::{Chrome, render};

/// The resource form as typed, with what is wrong with each field.
#[derive(Debug, Default)]
pub(crate) struct ResourceForm {
    pub(crate) token: String,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) kind: String,
    pub(crate) url: String,
    /// The bound application's id, `""` for none.
    pub(crate) service: String,
    pub(crate) subjects: Vec<String>,
    pub(crate) levels: Vec<String>,
    pub(crate) dys: Vec<String>,
    pub(crate) profiles: Vec<String>,
    pub(crate) schools: Vec<String>,
    pub(crate) title_error: Option<String>,
    pub(crate) description_error: Option<String>,
    pub(crate) kind_error: Option<String>,
    pub(crate) url_error: Option<String>,
    pub(crate) service_error: Option<String>,
    pub(crate) tags_error: Option<String>,
    pub(crate) profiles_error: Option<String>,
    pub(crate) schools_error: Option<String>,
    /// A refusal of the store (an application that changed meanwhile).
    pub(crate) store_error: Option<String>,
}

impl ResourceForm {
    pub(crate) fn has_errors(&self) -> bool {
        self.title_error.is_some()
            || self.description_error.is_some()
            || self.kind_error.is_some()
            || self.url_error.is_some()
            || self.service_error.is_some()
            || self.tags_error.is_some()
            || self.profiles_error.is_some()
            || self.schools_error.is_some()
            || self.store_error.is_some()
    }

    fn of(managed: &ManagedResource) -> ResourceForm {
        let resource = &managed.resource;
        ResourceForm {
            title: resource.title.clone(),
            description: resource.description.clone(),
            kind: resource.kind.clone(),
            url: resource.url.clone(),
            service: resource.service_id.clone().unwrap_or_default(),
            subjects: resource.subjects.clone(),
            levels: resource.levels.clone(),
            dys: resource.dys.clone(),
            profiles: resource.profiles.iter().map(|p| p.as_str().to_owned()).collect(),
            schools: resource.schools.clone(),
            ..ResourceForm::default()
        }
    }

    fn read(fields: &Fields, desk: &Desk) -> ResourceForm {
        let all = |name: &str| fields.all(name).into_iter().map(str::to_owned).collect();
        ResourceForm {
            token: fields.get("jeton").trim().to_owned(),
            title: fields.get("titre").trim().to_owned(),
            description: fields.get("description").trim().to_owned(),
            kind: fields.get("type").to_owned(),
            url: fields.get("adresse").trim().to_owned(),
            service: fields.get("application").to_owned(),
            subjects: all("matieres"),
            levels: all("niveaux"),
            dys: all("dys"),
            profiles: all("profils"),
            schools: if desk.is_departement() { all("ecoles") } else { Vec::new() },
            ..ResourceForm::default()
        }
    }

    fn to_new_resource(&self) -> NewResource {
        NewResource {
            title: self.title.clone(),
            description: self.description.clone(),
            kind: self.kind.clone(),
            url: self.url.clone(),
            service_id: Some(self.service.clone()).filter(|s| !s.is_empty()),
            subjects: self.subjects.clone(),
            levels: self.levels.clone(),
            dys: self.dys.clone(),
            profiles: Profile::ALL
                .into_iter()
                .filter(|p| self.profiles.iter().any(|c| c == p.as_str()))
                .collect(),
            schools: self.schools.clone(),
        }
    }

    /// Records the refusals that need no database, each on its field.
    fn check(&mut self, known_schools: &[String]) {
        for (field, reason) in check_resource(&self.to_new_resource()) {
            let slot = match field {
                ResourceField::Title => &mut self.title_error,
                ResourceField::Description => &mut self.description_error,
                ResourceField::Kind => &mut self.kind_error,
                ResourceField::Url => &mut self.url_error,
                ResourceField::Tags => &mut self.tags_error,
                ResourceField::Profiles => &mut self.profiles_error,
                ResourceField::Schools => &mut self.schools_error,
            };
            slot.get_or_insert(reason);
        }
        if self.profiles.iter().any(|p| Profile::parse(p).is_none()) {
            self.profiles_error = Some("Un des profils choisis n'existe pas.".to_owned());
        }
        if self.schools.iter().any(|id| !known_schools.contains(id)) {
            self.schools_error = Some("Un des collèges choisis n'existe pas.".to_owned());
        }
    }
}

/// One resource of the list.
pub(crate) struct ResourceRow {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) kind: String,
    pub(crate) owner: String,
    pub(crate) reach: String,
    pub(crate) service: String,
    pub(crate) editable: bool,
}

#[derive(Template)]
#[template(path = "resources_admin_list.html")]
pub(crate) struct ListPage {
    pub(crate) chrome: Chrome,
    pub(crate) desk: Desk,
    pub(crate) rows: Vec<ResourceRow>,
    pub(crate) notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "resources_form.html")]
pub(crate) struct FormPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) desk: Desk,
    pub(crate) action: String,
    pub(crate) form: ResourceForm,
    /// The id of the resource being changed.
    pub(crate) editing: Option<String>,
    /// Whether it may be edited (a school reads the département's).
    pub(crate) read_only: bool,
    pub(crate) kinds: Vec<Choice>,
    pub(crate) services: Vec<Choice>,
    pub(crate) subjects: Vec<Choice>,
    pub(crate) levels: Vec<Choice>,
    pub(crate) dys: Vec<Choice>,
    pub(crate) profiles: Vec<Choice>,
    /// The collèges a département resource may be reserved to (empty: not offered).
    pub(crate) schools: Vec<Choice>,
    /// The school a school's resource is reserved to.
    pub(crate) owner: Option<SchoolRef>,
    pub(crate) notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "resources_delete.html")]
pub(crate) struct DeletePage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) desk: Desk,
    pub(crate) id: String,
    pub(crate) title: String,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    path: DeskPath,
    uri: Uri,
) -> Result<Response, AppError> {
    let desk = Desk::of(&state, &viewer, &path).await?;

    let lines = state.store.managed_resources(viewer.id(), &desk.scope).await?;
    let rows = lines
        .into_iter()
        .map(|line| ResourceRow {
            kind: kind_label(&line.kind).to_owned(),
            owner: line.owner.map_or_else(|| "Le département".to_owned(), |s| s.name),
            reach: if line.schools.is_empty() {
                "Tout le département".to_owned()
            } else {
                line.schools.join(", ")
            },
            service: line.service_name.unwrap_or_else(|| "Aucune".to_owned()),
            editable: line.editable,
            id: line.id,
            title: line.title,
        })
        .collect();
    let notice = match Fields::query(&uri).get("fait") {
        "supprimee" => Some("La ressource est retirée du catalogue."),
        _ => None,
    };
    let html = render(&ListPage {
        chrome: viewer_chrome(&format!("Ressources {}", desk.of), &viewer),
        desk,
        rows,
        notice,
    })?;
    Ok(Html(html).into_response())
}

/// The form's page. `managed` is the resource being changed or read.
async fn form_page(
    state: &AppState,
    viewer: &Viewer,
    desk: Desk,
    status: StatusCode,
    form: ResourceForm,
    managed: Option<&ManagedResource>,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    let owner = match managed {
        Some(managed) => managed.owner.clone(),
        None => desk.school.clone(),
    };
    let schools = if desk.is_departement() && owner.is_none() {
        desk.known_schools(state, viewer)
            .await?
            .iter()
            .map(|s| {
                let label = format!("{} ({})", s.name, s.uai);
                Choice::new(&s.id, &label, form.schools.contains(&s.id))
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut services =
        vec![Choice::new("", "Aucune : l'adresse s'ouvre directement", form.service.is_empty())];
    for line in state.store.managed_services(viewer.id(), &desk.scope).await? {
        let label = format!("{} ({})", line.name, line.protocol.label_fr());
        services.push(Choice::new(&line.id, &label, form.service == line.id));
    }
    let profiles = offered_profiles(&desk)
        .into_iter()
        .filter(|p| owner.is_none() || !p.is_departement())
        .map(|p| {
            Choice::new(p.as_str(), profile_group(p), form.profiles.iter().any(|c| c == p.as_str()))
        })
        .collect();
    let (title, action) = match managed {
        Some(managed) => (
            format!("Ressource « {} »", managed.resource.title),
            desk.href(&format!("ressources/{}", managed.id)),
        ),
        None => ("Ajouter une ressource".to_owned(), desk.href("ressources/nouvelle")),
    };
    let html = render(&FormPage {
        chrome: viewer_chrome(&title, viewer),
        csrf: viewer.csrf_token.clone(),
        action,
        editing: managed.map(|m| m.id.clone()),
        read_only: managed.is_some_and(|m| !m.editable),
        kinds: KINDS.iter().map(|(c, l)| Choice::new(c, l, form.kind == *c)).collect(),
        services,
        subjects: Choice::list(SUBJECTS, &form.subjects),
        levels: Choice::list(LEVELS, &form.levels),
        dys: Choice::list(DYS_TAGS, &form.dys),
        profiles,
        schools,
        owner,
        notice,
        desk,
        form,
    })?;
    Ok((status, Html(html)).into_response())
}

pub(crate) async fn new_form(
    State(state): State<AppState>,
    viewer: Viewer,
    path: DeskPath,
) -> Result<Response, AppError> {
    let desk = Desk::of(&state, &viewer, &path).await?;

    let form = ResourceForm { token: store::new_id(), ..ResourceForm::default() };
    form_page(&state, &viewer, desk, StatusCode::OK, form, None, None).await
}

/// Checks the bound application before the store does, to put the refusal on its field: it
/// must be one the desk may use and, for CAS, cover the resource's address.
async fn check_service(state: &AppState, viewer: &Viewer, desk: &Desk, form: &mut ResourceForm) {
    if form.service.is_empty() || form.url_error.is_some() {
        return;
    }
    let managed = state.store.managed_service(viewer.id(), &desk.scope, &form.service).await;
    match managed {
        Ok(Some(managed)) => {
            let service = &managed.service;
            if service.protocol == Protocol::Cas && !service.matches(&form.url) {
                form.url_error = Some(format!(
                    "Adresse refusée : elle ne correspond à aucune adresse de l'application CAS « \
                     {} » ; la connexion unique ne pourrait pas s'y faire.",
                    service.name
                ));
            }
        }
        Ok(None) => {
            form.service_error =
                Some("L'application choisie n'existe pas ou ne vous est pas ouverte.".to_owned());
        }
        Err(error) => {
            tracing::error!(?error, "bound application not read");
            form.service_error = Some("L'application choisie n'a pas pu être lue.".to_owned());
        }
    }
}

pub(crate) async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    path: DeskPath,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let desk = Desk::of(&state, &viewer, &path).await?;
    let known: Vec<String> =
        desk.known_schools(&state, &viewer).await?.into_iter().map(|s| s.id).collect();
    let mut form = ResourceForm::read(&fields, &desk);
    form.check(&known);
    check_service(&state, &viewer, &desk, &mut form).await;
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
            return Ok(
                Redirect::to(&desk.href(&format!("ressources/{id}?fait=creee"))).into_response()
            );
        }
        FormSubmission::InProgress => {
            return Err(AppError::BadRequest(
                "Ce formulaire est déjà en cours d'envoi : patientez puis rechargez la page.",
            ));
        }
    }

    let created =
        state.store.create_resource(viewer.id(), &desk.scope, &form.to_new_resource()).await;
    let id = match created {
        Ok(id) => id,
        Err(error) => {
            state.store.release_form_submission(viewer.id(), &token).await?;
            let store::StoreError::Conflict(reason) = error else { return Err(error.into()) };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            let mut form = form;
            form.store_error = Some(reason);
            return form_page(&state, &viewer, desk, status, form, None, None).await;
        }
    };
    state.store.complete_form_submission(viewer.id(), &token, &id).await?;
    Ok(Redirect::to(&desk.href(&format!("ressources/{id}?fait=creee"))).into_response())
}

async fn managed(
    state: &AppState,
    viewer: &Viewer,
    desk: &Desk,
    id: &str,
) -> Result<ManagedResource, AppError> {
    state.store.managed_resource(viewer.id(), &desk.scope, id).await?.ok_or(AppError::NotFound)
}

pub(crate) async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    path: DeskPath,
    uri: Uri,
) -> Result<Response, AppError> {
    let desk = Desk::of(&state, &viewer, &path).await?;
    let managed = managed(&state, &viewer, &desk, path.id()?).await?;

    let notice = match Fields::query(&uri).get("fait") {
        "creee" => Some("La ressource est ajoutée au catalogue."),
        "enregistree" => Some("Les modifications sont enregistrées."),
        _ => None,
    };
    let form = ResourceForm::of(&managed);
    form_page(&state, &viewer, desk, StatusCode::OK, form, Some(&managed), notice).await
}

pub(crate) async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    path: DeskPath,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let desk = Desk::of(&state, &viewer, &path).await?;
    let managed = Some(managed(&state, &viewer, &desk, path.id()?).await?)
        .filter(|m| m.editable)
        .ok_or(AppError::NotFound)?;
    let known: Vec<String> =
        desk.known_schools(&state, &viewer).await?.into_iter().map(|s| s.id).collect();
    let mut form = ResourceForm::read(&fields, &desk);
    form.check(&known);
    check_service(&state, &viewer, &desk, &mut form).await;
    if form.has_errors() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return form_page(&state, &viewer, desk, status, form, Some(&managed), None).await;
    }

    let changed = form.to_new_resource();
    match state.store.update_resource(viewer.id(), &desk.scope, &managed.id, &changed).await {
        Ok(()) => {}
        Err(store::StoreError::Conflict(reason)) => {
            form.store_error = Some(reason);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return form_page(&state, &viewer, desk, status, form, Some(&managed), None).await;
        }
        Err(other) => return Err(other.into()),
    }
    Ok(Redirect::to(&desk.href(&format!("ressources/{}?fait=enregistree", managed.id)))
        .into_response())
}

pub(crate) async fn confirm_delete(
    State(state): State<AppState>,
    viewer: Viewer,
    path: DeskPath,
) -> Result<Response, AppError> {
    let desk = Desk::of(&state, &viewer, &path).await?;
    let managed = Some(managed(&state, &viewer, &desk, path.id()?).await?)
        .filter(|m| m.editable)
        .ok_or(AppError::NotFound)?;

    let html = render(&DeletePage {
        chrome: viewer_chrome("Retirer une ressource", &viewer),
        csrf: viewer.csrf_token.clone(),
        id: managed.id,
        title: managed.resource.title,
        desk,
    })?;
    Ok(Html(html).into_response())
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    viewer: Viewer,
    path: DeskPath,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let desk = Desk::of(&state, &viewer, &path).await?;

    state.store.delete_resource(viewer.id(), &desk.scope, path.id()?).await?;
    Ok(Redirect::to(&desk.href("ressources?fait=supprimee")).into_response())
}
