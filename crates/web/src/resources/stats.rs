//! The département's statistics of openings: per resource and per collège over a chosen
//! period (by default the current school year so far, from 1 September in Paris), as a table
//! and as a CSV file safe to open in a spreadsheet (`formats::csv_export`: a title starting with
//! `=`, `+`, `-` or `@` is neutralised). Only aggregate counters exist; nothing here can tell
//! who opened what.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use jiff::civil::Date;
use store::resources::OpeningLine;

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::AppError;
use crate::form::Fields;
use crate::session::Viewer;
use crate::templates::{Chrome, render};

/// One line of the table.
pub(crate) struct StatRow {
    pub(crate) title: String,
    pub(crate) owner: String,
    pub(crate) school: String,
    pub(crate) uai: String,
    pub(crate) openings: i64,
}

#[derive(Template)]
#[template(path = "resources_stats.html")]
pub(crate) struct StatsPage {
    pub(crate) chrome: Chrome,
    /// The period as the date fields hold it (`YYYY-MM-DD`).
    pub(crate) from: String,
    pub(crate) to: String,
    /// The period in French.
    pub(crate) from_text: String,
    pub(crate) to_text: String,
    pub(crate) error: Option<&'static str>,
    pub(crate) rows: Vec<StatRow>,
    pub(crate) total: i64,
    pub(crate) csv_href: String,
}

/// Today in Paris.
fn today() -> Date {
    let zone =
        jiff::tz::TimeZone::get(domain::time_zone::DEFAULT_ZONE).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::now().to_zoned_datetime(zone).date()
}

/// The first day of the school year `today` is in: 1 September of this year from September
/// on, of last year before.
fn school_year_start(today: Date) -> Date {
    let year = if today.month() >= 9 { today.year() } else { today.year() - 1 };
    Date::new(year, 9, 1).unwrap_or(today)
}

/// A typed date: `YYYY-MM-DD` (date fields) or `dd/mm/yyyy`.
fn parse_day(text: &str) -> Option<Date> {
    let text = text.trim();
    text.parse::<Date>()
        .ok()
        .or_else(|| Date::strptime("%d/%m/%Y", text).ok())
        .filter(|d| (2000..=2100).contains(&d.year()))
}

/// The period a query asks for, or the default with the reason it was not taken.
fn period(uri: &Uri, today: Date) -> (Date, Date, Option<&'static str>) {
    let query = Fields::query(uri);
    let default = (school_year_start(today), today);
    let (from, to) = (query.get("du"), query.get("au"));
    if from.is_empty() && to.is_empty() {
        return (default.0, default.1, None);
    }
    let from = if from.is_empty() { Some(default.0) } else { parse_day(from) };
    let to = if to.is_empty() { Some(default.1) } else { parse_day(to) };
    match (from, to) {
        (Some(from), Some(to)) if from <= to => (from, to, None),
        (Some(_), Some(_)) => (
            default.0,
            default.1,
            Some("La fin de la période vient avant son début : voici l'année scolaire en cours."),
        ),
        _ => (
            default.0,
            default.1,
            Some("Date non comprise (par exemple 01/09/2025) : voici l'année scolaire en cours."),
        ),
    }
}

fn row_of(line: OpeningLine) -> StatRow {
    let (school, uai) = match line.school {
        Some(school) => (school.name, school.uai),
        None => ("Hors collège (personnes du département)".to_owned(), String::new()),
    };
    StatRow {
        title: line.title,
        owner: line.owner.unwrap_or_else(|| "Le département".to_owned()),
        school,
        uai,
        openings: line.openings,
    }
}

async fn lines(
    state: &AppState,
    viewer: &Viewer,
    from: Date,
    to: Date,
) -> Result<Vec<StatRow>, AppError> {
    let lines = state
        .store
        .opening_stats(viewer.id(), &from.to_string(), &to.to_string())
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(lines.into_iter().map(row_of).collect())
}

pub(crate) async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    let (from, to, error) = period(&uri, today());

    let rows = lines(&state, &viewer, from, to).await?;
    let html = render(&StatsPage {
        chrome: viewer_chrome("Ouvertures des ressources", &viewer),
        from: from.to_string(),
        to: to.to_string(),
        from_text: crate::letters::french_date(&from.to_string()),
        to_text: crate::letters::french_date(&to.to_string()),
        error,
        total: rows.iter().map(|r| r.openings).sum(),
        rows,
        csv_href: format!("/departement/ressources/statistiques.csv?du={from}&au={to}"),
    })?;
    Ok(Html(html).into_response())
}

pub(crate) async fn csv(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    let (from, to, _) = period(&uri, today());

    let rows = lines(&state, &viewer, from, to).await?;
    let (from, to) = (from.to_string(), to.to_string());
    let cells = rows.into_iter().map(|row| {
        vec![
            row.title,
            row.owner,
            row.school,
            row.uai,
            row.openings.to_string(),
            from.clone(),
            to.clone(),
        ]
    });
    let mut bytes = Vec::new();
    formats::csv_export::write_csv(
        &mut bytes,
        &["Ressource", "Gérée par", "Collège", "UAI", "Ouvertures", "Du", "Au"],
        cells,
    )
    .map_err(|error| AppError::Internal(format!("csv: {error}")))?;
    // The dates are digits and hyphens: the name needs no escaping.
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"ouvertures-{from}-{to}.csv\""))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_period_is_the_school_year_so_far() {
        let may = Date::new(2026, 5, 12).unwrap();
        let october = Date::new(2025, 10, 2).unwrap();
        assert_eq!(school_year_start(may), Date::new(2025, 9, 1).unwrap());
        assert_eq!(school_year_start(october), Date::new(2025, 9, 1).unwrap());
        let uri: Uri = "/x".parse().unwrap();
        assert_eq!(period(&uri, may), (Date::new(2025, 9, 1).unwrap(), may, None));
        let typed: Uri = "/x?du=01%2F03%2F2026&au=2026-03-31".parse().unwrap();
        let (from, to, error) = period(&typed, may);
        assert_eq!(
            (from.to_string(), to.to_string(), error),
            ("2026-03-01".into(), "2026-03-31".into(), None)
        );
        let reversed: Uri = "/x?du=2026-04-01&au=2026-03-01".parse().unwrap();
        assert!(period(&reversed, may).2.is_some());
        let junk: Uri = "/x?du=%3Cscript%3E".parse().unwrap();
        assert!(period(&junk, may).2.is_some());
    }
}
