//! The statistics of the internship platform: `/departement/stages/statistiques` (every
//! collège, for département administrators) and `/etablissement/{uai}/stages/statistiques`
//! (one collège, for its administrators), with each table as a CSV file beside the page
//! (`…/statistiques/{table}.csv`) written by `formats::csv_export` (a cell starting with `=`,
//! `+`, `-` or `@` is neutralised). Only counts are shown: the store gives no pupil's name or
//! id. Anyone else gets the ordinary 404.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use store::directory::SchoolRef;
use store::internship::stats::{InternshipStats, StatsScope};

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::AppError;
use crate::session::Viewer;
use crate::templates::{Chrome, render};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/departement/stages/statistiques", get(departement_page))
        .route("/departement/stages/statistiques/{file}", get(departement_csv))
        .route("/etablissement/{uai}/stages/statistiques", get(school_page))
        .route("/etablissement/{uai}/stages/statistiques/{file}", get(school_csv))
}

/// A table of the page, as text cells (what the CSV file holds too).
pub(crate) struct Table {
    /// The file name without `.csv`.
    pub(crate) name: &'static str,
    pub(crate) caption: String,
    pub(crate) header: Vec<&'static str>,
    /// Each row: the first cell is the row's header.
    pub(crate) rows: Vec<Vec<String>>,
    pub(crate) empty: &'static str,
}

#[derive(Template)]
#[template(path = "internship_stats.html")]
pub(crate) struct StatsPage {
    pub(crate) chrome: Chrome,
    /// Where the CSV files are (`…/statistiques`).
    pub(crate) base: String,
    /// The collège, for a collège's page.
    pub(crate) school: Option<SchoolRef>,
    pub(crate) summary: String,
    pub(crate) distance_summary: String,
    pub(crate) tables: Vec<Table>,
}

/// A share in French, "42 %" (rounded), or "—" when there is nobody to share.
fn share(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "—".to_owned();
    }
    let percent = (part as f64) * 100.0 / (whole as f64);
    format!("{} %", percent.round())
}

/// A distance in French: one decimal, a decimal comma.
fn km(value: f64) -> String {
    format!("{value:.1} km").replace('.', ",")
}

fn week_label(iso_week: &str) -> String {
    domain::internship::IsoWeek::parse(iso_week)
        .map_or_else(|_| iso_week.to_owned(), |week| format!("{} ({iso_week})", week.label_fr()))
}

/// The tables of the statistics; `per_school` adds the collège column (the département's page).
fn tables(stats: &InternshipStats, per_school: bool) -> Vec<Table> {
    let mut tables = Vec::new();
    if per_school {
        tables.push(Table {
            name: "colleges",
            caption: "Élèves de 3e ayant un stage confirmé, par collège".to_owned(),
            header: vec![
                "Collège",
                "UAI",
                "Profil",
                "Élèves de 3e",
                "Avec un stage confirmé",
                "Part",
            ],
            rows: stats
                .schools
                .iter()
                .map(|s| {
                    let mut profile = Vec::new();
                    if s.rural {
                        profile.push("rural");
                    }
                    match s.priority_education.as_deref() {
                        Some("rep") => profile.push("REP"),
                        Some("rep_plus") => profile.push("REP+"),
                        _ => {}
                    }
                    vec![
                        s.school.name.clone(),
                        s.school.uai.clone(),
                        profile.join(", "),
                        s.third_year.to_string(),
                        s.placed.to_string(),
                        share(s.placed, s.third_year),
                    ]
                })
                .collect(),
            empty: "Aucun collège.",
        });
        tables.push(Table {
            name: "semaines",
            caption: "Élèves en stage confirmé par semaine, pour le département".to_owned(),
            header: vec![
                "Semaine",
                "Élèves en stage",
                "Élèves de 3e des collèges concernés",
                "Part",
            ],
            rows: stats
                .week_totals
                .iter()
                .map(|w| {
                    vec![
                        week_label(&w.iso_week),
                        w.placed.to_string(),
                        w.third_year.to_string(),
                        share(w.placed, w.third_year),
                    ]
                })
                .collect(),
            empty: "Aucune semaine de stage n'est déclarée.",
        });
    }
    let mut week_header =
        vec!["Semaine", "Semaine du collège", "Élèves en stage", "Élèves de 3e", "Part"];
    if per_school {
        week_header.insert(0, "Collège");
    }
    tables.push(Table {
        name: "semaines-colleges",
        caption: if per_school {
            "Élèves en stage confirmé par collège et par semaine".to_owned()
        } else {
            "Élèves en stage confirmé par semaine".to_owned()
        },
        header: week_header,
        rows: stats
            .weeks
            .iter()
            .map(|w| {
                let mut row = vec![
                    week_label(&w.iso_week),
                    if w.declared { "oui" } else { "non" }.to_owned(),
                    w.placed.to_string(),
                    w.third_year.to_string(),
                    share(w.placed, w.third_year),
                ];
                if per_school {
                    row.insert(0, w.school.name.clone());
                }
                row
            })
            .collect(),
        empty: "Aucune semaine de stage n'est déclarée.",
    });
    for (name, caption, first, lines) in [
        (
            "secteurs",
            "Offres publiées, places et stages confirmés par secteur",
            "Secteur",
            &stats.sectors,
        ),
        (
            "communes",
            "Offres publiées, places et stages confirmés par commune",
            "Commune",
            &stats.communes,
        ),
    ] {
        tables.push(Table {
            name,
            caption: caption.to_owned(),
            header: vec![first, "Offres publiées", "Places", "Stages confirmés"],
            rows: lines
                .iter()
                .map(|line| {
                    vec![
                        if line.label.is_empty() {
                            "Non précisé".to_owned()
                        } else {
                            line.label.clone()
                        },
                        line.offers.to_string(),
                        line.places.to_string(),
                        line.confirmed.to_string(),
                    ]
                })
                .collect(),
            empty: "Aucune offre ni aucun stage.",
        });
    }
    let distance = &stats.distance;
    let labels =
        ["Moins de 5 km", "De 5 à 10 km", "De 10 à 20 km", "De 20 à 30 km", "30 km ou plus"];
    let mut rows: Vec<Vec<String>> = labels
        .iter()
        .zip(distance.buckets)
        .map(|(label, n)| vec![(*label).to_owned(), n.to_string(), share(n, distance.located)])
        .collect();
    rows.push(vec![
        "Domicile non situé (commune inconnue ou hors du département)".to_owned(),
        distance.unlocated.to_string(),
        String::new(),
    ]);
    tables.push(Table {
        name: "distances",
        caption: "Distance entre le domicile et le lieu du stage confirmé".to_owned(),
        header: vec!["Distance", "Stages confirmés", "Part des stages situés"],
        rows,
        empty: "",
    });
    tables.push(Table {
        name: "groupes",
        caption: "Élèves placés selon le profil de leur collège".to_owned(),
        header: vec!["Collèges", "Élèves de 3e", "Avec un stage confirmé", "Part"],
        rows: stats
            .groups
            .iter()
            .filter(|g| per_school || g.third_year > 0 || g.group == "all")
            .map(|g| {
                vec![
                    g.label.to_owned(),
                    g.third_year.to_string(),
                    g.placed.to_string(),
                    share(g.placed, g.third_year),
                ]
            })
            .collect(),
        empty: "",
    });
    tables
}

fn summaries(stats: &InternshipStats) -> (String, String) {
    let third_year: i64 = stats.schools.iter().map(|s| s.third_year).sum();
    let placed: i64 = stats.schools.iter().map(|s| s.placed).sum();
    let summary = format!(
        "{placed} élève(s) de 3e sur {third_year} ont un stage confirmé ({}).",
        share(placed, third_year)
    );
    let distance = &stats.distance;
    let distance_summary = match distance.median_km {
        Some(median) => format!(
            "Distance médiane entre le domicile et le stage : {} ({} stage(s) situé(s), {} \
             domicile(s) non situé(s)).",
            km(median),
            distance.located,
            distance.unlocated
        ),
        None => format!(
            "Aucun stage confirmé dont le domicile de l'élève soit situé ({} domicile(s) non \
             situé(s)).",
            distance.unlocated
        ),
    };
    (summary, distance_summary)
}

async fn stats_of(
    state: &AppState,
    viewer: &Viewer,
    scope: &StatsScope,
) -> Result<InternshipStats, AppError> {
    state.store.internship_stats(viewer.id(), scope).await?.ok_or(AppError::NotFound)
}

fn page(
    viewer: &Viewer,
    stats: &InternshipStats,
    school: Option<SchoolRef>,
    base: String,
) -> Result<Response, AppError> {
    let title = match &school {
        Some(school) => format!("Statistiques des stages de 3e : {}", school.name),
        None => "Statistiques des stages de 3e".to_owned(),
    };
    let (summary, distance_summary) = summaries(stats);
    let html = render(&StatsPage {
        chrome: viewer_chrome(&title, viewer),
        base,
        tables: tables(stats, school.is_none()),
        school,
        summary,
        distance_summary,
    })?;
    Ok(Html(html).into_response())
}

fn csv(
    stats: &InternshipStats,
    per_school: bool,
    file: &str,
    prefix: &str,
) -> Result<Response, AppError> {
    let name = file.strip_suffix(".csv").ok_or(AppError::NotFound)?;
    let table =
        tables(stats, per_school).into_iter().find(|t| t.name == name).ok_or(AppError::NotFound)?;
    let mut bytes = Vec::new();
    formats::csv_export::write_csv(&mut bytes, &table.header, table.rows)
        .map_err(|error| AppError::Internal(format!("csv: {error}")))?;
    // The table names and the prefix (a UAI checked by the store, or `departement`) are
    // letters, digits and hyphens: the file name needs no escaping.
    let disposition = HeaderValue::from_str(&format!(
        "attachment; filename=\"stages-{prefix}-{}.csv\"",
        table.name
    ))
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

async fn departement_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, AppError> {
    let stats = stats_of(&state, &viewer, &StatsScope::Departement).await?;
    page(&viewer, &stats, None, "/departement/stages/statistiques".to_owned())
}

async fn departement_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let stats = stats_of(&state, &viewer, &StatsScope::Departement).await?;
    csv(&stats, true, &file, "departement")
}

async fn school_of(state: &AppState, viewer: &Viewer, uai: &str) -> Result<SchoolRef, AppError> {
    state.store.administered_school(viewer.id(), uai).await?.ok_or(AppError::NotFound)
}

async fn school_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(uai): Path<String>,
) -> Result<Response, AppError> {
    let school = school_of(&state, &viewer, &uai).await?;
    let stats = stats_of(&state, &viewer, &StatsScope::School(school.id.clone())).await?;
    let base =
        format!("/etablissement/{}/stages/statistiques", crate::error::percent_encode(&school.uai));
    page(&viewer, &stats, Some(school), base)
}

async fn school_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((uai, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let school = school_of(&state, &viewer, &uai).await?;
    let stats = stats_of(&state, &viewer, &StatsScope::School(school.id.clone())).await?;
    let prefix: String =
        school.uai.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
    csv(&stats, false, &file, &prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_distances_read_in_french() {
        assert_eq!(share(1, 3), "33 %");
        assert_eq!(share(0, 0), "—");
        assert_eq!(km(12.345), "12,3 km");
    }
}
