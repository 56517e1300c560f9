//! A collège's internship page, `/etablissement/{uai}/stages`, for its administrators (a
//! school role or a direction function) and the département's: the 3e and 4e internship weeks
//! it declares (checkboxes of the school year's weeks, computed in the collège's time zone;
//! `POST …/stages/semaines`), and every 3e pupil's status (no application in progress,
//! applied, accepted, confirmed, agreement signed) with the counts per status, filters by
//! class and status, and the CSV export `…/stages/eleves.csv` written by
//! `formats::csv_export` (a name starting with `=` opens as text). Who may see a collège is
//! decided by the store's SQL; anyone else gets the ordinary 404.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::internship::IsoWeek;
use jiff::civil::{Date, date};
use store::StoreError;
use store::internship::schools::{
    MAX_WEEKS_PER_LEVEL, PupilStatus, SchoolInternship, SchoolStatuses, StatusFilter,
};

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::{AppError, percent_encode};
use crate::form::Fields;
use crate::session::Viewer;
use crate::templates::{Chrome, render};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/etablissement/{uai}/stages", get(page))
        .route("/etablissement/{uai}/stages/semaines", post(save_weeks))
        .route("/etablissement/{uai}/stages/eleves.csv", get(export))
}

/// The header of the CSV export.
const CSV_HEADER: [&str; 7] = [
    "Nom",
    "Prénom",
    "Classe",
    "Statut",
    "Semaine du stage confirmé",
    "Organisme d'accueil",
    "Candidatures en cours",
];

/// A week checkbox.
pub(crate) struct WeekBox {
    pub(crate) id: String,
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) checked: bool,
    pub(crate) past: bool,
}

/// The weeks form of one level.
pub(crate) struct LevelWeeks {
    pub(crate) level: &'static str,
    pub(crate) title: &'static str,
    pub(crate) declared: Vec<String>,
    pub(crate) boxes: Vec<WeekBox>,
    pub(crate) error: Option<String>,
}

/// An option of a filter.
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

/// A count per status, linking to its filter.
pub(crate) struct CountView {
    pub(crate) label: &'static str,
    pub(crate) count: usize,
    pub(crate) href: String,
}

/// A row of the status table.
pub(crate) struct RowView {
    pub(crate) name: String,
    pub(crate) class: String,
    pub(crate) status: &'static str,
    pub(crate) week: String,
    pub(crate) host: String,
    pub(crate) pending: i64,
}

#[derive(Template)]
#[template(path = "internship_school_page.html")]
pub(crate) struct SchoolPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) base: String,
    pub(crate) saved: bool,
    pub(crate) profile: String,
    pub(crate) levels: Vec<LevelWeeks>,
    pub(crate) classes: Vec<Choice>,
    pub(crate) statuses: Vec<Choice>,
    pub(crate) filtered: bool,
    pub(crate) counts: Vec<CountView>,
    pub(crate) rows: Vec<RowView>,
    pub(crate) export_href: String,
}

/// The filter of the query string; an unknown status or class reads as none.
fn read_filter(fields: &Fields) -> StatusFilter {
    let class = fields.get("classe");
    StatusFilter {
        class_id: (!class.is_empty() && class.len() <= 64).then(|| class.to_owned()),
        status: PupilStatus::parse(fields.get("statut")),
    }
}

fn filter_query(filter: &StatusFilter) -> String {
    let mut pairs = Vec::new();
    if let Some(class) = &filter.class_id {
        pairs.push(format!("classe={}", percent_encode(class)));
    }
    if let Some(status) = filter.status {
        pairs.push(format!("statut={}", status.as_str()));
    }
    if pairs.is_empty() { String::new() } else { format!("?{}", pairs.join("&")) }
}

/// Today in the collège's time zone.
fn today_in(time_zone: &str) -> Date {
    let zone = jiff::tz::TimeZone::get(time_zone)
        .or_else(|_| jiff::tz::TimeZone::get("Europe/Paris"))
        .unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::now().to_zoned_datetime(zone).date()
}

/// The weeks of the school year `today` falls in (from August on, the year starting that
/// September): from the week of 1 September to the week of 4 July.
pub(crate) fn school_year_weeks(today: Date) -> Vec<IsoWeek> {
    let start_year = if today.month() >= 8 { today.year() } else { today.year() - 1 };
    let first = IsoWeek::of(date(start_year, 9, 1));
    let last = IsoWeek::of(date(start_year + 1, 7, 4));
    let mut weeks = vec![first];
    while let Some(&week) = weeks.last() {
        if week >= last {
            break;
        }
        weeks.push(week.next());
    }
    weeks
}

fn level_weeks(
    level: &'static str,
    declared: &[IsoWeek],
    year: &[IsoWeek],
    this_week: IsoWeek,
    error: Option<String>,
) -> LevelWeeks {
    let mut all: Vec<IsoWeek> = year.to_vec();
    all.extend(declared.iter().copied());
    all.sort();
    all.dedup();
    LevelWeeks {
        level,
        title: if level == "3e" { "Semaines de stage des 3e" } else { "Semaines de stage des 4e" },
        declared: declared.iter().map(|week| week.label_fr()).collect(),
        boxes: all
            .into_iter()
            .map(|week| WeekBox {
                id: format!("semaine-{level}-{week}"),
                value: week.to_string(),
                label: week.label_fr(),
                checked: declared.contains(&week),
                past: week < this_week,
            })
            .collect(),
        error,
    }
}

async fn school_page(
    state: &AppState,
    viewer: &Viewer,
    school: &SchoolInternship,
    filter: &StatusFilter,
    saved: bool,
    errors: (Option<String>, Option<String>),
) -> Result<Response, AppError> {
    let statuses: SchoolStatuses =
        state.store.school_pupil_statuses(viewer.id(), &school.school_id, filter).await?;
    let today = today_in(&school.time_zone);
    let year = school_year_weeks(today);
    let this_week = IsoWeek::of(today);
    let base = format!("/etablissement/{}/stages", percent_encode(&school.uai));

    let mut profile = Vec::new();
    if school.rural {
        profile.push("collège rural");
    }
    if school.priority {
        profile.push("éducation prioritaire");
    }
    let profile = if profile.is_empty() {
        String::new()
    } else {
        format!(
            "Le département compte ce collège parmi les {} : ses élèves voient les nouvelles \
             offres dès leur publication.",
            profile.join(" et parmi les collèges en ")
        )
    };
    let counts = statuses
        .counts
        .iter()
        .map(|(status, count)| CountView {
            label: status.label_fr(),
            count: *count,
            href: format!(
                "{base}{}",
                filter_query(&StatusFilter {
                    class_id: filter.class_id.clone(),
                    status: Some(*status)
                })
            ),
        })
        .collect();
    let rows = statuses
        .rows
        .iter()
        .map(|row| RowView {
            name: format!("{} {}", row.last_name, row.first_name),
            class: row.class_code.clone(),
            status: row.status.label_fr(),
            week: row.confirmed_week.map(IsoWeek::label_fr).unwrap_or_default(),
            host: row.confirmed_host.clone().unwrap_or_default(),
            pending: row.pending,
        })
        .collect();
    let html = render(&SchoolPage {
        chrome: viewer_chrome(&format!("Stages de 3e : {}", school.name), viewer),
        csrf: viewer.csrf_token.clone(),
        saved,
        profile,
        levels: vec![
            level_weeks("3e", &school.weeks_3e, &year, this_week, errors.0),
            level_weeks("4e", &school.weeks_4e, &year, this_week, errors.1),
        ],
        classes: statuses
            .classes
            .iter()
            .map(|(id, code)| Choice {
                value: id.clone(),
                label: code.clone(),
                selected: filter.class_id.as_deref() == Some(id.as_str()),
            })
            .collect(),
        statuses: PupilStatus::ALL
            .into_iter()
            .map(|status| Choice {
                value: status.as_str().to_owned(),
                label: status.label_fr().to_owned(),
                selected: filter.status == Some(status),
            })
            .collect(),
        filtered: filter.class_id.is_some() || filter.status.is_some(),
        counts,
        rows,
        export_href: format!("{base}/eleves.csv{}", filter_query(filter)),
        base,
    })?;
    Ok(Html(html).into_response())
}

async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(uai): Path<String>,
    uri: Uri,
) -> Result<Response, AppError> {
    let school = state.store.school_internship(viewer.id(), &uai).await?;
    let fields = Fields::query(&uri);
    let filter = read_filter(&fields);
    let saved = fields.get("enregistre") == "1";
    school_page(&state, &viewer, &school, &filter, saved, (None, None)).await
}

async fn save_weeks(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(uai): Path<String>,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let school = state.store.school_internship(viewer.id(), &uai).await?;
    let level = match fields.get("niveau") {
        "3e" => "3e",
        "4e" => "4e",
        _ => return Err(AppError::BadRequest("Ce niveau n'existe pas.")),
    };

    let mut weeks = Vec::new();
    let mut error = None;
    for text in fields.all("semaine") {
        match IsoWeek::parse(text) {
            Ok(week) => weeks.push(week),
            Err(_) => error = Some("Une des semaines cochées n'existe pas.".to_owned()),
        }
    }
    weeks.sort();
    weeks.dedup();
    if weeks.len() > MAX_WEEKS_PER_LEVEL {
        error = Some(format!(
            "Cochez au plus {MAX_WEEKS_PER_LEVEL} semaines ({} cochées).",
            weeks.len()
        ));
    }
    if error.is_none() {
        match state
            .store
            .set_school_internship_weeks(viewer.id(), &school.school_id, level, &weeks)
            .await
        {
            Ok(()) => {
                tracing::info!(school.id = %school.school_id, level, weeks = weeks.len(),
                    "internship weeks declared");
                let base = format!("/etablissement/{}/stages", percent_encode(&school.uai));
                return Ok(Redirect::to(&format!("{base}?enregistre=1")).into_response());
            }
            Err(StoreError::Conflict(message)) => error = Some(message),
            Err(other) => return Err(other.into()),
        }
    }

    let errors = if level == "3e" { (error, None) } else { (None, error) };
    let mut response =
        school_page(&state, &viewer, &school, &StatusFilter::default(), false, errors).await?;
    *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

async fn export(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(uai): Path<String>,
    uri: Uri,
) -> Result<Response, AppError> {
    let school = state.store.school_internship(viewer.id(), &uai).await?;
    let filter = read_filter(&Fields::query(&uri));
    let statuses =
        state.store.school_pupil_statuses(viewer.id(), &school.school_id, &filter).await?;

    let rows = statuses.rows.iter().map(|row| {
        vec![
            row.last_name.clone(),
            row.first_name.clone(),
            row.class_code.clone(),
            row.status.label_fr().to_owned(),
            row.confirmed_week.map(|week| week.to_string()).unwrap_or_default(),
            row.confirmed_host.clone().unwrap_or_default(),
            row.pending.to_string(),
        ]
    });
    let mut bytes = Vec::new();
    formats::csv_export::write_csv(&mut bytes, &CSV_HEADER, rows)
        .map_err(|error| AppError::Internal(format!("csv: {error}")))?;
    let name: String =
        school.uai.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"stages-eleves-{name}.csv\""))
            .map_err(|_| AppError::Internal("content-disposition".to_owned()))?;
    tracing::info!(school.id = %school.school_id, rows = statuses.rows.len(),
        "internship statuses exported");
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_school_year_runs_from_september_to_early_july() {
        for today in [date(2026, 12, 5), date(2026, 9, 1), date(2027, 6, 30), date(2026, 8, 20)] {
            let weeks = school_year_weeks(today);
            assert_eq!(weeks.first().unwrap().to_string(), "2026-W36", "{today}");
            assert_eq!(weeks.last().unwrap().to_string(), "2027-W26", "{today}");
            assert!(weeks.windows(2).all(|w| w[0].next() == w[1]));
        }
        let next = school_year_weeks(date(2027, 8, 2));
        assert_eq!(next.first().unwrap().to_string(), "2027-W35");
    }

    #[test]
    fn filters_round_trip_through_the_address() {
        let fields = Fields::parse(b"classe=class-3a&statut=confirmee").unwrap();
        let filter = read_filter(&fields);
        assert_eq!(filter_query(&filter), "?classe=class-3a&statut=confirmee");
        let fields = Fields::parse(b"statut=inconnu").unwrap();
        assert_eq!(filter_query(&read_filter(&fields)), "");
    }
}
