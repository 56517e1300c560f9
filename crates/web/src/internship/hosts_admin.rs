//! The département's desk for host organisations and partner platforms, for département
//! administrators only (anyone else gets the ordinary 404, and the store checks again):
//! `/departement/stages/organismes` lists the hosts with filters (status, a part of the name
//! or SIRET), creates one (verified at once, with its first person when given: their login
//! and activation code are shown once), and on each host's page verifies, suspends,
//! reinstates, or merges it into another host named by its SIRET.
//! `/departement/stages/partenaires` creates a partner platform (its API token is shown once)
//! and deactivates one.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::internship::HostStatus;
use store::internship::hosts::{
    FieldErrors, HostAction, HostField, HostFilter, HostForm, HostRecord, PersonForm,
};

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::AppError;
use crate::form::{Fields, PathId};
use crate::internship::host_portal::fields::{
    Choice, Input, error_for, host_form_from, host_inputs, kind_choices, paris_date,
    person_form_from, person_inputs,
};
use crate::session::Viewer;
use crate::templates::{Chrome, render};

/// The most hosts a list shows.
const LIST_LIMIT: i64 = 200;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/departement/stages/organismes", get(list).post(create))
        .route("/departement/stages/organismes/nouveau", get(new_form))
        .route("/departement/stages/organismes/{id}", get(view))
        .route("/departement/stages/organismes/{id}/decision", post(decide))
        .route("/departement/stages/organismes/{id}/fusion", post(merge))
        .route("/departement/stages/partenaires", get(partners).post(create_partner))
        .route("/departement/stages/partenaires/{id}/desactiver", post(deactivate_partner))
}

/// 404 for anyone but a département administrator.
fn require_admin(viewer: &Viewer) -> Result<(), AppError> {
    if viewer.facts.departement_admin { Ok(()) } else { Err(AppError::NotFound) }
}

struct HostRow {
    id: String,
    name: String,
    siret: String,
    city: String,
    status: &'static str,
    offers: i64,
    members: i64,
    created: String,
}

#[derive(Template)]
#[template(path = "internship_hosts_admin_list.html")]
struct ListPage {
    chrome: Chrome,
    query: String,
    statuses: Vec<Choice>,
    hosts: Vec<HostRow>,
    limited: bool,
}

#[derive(Template)]
#[template(path = "internship_hosts_admin_form.html")]
struct FormPage {
    chrome: Chrome,
    csrf: String,
    host_inputs: Vec<Input>,
    kinds: Vec<Choice>,
    kind_error: Option<String>,
    person_inputs: Vec<Input>,
    store_error: Option<String>,
    has_errors: bool,
}

#[derive(Template)]
#[template(path = "internship_hosts_admin_created.html")]
struct CreatedPage {
    chrome: Chrome,
    host_id: String,
    host_name: String,
    person: Option<(String, String, String)>,
    activation_url: String,
}

struct MemberRow {
    name: String,
    login: String,
    manager: bool,
    activated: bool,
}

struct Decision {
    value: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "internship_hosts_admin_view.html")]
struct ViewPage {
    chrome: Chrome,
    csrf: String,
    host: HostRecord,
    kind: &'static str,
    siret: String,
    created: String,
    members: Vec<MemberRow>,
    decisions: Vec<Decision>,
    mergeable: bool,
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    require_admin(&viewer)?;
    let query = Fields::query(&uri);
    let status = HostStatus::parse(query.get("statut"));
    let filter = HostFilter { status, query: query.get("q").chars().take(100).collect() };

    let found = state.store.departement_hosts(viewer.id(), &filter, LIST_LIMIT + 1).await?;
    let limited = found.len() as i64 > LIST_LIMIT;
    let hosts = found
        .into_iter()
        .take(LIST_LIMIT as usize)
        .map(|h| HostRow {
            id: h.id,
            name: h.name,
            siret: h.siret,
            city: h.city,
            status: h.status.label_fr(),
            offers: h.offers,
            members: h.members,
            created: paris_date(h.created_at),
        })
        .collect();
    let statuses = HostStatus::ALL
        .into_iter()
        .map(|s| Choice {
            value: s.as_str().to_owned(),
            label: s.label_fr().to_owned(),
            checked: Some(s) == status,
        })
        .collect();
    let html = render(&ListPage {
        chrome: viewer_chrome("Organismes d'accueil", &viewer),
        query: filter.query,
        statuses,
        hosts,
        limited,
    })?;
    Ok(Html(html).into_response())
}

fn form_page(
    viewer: &Viewer,
    status: StatusCode,
    host: &HostForm,
    person: &PersonForm,
    errors: &FieldErrors<HostField>,
    store_error: Option<String>,
) -> Result<Response, AppError> {
    let html = render(&FormPage {
        chrome: viewer_chrome("Inscrire un organisme d'accueil", viewer),
        csrf: viewer.csrf_token.clone(),
        host_inputs: host_inputs(host, errors, true),
        kinds: kind_choices(&host.kind),
        kind_error: error_for(errors, HostField::Kind),
        person_inputs: person_inputs(person, errors)
            .into_iter()
            .map(|input| input.optional())
            .collect(),
        store_error,
        has_errors: !errors.is_empty(),
    })?;
    Ok((status, Html(html)).into_response())
}

async fn new_form(viewer: Viewer) -> Result<Response, AppError> {
    require_admin(&viewer)?;
    let (host, person) = (HostForm::default(), PersonForm::default());
    form_page(&viewer, StatusCode::OK, &host, &person, &Vec::new(), None)
}

async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    fields: Fields,
) -> Result<Response, AppError> {
    require_admin(&viewer)?;
    viewer.check_csrf(fields.get("csrf_token"))?;

    let host_form = host_form_from(&fields);
    let person_form = person_form_from(&fields);
    let with_person = [&person_form.last_name, &person_form.first_name, &person_form.email]
        .iter()
        .any(|value| !value.trim().is_empty());
    let mut errors = Vec::new();
    let host = host_form.check().map_err(|e| errors.extend(e));
    let person = if with_person {
        person_form.check().map(Some).map_err(|e| errors.extend(e))
    } else {
        Ok(None)
    };
    let (Ok(host), Ok(person)) = (host, person) else {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return form_page(&viewer, status, &host_form, &person_form, &errors, None);
    };

    let validity = state.config.activation_validity;
    let now = store::now_unix();
    let created = state
        .store
        .departement_create_host(viewer.id(), &host, person.as_ref(), validity, now)
        .await;
    let (host_id, account) = match created {
        Ok(created) => created,
        Err(store::StoreError::Conflict(message)) => {
            let status = StatusCode::CONFLICT;
            return form_page(
                &viewer,
                status,
                &host_form,
                &person_form,
                &Vec::new(),
                Some(message),
            );
        }
        Err(error) => return Err(error.into()),
    };
    let html = render(&CreatedPage {
        chrome: viewer_chrome("Organisme inscrit", &viewer),
        host_id,
        host_name: host.name,
        person: account.zip(person).map(|(account, person)| {
            (
                format!("{} {}", person.first_name, person.last_name),
                account.login,
                domain::activation::format_code(&account.activation_code),
            )
        }),
        activation_url: format!("{}/activation", state.config.base_url.trim_end_matches('/')),
    })?;
    Ok(Html(html).into_response())
}

async fn view_page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let (host, members) =
        state.store.departement_host(viewer.id(), id).await?.ok_or(AppError::NotFound)?;
    let decisions = [
        (HostAction::Verify, "Vérifier l'organisme"),
        (HostAction::Suspend, "Suspendre l'organisme"),
        (HostAction::Reinstate, "Rétablir l'organisme"),
    ]
    .into_iter()
    .filter(|(action, _)| action.apply(host.status).is_some())
    .map(|(action, label)| Decision { value: action.as_str(), label })
    .collect();
    let html = render(&ViewPage {
        chrome: viewer_chrome("Organisme d'accueil", viewer),
        csrf: viewer.csrf_token.clone(),
        kind: host.kind.label_fr(),
        siret: domain::internship::siret::Siret::parse(&host.siret)
            .map(|s| s.display())
            .unwrap_or(host.siret.clone()),
        created: paris_date(host.created_at),
        members: members
            .into_iter()
            .map(|m| MemberRow {
                name: format!("{} {}", m.first_name, m.last_name),
                login: m.login,
                manager: m.role == "manager",
                activated: m.activated,
            })
            .collect(),
        decisions,
        mergeable: host.status != HostStatus::Merged,
        host,
        notice,
        error,
    })?;
    Ok((status, Html(html)).into_response())
}

async fn view(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    uri: Uri,
) -> Result<Response, AppError> {
    require_admin(&viewer)?;
    let notice = match Fields::query(&uri).get("fait") {
        "decision" => Some("La décision est enregistrée."),
        "fusion" => Some(
            "L'organisme a été fusionné : ses offres et ses membres ont rejoint l'autre organisme.",
        ),
        _ => None,
    };
    view_page(&state, &viewer, &id, StatusCode::OK, notice, None).await
}

async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    require_admin(&viewer)?;
    viewer.check_csrf(fields.get("csrf_token"))?;
    let action = match fields.get("decision") {
        "verify" => HostAction::Verify,
        "suspend" => HostAction::Suspend,
        "reinstate" => HostAction::Reinstate,
        _ => return Err(AppError::BadRequest("Cette décision n'existe pas.")),
    };

    let now = store::now_unix();
    match state.store.departement_set_host_status(viewer.id(), &id, action, now).await {
        Ok(_) => Ok(Redirect::to(&format!("/departement/stages/organismes/{id}?fait=decision"))
            .into_response()),
        Err(store::StoreError::Conflict(message)) => {
            view_page(&state, &viewer, &id, StatusCode::CONFLICT, None, Some(message)).await
        }
        Err(error) => Err(error.into()),
    }
}

async fn merge(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    require_admin(&viewer)?;
    viewer.check_csrf(fields.get("csrf_token"))?;

    let target = match domain::internship::siret::Siret::parse(fields.get("siret_cible")) {
        Ok(siret) => {
            let filter = HostFilter { status: None, query: siret.as_str().to_owned() };
            let found = state.store.departement_hosts(viewer.id(), &filter, 5).await?;
            found.into_iter().find(|h| h.siret == siret.as_str())
        }
        Err(reason) => {
            return view_page(
                &state,
                &viewer,
                &id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(reason),
            )
            .await;
        }
    };
    let Some(target) = target else {
        let error = Some("Aucun organisme n'est inscrit avec ce numéro SIRET.".to_owned());
        return view_page(&state, &viewer, &id, StatusCode::UNPROCESSABLE_ENTITY, None, error)
            .await;
    };

    let now = store::now_unix();
    match state.store.departement_merge_hosts(viewer.id(), &id, &target.id, now).await {
        Ok(()) => Ok(Redirect::to(&format!("/departement/stages/organismes/{id}?fait=fusion"))
            .into_response()),
        Err(store::StoreError::Conflict(message)) => {
            view_page(&state, &viewer, &id, StatusCode::CONFLICT, None, Some(message)).await
        }
        Err(error) => Err(error.into()),
    }
}

struct PartnerRow {
    id: String,
    name: String,
    active: bool,
    created: String,
    last_used: String,
    offers: i64,
}

#[derive(Template)]
#[template(path = "internship_partner_list.html")]
struct PartnersPage {
    chrome: Chrome,
    csrf: String,
    /// The one-time token of the new partner form: a double submit creates one partner.
    once: String,
    partners: Vec<PartnerRow>,
    name: String,
    name_error: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "internship_partner_token.html")]
struct TokenPage {
    chrome: Chrome,
    name: String,
    token: String,
    api_url: String,
}

async fn partners_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    name: &str,
    name_error: Option<String>,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    let partners = state
        .store
        .departement_partners(viewer.id())
        .await?
        .into_iter()
        .map(|p| PartnerRow {
            id: p.id,
            name: p.name,
            active: p.active,
            created: paris_date(p.created_at),
            last_used: p.last_used_at.map(paris_date).unwrap_or_else(|| "jamais".to_owned()),
            offers: p.offers,
        })
        .collect();
    let html = render(&PartnersPage {
        chrome: viewer_chrome("Plateformes partenaires", viewer),
        csrf: viewer.csrf_token.clone(),
        once: crate::session::random_token(16),
        partners,
        name: name.to_owned(),
        name_error,
        notice,
    })?;
    Ok((status, Html(html)).into_response())
}

async fn partners(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    require_admin(&viewer)?;
    let notice = match Fields::query(&uri).get("fait") {
        "desactive" => Some(
            "Le partenaire est désactivé : son jeton ne fonctionne plus et ses offres sont \
             archivées.",
        ),
        "deja" => Some(
            "Ce partenaire a déjà été créé par un premier envoi du formulaire, et son jeton \
             affiché à ce moment-là. S'il est perdu, désactivez ce partenaire et créez-en un \
             autre.",
        ),
        _ => None,
    };
    partners_page(&state, &viewer, StatusCode::OK, "", None, notice).await
}

async fn create_partner(
    State(state): State<AppState>,
    viewer: Viewer,
    fields: Fields,
) -> Result<Response, AppError> {
    require_admin(&viewer)?;
    viewer.check_csrf(fields.get("csrf_token"))?;

    let name = fields.get("nom");
    let once = fields.get("jeton");
    if crate::form::claim_once(&state.store, viewer.id(), once).await?.is_some() {
        return Ok(axum::response::Redirect::to("/departement/stages/partenaires?fait=deja")
            .into_response());
    }
    let created = state.store.create_partner(viewer.id(), name, store::now_unix()).await;
    match &created {
        Ok((partner_id, _)) => {
            state.store.complete_form_submission(viewer.id(), once, partner_id).await?;
        }
        Err(_) => state.store.release_form_submission(viewer.id(), once).await?,
    }
    match created {
        Ok((_, token)) => {
            let html = render(&TokenPage {
                chrome: viewer_chrome("Partenaire créé", &viewer),
                name: name.split_whitespace().collect::<Vec<_>>().join(" "),
                token,
                api_url: format!(
                    "{}/api/internship_offers",
                    state.config.base_url.trim_end_matches('/')
                ),
            })?;
            Ok(Html(html).into_response())
        }
        Err(store::StoreError::Conflict(message)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            partners_page(&state, &viewer, status, name, Some(message), None).await
        }
        Err(error) => Err(error.into()),
    }
}

async fn deactivate_partner(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    require_admin(&viewer)?;
    viewer.check_csrf(fields.get("csrf_token"))?;
    state.store.deactivate_partner(viewer.id(), &id, store::now_unix()).await?;
    Ok(Redirect::to("/departement/stages/partenaires?fait=desactive").into_response())
}
