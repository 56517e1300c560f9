//! The personal space: the home page built for each profile (a parent's child switcher
//! included, and today's lessons for pupils, parents and teachers), the directory search, the
//! settings (DYS reading mode, the address new messages are announced at) and the 404 fallback.
//! Every handler extracts the viewer, then asks the store with the viewer's id, so that what a
//! page may show is decided by the SQL of `store::directory`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use domain::profile::Profile;
use store::timetable::TimetableSubject;

use crate::AppState;
use crate::accounts::{settings_page, viewer_chrome};
use crate::error::AppError;
use crate::form::Fields;
use crate::session::{Viewer, find_viewer};
use crate::templates::{ChildTab, DirectoryPage, HomePage, SettingsPage, render};
use crate::timetable::home_card;

pub(crate) async fn root(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    match find_viewer(&state, &headers).await? {
        Some(_) => Ok(Redirect::to("/accueil").into_response()),
        None => Ok(Redirect::to("/connexion").into_response()),
    }
}

pub(crate) async fn home(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    let profile = viewer.facts.person.profile;
    let mut page = HomePage {
        chrome: viewer_chrome("Accueil", &viewer),
        card: None,
        is_parent: profile == Profile::Relative,
        children: Vec::new(),
        places: Vec::new(),
        figures: Vec::new(),
        show_figures: matches!(profile, Profile::Staff | Profile::Agent | Profile::Official),
        is_teacher: profile == Profile::Teacher,
        consoles: Vec::new(),
        news: crate::news::home_news(&state, &viewer).await?,
        timetable: None,
    };

    match profile {
        Profile::Pupil => {
            page.card = Some(state.store.pupil_card(&viewer.facts.person).await?);
            let subject = TimetableSubject::Pupil(viewer.id().to_owned());
            let link = "/emploi-du-temps?vue=jour".to_owned();
            page.timetable = home_card(&state, &viewer, subject, link).await?;
        }
        Profile::Relative => {
            let wanted = Fields::query(&uri).get("enfant").to_owned();
            let selected = if wanted.is_empty() {
                viewer.facts.children.first().cloned()
            } else if wanted.len() > 64 {
                return Err(AppError::NotFound);
            } else {
                let child = state.store.child_of(viewer.id(), &wanted).await?;
                Some(child.ok_or(AppError::NotFound)?)
            };
            for child in &viewer.facts.children {
                let card = state.store.pupil_card(child).await?;
                page.children.push(ChildTab {
                    id: child.id.clone(),
                    first_name: child.first_name.clone(),
                    last_name: child.last_name.clone(),
                    school: card.school.map(|s| s.name).unwrap_or_default(),
                    current: selected.as_ref().is_some_and(|s| s.id == child.id),
                });
            }
            if let Some(child) = selected {
                page.card = Some(state.store.pupil_card(&child).await?);
                let subject = TimetableSubject::Pupil(child.id.clone());
                let link = format!("/emploi-du-temps?enfant={}&vue=jour", child.id);
                page.timetable = home_card(&state, &viewer, subject, link).await?;
            }
        }
        Profile::Teacher => {
            page.places = state.store.teaching_places(viewer.id()).await?;
            let subject = TimetableSubject::Teacher(viewer.id().to_owned());
            let link = "/emploi-du-temps?vue=jour".to_owned();
            page.timetable = home_card(&state, &viewer, subject, link).await?;
        }
        Profile::Staff => {
            for school in &viewer.facts.schools {
                page.figures.push(state.store.school_figures(school).await?);
            }
        }
        Profile::Host => {
            return Ok(axum::response::Redirect::to("/organisme").into_response());
        }
        Profile::Agent | Profile::Official => {
            for school in state.store.scope_schools(viewer.id()).await? {
                page.figures.push(state.store.school_figures(&school).await?);
            }
        }
    }
    page.consoles = page
        .figures
        .iter()
        .map(|f| {
            viewer.facts.departement_admin
                || viewer.facts.administered.iter().any(|s| s.id == f.school.id)
        })
        .collect();
    Ok(Html(render(&page)?).into_response())
}

pub(crate) async fn directory(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    let query = Fields::query(&uri);
    let q: String = query.get("q").trim().chars().take(100).collect();
    let searchable = q.chars().count() >= 2;
    let results =
        if searchable { state.store.search_directory(viewer.id(), &q).await? } else { Vec::new() };
    let html = render(&DirectoryPage {
        chrome: viewer_chrome("Annuaire", &viewer),
        too_short: !q.is_empty() && !searchable,
        searched: searchable,
        q,
        results,
        admin: viewer.is_admin(),
    })?;
    Ok(Html(html).into_response())
}

pub(crate) async fn settings(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    let query = Fields::query(&uri);
    let saved = query.get("enregistre") == "1";
    let password_done = query.get("mot-de-passe") == "1";
    settings_page(&state, &viewer, StatusCode::OK, saved, None, password_done).await
}

pub(crate) async fn save_settings(
    State(state): State<AppState>,
    viewer: Viewer,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let on = fields.get("reading_mode") == "1";
    state.store.set_reading_mode(viewer.id(), on).await?;
    Ok(Redirect::to("/parametres?enregistre=1").into_response())
}

/// The address new messages are announced at by e-mail (empty: none).
pub(crate) async fn save_notify_email(
    State(state): State<AppState>,
    viewer: Viewer,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let typed = fields.get("notify_email").trim();
    let email = Some(typed).filter(|email| !email.is_empty());

    match state.store.set_notify_email(viewer.id(), email).await {
        Ok(()) => Ok(Redirect::to("/parametres?enregistre=1").into_response()),
        Err(store::StoreError::Conflict(reason)) => {
            let html = render(&SettingsPage {
                chrome: viewer_chrome("Paramètres", &viewer),
                csrf: viewer.csrf_token.clone(),
                reading_mode: viewer.facts.reading_mode,
                saved: false,
                password_error: None,
                password_done: false,
                notify_email: typed.to_owned(),
                email_error: Some(reason),
            })?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

pub(crate) async fn not_found() -> AppError {
    AppError::NotFound
}

pub(crate) async fn method_not_allowed() -> Response {
    crate::error::error_page(
        StatusCode::METHOD_NOT_ALLOWED,
        "Action impossible",
        "Cette adresse ne s'utilise pas de cette façon. Revenez à la page précédente.",
    )
}
