//! The administration consoles. The school console (`/etablissement/{uai}`) shows a school's
//! figures, its classes with pupils, legal guardians and account states, the downloads of its
//! activation codes (CSV, printable letters) and the freeze and new-code actions. The
//! département console (`/departement`) lists every collège, the département's own people and
//! a form to create one, and `/departement/imports` the AAF import runs. Who may see what is
//! decided by the SQL of `store::admin`: anyone else gets the ordinary 404.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use domain::profile::Profile;
use store::directory::{SchoolFigures, SchoolRef};
use store::provisioning::NewLocalPerson;

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::{AppError, percent_encode};
use crate::form::{Fields, PathId};
use crate::letters::{letters_csp, render_letters, write_codes_csv};
use crate::session::Viewer;
use crate::templates::{
    DepartementConsolePage, ImportRunsPage, PersonCreatedPage, PersonForm, RunView,
    SchoolConsolePage, SchoolLine, render,
};

/// Import runs shown per page.
const RUNS_PER_PAGE: u32 = 5;
/// Rejections shown per run.
const REJECTIONS_SHOWN: u32 = 200;

/// The school `uai` when the viewer administers it, else 404.
async fn school_of(state: &AppState, viewer: &Viewer, uai: &str) -> Result<SchoolRef, AppError> {
    state.store.administered_school(viewer.id(), uai).await?.ok_or(AppError::NotFound)
}

fn activated(figures: &SchoolFigures) -> i64 {
    figures.classes.iter().map(|c| c.activated).sum()
}

/// The message a console shows after a freeze or an unfreeze.
fn account_notice(uri: &Uri) -> Option<&'static str> {
    match Fields::query(uri).get("compte") {
        "gele" => Some("Le compte est gelé : la personne ne peut plus se connecter."),
        "degele" => Some("Le compte est dégelé : la personne peut de nouveau se connecter."),
        "facteur" => Some(
            "La double authentification est réinitialisée : la personne en choisira une nouvelle \
             à sa prochaine connexion si elle est administratrice, ou quand elle le voudra.",
        ),
        "sans-facteur" => Some("Cette personne n'avait pas de double authentification."),
        _ => None,
    }
}

pub(crate) async fn school_console(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(uai): PathId,
    uri: Uri,
) -> Result<Response, AppError> {
    let school = school_of(&state, &viewer, &uai).await?;

    let figures = state.store.school_figures(&school).await?;
    let roster = state.store.school_roster(&school).await?;
    let beyond = state.store.people_beyond(viewer.id(), &school.id).await?;
    let html = render(&SchoolConsolePage {
        chrome: viewer_chrome(&school.name, &viewer),
        csrf: viewer.csrf_token.clone(),
        back: format!("/etablissement/{}", percent_encode(&school.uai)),
        activated: activated(&figures),
        school,
        figures,
        roster,
        notice: account_notice(&uri),
        viewer_id: viewer.id().to_owned(),
        beyond,
    })?;
    Ok(Html(html).into_response())
}

/// The activation codes the request asks for (`?classe=` optional), once the viewer is known
/// to administer the school.
async fn requested_codes(
    state: &AppState,
    viewer: &Viewer,
    uai: &str,
    uri: &Uri,
) -> Result<(SchoolRef, Option<String>, Vec<store::accounts::ActivationCodeRow>), AppError> {
    let school = school_of(state, viewer, uai).await?;
    let query = Fields::query(uri);
    let class = Some(query.get("classe").to_owned()).filter(|c| !c.is_empty());
    if class.as_ref().is_some_and(|c| c.len() > 64) {
        return Err(AppError::NotFound);
    }

    let rows = state
        .store
        .activation_codes(&school.uai, class.as_deref(), state.config.activation_validity)
        .await?;
    let detail = match &class {
        Some(class) => format!("uai={} classe={class}", school.uai),
        None => format!("uai={}", school.uai),
    };
    state.store.audit(Some(viewer.id()), "activation_codes_exported", None, &detail).await?;
    tracing::info!(person.id = %viewer.id(), rows = rows.len(), "activation codes exported");
    Ok((school, class, rows))
}

/// A file name made of ASCII letters, digits and hyphens only.
fn ascii_file_stem(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|part| {
            part.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

pub(crate) async fn school_codes_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(uai): PathId,
    uri: Uri,
) -> Result<Response, AppError> {
    let (school, class, rows) = requested_codes(&state, &viewer, &uai, &uri).await?;

    let mut bytes = Vec::new();
    write_codes_csv(&mut bytes, &rows).map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    let mut parts = vec!["codes", school.uai.as_str()];
    if let Some(class) = &class {
        parts.push(class);
    }
    let fallback = ascii_file_stem(&parts);
    let exact = match &class {
        Some(class) => format!("codes-{}-{class}.csv", school.uai),
        None => format!("codes-{}.csv", school.uai),
    };
    let disposition = format!(
        "attachment; filename=\"{fallback}.csv\"; filename*=UTF-8''{}",
        percent_encode(&exact).replace('/', "%2F")
    );
    let disposition = HeaderValue::from_str(&disposition)
        .map_err(|_| AppError::Internal("content-disposition".to_owned()))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

pub(crate) async fn school_letters(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(uai): PathId,
    uri: Uri,
) -> Result<Response, AppError> {
    let (_, _, rows) = requested_codes(&state, &viewer, &uai, &uri).await?;

    let html = render_letters(&rows, &state.config.base_url);
    Ok((
        [
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(letters_csp())),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static("inline")),
        ],
        Html(html),
    )
        .into_response())
}

/// A local path without query or fragment to come back to, else the home page.
fn back_to(field: &str) -> String {
    let path = crate::security::safe_next(Some(field));
    if path.contains(['?', '#']) { "/accueil".to_owned() } else { path }
}

pub(crate) async fn set_frozen(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(person_id): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let frozen = match fields.get("gel") {
        "1" => true,
        "0" => false,
        _ => return Err(AppError::BadRequest("L'action demandée n'est pas comprise.")),
    };
    if person_id == viewer.id() {
        return Err(AppError::BadRequest("Vous ne pouvez pas geler votre propre compte."));
    }

    let person = state
        .store
        .set_account_frozen(viewer.id(), &person_id, frozen)
        .await?
        .ok_or(AppError::NotFound)?;
    tracing::info!(person.id = %viewer.id(), target.id = %person.id, frozen, "account freeze");
    let back = back_to(fields.get("retour"));
    let done = if frozen { "gele" } else { "degele" };
    Ok(Redirect::to(&format!("{back}?compte={done}")).into_response())
}

/// `POST /personnes/{id}/second-facteur`: an administrator removes the second factor of
/// someone they administer, who enrols a new one at their next login.
pub(crate) async fn reset_second_factor(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(person_id): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    if person_id == viewer.id() {
        return Err(AppError::BadRequest(
            "Votre propre double authentification se gère dans vos paramètres.",
        ));
    }

    let (person, removed) = state
        .store
        .reset_second_factor(viewer.id(), &person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    tracing::info!(person.id = %viewer.id(), target.id = %person.id, removed, "second factor reset");
    let back = back_to(fields.get("retour"));
    let done = if removed { "facteur" } else { "sans-facteur" };
    Ok(Redirect::to(&format!("{back}?compte={done}")).into_response())
}

/// The collèges of the département with their figures, when the viewer administers it.
async fn school_lines(state: &AppState, viewer: &Viewer) -> Result<Vec<SchoolLine>, AppError> {
    let schools = state.store.departement_schools(viewer.id()).await?.ok_or(AppError::NotFound)?;
    let mut lines = Vec::with_capacity(schools.len());
    for school in &schools {
        let figures = state.store.school_figures(school).await?;
        lines.push(SchoolLine { activated: activated(&figures), figures });
    }
    Ok(lines)
}

async fn departement_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    form: PersonForm,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    let schools = school_lines(state, viewer).await?;
    let people = state.store.departement_people(viewer.id()).await?;
    let html = render(&DepartementConsolePage {
        chrome: viewer_chrome("Console du département", viewer),
        csrf: viewer.csrf_token.clone(),
        schools,
        people,
        form,
        notice,
        viewer_id: viewer.id().to_owned(),
    })?;
    Ok((status, Html(html)).into_response())
}

pub(crate) async fn departement_console(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    let token = store::new_id();
    let form = PersonForm { token, whole: true, ..PersonForm::default() };
    departement_page(&state, &viewer, StatusCode::OK, form, account_notice(&uri)).await
}

/// Reads and checks the creation form; the errors are French and tied to their field.
fn read_person_form(fields: &Fields, known_uais: &[String]) -> PersonForm {
    let mut form = PersonForm {
        token: fields.get("jeton").trim().to_owned(),
        last_name: fields.get("last_name").trim().to_owned(),
        first_name: fields.get("first_name").trim().to_owned(),
        email: fields.get("email").trim().to_owned(),
        official: fields.get("profile") == "official",
        whole: fields.get("scope") != "schools",
        scope: fields.all("schools").into_iter().map(str::to_owned).collect(),
        admin: fields.get("admin") == "1",
        ..PersonForm::default()
    };

    if let Err(error) = domain::names::PersonName::parse(&form.last_name) {
        form.last_name_error = Some(format!("Nom : {error}."));
    }
    if let Err(error) = domain::names::PersonName::parse(&form.first_name) {
        form.first_name_error = Some(format!("Prénom : {error}."));
    }
    let email = &form.email;
    if !email.is_empty()
        && (email.len() > 254
            || email.chars().any(|c| c.is_whitespace() || c.is_control())
            || email.split('@').count() != 2
            || email.starts_with('@')
            || email.ends_with('@'))
    {
        form.email_error =
            Some("Adresse électronique non valide, par exemple prenom.nom@departement.fr.".into());
    }
    if !matches!(fields.get("profile"), "agent" | "official") {
        form.profile_error = Some("Choisissez « agent » ou « élu ».".to_owned());
    }
    if !form.whole {
        if form.scope.is_empty() {
            form.scope_error = Some("Cochez au moins un collège, ou tout le département.".into());
        } else if form.scope.iter().any(|uai| !known_uais.contains(uai)) {
            form.scope_error = Some("Un des collèges choisis n'existe pas.".to_owned());
        }
    }
    form
}

pub(crate) async fn create_local_person(
    State(state): State<AppState>,
    viewer: Viewer,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let schools = state.store.departement_schools(viewer.id()).await?.ok_or(AppError::NotFound)?;
    let known: Vec<String> = schools.iter().map(|s| s.uai.clone()).collect();
    let form = read_person_form(&fields, &known);
    if form.has_errors() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return departement_page(&state, &viewer, status, form, None).await;
    }

    let token = form.token.clone();
    if let Some(person_id) = crate::form::claim_once(&state.store, viewer.id(), &token).await? {
        return created_page(&state, &viewer, &person_id).await;
    }

    let new = NewLocalPerson {
        profile: if form.official { Profile::Official } else { Profile::Agent },
        last_name: form.last_name.clone(),
        first_name: form.first_name.clone(),
        email: Some(form.email.clone()).filter(|e| !e.is_empty()),
        scope_uais: if form.whole { Vec::new() } else { form.scope.clone() },
        departement_admin: form.admin,
    };
    let validity = state.config.activation_validity;
    let created = state.store.create_local_person(&new, validity).await;
    if created.is_err() {
        state.store.release_form_submission(viewer.id(), &token).await?;
    }
    let created = match created {
        Ok(created) => created,
        Err(store::StoreError::Conflict(reason)) => {
            let mut form = form;
            form.scope_error = Some(format!("Création impossible : {reason}."));
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return departement_page(&state, &viewer, status, form, None).await;
        }
        Err(other) => return Err(other.into()),
    };
    state.store.complete_form_submission(viewer.id(), &token, &created.person_id).await?;
    let detail = if new.departement_admin { "departement_admin" } else { "" };
    state
        .store
        .audit(Some(viewer.id()), "departement_person_created", Some(&created.person_id), detail)
        .await?;
    tracing::info!(person.id = %viewer.id(), created.id = %created.person_id, "local person created");

    // The code is shown in the answer to the POST, never in a URL. A reload re-posts the same
    // one-time token, which shows the same person again instead of creating another.
    created_page(&state, &viewer, &created.person_id).await
}

/// The answer to a creation form: the person, their login and live code, ready to print.
async fn created_page(
    state: &AppState,
    viewer: &Viewer,
    person_id: &str,
) -> Result<Response, AppError> {
    let account = state
        .store
        .created_local_account(viewer.id(), person_id)
        .await?
        .ok_or(AppError::NotFound)?;

    let html = render(&PersonCreatedPage {
        chrome: viewer_chrome("Compte créé", viewer),
        person: account.person,
        login: account.login,
        code: account.code.as_deref().map(domain::activation::format_code),
        expires: account
            .expires_at
            .and_then(store::accounts::paris_date)
            .map(|d| crate::letters::french_date(&d))
            .unwrap_or_default(),
        activation_url: format!("{}/activation", state.config.base_url.trim_end_matches('/')),
    })?;
    Ok(Html(html).into_response())
}

/// A Unix instant as `dd/mm/yyyy à HH:MM`, Europe/Paris.
fn paris_datetime(unix: i64) -> String {
    let Ok(timestamp) = jiff::Timestamp::from_second(unix) else { return String::new() };
    let zone = jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC);
    timestamp.to_zoned_datetime(zone).strftime("%d/%m/%Y à %H:%M").to_string()
}

pub(crate) async fn import_runs(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    if !state.store.is_departement_admin(viewer.id()).await? {
        return Err(AppError::NotFound);
    }
    let page: u32 = Fields::query(&uri).get("page").parse().unwrap_or(0).min(10_000);

    let found = state.store.import_runs(viewer.id(), page, RUNS_PER_PAGE, REJECTIONS_SHOWN).await?;
    let runs = found
        .runs
        .into_iter()
        .map(|run| RunView {
            started: paris_datetime(run.started_at),
            finished: run.finished_at.map(paris_datetime),
            run,
        })
        .collect();
    let html = render(&ImportRunsPage {
        chrome: viewer_chrome("Imports AAF", &viewer),
        runs,
        page,
        has_more: found.has_more,
    })?;
    Ok(Html(html).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_fall_back_to_plain_ascii() {
        assert_eq!(ascii_file_stem(&["codes", "0860001A", "6e B/é"]), "codes-0860001A-6e-B--");
    }

    #[test]
    fn only_plain_local_paths_are_come_back_to() {
        assert_eq!(back_to("/etablissement/0860001A"), "/etablissement/0860001A");
        assert_eq!(back_to("//evil.tld"), "/accueil");
        assert_eq!(back_to("/departement?x=1"), "/accueil");
    }
}
