//! The applications' pages, on every side. A pupil (or a legal guardian for a child) opens an
//! offer's detail at `/stages/offres/{id}` (404 unless the pupil may apply to it for a week or
//! already applied; a partner's offer links to the partner's site) and applies with a week
//! and a motivation; `/stages/candidatures` lists the applications (the pupil's own, or each
//! child's for a guardian) with the moves each may make: confirm, cancel, give consent. The
//! host's people list the applications to their offers at `/organisme/candidatures` (filters
//! by offer, state and week) and open one at `/organisme/candidatures/{id}`, which marks it
//! read, to accept, reject or cancel it. Every POST checks the form token; a move the state
//! does not allow (or that another move overtook) answers a French page with 409; another
//! pupil's or another host's application answers 404 like one that does not exist (the store
//! decides in SQL). Dates are written in the zone of the pupil's school.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::internship::{ApplicationState, MAX_TEXT_CHARS};
use domain::profile::Profile;
use store::StoreError;
use store::internship::applications::{
    FamilyApplication, HostApplication, HostApplicationFilter, OfferForPupil, clean_motivation,
};

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::AppError;
use crate::form::{Fields, PathId};
use crate::session::Viewer;
use crate::templates::{Chrome, render};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/stages/offres/{id}", get(offer_page))
        .route("/stages/offres/{id}/candidater", post(apply))
        .route("/stages/candidatures", get(family_page))
        .route("/stages/candidatures/{id}/confirmer", post(confirm))
        .route("/stages/candidatures/{id}/accord", post(consent))
        .route("/stages/candidatures/{id}/annuler", post(family_cancel))
        .route("/organisme/candidatures", get(host_list))
        .route("/organisme/candidatures/{id}", get(host_detail))
        .route("/organisme/candidatures/{id}/accepter", post(accept))
        .route("/organisme/candidatures/{id}/refuser", post(reject))
        .route("/organisme/candidatures/{id}/annuler", post(host_cancel))
}

/// An option of a select.
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

/// A refused move: why, and where to go back.
#[derive(Template)]
#[template(path = "internship_application_refused.html")]
pub(crate) struct RefusedPage {
    pub(crate) chrome: Chrome,
    pub(crate) message: String,
    pub(crate) back: String,
}

/// The answer to a store refusal: a French page with 409 for a conflict, the usual pages
/// otherwise.
fn refused(viewer: &Viewer, error: StoreError, back: &str) -> Result<Response, AppError> {
    match error {
        StoreError::Conflict(message) => {
            let page = RefusedPage {
                chrome: viewer_chrome("Action impossible", viewer),
                message,
                back: back.to_owned(),
            };
            Ok((StatusCode::CONFLICT, Html(render(&page)?)).into_response())
        }
        other => Err(other.into()),
    }
}

/// An instant as French text in a zone.
fn when(unix: i64, zone: &str) -> String {
    crate::timetable::french_datetime_of(unix, zone)
}

/// The text of a motivation as paragraphs of lines.
fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

// ---------------------------------------------------------------------------------------------
// The pupil's and the family's side.

/// The pupil a request acts for: the viewer if a pupil, else the child named by `eleve` (a
/// child of the viewer's with legal responsibility), else every child (the caller tries each).
fn pupils_for(viewer: &Viewer, chosen: &str) -> Result<Vec<(String, String, String)>, AppError> {
    if viewer.facts.person.profile == Profile::Pupil {
        let person = &viewer.facts.person;
        return Ok(vec![(person.id.clone(), person.first_name.clone(), person.last_name.clone())]);
    }
    let children: Vec<(String, String, String)> = viewer
        .facts
        .children
        .iter()
        .filter(|child| chosen.is_empty() || child.id == chosen)
        .map(|child| (child.id.clone(), child.first_name.clone(), child.last_name.clone()))
        .collect();
    if children.is_empty() { Err(AppError::NotFound) } else { Ok(children) }
}

/// An offer as its detail page shows it.
pub(crate) struct OfferView {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) description: Vec<String>,
    pub(crate) host_name: String,
    pub(crate) sector: String,
    pub(crate) address: String,
    pub(crate) tutor: String,
    pub(crate) accessible: bool,
    pub(crate) places_per_week: i64,
    /// A partner's offer: applied to on the partner's site only.
    pub(crate) partner: bool,
    pub(crate) permalink: Option<String>,
}

fn offer_view(offer: &OfferForPupil) -> OfferView {
    let address = [offer.street.as_str(), &format!("{} {}", offer.postal_code, offer.city)]
        .iter()
        .map(|part| part.trim())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let tutor = match (offer.tutor_name.trim(), offer.tutor_role.trim()) {
        ("", _) => String::new(),
        (name, "") => name.to_owned(),
        (name, role) => format!("{name}, {role}"),
    };
    OfferView {
        id: offer.id.clone(),
        title: offer.title.clone(),
        description: lines(&offer.description),
        host_name: offer.host_name.clone(),
        sector: offer.sector.clone().unwrap_or_default(),
        address,
        tutor,
        accessible: offer.accessible,
        places_per_week: offer.places_per_week,
        partner: offer.permalink.is_some(),
        // The partner wrote it: only a web address becomes a link.
        permalink: offer.permalink.clone().filter(|link| {
            let lower = link.to_ascii_lowercase();
            lower.starts_with("https://") || lower.starts_with("http://")
        }),
    }
}

#[derive(Template)]
#[template(path = "internship_offer_detail.html")]
pub(crate) struct OfferPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) offer: OfferView,
    pub(crate) pupil_id: String,
    /// The child's name, when a guardian looks for them.
    pub(crate) child: Option<(String, String)>,
    pub(crate) weeks: Vec<Choice>,
    pub(crate) motivation: String,
    pub(crate) error: Option<String>,
    /// The pupil's application to this offer: its state's label and its week.
    pub(crate) applied: Option<(String, String)>,
    pub(crate) max_chars: usize,
}

/// The offer and the pupil it is shown for, or 404.
async fn offer_for(
    state: &AppState,
    viewer: &Viewer,
    offer_id: &str,
    chosen: &str,
) -> Result<(OfferForPupil, (String, String, String)), AppError> {
    let now = store::now_unix();
    for pupil in pupils_for(viewer, chosen)? {
        if let Some(offer) =
            state.store.offer_for_pupil(viewer.id(), &pupil.0, offer_id, now).await?
        {
            return Ok((offer, pupil));
        }
    }
    Err(AppError::NotFound)
}

fn offer_page_of(
    viewer: &Viewer,
    offer: &OfferForPupil,
    pupil: &(String, String, String),
    week: &str,
    motivation: &str,
    error: Option<String>,
) -> OfferPage {
    let weeks = offer
        .open_weeks
        .iter()
        .map(|w| Choice {
            value: w.to_string(),
            label: w.label_fr(),
            selected: w.to_string() == week,
        })
        .collect();
    let applied = offer.application.as_ref().map(|(_, state, iso_week)| {
        let label = domain::internship::IsoWeek::parse(iso_week)
            .map_or_else(|_| iso_week.clone(), |w| w.label_fr());
        (state.label_fr().to_owned(), label)
    });
    let guardian = viewer.facts.person.profile != Profile::Pupil;
    OfferPage {
        chrome: viewer_chrome(&offer.title, viewer),
        csrf: viewer.csrf_token.clone(),
        offer: offer_view(offer),
        pupil_id: pupil.0.clone(),
        child: guardian.then(|| (pupil.1.clone(), pupil.2.clone())),
        weeks,
        motivation: motivation.to_owned(),
        error,
        applied,
        max_chars: MAX_TEXT_CHARS,
    }
}

async fn offer_page(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    uri: Uri,
) -> Result<Response, AppError> {
    let query = Fields::query(&uri);
    let (offer, pupil) = offer_for(&state, &viewer, &id, query.get("eleve")).await?;
    let page = offer_page_of(&viewer, &offer, &pupil, "", "", None);
    Ok(Html(render(&page)?).into_response())
}

async fn apply(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    form: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(form.get("csrf_token"))?;
    let (offer, pupil) = offer_for(&state, &viewer, &id, form.get("eleve")).await?;
    let week = form.get("semaine");
    let motivation = form.get("motivation");

    let answer = |status: StatusCode, error: String| -> Result<Response, AppError> {
        let page = offer_page_of(&viewer, &offer, &pupil, week, motivation, Some(error));
        Ok((status, Html(render(&page)?)).into_response())
    };
    if offer.application.is_some() {
        let message = "Une candidature à cette offre existe déjà pour cet élève.";
        return answer(StatusCode::CONFLICT, message.to_owned());
    }
    if offer.permalink.is_some() {
        return answer(
            StatusCode::CONFLICT,
            "Cette offre se demande sur le site du partenaire qui la publie.".to_owned(),
        );
    }
    if let Err(error) = clean_motivation(motivation) {
        return answer(StatusCode::BAD_REQUEST, error.to_owned());
    }
    if !offer.open_weeks.iter().any(|w| w.to_string() == week) {
        return answer(StatusCode::BAD_REQUEST, "Choisissez une semaine de stage.".to_owned());
    }
    let submitted = state
        .store
        .submit_application(&pupil.0, viewer.id(), &id, week, motivation, store::now_unix())
        .await;
    match submitted {
        Ok(_) => Ok(Redirect::to("/stages/candidatures?fait=envoyee").into_response()),
        Err(StoreError::Conflict(message)) => answer(StatusCode::CONFLICT, message),
        Err(other) => Err(other.into()),
    }
}

/// One application in the family's list.
pub(crate) struct FamilyRow {
    pub(crate) id: String,
    pub(crate) offer_href: String,
    pub(crate) offer_title: String,
    pub(crate) host_name: String,
    pub(crate) city: String,
    pub(crate) week_label: String,
    pub(crate) state_label: &'static str,
    pub(crate) deadline: Option<String>,
    pub(crate) consent: Option<String>,
    pub(crate) agreement_href: Option<String>,
    pub(crate) can_confirm: bool,
    pub(crate) can_consent: bool,
    pub(crate) can_cancel: bool,
}

/// One pupil's applications.
pub(crate) struct ChildSection {
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) rows: Vec<FamilyRow>,
}

#[derive(Template)]
#[template(path = "internship_applications_family.html")]
pub(crate) struct FamilyPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) guardian: bool,
    pub(crate) sections: Vec<ChildSection>,
    pub(crate) notice: Option<&'static str>,
}

fn family_row(application: FamilyApplication, guardian: bool, pupil_id: &str) -> FamilyRow {
    use ApplicationState::*;
    let state = application.state;
    let zone = application.time_zone.as_str();
    let deadline = application.expires_at.filter(|_| state.is_pending()).map(|at| when(at, zone));
    let consent = application.consent_at.map(|at| match &application.consent_by {
        Some(name) => format!("{name}, le {}", when(at, zone)),
        None => format!("le {}", when(at, zone)),
    });
    let offer_href = if guardian {
        format!("/stages/offres/{}?eleve={}", application.offer_id, pupil_id)
    } else {
        format!("/stages/offres/{}", application.offer_id)
    };
    FamilyRow {
        offer_href,
        offer_title: application.offer_title,
        host_name: application.host_name,
        city: application.city,
        week_label: application.week_label,
        state_label: state.label_fr(),
        deadline,
        can_confirm: state == Accepted && (guardian || application.consent_at.is_some()),
        can_consent: guardian && state == Accepted && application.consent_at.is_none(),
        can_cancel: matches!(state, Submitted | Read | Accepted | Confirmed),
        consent,
        agreement_href: application.agreement_id.map(|id| format!("/conventions/{id}")),
        id: application.id,
    }
}

async fn family_page(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    let guardian = viewer.facts.person.profile != Profile::Pupil;
    let pupils = pupils_for(&viewer, "")?;
    let mut sections = Vec::with_capacity(pupils.len());
    for (pupil_id, first_name, last_name) in pupils {
        let applications = state.store.family_applications(viewer.id(), &pupil_id).await?;
        // A guardian's child who is not in 3e and never applied has nothing to show here.
        if guardian
            && applications.is_empty()
            && state.store.pupil_internship_context_for(viewer.id(), &pupil_id).await?.is_none()
        {
            continue;
        }
        let rows = applications
            .into_iter()
            .map(|application| family_row(application, guardian, &pupil_id))
            .collect();
        sections.push(ChildSection { first_name, last_name, rows });
    }

    let notice = match Fields::query(&uri).get("fait") {
        "envoyee" => Some("Votre candidature est envoyée à l'organisme."),
        "confirmee" => Some("Le stage est confirmé : la convention de stage va être préparée."),
        "accord" => Some("Votre accord est enregistré."),
        "annulee" => Some("La candidature est annulée."),
        _ => None,
    };
    let page = FamilyPage {
        chrome: viewer_chrome("Candidatures de stage", &viewer),
        csrf: viewer.csrf_token.clone(),
        guardian,
        sections,
        notice,
    };
    Ok(Html(render(&page)?).into_response())
}

/// Which move of the family's a POST makes.
#[derive(Clone, Copy)]
enum FamilyMove {
    Confirm,
    Consent,
    Cancel,
}

async fn family_move(
    state: AppState,
    viewer: Viewer,
    id: String,
    form: Fields,
    action: FamilyMove,
) -> Result<Response, AppError> {
    viewer.check_csrf(form.get("csrf_token"))?;
    if viewer.facts.person.profile != Profile::Pupil && viewer.facts.children.is_empty() {
        return Err(AppError::NotFound);
    }

    let now = store::now_unix();
    let store = &state.store;
    let (done, notice) = match action {
        FamilyMove::Confirm => {
            (store.confirm_application(viewer.id(), &id, now).await.map(|_| ()), "confirmee")
        }
        FamilyMove::Consent => (store.consent_application(viewer.id(), &id, now).await, "accord"),
        FamilyMove::Cancel => (store.cancel_application(viewer.id(), &id, now).await, "annulee"),
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/stages/candidatures?fait={notice}")).into_response()),
        Err(error) => refused(&viewer, error, "/stages/candidatures"),
    }
}

async fn confirm(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    form: Fields,
) -> Result<Response, AppError> {
    family_move(state, viewer, id, form, FamilyMove::Confirm).await
}

async fn consent(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    form: Fields,
) -> Result<Response, AppError> {
    family_move(state, viewer, id, form, FamilyMove::Consent).await
}

async fn family_cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    form: Fields,
) -> Result<Response, AppError> {
    family_move(state, viewer, id, form, FamilyMove::Cancel).await
}

// ---------------------------------------------------------------------------------------------
// The host's side.

/// An application as the host's pages show it.
pub(crate) struct HostRow {
    pub(crate) id: String,
    pub(crate) offer_title: String,
    pub(crate) week_label: String,
    pub(crate) state_label: &'static str,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) class_code: String,
    pub(crate) school_name: String,
    pub(crate) received: String,
    pub(crate) deadline: Option<String>,
    pub(crate) consent: bool,
    pub(crate) motivation: Vec<String>,
    pub(crate) agreement_href: Option<String>,
    pub(crate) can_answer: bool,
    pub(crate) can_cancel: bool,
}

fn host_row(application: HostApplication) -> HostRow {
    use ApplicationState::*;
    let state = application.state;
    let zone = application.time_zone.as_str();
    HostRow {
        offer_title: application.offer_title,
        week_label: application.week_label,
        state_label: state.label_fr(),
        first_name: application.pupil_first_name,
        last_name: application.pupil_last_name,
        class_code: application.class_code,
        school_name: application.school_name,
        received: when(application.created_at, zone),
        deadline: application.expires_at.filter(|_| state.is_pending()).map(|at| when(at, zone)),
        consent: application.consent,
        motivation: lines(&application.motivation),
        agreement_href: application.agreement_id.map(|id| format!("/conventions/{id}")),
        can_answer: matches!(state, Submitted | Read),
        can_cancel: matches!(state, Submitted | Read | Accepted | Confirmed),
        id: application.id,
    }
}

#[derive(Template)]
#[template(path = "internship_application_host_list.html")]
pub(crate) struct HostListPage {
    pub(crate) chrome: Chrome,
    pub(crate) rows: Vec<HostRow>,
    pub(crate) offers: Vec<Choice>,
    pub(crate) states: Vec<Choice>,
    pub(crate) week: String,
    pub(crate) filtered: bool,
    pub(crate) notice: Option<&'static str>,
}

async fn host_list(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    super::acting_host(&state, &viewer).await?;
    let query = Fields::query(&uri);
    let offers = state.store.host_application_offers(viewer.id()).await?;
    let chosen_offer = query.get("offre");
    let offer_id = if offers.iter().any(|(id, _)| id == chosen_offer) { chosen_offer } else { "" };
    let state_filter = ApplicationState::parse(query.get("etat"));
    let week = domain::internship::IsoWeek::parse(query.get("semaine").trim())
        .map(|w| w.to_string())
        .unwrap_or_default();
    let filter = HostApplicationFilter {
        offer_id: offer_id.to_owned(),
        state: state_filter,
        iso_week: week.clone(),
    };

    let rows = state.store.host_applications(viewer.id(), &filter).await?;
    let notice = match query.get("fait") {
        "acceptee" => Some("La candidature est acceptée : l'élève va pouvoir confirmer."),
        "refusee" => Some("La candidature est refusée ; la famille en est informée."),
        "annulee" => Some("La candidature est annulée ; la famille en est informée."),
        _ => None,
    };
    let page = HostListPage {
        chrome: viewer_chrome("Candidatures reçues", &viewer),
        rows: rows.into_iter().map(host_row).collect(),
        offers: offers
            .into_iter()
            .map(|(id, title)| Choice { selected: id == offer_id, value: id, label: title })
            .collect(),
        states: ApplicationState::ALL
            .iter()
            .map(|s| Choice {
                value: s.as_str().to_owned(),
                label: s.label_fr().to_owned(),
                selected: Some(*s) == state_filter,
            })
            .collect(),
        filtered: filter != HostApplicationFilter::default(),
        week,
        notice,
    };
    Ok(Html(render(&page)?).into_response())
}

#[derive(Template)]
#[template(path = "internship_application_host_detail.html")]
pub(crate) struct HostDetailPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) row: HostRow,
}

async fn host_detail(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
) -> Result<Response, AppError> {
    super::acting_host(&state, &viewer).await?;
    let application =
        state.store.open_application_as_host(viewer.id(), &id, store::now_unix()).await?;
    let page = HostDetailPage {
        chrome: viewer_chrome("Candidature", &viewer),
        csrf: viewer.csrf_token.clone(),
        row: host_row(application),
    };
    Ok(Html(render(&page)?).into_response())
}

/// Which move of the host's a POST makes.
#[derive(Clone, Copy)]
enum HostMove {
    Accept,
    Reject,
    Cancel,
}

async fn host_move(
    state: AppState,
    viewer: Viewer,
    id: String,
    form: Fields,
    action: HostMove,
) -> Result<Response, AppError> {
    viewer.check_csrf(form.get("csrf_token"))?;
    super::acting_host(&state, &viewer).await?;

    let now = store::now_unix();
    let store = &state.store;
    let (done, notice) = match action {
        HostMove::Accept => (store.accept_application(viewer.id(), &id, now).await, "acceptee"),
        HostMove::Reject => (store.reject_application(viewer.id(), &id, now).await, "refusee"),
        HostMove::Cancel => (store.cancel_application(viewer.id(), &id, now).await, "annulee"),
    };
    match done {
        Ok(()) => {
            Ok(Redirect::to(&format!("/organisme/candidatures?fait={notice}")).into_response())
        }
        Err(error) => refused(&viewer, error, &format!("/organisme/candidatures/{id}")),
    }
}

async fn accept(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    form: Fields,
) -> Result<Response, AppError> {
    host_move(state, viewer, id, form, HostMove::Accept).await
}

async fn reject(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    form: Fields,
) -> Result<Response, AppError> {
    host_move(state, viewer, id, form, HostMove::Reject).await
}

async fn host_cancel(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    form: Fields,
) -> Result<Response, AppError> {
    host_move(state, viewer, id, form, HostMove::Cancel).await
}
