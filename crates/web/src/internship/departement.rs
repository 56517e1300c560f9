//! The département's desk of the internship platform, `/departement/stages`, for département
//! administrators (anyone else gets the ordinary 404, and the store checks again): the
//! settings (delays of applications, the head start of rural and priority-education pupils,
//! the default radius of a search), each collège's profile (rural, priority education, the date
//! of the board's vote delegating signature to the head), and the links to the hosts, the
//! partner platforms and the statistics. A refused form comes back with what was typed and the
//! reason next to the field.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use store::internship::desk::{
    InternshipSettings, PriorityEducation, SchoolInternshipProfile, SchoolProfileLine,
    SettingsField,
};

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::AppError;
use crate::form::Fields;
use crate::session::Viewer;
use crate::templates::{Chrome, render};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/departement/stages", get(desk))
        .route("/departement/stages/reglages", post(save_settings))
        .route("/departement/stages/colleges", post(save_profile))
}

/// One setting of the form: its field name, label, help, unit, the typed value and its error.
pub(crate) struct SettingInput {
    pub(crate) name: &'static str,
    pub(crate) label: &'static str,
    pub(crate) help: &'static str,
    pub(crate) min: i64,
    pub(crate) max: i64,
    pub(crate) value: String,
    pub(crate) error: Option<String>,
}

/// A collège of the desk, with what its form shows.
pub(crate) struct ProfileCard {
    pub(crate) school_id: String,
    pub(crate) name: String,
    pub(crate) uai: String,
    pub(crate) summary: String,
    pub(crate) rural: bool,
    /// `""`, `rep` or `rep_plus`.
    pub(crate) priority: String,
    /// As the date field holds it.
    pub(crate) delegation_date: String,
    pub(crate) error: Option<String>,
}

#[derive(Template)]
#[template(path = "internship_departement.html")]
pub(crate) struct DeskPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) notice: Option<&'static str>,
    pub(crate) settings_refused: bool,
    pub(crate) settings: Vec<SettingInput>,
    pub(crate) schools: Vec<ProfileCard>,
}

/// The French help of each setting.
const SETTINGS_FORM: [(SettingsField, &str, &str, &str); 6] = [
    (
        SettingsField::ApplicationDays,
        "delai_reponse",
        "Délai de réponse de l'organisme (jours)",
        "Une candidature sans réponse passe à « expirée » après ce délai.",
    ),
    (
        SettingsField::ReadExtensionDays,
        "prolongation",
        "Prolongation après lecture (jours)",
        "Délai supplémentaire quand l'organisme a lu la candidature.",
    ),
    (
        SettingsField::ConfirmationDays,
        "delai_confirmation",
        "Délai de confirmation par l'élève (jours)",
        "Une candidature acceptée non confirmée expire après ce délai.",
    ),
    (
        SettingsField::ReminderDays,
        "rappel",
        "Rappel avant l'échéance (jours, 0 : aucun)",
        "Un courriel ou une notification rappelle l'échéance ce nombre de jours avant.",
    ),
    (
        SettingsField::HeadStartDays,
        "avance",
        "Avance des élèves ruraux et de l'éducation prioritaire (jours, 0 : aucune)",
        "Pendant ces jours, seuls ces élèves voient une nouvelle offre.",
    ),
    (
        SettingsField::DefaultRadiusKm,
        "rayon",
        "Rayon de recherche par défaut (km)",
        "Le rayon proposé à l'élève autour de son domicile ou de son collège.",
    ),
];

fn bounds(field: SettingsField) -> (i64, i64) {
    store::internship::desk::SETTINGS_BOUNDS
        .iter()
        .find(|(f, ..)| *f == field)
        .map_or((0, 0), |(_, min, max, _)| (*min, *max))
}

fn value_of(settings: &InternshipSettings, field: SettingsField) -> i64 {
    match field {
        SettingsField::ApplicationDays => settings.application_days,
        SettingsField::ReadExtensionDays => settings.read_extension_days,
        SettingsField::ConfirmationDays => settings.confirmation_days,
        SettingsField::ReminderDays => settings.reminder_days,
        SettingsField::HeadStartDays => settings.head_start_days,
        SettingsField::DefaultRadiusKm => settings.default_radius_km,
    }
}

fn settings_inputs(settings: &InternshipSettings) -> Vec<SettingInput> {
    SETTINGS_FORM
        .iter()
        .map(|(field, name, label, help)| {
            let (min, max) = bounds(*field);
            SettingInput {
                name,
                label,
                help,
                min,
                max,
                value: value_of(settings, *field).to_string(),
                error: None,
            }
        })
        .collect()
}

/// The settings a form asks for, or the inputs with the refusals on their fields.
fn read_settings(fields: &Fields) -> Result<InternshipSettings, Vec<SettingInput>> {
    let mut inputs: Vec<SettingInput> = SETTINGS_FORM
        .iter()
        .map(|(field, name, label, help)| {
            let (min, max) = bounds(*field);
            SettingInput {
                name,
                label,
                help,
                min,
                max,
                value: fields.get(name).trim().chars().take(20).collect(),
                error: None,
            }
        })
        .collect();
    let mut values = [0i64; 6];
    for (slot, input) in values.iter_mut().zip(inputs.iter_mut()) {
        match input.value.parse::<i64>() {
            Ok(value) => *slot = value,
            Err(_) => {
                input.error = Some(format!(
                    "Saisissez un nombre entier entre {} et {}.",
                    input.min, input.max
                ));
            }
        }
    }
    let settings = InternshipSettings {
        application_days: values[0],
        read_extension_days: values[1],
        confirmation_days: values[2],
        reminder_days: values[3],
        head_start_days: values[4],
        default_radius_km: values[5],
    };
    if inputs.iter().all(|i| i.error.is_none()) {
        for (field, reason) in settings.check() {
            if let Some(index) = SETTINGS_FORM.iter().position(|(f, ..)| *f == field) {
                inputs[index].error.get_or_insert(reason);
            }
        }
    }
    if inputs.iter().any(|i| i.error.is_some()) { Err(inputs) } else { Ok(settings) }
}

fn card(line: SchoolProfileLine) -> ProfileCard {
    let profile = &line.profile;
    let mut summary = Vec::new();
    summary.push(if profile.rural { "rural" } else { "non rural" }.to_owned());
    summary.push(match profile.priority_education {
        Some(p) => format!("éducation prioritaire {}", p.label_fr()),
        None => "hors éducation prioritaire".to_owned(),
    });
    summary.push(match &profile.delegation_date {
        Some(date) => {
            format!("délégation de signature votée le {}", crate::letters::french_date(date))
        }
        None => "date de délégation de signature non renseignée".to_owned(),
    });
    ProfileCard {
        school_id: line.school.id,
        name: line.school.name,
        uai: line.school.uai,
        summary: summary.join(", "),
        rural: profile.rural,
        priority: profile.priority_education.map_or("", PriorityEducation::as_str).to_owned(),
        delegation_date: profile.delegation_date.clone().unwrap_or_default(),
        error: None,
    }
}

/// A typed date: `YYYY-MM-DD` (date fields) or `dd/mm/yyyy`; `Err` when unreadable.
fn read_date(text: &str) -> Result<Option<String>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let date = text
        .parse::<jiff::civil::Date>()
        .ok()
        .or_else(|| jiff::civil::Date::strptime("%d/%m/%Y", text).ok())
        .filter(|d| (2000..=2100).contains(&d.year()))
        .ok_or(())?;
    Ok(Some(date.to_string()))
}

/// The profile a form asks for, or the reason it is refused.
fn read_profile(fields: &Fields) -> Result<SchoolInternshipProfile, String> {
    let priority = match fields.get("prioritaire") {
        "" => None,
        code => Some(
            PriorityEducation::parse(code)
                .ok_or_else(|| "Éducation prioritaire non comprise.".to_owned())?,
        ),
    };
    let delegation_date = read_date(fields.get("deliberation"))
        .map_err(|()| "Date de délibération non comprise : par exemple 15/09/2026.".to_owned())?;
    let profile = SchoolInternshipProfile {
        rural: fields.get("rural") == "oui",
        priority_education: priority,
        delegation_date,
    };
    match profile.check() {
        Some(reason) => Err(reason),
        None => Ok(profile),
    }
}

/// What the desk shows besides the defaults: refused settings or a refused collège's form.
#[derive(Default)]
struct Refusal {
    settings: Option<Vec<SettingInput>>,
    /// The collège, what was typed, and why it is refused.
    profile: Option<(String, ProfileCard, String)>,
}

async fn desk_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    notice: Option<&'static str>,
    refusal: Refusal,
) -> Result<Response, AppError> {
    let lines =
        state.store.school_internship_profiles(viewer.id()).await?.ok_or(AppError::NotFound)?;
    let settings = state.store.internship_settings().await?;

    let settings_refused = refusal.settings.is_some();
    let settings = refusal.settings.unwrap_or_else(|| settings_inputs(&settings));
    let mut schools: Vec<ProfileCard> = lines.into_iter().map(card).collect();
    if let Some((school_id, typed, reason)) = refusal.profile
        && let Some(card) = schools.iter_mut().find(|c| c.school_id == school_id)
    {
        card.rural = typed.rural;
        card.priority = typed.priority;
        card.delegation_date = typed.delegation_date;
        card.error = Some(reason);
    }
    let html = render(&DeskPage {
        chrome: viewer_chrome("Stages de 3e : le bureau du département", viewer),
        csrf: viewer.csrf_token.clone(),
        notice,
        settings_refused,
        settings,
        schools,
    })?;
    Ok((status, Html(html)).into_response())
}

fn only_departement(viewer: &Viewer) -> Result<(), AppError> {
    if viewer.facts.departement_admin { Ok(()) } else { Err(AppError::NotFound) }
}

async fn desk(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    only_departement(&viewer)?;

    let notice = match Fields::query(&uri).get("etat") {
        "reglages" => Some("Les réglages sont enregistrés."),
        "college" => Some("Le profil du collège est enregistré."),
        _ => None,
    };
    desk_page(&state, &viewer, StatusCode::OK, notice, Refusal::default()).await
}

async fn save_settings(
    State(state): State<AppState>,
    viewer: Viewer,
    fields: Fields,
) -> Result<Response, AppError> {
    only_departement(&viewer)?;
    viewer.check_csrf(fields.get("csrf_token"))?;

    let settings = match read_settings(&fields) {
        Ok(settings) => settings,
        Err(inputs) => {
            let refusal = Refusal { settings: Some(inputs), profile: None };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return desk_page(&state, &viewer, status, None, refusal).await;
        }
    };
    state.store.set_internship_settings(viewer.id(), &settings).await?;
    tracing::info!(person.id = %viewer.id(), "internship settings set");
    Ok(Redirect::to("/departement/stages?etat=reglages#titre-reglages").into_response())
}

async fn save_profile(
    State(state): State<AppState>,
    viewer: Viewer,
    fields: Fields,
) -> Result<Response, AppError> {
    only_departement(&viewer)?;
    viewer.check_csrf(fields.get("csrf_token"))?;
    let school_id = fields.get("ecole");

    let profile = match read_profile(&fields) {
        Ok(profile) => profile,
        Err(reason) => {
            let typed = ProfileCard {
                school_id: school_id.to_owned(),
                name: String::new(),
                uai: String::new(),
                summary: String::new(),
                rural: fields.get("rural") == "oui",
                priority: fields.get("prioritaire").chars().take(20).collect(),
                delegation_date: fields.get("deliberation").chars().take(20).collect(),
                error: None,
            };
            let refusal =
                Refusal { settings: None, profile: Some((school_id.to_owned(), typed, reason)) };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return desk_page(&state, &viewer, status, None, refusal).await;
        }
    };
    state.store.set_school_internship_profile(viewer.id(), school_id, &profile).await?;
    tracing::info!(person.id = %viewer.id(), school.id = %school_id, "school internship profile set");
    Ok(Redirect::to(&format!(
        "/departement/stages?etat=college#college-{}",
        crate::error::percent_encode(school_id)
    ))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Fields {
        Fields::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn settings_are_read_with_a_french_refusal_on_each_bad_field() {
        let good =
            "delai_reponse=15&prolongation=10&delai_confirmation=7&rappel=2&avance=0&rayon=30";
        let settings = read_settings(&fields(good)).ok().unwrap();
        assert_eq!((settings.read_extension_days, settings.head_start_days), (10, 0));

        let bad =
            "delai_reponse=abc&prolongation=10&delai_confirmation=7&rappel=2&avance=0&rayon=500";
        let inputs = read_settings(&fields(bad)).err().unwrap();
        assert!(inputs[0].error.as_deref().unwrap().starts_with("Saisissez un nombre entier"));
        assert!(inputs[5].error.is_none(), "bounds are checked once every field is a number");

        let far =
            "delai_reponse=15&prolongation=10&delai_confirmation=7&rappel=2&avance=0&rayon=500";
        let inputs = read_settings(&fields(far)).err().unwrap();
        assert!(inputs[5].error.as_deref().unwrap().contains("entre 1 et 200"));
    }

    #[test]
    fn a_profile_takes_a_french_or_iso_date_and_a_known_priority() {
        let profile =
            read_profile(&fields("rural=oui&prioritaire=rep_plus&deliberation=15%2F09%2F2026"))
                .unwrap();
        assert!(profile.rural);
        assert_eq!(profile.priority_education, Some(PriorityEducation::RepPlus));
        assert_eq!(profile.delegation_date.as_deref(), Some("2026-09-15"));
        assert!(read_profile(&fields("prioritaire=rrs")).is_err());
        assert!(read_profile(&fields("deliberation=31%2F02%2F2026")).is_err());
        assert_eq!(read_profile(&fields("")).unwrap(), SchoolInternshipProfile::default());
    }
}
