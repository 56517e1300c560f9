//! The change of one occurrence (`/etablissement/{uai}/seances/{course_id}/{date}`), for the
//! administrators of the course's school: cancel it, mark it as an exam, move it to another
//! date and time, change its room, name a substitute among the school's teachers, add a note,
//! or put it back as planned (« Rétablir la séance »). The form carries the session's token
//! and a one-time token; bad input gets a French error tied to its field, never a 500. The
//! store checks again that the actor administers the course's school.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use domain::timetable::{LessonTime, SchoolYear};
use jiff::civil::Date;
use store::admin::FormSubmission;
use store::directory::SchoolRef;
use store::timetable::{ChangeRequest, ChangeTarget, LessonTeacher, Occurrence};

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::{AppError, percent_encode};
use crate::form::Fields;
use crate::session::Viewer;
use crate::templates::{Chrome, render};
use crate::timetable::{LessonView, french_date, french_day, parse_date, plausible_id, zone_note};

/// The longest note, in characters.
const MAX_NOTE_CHARS: usize = 500;
/// The longest room name, in characters.
const MAX_ROOM_CHARS: usize = 100;

/// What the form holds and what is wrong with it.
#[derive(Default)]
pub(crate) struct ChangeForm {
    pub(crate) token: String,
    pub(crate) cancelled: bool,
    pub(crate) exam: bool,
    pub(crate) date: String,
    pub(crate) start: String,
    pub(crate) end: String,
    pub(crate) room: String,
    pub(crate) substitute: String,
    pub(crate) note: String,
    pub(crate) move_error: Option<String>,
    pub(crate) room_error: Option<String>,
    pub(crate) substitute_error: Option<String>,
    pub(crate) note_error: Option<String>,
    pub(crate) error: Option<String>,
    /// The substitute already teaches at that time: where and when.
    pub(crate) conflict: Option<String>,
    /// « Confirmer malgré le conflit » is ticked.
    pub(crate) confirm: bool,
}

impl ChangeForm {
    pub(crate) fn has_errors(&self) -> bool {
        self.move_error.is_some()
            || self.room_error.is_some()
            || self.substitute_error.is_some()
            || self.note_error.is_some()
            || self.error.is_some()
            || self.conflict.is_some()
    }
}

#[derive(Template)]
#[template(path = "timetable_change.html")]
pub(crate) struct ChangePage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) action: String,
    pub(crate) back: String,
    pub(crate) date_label: String,
    pub(crate) lesson: Option<LessonView>,
    pub(crate) teachers: Vec<LessonTeacher>,
    /// The rooms a course or a change uses, suggested (a new name is still accepted).
    pub(crate) rooms: Vec<String>,
    pub(crate) form: ChangeForm,
    pub(crate) notice: Option<&'static str>,
    pub(crate) year: String,
}

/// The occurrence a request names, once the viewer is known to administer its school.
struct Target {
    school: SchoolRef,
    course_id: String,
    date: Date,
    back: String,
}

async fn target(
    state: &AppState,
    viewer: &Viewer,
    (uai, course_id, date): (String, String, String),
    back: &str,
) -> Result<Target, AppError> {
    plausible_id(&uai)?;
    plausible_id(&course_id)?;
    let date = parse_date(&date).filter(|_| date.len() == 10).ok_or(AppError::NotFound)?;
    let school =
        state.store.administered_school(viewer.id(), &uai).await?.ok_or(AppError::NotFound)?;
    let back = crate::security::safe_next(Some(back));
    let back = if back.starts_with("/emploi-du-temps") { back } else { "/emploi-du-temps".into() };
    Ok(Target { school, course_id, date, back })
}

/// The occurrence itself, as it stands (moved, cancelled…), wherever the form was opened
/// from; `None` when the course (of this school) has no occurrence that day.
async fn find_occurrence(
    state: &AppState,
    viewer: &Viewer,
    target: &Target,
) -> Result<Option<Occurrence>, AppError> {
    match state.store.occurrence(viewer.id(), &target.course_id, target.date).await {
        Ok(occurrence) if occurrence.school_id == target.school.id => Ok(Some(occurrence)),
        Ok(_) => Ok(None),
        Err(store::StoreError::NotFound) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// The teachers the occurrence may be given to: the school's.
async fn substitutes(
    state: &AppState,
    viewer: &Viewer,
    target: &Target,
) -> Result<Vec<LessonTeacher>, AppError> {
    Ok(state.store.school_teachers(viewer.id(), &target.school.id).await?)
}

/// The form filled with the occurrence's current change.
fn current_form(occurrence: Option<&Occurrence>) -> ChangeForm {
    let mut form = ChangeForm { token: store::new_id(), ..ChangeForm::default() };
    let Some(change) = occurrence.and_then(|o| o.change.as_ref().map(|c| (o, c))) else {
        return form;
    };
    let (occurrence, change) = change;
    form.cancelled = change.cancelled;
    form.exam = change.exam;
    if change.moved_from.is_some() {
        form.date = occurrence.date.to_string();
        form.start = LessonTime::clock(occurrence.time.start_minute);
        form.end = LessonTime::clock(occurrence.time.end_minute);
    }
    form.room = change.new_room.clone().unwrap_or_default();
    form.substitute = change.substitute.as_ref().map(|t| t.id.clone()).unwrap_or_default();
    form.note = change.note.clone();
    form
}

/// The school's year: its stored one, else the usual one around the date.
async fn school_year(state: &AppState, school: &SchoolRef, date: Date) -> SchoolYear {
    match state.store.school_year_info(&school.id).await {
        Ok(Some(info)) => SchoolYear { first_monday: info.first_monday, last_day: info.last_day },
        _ => SchoolYear::around(date),
    }
}

#[allow(clippy::too_many_arguments)]
async fn change_page(
    state: &AppState,
    viewer: &Viewer,
    target: &Target,
    occurrence: Option<&Occurrence>,
    form: ChangeForm,
    status: StatusCode,
    notice: Option<&'static str>,
    teachers: Vec<LessonTeacher>,
) -> Result<Response, AppError> {
    let year = school_year(state, &target.school, target.date).await;
    let rooms = state.store.school_rooms(viewer.id(), &target.school.id).await?;
    let html = render(&ChangePage {
        chrome: viewer_chrome("Modifier une séance", viewer),
        csrf: viewer.csrf_token.clone(),
        action: format!(
            "/etablissement/{}/seances/{}/{}?retour={}",
            percent_encode(&target.school.uai),
            percent_encode(&target.course_id),
            target.date,
            percent_encode(&target.back)
        ),
        back: target.back.clone(),
        date_label: french_date(target.date),
        lesson: occurrence.map(|o| LessonView::of(o, viewer, None)),
        teachers,
        rooms: rooms.into_iter().map(|room| room.name).collect(),
        form,
        notice,
        year: format!("du {} au {}", french_date(year.first_monday), french_date(year.last_day)),
    })?;
    Ok((status, Html(html)).into_response())
}

pub(crate) async fn form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(path): Path<(String, String, String)>,
    uri: Uri,
) -> Result<Response, AppError> {
    let query = Fields::query(&uri);
    let target = target(&state, &viewer, path, query.get("retour")).await?;

    let occurrence = find_occurrence(&state, &viewer, &target).await?;
    if occurrence.is_none() {
        return Err(AppError::NotFound);
    }
    let teachers = substitutes(&state, &viewer, &target).await?;
    let notice = match query.get("etat") {
        "enregistre" => Some("La séance est modifiée : le changement est visible de tous."),
        "retablie" => Some("La séance est rétablie comme prévu."),
        _ => None,
    };
    let form = current_form(occurrence.as_ref());
    let status = StatusCode::OK;
    change_page(&state, &viewer, &target, occurrence.as_ref(), form, status, notice, teachers).await
}

/// Reads and checks the form; the errors are French and tied to their field.
fn read_form(
    fields: &Fields,
    original: Date,
    year: &SchoolYear,
    teachers: &[LessonTeacher],
) -> (ChangeForm, ChangeRequest) {
    let mut form = ChangeForm {
        token: fields.get("jeton").trim().to_owned(),
        cancelled: fields.get("annule") == "1",
        exam: fields.get("devoir") == "1",
        date: fields.get("date").trim().to_owned(),
        start: fields.get("debut").trim().to_owned(),
        end: fields.get("fin").trim().to_owned(),
        room: fields.get("salle").trim().to_owned(),
        substitute: fields.get("remplacant").trim().to_owned(),
        note: fields.get("note").trim().to_owned(),
        confirm: fields.get("malgre_conflit") == "1",
        ..ChangeForm::default()
    };
    let mut request = ChangeRequest {
        cancelled: form.cancelled,
        exam: form.exam,
        note: form.note.clone(),
        ..ChangeRequest::default()
    };

    match read_move(&form, original, year) {
        Ok(moved) => request.moved_to = moved,
        Err(reason) => form.move_error = Some(reason),
    }
    if form.room.chars().count() > MAX_ROOM_CHARS || form.room.chars().any(char::is_control) {
        form.room_error =
            Some(format!("Le nom de la salle doit tenir en {MAX_ROOM_CHARS} caractères."));
    } else if !form.room.is_empty() {
        request.new_room = Some(form.room.clone());
    }
    if !form.substitute.is_empty() {
        if teachers.iter().any(|t| t.id == form.substitute) {
            request.substitute_id = Some(form.substitute.clone());
        } else {
            form.substitute_error = Some("Choisissez un enseignant de l'établissement.".into());
        }
    }
    if form.note.chars().count() > MAX_NOTE_CHARS {
        form.note_error = Some(format!("La note doit tenir en {MAX_NOTE_CHARS} caractères."));
    }
    (form, request)
}

/// The move the form asks for: none when date and times are empty.
fn read_move(
    form: &ChangeForm,
    original: Date,
    year: &SchoolYear,
) -> Result<Option<(Date, LessonTime)>, String> {
    if form.date.is_empty() && form.start.is_empty() && form.end.is_empty() {
        return Ok(None);
    }
    let date = if form.date.is_empty() {
        original
    } else {
        parse_date(&form.date).ok_or_else(|| {
            format!("Date non comprise « {} » : écrivez-la par exemple 05/03/2026.", form.date)
        })?
    };
    if date < year.first_monday || date > year.last_day {
        return Err(format!(
            "Le {} est en dehors de l'année scolaire (du {} au {}).",
            french_date(date),
            french_date(year.first_monday),
            french_date(year.last_day)
        ));
    }
    let clock = |text: &str, which: &str| {
        LessonTime::parse_clock(text)
            .ok_or_else(|| format!("Heure de {which} non comprise : écrivez-la par exemple 08:30."))
    };
    let start = clock(&form.start, "début")?;
    let end = clock(&form.end, "fin")?;
    if end <= start {
        return Err("L'heure de fin doit venir après l'heure de début.".to_owned());
    }
    let time = LessonTime::new(start, end).map_err(|e| format!("Horaire refusé : {e}."))?;
    Ok(Some((date, time)))
}

/// When the request names a substitute who already teaches (in any collège) at the time the
/// lesson would take, the French sentence that says where and when; `None` when they are free.
async fn busy_substitute(
    state: &AppState,
    viewer: &Viewer,
    target: &Target,
    request: &ChangeRequest,
    teachers: &[LessonTeacher],
) -> Result<Option<String>, AppError> {
    let Some(substitute) = request.substitute_id.as_deref() else { return Ok(None) };
    let Some(occurrence) = find_occurrence(state, viewer, target).await? else {
        return Ok(None);
    };
    let planned = occurrence.change.as_ref().and_then(|c| c.moved_from).map(|(_, time)| time);
    let (date, time) =
        request.moved_to.unwrap_or((target.date, planned.unwrap_or(occurrence.time)));
    let change_target =
        ChangeTarget { course_id: target.course_id.clone(), original_date: target.date };
    let busy =
        match state.store.teacher_busy(viewer.id(), &change_target, substitute, date, time).await {
            Ok(busy) => busy,
            Err(store::StoreError::NotFound) => return Ok(None),
            Err(other) => return Err(other.into()),
        };
    if busy.is_empty() {
        return Ok(None);
    }

    let name = teachers.iter().find(|t| t.id == substitute).map_or("Ce remplaçant", |t| &t.name);
    let lessons: Vec<String> = busy
        .iter()
        .map(|lesson| {
            let zone = zone_note(&lesson.time_zone, &occurrence.time_zone)
                .map(|note| format!(" ({note})"))
                .unwrap_or_default();
            format!(
                "{}, {} {}–{}{zone}",
                lesson.school_name,
                french_day(lesson.date),
                LessonTime::clock(lesson.time.start_minute),
                LessonTime::clock(lesson.time.end_minute)
            )
        })
        .collect();
    Ok(Some(format!(
        "{name} a déjà cours à ce moment-là : {}. Cochez « Confirmer malgré le conflit » pour \
         enregistrer quand même.",
        lessons.join(" ; ")
    )))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(path): Path<(String, String, String)>,
    uri: Uri,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let target = target(&state, &viewer, path, Fields::query(&uri).get("retour")).await?;
    let teachers = substitutes(&state, &viewer, &target).await?;

    let restore = fields.get("action") == "retablir";
    let year = school_year(&state, &target.school, target.date).await;
    let (mut form, request) = if restore {
        let form =
            ChangeForm { token: fields.get("jeton").trim().to_owned(), ..Default::default() };
        (form, ChangeRequest::default())
    } else {
        read_form(&fields, target.date, &year, &teachers)
    };
    if !form.has_errors() && !form.confirm {
        form.conflict = busy_substitute(&state, &viewer, &target, &request, &teachers).await?;
    }
    if form.has_errors() {
        let occurrence = find_occurrence(&state, &viewer, &target).await?;
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return change_page(
            &state,
            &viewer,
            &target,
            occurrence.as_ref(),
            form,
            status,
            None,
            teachers,
        )
        .await;
    }

    let token = form.token.clone();
    let token_ok = (1..=64).contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !token_ok {
        return Err(AppError::BadRequest("Formulaire périmé : rechargez la page et recommencez."));
    }
    let done = format!(
        "/etablissement/{}/seances/{}/{}?retour={}&etat={}",
        percent_encode(&target.school.uai),
        percent_encode(&target.course_id),
        target.date,
        percent_encode(&target.back),
        if restore { "retablie" } else { "enregistre" }
    );
    match state.store.claim_form_submission(viewer.id(), &token).await? {
        FormSubmission::New => {}
        FormSubmission::Done(_) => return Ok(Redirect::to(&done).into_response()),
        FormSubmission::InProgress => {
            return Err(AppError::BadRequest(
                "Ce formulaire est déjà en cours d'envoi : patientez puis rechargez la page.",
            ));
        }
    }

    let change_target =
        ChangeTarget { course_id: target.course_id.clone(), original_date: target.date };
    let now = jiff::Timestamp::now();
    match state.store.change_occurrence(viewer.id(), &change_target, &request, now).await {
        Ok(()) => {
            let key = format!("{}/{}", target.course_id, target.date);
            state.store.complete_form_submission(viewer.id(), &token, &key).await?;
            tracing::info!(
                person.id = %viewer.id(), course.id = %target.course_id, restore,
                "occurrence changed"
            );
            Ok(Redirect::to(&done).into_response())
        }
        Err(store::StoreError::Conflict(reason)) => {
            state.store.release_form_submission(viewer.id(), &token).await?;
            form.error = Some(reason);
            form.token = store::new_id();
            let occurrence = find_occurrence(&state, &viewer, &target).await?;
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            change_page(&state, &viewer, &target, occurrence.as_ref(), form, status, None, teachers)
                .await
        }
        Err(other) => {
            state.store.release_form_submission(viewer.id(), &token).await?;
            Err(other.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn form(date: &str, start: &str, end: &str) -> ChangeForm {
        ChangeForm {
            date: date.to_owned(),
            start: start.to_owned(),
            end: end.to_owned(),
            ..ChangeForm::default()
        }
    }

    #[test]
    fn a_move_is_checked_field_by_field_in_french() {
        let year = SchoolYear::around(date(2026, 3, 2));
        let original = date(2026, 3, 2);
        assert_eq!(read_move(&form("", "", ""), original, &year), Ok(None));
        let moved = read_move(&form("2026-03-04", "10:00", "11:00"), original, &year).unwrap();
        assert_eq!(moved, Some((date(2026, 3, 4), LessonTime::new(600, 660).unwrap())));
        let err = read_move(&form("31/02/2026", "10:00", "11:00"), original, &year).unwrap_err();
        assert!(err.starts_with("Date non comprise"), "{err}");
        let err = read_move(&form("2026-03-04", "11:00", "10:00"), original, &year).unwrap_err();
        assert!(err.contains("fin doit venir après"), "{err}");
        let err = read_move(&form("2026-08-20", "10:00", "11:00"), original, &year).unwrap_err();
        assert!(err.contains("en dehors de l'année scolaire"), "{err}");
        let err = read_move(&form("", "25:00", "11:00"), original, &year).unwrap_err();
        assert!(err.contains("Heure de début"), "{err}");
    }
}
