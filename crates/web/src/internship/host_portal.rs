//! The host organisations' side: the public self-registration page
//! (`/stages/organismes/inscription`: the organisation, its SIRET checked, and the registering
//! person with their password; throttled per address), and the host's space `/organisme` for
//! its people: the organisation's details and status, editable by a manager
//! (`/organisme/coordonnees`), its members (a manager invites a colleague, who receives a
//! login and an activation code by e-mail, or removes one), and its offers
//! (`host_portal/offers.rs`). Only the people of a pending or verified host reach these pages
//! (`acting_host`); the store checks each write again in its SQL.

pub(crate) mod fields;
mod offers;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::internship::HostStatus;
use store::internship::hosts::{FieldErrors, HostField, HostForm, PersonForm};

use crate::AppState;
use crate::accounts::{chrome, hash_password, viewer_chrome};
use crate::error::AppError;
use crate::form::{Fields, PathId};
use crate::internship::acting_host;
use crate::security::{client_ip, peer_of};
use crate::session::{Viewer, check_prelogin_csrf, prelogin_token};
use crate::templates::{Chrome, render};
use fields::{
    Choice, Input, error_for, host_form_from, host_inputs, kind_choices, person_form_from,
    person_inputs,
};

/// Sign-ups from one address that always pass; after them, one every few seconds, then one a
/// minute at most.
const FREE_SIGNUPS: i64 = 10;
/// The longest wait between two sign-ups from one address, in milliseconds.
const MAX_SIGNUP_DELAY_MS: i64 = 60_000;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/stages/organismes/inscription", get(register_form).post(register))
        .route("/organisme", get(home))
        .route("/organisme/coordonnees", get(edit_form).post(save_details))
        .route("/organisme/membres", post(invite))
        .route("/organisme/membres/{id}/retirer", post(remove_member))
        .merge(offers::routes())
}

#[derive(Template)]
#[template(path = "internship_host_register.html")]
struct RegisterPage {
    chrome: Chrome,
    csrf: String,
    host_inputs: Vec<Input>,
    kinds: Vec<Choice>,
    kind_error: Option<String>,
    person_inputs: Vec<Input>,
    password_error: Option<String>,
    form_error: Option<String>,
    has_errors: bool,
}

#[derive(Template)]
#[template(path = "internship_host_registered.html")]
struct RegisteredPage {
    chrome: Chrome,
    host_name: String,
    login: String,
}

/// A member of the host, as the home page lists them.
struct MemberView {
    id: String,
    name: String,
    email: String,
    login: String,
    manager: bool,
    activated: bool,
    removable: bool,
}

#[derive(Template)]
#[template(path = "internship_host_home.html")]
struct HomePage {
    chrome: Chrome,
    csrf: String,
    name: String,
    siret: String,
    kind: &'static str,
    address: String,
    contact: String,
    representative: String,
    status: HostStatus,
    manager: bool,
    members: Vec<MemberView>,
    invite_inputs: Vec<Input>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "internship_host_edit.html")]
struct EditPage {
    chrome: Chrome,
    csrf: String,
    siret: String,
    inputs: Vec<Input>,
    kinds: Vec<Choice>,
    kind_error: Option<String>,
}

/// A rendered page with a status and an optional cookie to set.
fn page(status: StatusCode, html: String, set_cookie: Option<String>) -> Response {
    let mut response = (status, Html(html)).into_response();
    if let Some(cookie) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// What the registration page shows back after a refusal.
#[derive(Default)]
struct Refused {
    host: FieldErrors<HostField>,
    password: Option<String>,
    form: Option<String>,
}

fn register_page(
    headers: &HeaderMap,
    state: &AppState,
    status: StatusCode,
    host: &HostForm,
    person: &PersonForm,
    refused: Refused,
) -> Result<Response, AppError> {
    let (csrf, set_cookie) = prelogin_token(headers, &state.site);
    let has_errors = !refused.host.is_empty() || refused.password.is_some();
    let html = render(&RegisterPage {
        has_errors,
        chrome: chrome("Inscrire un organisme d'accueil"),
        csrf,
        host_inputs: host_inputs(host, &refused.host, true),
        kinds: kind_choices(&host.kind),
        kind_error: error_for(&refused.host, HostField::Kind),
        person_inputs: person_inputs(person, &refused.host),
        password_error: refused.password,
        form_error: refused.form,
    })?;
    Ok(page(status, html, set_cookie))
}

async fn register_form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (host, person) = (HostForm::default(), PersonForm::default());
    register_page(&headers, &state, StatusCode::OK, &host, &person, Refused::default())
}

/// The French reason a new password is refused, if it is.
fn password_problem(password: &str, confirm: &str, words: &[&str]) -> Option<String> {
    if password != confirm {
        return Some("Les deux mots de passe saisis sont différents.".to_owned());
    }
    domain::password::check_new_password(password, words).err().map(|error| {
        let text = error.to_string();
        let mut chars = text.chars();
        let capitalised: String =
            chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
        format!("{capitalised}.")
    })
}

async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    fields: Fields,
) -> Result<Response, AppError> {
    check_prelogin_csrf(&headers, &state.site, fields.get("csrf_token"))?;
    let host_form = host_form_from(&fields);
    let person_form = person_form_from(&fields);

    let host = host_form.check();
    let person = person_form.check();
    let mut words: Vec<&str> =
        vec![&host_form.name, &person_form.last_name, &person_form.first_name];
    words.extend(host_form.name.split([' ', '-', '\'']).filter(|w| w.len() > 2));
    words.extend(person_form.email.split(['@', '.']).filter(|w| w.len() > 2));
    let password = fields.get("mot_de_passe");
    let password_error =
        password_problem(password, fields.get("mot_de_passe_confirmation"), &words);
    let (host, person) = match (host, person, password_error) {
        (Ok(host), Ok(person), None) => (host, person),
        (host, person, password) => {
            let mut errors = host.err().unwrap_or_default();
            errors.extend(person.err().unwrap_or_default());
            let refused = Refused { host: errors, password, form: None };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return register_page(&headers, &state, status, &host_form, &person_form, refused);
        }
    };

    let ip = client_ip(&headers, peer_of(&extensions), &state.config.trusted_proxies);
    let now_ms = jiff::Timestamp::now().as_millisecond();
    let key = format!("inscription-organisme:{ip}");
    let waiting =
        state.store.throttle_reserve(&key, now_ms, FREE_SIGNUPS, MAX_SIGNUP_DELAY_MS).await?;
    if let Some(remaining) = waiting {
        let seconds = (remaining + 999) / 1000;
        let refused = Refused {
            form: Some(format!(
                "Trop d'inscriptions depuis cette adresse : réessayez dans {seconds} secondes."
            )),
            ..Refused::default()
        };
        let status = StatusCode::TOO_MANY_REQUESTS;
        return register_page(&headers, &state, status, &host_form, &person_form, refused);
    }

    let hash = hash_password(&state, password.to_owned()).await?;
    let now = store::now_unix();
    match state.store.register_host(&host, &person, &hash, now).await {
        Ok(registration) => {
            let html = render(&RegisteredPage {
                chrome: chrome("Organisme inscrit"),
                host_name: host.name,
                login: registration.login,
            })?;
            Ok(Html(html).into_response())
        }
        Err(store::StoreError::Conflict(message)) => {
            let refused = Refused { form: Some(message), ..Refused::default() };
            let status = StatusCode::CONFLICT;
            register_page(&headers, &state, status, &host_form, &person_form, refused)
        }
        Err(error) => Err(error.into()),
    }
}

/// The notices the home page shows after a redirect.
fn notice_of(uri: &Uri) -> Option<String> {
    match Fields::query(uri).get("fait") {
        "coordonnees" => Some("Les coordonnées de l'organisme sont enregistrées.".to_owned()),
        "invitation" => Some(
            "L'invitation est envoyée : votre collègue reçoit son identifiant et son code \
             d'activation par courrier électronique."
                .to_owned(),
        ),
        "retrait" => Some("Le membre a été retiré de l'organisme.".to_owned()),
        _ => None,
    }
}

async fn home_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    notice: Option<String>,
    invite: (&PersonForm, &FieldErrors<HostField>, Option<String>),
) -> Result<Response, AppError> {
    let membership = acting_host(state, viewer).await?;
    let host = state.store.host_of_member(viewer.id()).await?.ok_or(AppError::NotFound)?;
    let manager = membership.role == "manager";
    let members = state
        .store
        .host_members(viewer.id())
        .await?
        .into_iter()
        .map(|m| MemberView {
            removable: manager && m.person_id != viewer.id(),
            name: format!("{} {}", m.first_name, m.last_name),
            id: m.person_id,
            email: m.email,
            login: m.login,
            manager: m.role == "manager",
            activated: m.activated,
        })
        .collect();

    let (invite_form, invite_errors, error) = invite;
    let html = render(&HomePage {
        chrome: viewer_chrome("Mon organisme", viewer),
        csrf: viewer.csrf_token.clone(),
        siret: domain::internship::siret::Siret::parse(&host.siret)
            .map(|s| s.display())
            .unwrap_or(host.siret.clone()),
        kind: host.kind.label_fr(),
        address: format!("{}, {} {}", host.street, host.postal_code, host.city),
        contact: [host.contact_name.as_str(), &host.contact_email, &host.contact_phone]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" · "),
        representative: format!("{} ({})", host.representative_name, host.representative_role),
        name: host.name,
        status: host.status,
        manager,
        members,
        invite_inputs: person_inputs(invite_form, invite_errors),
        notice,
        error,
    })?;
    Ok((status, Html(html)).into_response())
}

async fn home(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    let form = PersonForm::default();
    home_page(&state, &viewer, StatusCode::OK, notice_of(&uri), (&form, &Vec::new(), None)).await
}

fn edit_page(
    viewer: &Viewer,
    status: StatusCode,
    form: &HostForm,
    errors: &FieldErrors<HostField>,
) -> Result<Response, AppError> {
    let html = render(&EditPage {
        chrome: viewer_chrome("Coordonnées de l'organisme", viewer),
        csrf: viewer.csrf_token.clone(),
        siret: domain::internship::siret::Siret::parse(&form.siret)
            .map(|s| s.display())
            .unwrap_or(form.siret.clone()),
        inputs: host_inputs(form, errors, false),
        kinds: kind_choices(&form.kind),
        kind_error: error_for(errors, HostField::Kind),
    })?;
    Ok((status, Html(html)).into_response())
}

/// The host of a manager; 404 for a mere member.
async fn managed_host(
    state: &AppState,
    viewer: &Viewer,
) -> Result<store::internship::hosts::HostRecord, AppError> {
    let membership = acting_host(state, viewer).await?;
    if membership.role != "manager" {
        return Err(AppError::NotFound);
    }
    state.store.host_of_member(viewer.id()).await?.ok_or(AppError::NotFound)
}

async fn edit_form(State(state): State<AppState>, viewer: Viewer) -> Result<Response, AppError> {
    let host = managed_host(&state, &viewer).await?;
    edit_page(&viewer, StatusCode::OK, &HostForm::of(&host), &Vec::new())
}

async fn save_details(
    State(state): State<AppState>,
    viewer: Viewer,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let host = managed_host(&state, &viewer).await?;

    // The SIRET is not the host's to change: the stored one is checked with the rest.
    let form = HostForm { siret: host.siret.clone(), ..host_form_from(&fields) };
    let details = match form.check() {
        Ok(details) => details,
        Err(errors) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return edit_page(&viewer, status, &form, &errors);
        }
    };
    state.store.update_host_details(viewer.id(), &details, store::now_unix()).await?;
    Ok(Redirect::to("/organisme?fait=coordonnees").into_response())
}

async fn invite(
    State(state): State<AppState>,
    viewer: Viewer,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    managed_host(&state, &viewer).await?;

    let form = person_form_from(&fields);
    let person = match form.check() {
        Ok(person) => person,
        Err(errors) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            let error =
                Some("L'invitation n'est pas partie : corrigez les champs signalés.".into());
            return home_page(&state, &viewer, status, None, (&form, &errors, error)).await;
        }
    };
    let activation_url = format!("{}/activation", state.config.base_url.trim_end_matches('/'));
    let validity = state.config.activation_validity;
    state
        .store
        .invite_host_member(viewer.id(), &person, &activation_url, validity, store::now_unix())
        .await?;
    Ok(Redirect::to("/organisme?fait=invitation").into_response())
}

async fn remove_member(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(member): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    managed_host(&state, &viewer).await?;

    match state.store.remove_host_member(viewer.id(), &member, store::now_unix()).await {
        Ok(()) => Ok(Redirect::to("/organisme?fait=retrait").into_response()),
        Err(store::StoreError::Conflict(message)) => {
            let form = PersonForm::default();
            let status = StatusCode::CONFLICT;
            home_page(&state, &viewer, status, None, (&form, &Vec::new(), Some(message))).await
        }
        Err(error) => Err(error.into()),
    }
}
