//! The two completion forms of an agreement: the host's part (`/conventions/{id}/organisme`:
//! representative, tutor, place, insurer, activities, meals, the hours of each day from Monday
//! to Saturday) by a member of the host, and the school's part (`/conventions/{id}/college`:
//! the pupil's address and phone, the guardians' details, the referent teacher, the health
//! plan, an extra article, the date of the board's vote), saved or validated (checked and
//! frozen) by an administrator of the school. A bad field re-shows the form with every reason
//! in French; once signing started, a saved change voids the signatures (the page says so).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use domain::internship::agreement::{DayHours, HealthPlan, WEEKDAYS_FR};
use domain::internship::{AgreementState, WeekHours};
use store::StoreError;
use store::internship::agreements::{AgreementRecord, HostPart, SchoolOutcome, SchoolPart};

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::AppError;
use crate::form::{Fields, PathId};
use crate::session::Viewer;
use crate::templates::{Chrome, render};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/conventions/{id}/organisme", get(host_form).post(save_host))
        .route("/conventions/{id}/college", get(school_form).post(save_school))
}

/// One day of the hours table.
pub(crate) struct DayField {
    pub(crate) index: usize,
    pub(crate) name: &'static str,
    pub(crate) start: String,
    pub(crate) end: String,
    pub(crate) pause: String,
}

#[derive(Template)]
#[template(path = "internship_agreement_host_form.html")]
struct HostFormPage {
    chrome: Chrome,
    csrf: String,
    id: String,
    pupil: String,
    part: HostPart,
    days: Vec<DayField>,
    errors: Vec<String>,
    /// Signing started: saving a change voids the signatures.
    voids: bool,
    max_activities: usize,
}

/// One guardian's fields.
pub(crate) struct GuardianField {
    pub(crate) n: usize,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) phone: String,
    pub(crate) address: String,
}

/// An option of a select.
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

#[derive(Template)]
#[template(path = "internship_agreement_school_form.html")]
struct SchoolFormPage {
    chrome: Chrome,
    csrf: String,
    id: String,
    pupil: String,
    pupil_address: String,
    pupil_phone: String,
    guardians: Vec<GuardianField>,
    teachers: Vec<Choice>,
    plans: Vec<Choice>,
    extra_article: String,
    delegation_date: String,
    errors: Vec<String>,
    voids: bool,
}

fn signing_started(record: &AgreementRecord) -> bool {
    matches!(record.state, AgreementState::Signing | AgreementState::Signed)
        || !record.signatures.is_empty()
}

fn clock_text(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn day_fields(hours: &WeekHours) -> Vec<DayField> {
    hours
        .days
        .iter()
        .zip(WEEKDAYS_FR)
        .enumerate()
        .map(|(index, (day, name))| DayField {
            index,
            name,
            start: day.map(|d| clock_text(d.start)).unwrap_or_default(),
            end: day.map(|d| clock_text(d.end)).unwrap_or_default(),
            pause: day.map(|d| d.break_minutes.to_string()).unwrap_or_default(),
        })
        .collect()
}

/// `8:30`, `08:30`, `8h30`, `8 h 30` or `8h` as minutes after midnight.
fn parse_clock(text: &str) -> Option<u16> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let compact = compact.to_lowercase();
    let (hours, minutes) = compact.split_once([':', 'h']).unwrap_or((compact.as_str(), ""));
    let hours: u16 = hours.parse().ok()?;
    let minutes: u16 = if minutes.is_empty() { 0 } else { minutes.parse().ok()? };
    (hours <= 24 && minutes < 60 && hours * 60 + minutes <= 24 * 60).then_some(hours * 60 + minutes)
}

/// The hours table as sent; a day with neither start nor end is a day off.
fn read_hours(fields: &Fields, errors: &mut Vec<String>) -> (WeekHours, Vec<DayField>) {
    let mut hours = WeekHours::default();
    let mut days = Vec::new();
    for (index, name) in WEEKDAYS_FR.iter().enumerate() {
        let start = fields.get(&format!("debut_{index}")).trim().to_owned();
        let end = fields.get(&format!("fin_{index}")).trim().to_owned();
        let pause = fields.get(&format!("pause_{index}")).trim().to_owned();
        if !(start.is_empty() && end.is_empty()) {
            let parsed_pause = if pause.is_empty() { Some(0) } else { pause.parse::<u16>().ok() };
            match (parse_clock(&start), parse_clock(&end), parsed_pause) {
                (Some(start), Some(end), Some(break_minutes)) if break_minutes <= 600 => {
                    hours.days[index] = Some(DayHours { start, end, break_minutes });
                }
                _ => errors.push(format!(
                    "Horaires du {name} : écrivez l'heure de début et de fin (par exemple 09:00 et \
                     17:00) et la pause en minutes."
                )),
            }
        }
        days.push(DayField { index, name, start, end, pause });
    }
    (hours, days)
}

async fn host_form(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
) -> Result<Response, AppError> {
    let (record, standing) =
        state.store.agreement_page(viewer.id(), &id).await?.ok_or(AppError::NotFound)?;
    if !standing.host_member || record.state == AgreementState::Cancelled {
        return Err(AppError::NotFound);
    }

    let c = &record.content;
    let part = HostPart {
        representative_name: c.representative_name.clone(),
        representative_role: c.representative_role.clone(),
        representative_email: c.representative_email.clone(),
        representative_phone: c.representative_phone.clone(),
        tutor_name: c.tutor_name.clone(),
        tutor_role: c.tutor_role.clone(),
        tutor_email: c.tutor_email.clone(),
        tutor_phone: c.tutor_phone.clone(),
        internship_address: c.internship_address.clone(),
        host_insurer: c.host_insurer.clone(),
        planned_activities: c.planned_activities.clone(),
        meals: c.meals.clone(),
        hours: c.hours,
    };
    let days = day_fields(&c.hours);
    host_page(&viewer, &record, part, days, Vec::new(), StatusCode::OK)
}

fn host_page(
    viewer: &Viewer,
    record: &AgreementRecord,
    part: HostPart,
    days: Vec<DayField>,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let html = render(&HostFormPage {
        chrome: viewer_chrome("Compléter la convention : l'organisme d'accueil", viewer),
        csrf: viewer.csrf_token.clone(),
        id: record.id.clone(),
        pupil: record.content.pupil_name.clone(),
        part,
        days,
        errors,
        voids: signing_started(record),
        max_activities: domain::internship::MAX_ACTIVITIES_CHARS,
    })?;
    Ok((status, Html(html)).into_response())
}

async fn save_host(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let (record, standing) =
        state.store.agreement_page(viewer.id(), &id).await?.ok_or(AppError::NotFound)?;
    if !standing.host_member {
        return Err(AppError::NotFound);
    }

    let mut errors = Vec::new();
    let (hours, days) = read_hours(&fields, &mut errors);
    let part = HostPart {
        representative_name: fields.get("representant").to_owned(),
        representative_role: fields.get("representant_fonction").to_owned(),
        representative_email: fields.get("representant_email").trim().to_owned(),
        representative_phone: fields.get("representant_telephone").to_owned(),
        tutor_name: fields.get("tuteur").to_owned(),
        tutor_role: fields.get("tuteur_fonction").to_owned(),
        tutor_email: fields.get("tuteur_email").trim().to_owned(),
        tutor_phone: fields.get("tuteur_telephone").to_owned(),
        internship_address: fields.get("lieu").to_owned(),
        host_insurer: fields.get("assureur").to_owned(),
        planned_activities: fields.get("activites").to_owned(),
        meals: fields.get("repas").to_owned(),
        hours,
    };
    if !errors.is_empty() {
        return host_page(&viewer, &record, part, days, errors, StatusCode::BAD_REQUEST);
    }

    match state.store.save_host_part(viewer.id(), &id, &part, store::now_unix()).await {
        Ok(_) => {
            tracing::info!(person.id = %viewer.id(), agreement.id = %id, "host part saved");
            Ok(Redirect::to(&format!("/conventions/{id}?fait=organisme")).into_response())
        }
        Err(StoreError::Conflict(reasons)) => {
            let errors = reasons.lines().map(str::to_owned).collect();
            host_page(&viewer, &record, part, days, errors, StatusCode::BAD_REQUEST)
        }
        Err(other) => Err(other.into()),
    }
}

const PLANS: [(HealthPlan, &str, &str); 3] = [
    (HealthPlan::None, "aucun", "Aucun projet d'accueil individualisé"),
    (HealthPlan::KitFromFamily, "famille", "PAI : la famille fournit la trousse d'urgence"),
    (HealthPlan::KitFromSchool, "college", "PAI : le collège fournit la trousse d'urgence"),
];

async fn school_form(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
) -> Result<Response, AppError> {
    let (record, standing) =
        state.store.agreement_page(viewer.id(), &id).await?.ok_or(AppError::NotFound)?;
    if !standing.school_admin || record.state == AgreementState::Cancelled {
        return Err(AppError::NotFound);
    }
    if record.state == AgreementState::HostPending {
        let message = "L'organisme d'accueil doit d'abord compléter sa partie.".to_owned();
        return super::refused_page(
            &viewer,
            StatusCode::CONFLICT,
            message,
            &format!("/conventions/{id}"),
        );
    }

    let c = &record.content;
    let part = SchoolPart {
        pupil_address: c.pupil_address.clone(),
        pupil_phone: c.pupil_phone.clone(),
        guardians: c.guardians.clone(),
        referent_teacher_id: c.referent_teacher_id.clone(),
        health_plan: c.health_plan,
        school_extra_article: c.school_extra_article.clone(),
        delegation_date: c.delegation_date.clone(),
    };
    school_page(&state, &viewer, &record, &part, Vec::new(), StatusCode::OK).await
}

async fn school_page(
    state: &AppState,
    viewer: &Viewer,
    record: &AgreementRecord,
    part: &SchoolPart,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let mut teachers: Vec<Choice> = state
        .store
        .referent_choices(viewer.id(), &record.id)
        .await?
        .into_iter()
        .map(|t| Choice { selected: t.id == part.referent_teacher_id, value: t.id, label: t.name })
        .collect();
    if !part.referent_teacher_id.is_empty() && !teachers.iter().any(|t| t.selected) {
        teachers.insert(
            0,
            Choice {
                value: part.referent_teacher_id.clone(),
                label: record.content.referent_teacher_name.clone(),
                selected: true,
            },
        );
    }
    let plans = PLANS
        .iter()
        .map(|(plan, code, label)| Choice {
            value: (*code).to_owned(),
            label: (*label).to_owned(),
            selected: *plan == part.health_plan,
        })
        .collect();
    let html = render(&SchoolFormPage {
        chrome: viewer_chrome("Compléter la convention : le collège", viewer),
        csrf: viewer.csrf_token.clone(),
        id: record.id.clone(),
        pupil: record.content.pupil_name.clone(),
        pupil_address: part.pupil_address.clone(),
        pupil_phone: part.pupil_phone.clone(),
        guardians: part
            .guardians
            .iter()
            .enumerate()
            .map(|(i, g)| GuardianField {
                n: i + 1,
                name: g.name.clone(),
                email: g.email.clone(),
                phone: g.phone.clone(),
                address: g.address.clone(),
            })
            .collect(),
        teachers,
        plans,
        extra_article: part.school_extra_article.clone(),
        delegation_date: part.delegation_date.clone(),
        errors,
        voids: signing_started(record),
    })?;
    Ok((status, Html(html)).into_response())
}

async fn save_school(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let back = format!("/conventions/{id}");
    let (record, standing) =
        state.store.agreement_page(viewer.id(), &id).await?.ok_or(AppError::NotFound)?;
    if !standing.school_admin {
        return Err(AppError::NotFound);
    }

    let mut guardians = record.content.guardians.clone();
    for (i, guardian) in guardians.iter_mut().enumerate() {
        let n = i + 1;
        guardian.name = fields.get(&format!("responsable_{n}")).to_owned();
        guardian.email = fields.get(&format!("responsable_{n}_email")).trim().to_owned();
        guardian.phone = fields.get(&format!("responsable_{n}_telephone")).to_owned();
        guardian.address = fields.get(&format!("responsable_{n}_adresse")).to_owned();
    }
    let health_plan = PLANS
        .iter()
        .find(|(_, code, _)| *code == fields.get("pai"))
        .map_or(HealthPlan::None, |(plan, _, _)| *plan);
    let part = SchoolPart {
        pupil_address: fields.get("adresse").to_owned(),
        pupil_phone: fields.get("telephone").to_owned(),
        guardians,
        referent_teacher_id: fields.get("referent").to_owned(),
        health_plan,
        school_extra_article: fields.get("article").to_owned(),
        delegation_date: fields.get("deliberation").trim().to_owned(),
    };
    let validate = fields.get("action") == "valider";

    let now = store::now_unix();
    let base_url = &state.config.base_url;
    match state.store.save_school_part(viewer.id(), &id, &part, validate, base_url, now).await {
        Ok(SchoolOutcome::Saved) => {
            tracing::info!(person.id = %viewer.id(), agreement.id = %id, "school part saved");
            Ok(Redirect::to(&format!("{back}?fait=college")).into_response())
        }
        Ok(SchoolOutcome::Frozen { links }) => {
            tracing::info!(person.id = %viewer.id(), agreement.id = %id, links, "agreement frozen");
            Ok(Redirect::to(&format!("{back}?fait=figee")).into_response())
        }
        Ok(SchoolOutcome::Refused(errors)) => {
            school_page(&state, &viewer, &record, &part, errors, StatusCode::BAD_REQUEST).await
        }
        Err(error) => super::refused(&viewer, error, &back),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_are_read_the_french_ways() {
        assert_eq!(parse_clock("09:00"), Some(540));
        assert_eq!(parse_clock("8h30"), Some(510));
        assert_eq!(parse_clock("8 h 30"), Some(510));
        assert_eq!(parse_clock("17h"), Some(1020));
        assert_eq!(parse_clock("25:00"), None);
        assert_eq!(parse_clock("9:75"), None);
        assert_eq!(parse_clock("midi"), None);
    }
}
