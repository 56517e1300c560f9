//! The picker of a school's timetables (`/emploi-du-temps/etablissement/{uai}`): its classes,
//! rooms and teachers, each a link to its view. Open to the adults of the school (teachers,
//! staff), its administrators and the département; anyone else gets the ordinary 404.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use domain::profile::Profile;
use store::directory::SchoolRef;
use store::timetable::LessonTeacher;

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::{AppError, percent_encode};
use crate::form::PathId;
use crate::session::Viewer;
use crate::templates::{Chrome, render};
use crate::timetable::administers;

/// A link of the picker.
pub(crate) struct Pick {
    pub(crate) href: String,
    pub(crate) label: String,
}

/// What a school offers to open.
pub(crate) struct Choices {
    pub(crate) classes: Vec<Pick>,
    pub(crate) rooms: Vec<Pick>,
    pub(crate) teachers: Vec<Pick>,
}

#[derive(Template)]
#[template(path = "timetable_picker.html")]
pub(crate) struct PickerPage {
    pub(crate) chrome: Chrome,
    pub(crate) school: SchoolRef,
    pub(crate) choices: Choices,
    pub(crate) admin: bool,
}

/// The school `uai` when the viewer works in it or administers it, else 404.
async fn open_school(state: &AppState, viewer: &Viewer, uai: &str) -> Result<SchoolRef, AppError> {
    let adult = matches!(viewer.facts.person.profile, Profile::Teacher | Profile::Staff);
    if adult && let Some(school) = viewer.facts.schools.iter().find(|s| s.uai == uai) {
        return Ok(school.clone());
    }
    state.store.administered_school(viewer.id(), uai).await?.ok_or(AppError::NotFound)
}

/// The classes (`(id, code)`) and the teachers of a school, as the viewer may list them (the
/// store answers 404 to anyone but the school's adults and the département).
pub(crate) async fn school_choices(
    state: &AppState,
    viewer: &Viewer,
    school: &SchoolRef,
) -> Result<(Vec<(String, String)>, Vec<LessonTeacher>), AppError> {
    let classes = state.store.school_classes(viewer.id(), &school.id).await?;
    let teachers = state.store.school_teachers(viewer.id(), &school.id).await?;
    Ok((classes, teachers))
}

pub(crate) async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(uai): PathId,
) -> Result<Response, AppError> {
    let school = open_school(&state, &viewer, &uai).await?;

    let rooms = state.store.school_rooms(viewer.id(), &school.id).await?;
    let (classes, teachers) = school_choices(&state, &viewer, &school).await?;
    let choices = Choices {
        classes: classes
            .into_iter()
            .map(|(id, code)| Pick {
                href: format!("/emploi-du-temps/classe/{}", percent_encode(&id)),
                label: code,
            })
            .collect(),
        rooms: rooms
            .into_iter()
            .map(|r| Pick {
                href: format!("/emploi-du-temps/salle/{}", percent_encode(&r.id)),
                label: r.name,
            })
            .collect(),
        teachers: teachers
            .into_iter()
            .map(|t| Pick {
                href: format!("/emploi-du-temps/enseignant/{}", percent_encode(&t.id)),
                label: t.name,
            })
            .collect(),
    };
    let html = render(&PickerPage {
        chrome: viewer_chrome(&format!("Emplois du temps : {}", school.name), &viewer),
        admin: administers(&viewer, &school.uai),
        school,
        choices,
    })?;
    Ok(Html(html).into_response())
}
