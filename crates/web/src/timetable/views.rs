//! The timetable pages: `/emploi-du-temps` (the viewer's own: a pupil's, a parent's child's
//! with a switcher, a teacher's merged across collèges with its conflicts box, or links to the
//! school views for the staff), and the views of a pupil, a class, a room or a teacher. Each
//! shows a day or a week (`vue=jour|semaine`, `date=YYYY-MM-DD`, today in the subject's zone
//! by default), with previous, next and today links, and a printable week (`imprimer=1`).

use askama::Template;
use axum::extract::State;
use axum::http::Uri;
use axum::response::{Html, IntoResponse, Response};
use domain::profile::Profile;
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use store::timetable::{Timetable, TimetableSubject};

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::{AppError, percent_encode};
use crate::form::{Fields, PathId};
use crate::session::Viewer;
use crate::templates::{Chrome, render};
use crate::timetable::{
    LessonView, conflict_lines, french_date, french_day, load, parse_date, shift, today_in,
    zone_city,
};

/// A day of the page with its lessons.
pub(crate) struct DayView {
    pub(crate) label: String,
    pub(crate) iso: String,
    pub(crate) is_today: bool,
    pub(crate) lessons: Vec<LessonView>,
}

/// A link with its text.
pub(crate) struct Link {
    pub(crate) href: String,
    pub(crate) label: String,
    pub(crate) current: bool,
}

#[derive(Template)]
#[template(path = "timetable_view.html")]
pub(crate) struct TimetablePage {
    pub(crate) chrome: Chrome,
    /// A parent's children, to switch.
    pub(crate) children: Vec<Link>,
    /// The school views the viewer may open (teachers, staff).
    pub(crate) schools: Vec<Link>,
    /// Why there is no timetable to show (staff, a parent without children).
    pub(crate) absent: Option<&'static str>,
    pub(crate) body: Option<Body>,
}

/// The timetable itself, with its navigation.
pub(crate) struct Body {
    pub(crate) period: String,
    pub(crate) week: bool,
    pub(crate) days: Vec<DayView>,
    pub(crate) show_school: bool,
    /// A teacher's merged timetable: the conflicts, in words (`None` for other views).
    pub(crate) conflicts: Option<Vec<String>>,
    pub(crate) previous: String,
    pub(crate) next: String,
    pub(crate) today: String,
    pub(crate) day_view: String,
    pub(crate) week_view: String,
    pub(crate) print: String,
    /// The path and fixed fields of the date form.
    pub(crate) path: String,
    pub(crate) fixed: Vec<(String, String)>,
    pub(crate) date_iso: String,
    pub(crate) zone: String,
    /// The city of `zone`, where "today" is taken (« Paris »).
    pub(crate) zone_city: String,
    /// Why the asked date was not shown.
    pub(crate) notice: Option<String>,
}

impl Body {
    pub(crate) fn is_empty(&self) -> bool {
        self.days.iter().all(|d| d.lessons.is_empty())
    }
}

#[derive(Template)]
#[template(path = "timetable_print.html")]
pub(crate) struct PrintPage {
    pub(crate) title: String,
    pub(crate) css: &'static str,
    pub(crate) reading_mode: bool,
    pub(crate) body: Body,
    pub(crate) back: String,
}

/// The most years a page's date may be from today.
const MAX_YEARS_AWAY: i64 = 5;

/// The most characters of a refused date repeated in its notice.
const MAX_ECHOED_CHARS: usize = 40;

/// What a page asks for in its query.
struct Wanted {
    week: bool,
    date: Option<Date>,
    /// The `date` field as typed, when it was given but is no date (or too far away).
    invalid: Option<String>,
}

impl Wanted {
    fn of(query: &Fields) -> Wanted {
        let print = query.get("imprimer") == "1";
        let typed = query.get("date").trim();
        let date = parse_date(typed);
        let invalid = (date.is_none() && !typed.is_empty()).then(|| typed.to_owned());
        Wanted { week: print || query.get("vue") != "jour", date, invalid }
    }

    /// Forgets a date more than [`MAX_YEARS_AWAY`] years from `today`, as an invalid one.
    fn near(mut self, today: Date) -> Wanted {
        let years = MAX_YEARS_AWAY.years();
        let earliest = today.checked_sub(years).unwrap_or(today);
        let latest = today.checked_add(years).unwrap_or(today);
        if let Some(date) = self.date
            && !(earliest..=latest).contains(&date)
        {
            self.invalid = Some(date.to_string());
            self.date = None;
        }
        self
    }

    /// « Date invalide : « … » ; voici la semaine en cours. », for a date that was refused.
    fn notice(&self) -> Option<String> {
        let typed = self.invalid.as_ref()?;
        let mut shown: String = typed.chars().take(MAX_ECHOED_CHARS).collect();
        if typed.chars().count() > MAX_ECHOED_CHARS {
            shown.push('…');
        }
        let period = if self.week { "la semaine en cours" } else { "la journée en cours" };
        Some(format!("Date invalide : « {shown} » ; voici {period}."))
    }
}

/// The local dates a page covers: the day, or Monday to Sunday.
fn range(week: bool, date: Date) -> (Date, Date) {
    if week {
        let monday = domain::timetable::monday_of(date);
        (monday, shift(monday, 6))
    } else {
        (date, date)
    }
}

/// Where a page is and what it shows, to build its links.
pub(crate) struct Place {
    pub(crate) path: String,
    /// Fields every link keeps (`enfant`).
    pub(crate) fixed: Vec<(String, String)>,
    pub(crate) subject: TimetableSubject,
    pub(crate) title: Option<String>,
    /// The zone "today" is guessed in before the store says the subject's.
    pub(crate) zone_hint: String,
    pub(crate) merged: bool,
}

impl Place {
    fn link(&self, week: bool, date: Date, print: bool) -> String {
        let mut pairs: Vec<String> =
            self.fixed.iter().map(|(k, v)| format!("{k}={}", percent_encode(v))).collect();
        pairs.push(format!("vue={}", if week { "semaine" } else { "jour" }));
        pairs.push(format!("date={date}"));
        if print {
            pairs.push("imprimer=1".to_owned());
        }
        format!("{}?{}", self.path, pairs.join("&"))
    }
}

/// Loads the timetable of a page: the asked date, or today in the subject's zone (guessed
/// first, then checked against the zone the store answers with).
async fn timetable_for(
    state: &AppState,
    viewer: &Viewer,
    place: &Place,
    wanted: &Wanted,
    now: Timestamp,
) -> Result<(Timetable, Date), AppError> {
    let guess = today_in(now, &place.zone_hint);
    let date = wanted.date.unwrap_or(guess);
    let (from, to) = range(wanted.week, date);
    let timetable =
        load(state, viewer.id(), &place.subject, (from, to), Some(viewer.generations)).await?;
    if wanted.date.is_some() {
        return Ok((timetable, date));
    }

    let today = today_in(now, &timetable.time_zone);
    if range(wanted.week, today) == (from, to) {
        return Ok((timetable, today));
    }
    let (from, to) = range(wanted.week, today);
    Ok((
        load(state, viewer.id(), &place.subject, (from, to), Some(viewer.generations)).await?,
        today,
    ))
}

/// The timetable part of a page.
pub(crate) async fn body(
    state: &AppState,
    viewer: &Viewer,
    place: &Place,
    query: &Fields,
) -> Result<(Body, String), AppError> {
    let now = Timestamp::now();
    let wanted = Wanted::of(query).near(today_in(now, &place.zone_hint));
    let (timetable, date) = timetable_for(state, viewer, place, &wanted, now).await?;

    let today = today_in(now, &timetable.time_zone);
    let (from, to) = range(wanted.week, date);
    let here = place.link(wanted.week, date, false);
    let mut days: Vec<DayView> = Vec::new();
    for offset in 0..=(to - from).get_days() {
        let day = shift(from, i64::from(offset));
        let lessons: Vec<LessonView> = timetable
            .occurrences
            .iter()
            .filter(|o| o.date == day)
            .map(|o| {
                let lesson = LessonView::of(o, viewer, Some(&here));
                if place.merged { lesson.in_page_zone(o, &timetable.time_zone) } else { lesson }
            })
            .collect();
        let sunday = wanted.week && domain::timetable::weekday_number(day) == 7;
        if sunday && lessons.is_empty() {
            continue;
        }
        days.push(DayView {
            label: if wanted.week { french_day(day) } else { french_date(day) },
            iso: day.to_string(),
            is_today: day == today,
            lessons,
        });
    }
    let step = if wanted.week { 7 } else { 1 };
    let conflicts =
        place.merged.then(|| conflict_lines(&timetable.occurrences, &state.config.travel));

    let body = Body {
        period: if wanted.week {
            format!("Semaine du {}", french_date(from))
        } else {
            french_date(date)
        },
        week: wanted.week,
        days,
        show_school: place.merged,
        conflicts,
        previous: place.link(wanted.week, shift(date, -step), false),
        next: place.link(wanted.week, shift(date, step), false),
        today: place.link(wanted.week, today, false),
        day_view: place.link(false, date, false),
        week_view: place.link(true, date, false),
        print: place.link(true, date, true),
        path: place.path.clone(),
        fixed: place.fixed.clone(),
        date_iso: date.to_string(),
        zone: timetable.time_zone.clone(),
        zone_city: zone_city(&timetable.time_zone).to_owned(),
        notice: wanted.notice(),
    };
    Ok((body, timetable.title))
}

/// Renders a subject's page (or its printable week).
async fn subject_page(
    state: &AppState,
    viewer: &Viewer,
    place: Place,
    uri: &Uri,
    extra: (Vec<Link>, Vec<Link>),
) -> Result<Response, AppError> {
    let query = Fields::query(uri);
    let (body, name) = body(state, viewer, &place, &query).await?;

    if query.get("imprimer") == "1" {
        let date = parse_date(&body.date_iso).unwrap_or_default();
        let html = render(&PrintPage {
            title: format!("Emploi du temps : {name}"),
            css: crate::assets::css_href(),
            reading_mode: viewer.facts.reading_mode,
            back: place.link(true, date, false),
            body,
        })?;
        return Ok(Html(html).into_response());
    }
    let title = match &place.title {
        Some(title) => title.clone(),
        None => format!("Emploi du temps : {name}"),
    };
    let (children, schools) = extra;
    let html = render(&TimetablePage {
        chrome: viewer_chrome(&title, viewer),
        children,
        schools,
        absent: None,
        body: Some(body),
    })?;
    Ok(Html(html).into_response())
}

/// The zone of the viewer's first school, to guess "today" before the store answers.
fn zone_hint(viewer: &Viewer) -> String {
    viewer
        .facts
        .schools
        .first()
        .map_or(domain::time_zone::DEFAULT_ZONE, |s| domain::time_zone::zone_for_uai(&s.uai))
        .to_owned()
}

/// The school views the viewer may open: the schools they work in or administer.
fn school_links(viewer: &Viewer) -> Vec<Link> {
    let mut schools = viewer.facts.schools.clone();
    for school in &viewer.facts.administered {
        if !schools.iter().any(|s| s.id == school.id) {
            schools.push(school.clone());
        }
    }
    schools
        .into_iter()
        .map(|s| Link {
            href: format!("/emploi-du-temps/etablissement/{}", percent_encode(&s.uai)),
            label: s.name,
            current: false,
        })
        .collect()
}

pub(crate) async fn own(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    let profile = viewer.facts.person.profile;
    let hint = zone_hint(&viewer);
    let place = |subject, fixed| Place {
        path: "/emploi-du-temps".to_owned(),
        fixed,
        subject,
        title: Some("Emploi du temps".to_owned()),
        zone_hint: hint.clone(),
        merged: false,
    };

    match profile {
        Profile::Pupil => {
            let place = place(TimetableSubject::Pupil(viewer.id().to_owned()), Vec::new());
            subject_page(&state, &viewer, place, &uri, (Vec::new(), Vec::new())).await
        }
        Profile::Teacher => {
            let mut place = place(TimetableSubject::Teacher(viewer.id().to_owned()), Vec::new());
            place.merged = true;
            subject_page(&state, &viewer, place, &uri, (Vec::new(), school_links(&viewer))).await
        }
        Profile::Relative => {
            let wanted = Fields::query(&uri).get("enfant").to_owned();
            let selected = if wanted.is_empty() {
                viewer.facts.children.first().cloned()
            } else {
                crate::timetable::plausible_id(&wanted)?;
                Some(state.store.child_of(viewer.id(), &wanted).await?.ok_or(AppError::NotFound)?)
            };
            let Some(child) = selected else {
                return absent_page(&viewer, "Aucun enfant n'est rattaché à votre compte.");
            };
            let children = viewer
                .facts
                .children
                .iter()
                .map(|c| Link {
                    href: format!("/emploi-du-temps?enfant={}", percent_encode(&c.id)),
                    label: format!("{} {}", c.first_name, c.last_name),
                    current: c.id == child.id,
                })
                .collect();
            let fixed = vec![("enfant".to_owned(), child.id.clone())];
            let mut place = place(TimetableSubject::Pupil(child.id.clone()), fixed);
            place.title = Some(format!("Emploi du temps de {}", child.first_name));
            subject_page(&state, &viewer, place, &uri, (children, Vec::new())).await
        }
        Profile::Staff | Profile::Agent | Profile::Official | Profile::Host => {
            let links = school_links(&viewer);
            let html = render(&TimetablePage {
                chrome: viewer_chrome("Emploi du temps", &viewer),
                children: Vec::new(),
                absent: Some(if links.is_empty() {
                    "Vous n'avez pas de cours. Les emplois du temps des collèges s'ouvrent depuis \
                     leur console."
                } else {
                    "Vous n'avez pas de cours. Choisissez un établissement pour voir l'emploi du \
                     temps d'une classe, d'une salle ou d'un enseignant."
                }),
                schools: links,
                body: None,
            })?;
            Ok(Html(html).into_response())
        }
    }
}

fn absent_page(viewer: &Viewer, why: &'static str) -> Result<Response, AppError> {
    let html = render(&TimetablePage {
        chrome: viewer_chrome("Emploi du temps", viewer),
        children: Vec::new(),
        schools: Vec::new(),
        absent: Some(why),
        body: None,
    })?;
    Ok(Html(html).into_response())
}

/// The page of another subject, at `/emploi-du-temps/{kind}/{id}`.
async fn other(
    state: &AppState,
    viewer: &Viewer,
    kind: &str,
    subject: TimetableSubject,
    id: &str,
    uri: &Uri,
) -> Result<Response, AppError> {
    let place = Place {
        path: format!("/emploi-du-temps/{kind}/{}", percent_encode(id)),
        fixed: Vec::new(),
        merged: matches!(subject, TimetableSubject::Teacher(_)),
        subject,
        title: None,
        zone_hint: zone_hint(viewer),
    };
    subject_page(state, viewer, place, uri, (Vec::new(), Vec::new())).await
}

pub(crate) async fn pupil(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    uri: Uri,
) -> Result<Response, AppError> {
    other(&state, &viewer, "eleve", TimetableSubject::Pupil(id.clone()), &id, &uri).await
}

pub(crate) async fn class(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    uri: Uri,
) -> Result<Response, AppError> {
    other(&state, &viewer, "classe", TimetableSubject::Class(id.clone()), &id, &uri).await
}

pub(crate) async fn room(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    uri: Uri,
) -> Result<Response, AppError> {
    other(&state, &viewer, "salle", TimetableSubject::Room(id.clone()), &id, &uri).await
}

pub(crate) async fn teacher(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    uri: Uri,
) -> Result<Response, AppError> {
    other(&state, &viewer, "enseignant", TimetableSubject::Teacher(id.clone()), &id, &uri).await
}
