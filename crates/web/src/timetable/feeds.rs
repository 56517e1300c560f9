//! Private calendar feeds. `/emploi-du-temps/agendas` lists the viewer's feeds with their
//! « Révoquer » buttons and a form to create one (for oneself, or for a parent: per child);
//! the secret URL is shown once, in the answer to the creation, with how to add it to Google
//! Agenda, Apple Calendrier and Thunderbird. `/agenda/{token}.ics` serves a feed without any
//! session: the token alone says whose timetable, from four weeks ago to the end of the school
//! year of the subject's collèges ("today" in their zone), written by `formats::timetable::ical::write_feed` (stable UIDs, sequences, cancelled
//! occurrences marked so). An unknown or revoked token is a bare 404.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use domain::profile::Profile;
use domain::timetable::SchoolYear;
use formats::timetable::ical::{FeedEvent, write_feed};
use jiff::Timestamp;
use jiff::civil::Date;
use store::timetable::{Occurrence, TimetableSubject};

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::AppError;
use crate::form::{Fields, PathId};
use crate::session::Viewer;
use crate::templates::{Chrome, render};
use crate::timetable::{civil_at, french_datetime_of, load, shift, today_in};

/// The longest label of a feed, in characters.
const MAX_LABEL_CHARS: usize = 100;
/// How far back a feed goes, in days.
const FEED_PAST_DAYS: i64 = 28;
/// The most days a feed covers (a school year and its four weeks before, with room to spare).
const FEED_MAX_DAYS: i64 = 400;

/// A feed in the list.
pub(crate) struct FeedLine {
    pub(crate) id: String,
    pub(crate) label: String,
    pub(crate) subject: String,
    pub(crate) created: String,
    pub(crate) used: Option<String>,
}

/// Whose timetable a feed may show.
pub(crate) struct SubjectChoice {
    pub(crate) id: String,
    pub(crate) label: String,
}

#[derive(Template)]
#[template(path = "timetable_feeds.html")]
pub(crate) struct FeedsPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) feeds: Vec<FeedLine>,
    pub(crate) subjects: Vec<SubjectChoice>,
    /// The URL of the feed just created, shown once.
    pub(crate) created: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) notice: Option<&'static str>,
}

/// The people whose timetable the viewer may follow in a calendar: themself (pupil, teacher),
/// or their children (parent).
fn subjects(viewer: &Viewer) -> Vec<SubjectChoice> {
    match viewer.facts.person.profile {
        Profile::Pupil | Profile::Teacher => vec![SubjectChoice {
            id: viewer.id().to_owned(),
            label: "Mon emploi du temps".to_owned(),
        }],
        Profile::Relative => viewer
            .facts
            .children
            .iter()
            .map(|c| SubjectChoice {
                id: c.id.clone(),
                label: format!("Emploi du temps de {} {}", c.first_name, c.last_name),
            })
            .collect(),
        Profile::Staff | Profile::Agent | Profile::Official | Profile::Host => Vec::new(),
    }
}

async fn feeds_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    created: Option<String>,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Result<Response, AppError> {
    let subjects = subjects(viewer);
    let zone = domain::time_zone::DEFAULT_ZONE;
    let feeds = state
        .store
        .feeds(viewer.id())
        .await?
        .into_iter()
        .map(|feed| FeedLine {
            subject: subjects
                .iter()
                .find(|s| s.id == feed.subject_id)
                .map_or_else(String::new, |s| s.label.clone()),
            created: french_datetime_of(feed.created_at, zone),
            used: feed.last_used_at.map(|at| french_datetime_of(at, zone)),
            id: feed.id,
            label: feed.label,
        })
        .collect();
    let html = render(&FeedsPage {
        chrome: viewer_chrome("Emploi du temps dans un agenda", viewer),
        csrf: viewer.csrf_token.clone(),
        feeds,
        subjects,
        created,
        error,
        notice,
    })?;
    Ok((status, Html(html)).into_response())
}

pub(crate) async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: axum::http::Uri,
) -> Result<Response, AppError> {
    let notice = match Fields::query(&uri).get("etat") {
        "revoque" => {
            Some("L'adresse est révoquée : l'agenda qui la suivait ne se met plus à jour.")
        }
        _ => None,
    };
    feeds_page(&state, &viewer, StatusCode::OK, None, None, notice).await
}

pub(crate) async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let subject = fields.get("pour").trim();
    let subjects = subjects(&viewer);
    let Some(choice) = subjects.iter().find(|s| s.id == subject) else {
        let error = Some("Choisissez l'emploi du temps à suivre.".to_owned());
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return feeds_page(&state, &viewer, status, None, error, None).await;
    };
    let typed = fields.get("nom").trim();
    if typed.chars().count() > MAX_LABEL_CHARS || typed.chars().any(char::is_control) {
        let error = Some(format!("Le nom doit tenir en {MAX_LABEL_CHARS} caractères."));
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return feeds_page(&state, &viewer, status, None, error, None).await;
    }
    let label = if typed.is_empty() { choice.label.clone() } else { typed.to_owned() };

    let created = match state.store.create_feed(viewer.id(), subject, &label).await {
        Ok(created) => created,
        Err(store::StoreError::Conflict(reason)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return feeds_page(&state, &viewer, status, None, Some(reason), None).await;
        }
        Err(other) => return Err(other.into()),
    };
    tracing::info!(person.id = %viewer.id(), feed.id = %created.id, "calendar feed created");
    let url =
        format!("{}/agenda/{}.ics", state.config.base_url.trim_end_matches('/'), created.token);
    feeds_page(&state, &viewer, StatusCode::OK, Some(url), None, None).await
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;

    state.store.revoke_feed(viewer.id(), &id).await?;
    tracing::info!(person.id = %viewer.id(), feed.id = %id, "calendar feed revoked");
    Ok(Redirect::to("/emploi-du-temps/agendas?etat=revoque").into_response())
}

/// A bare 404: nothing says whether the token ever existed.
fn not_found() -> Response {
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "")
        .into_response()
}

/// The token of `/agenda/{token}.ics`, if it can be one.
fn token_of(file: &str) -> Option<&str> {
    let token = file.strip_suffix(".ics")?;
    let plausible = (16..=128).contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    plausible.then_some(token)
}

/// The local dates a feed covers: four weeks back, to the end of the subject's school year
/// (the usual one before any import), at least a week ahead, at most [`FEED_MAX_DAYS`] in all.
/// `load` asks the store in chunks it accepts.
fn feed_range(today: Date, year_end: Option<Date>) -> (Date, Date) {
    let from = shift(today, -FEED_PAST_DAYS);
    let year_end = year_end.unwrap_or_else(|| SchoolYear::around(today).last_day);
    let to = year_end.max(shift(today, 7)).min(shift(from, FEED_MAX_DAYS - 1));
    (from, to)
}

/// An occurrence as a calendar event.
fn event(occurrence: &Occurrence) -> FeedEvent {
    let change = occurrence.change.as_ref();
    let mut teachers: Vec<String> = occurrence.teachers.iter().map(|t| t.name.clone()).collect();
    teachers.extend(occurrence.unmatched_teachers.iter().cloned());
    let mut audience = occurrence.classes.clone();
    audience.extend(occurrence.groups.iter().cloned());
    let mut description = Vec::new();
    if !teachers.is_empty() {
        description.push(format!("Enseignants : {}", teachers.join(", ")));
    }
    if let Some(substitute) = change.and_then(|c| c.substitute.as_ref()) {
        description.push(format!("Remplacé par {}", substitute.name));
    }
    description.push(occurrence.school_name.clone());
    if !audience.is_empty() {
        description.push(format!("Classes et groupes : {}", audience.join(", ")));
    }
    if change.is_some_and(|c| c.exam) {
        description.push("Devoir surveillé".to_owned());
    }
    if let Some(note) = change.map(|c| c.note.trim()).filter(|n| !n.is_empty()) {
        description.push(format!("Note : {note}"));
    }
    let mut rooms = occurrence.rooms.join(", ");
    if let Some(room) = change.and_then(|c| c.new_room.clone()) {
        rooms = room;
    }

    FeedEvent {
        uid: format!(
            "{}-{}@preau",
            occurrence.course_id,
            occurrence.original_date.strftime("%Y%m%d")
        ),
        sequence: occurrence.sequence,
        zone: occurrence.time_zone.clone(),
        start: civil_at(occurrence.date, occurrence.time.start_minute),
        end: civil_at(occurrence.date, occurrence.time.end_minute),
        summary: occurrence.subject_label.clone(),
        location: rooms,
        description: description.join("\n"),
        cancelled: change.is_some_and(|c| c.cancelled),
        last_modified: Timestamp::from_second(occurrence.updated_at)
            .unwrap_or(Timestamp::UNIX_EPOCH),
    }
}

pub(crate) async fn ics(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let Some(token) = token_of(&file) else { return Ok(not_found()) };
    let access = match state.store.feed_by_token(token).await {
        Ok(access) => access,
        Err(store::StoreError::NotFound) => return Ok(not_found()),
        Err(other) => return Err(other.into()),
    };

    let subject = if access.subject_is_teacher {
        TimetableSubject::Teacher(access.subject_id.clone())
    } else {
        TimetableSubject::Pupil(access.subject_id.clone())
    };
    let now = Timestamp::now();
    let today = today_in(now, &access.time_zone);
    let (from, to) = feed_range(today, access.year_end);
    let timetable = match load(&state, &access.owner_id, &subject, (from, to), None).await {
        Ok(timetable) => timetable,
        Err(AppError::NotFound) => return Ok(not_found()),
        Err(other) => return Err(other),
    };

    let events: Vec<FeedEvent> = timetable.occurrences.iter().map(event).collect();
    let body = write_feed(&format!("Emploi du temps – {}", timetable.title), &events, now);
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300")),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("inline; filename=\"emploi-du-temps.ics\""),
            ),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_runs_from_four_weeks_ago_to_the_schools_year_end() {
        use jiff::civil::date;
        let today = date(2026, 11, 10);
        assert_eq!(
            feed_range(today, Some(date(2027, 7, 3))),
            (date(2026, 10, 13), date(2027, 7, 3))
        );
        // Before any import: the usual year; in July after the year's end, a week ahead.
        assert_eq!(feed_range(today, None).1, SchoolYear::around(today).last_day);
        let july = date(2027, 7, 20);
        assert_eq!(feed_range(july, Some(date(2027, 7, 3))).1, date(2027, 7, 27));
        // A corrupt year end far away is capped.
        let (from, to) = feed_range(today, Some(date(2031, 1, 1)));
        assert_eq!((to - from).get_days(), 399);
    }

    #[test]
    fn only_plausible_tokens_reach_the_database() {
        assert_eq!(token_of("abcdefghijklmnopqrstuvwxyz.ics"), Some("abcdefghijklmnopqrstuvwxyz"));
        assert_eq!(token_of("abcdefghijklmnopqrstuvwxyz"), None);
        assert_eq!(token_of("short.ics"), None);
        assert_eq!(token_of("abcdefghijklmnop%27qrstuvwxyz.ics"), None);
    }
}
