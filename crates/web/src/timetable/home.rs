//! The « Aujourd'hui » card of the home page (pupil, parent for the chosen child, teacher):
//! today's lessons in the school's zone (at 23:30 in Paris it is still today there), changes
//! spelled out, then the changes of the next days that concern the viewer
//! (`Store::upcoming_changes`), and a link to the timetable.

use jiff::Timestamp;
use store::timetable::TimetableSubject;

use crate::AppState;
use crate::error::AppError;
use crate::session::Viewer;
use crate::timetable::{LessonView, french_day, load, today_in};

/// A change to come, with its day.
pub(crate) struct UpcomingLine {
    pub(crate) day: String,
    /// Whose lesson it is, for a parent's child.
    pub(crate) for_person: Option<String>,
    pub(crate) lesson: LessonView,
}

/// What the card shows.
pub(crate) struct HomeCard {
    pub(crate) day: String,
    pub(crate) lessons: Vec<LessonView>,
    pub(crate) show_school: bool,
    pub(crate) upcoming: Vec<UpcomingLine>,
    /// The timetable's day view.
    pub(crate) link: String,
}

/// The card of `subject` for the viewer; `None` when the viewer may not see that timetable.
/// `zone_hint` is where "today" is guessed before the store names the subject's zone.
pub(crate) async fn home_card(
    state: &AppState,
    viewer: &Viewer,
    subject: TimetableSubject,
    link: String,
) -> Result<Option<HomeCard>, AppError> {
    let now = Timestamp::now();
    let hint = viewer
        .facts
        .schools
        .first()
        .map_or(domain::time_zone::DEFAULT_ZONE, |s| domain::time_zone::zone_for_uai(&s.uai));
    let guess = today_in(now, hint);
    let mut timetable =
        match load(state, viewer.id(), &subject, (guess, guess), Some(viewer.generations)).await {
            Ok(timetable) => timetable,
            Err(AppError::NotFound) => return Ok(None),
            Err(other) => return Err(other),
        };
    let today = today_in(now, &timetable.time_zone);
    if today != guess {
        timetable =
            load(state, viewer.id(), &subject, (today, today), Some(viewer.generations)).await?;
    }

    let show_school = matches!(subject, TimetableSubject::Teacher(_));
    let lessons = timetable
        .occurrences
        .iter()
        .filter(|o| o.date == today)
        .map(|o| LessonView::of(o, viewer, None).in_page_zone(o, &timetable.time_zone))
        .collect();
    let upcoming = state
        .store
        .upcoming_changes(viewer.id(), now)
        .await?
        .iter()
        .map(|o| UpcomingLine {
            day: french_day(o.date),
            for_person: o.for_person.as_ref().map(|p| p.name.clone()),
            lesson: LessonView::of(o, viewer, None).in_page_zone(o, &timetable.time_zone),
        })
        .collect();
    Ok(Some(HomeCard { day: french_day(today), lessons, show_school, upcoming, link }))
}
