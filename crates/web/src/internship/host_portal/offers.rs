//! A host's offers: the list (`/organisme/offres`), the form to write a new one
//! (`/organisme/offres/nouvelle`) or change one (`/organisme/offres/{id}`), and the moves
//! between draft, published, unpublished and archived (`/organisme/offres/{id}/etat`, only
//! those `OfferState::may_become` allows). The form reads every field without a 500: the
//! weeks as boxes of the coming weeks of the school year or typed `2027-W05`, the places, the
//! tutor, the hours of each day (refused with the legal reasons when they break the limits for
//! minors), the optional precise point, and the reservation. Another host's offer is 404.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::internship::agreement::WEEKDAYS_FR;
use domain::internship::geo::Point;
use domain::internship::{DayHours, IsoWeek, MAX_TITLE_CHARS, OfferState, Reservation, WeekHours};
use store::internship::hosts::{FieldErrors, MAX_EMAIL_BYTES, MAX_PHONE_CHARS};
use store::internship::offers::{MAX_DETAIL_CHARS, OfferField, OfferInput};

use super::fields::{Choice, Input, error_for};
use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::AppError;
use crate::form::{Fields, PathId};
use crate::internship::acting_host;
use crate::session::Viewer;
use crate::templates::{Chrome, render};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/organisme/offres", get(list).post(create))
        .route("/organisme/offres/nouvelle", get(new_form))
        .route("/organisme/offres/{id}", get(edit_form).post(update))
        .route("/organisme/offres/{id}/etat", post(change_state))
}

/// An offer of the list.
struct OfferRow {
    id: String,
    title: String,
    state: OfferState,
    city: String,
    weeks: String,
    places: String,
}

#[derive(Template)]
#[template(path = "internship_host_offers.html")]
struct ListPage {
    chrome: Chrome,
    pending: bool,
    offers: Vec<OfferRow>,
    notice: Option<&'static str>,
}

/// A day of the hours table.
struct DayRow {
    index: usize,
    name: &'static str,
    start: String,
    end: String,
    pause: String,
}

/// A move the offer may make now.
struct Move {
    value: &'static str,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "internship_host_offer_form.html")]
struct FormPage {
    chrome: Chrome,
    csrf: String,
    /// The one-time token of a new offer (empty when editing one).
    once: String,
    action: String,
    editing: Option<String>,
    state: Option<OfferState>,
    moves: Vec<Move>,
    title: Input,
    description: String,
    description_error: Option<String>,
    sectors: Vec<Choice>,
    sector_error: Option<String>,
    address: Vec<Input>,
    precision_note: Option<&'static str>,
    weeks: Vec<Choice>,
    other_weeks: String,
    weeks_error: Option<String>,
    places: Vec<Input>,
    tutor: Vec<Input>,
    days: Vec<DayRow>,
    hours_errors: Vec<String>,
    accessible: bool,
    reservations: Vec<Choice>,
    schools: Vec<Choice>,
    schools_error: Option<String>,
    store_error: Option<String>,
    has_errors: bool,
    notice: Option<&'static str>,
}

/// The offer form as typed, kept to show it back.
#[derive(Debug, Default, Clone)]
struct OfferForm {
    /// The one-time token of a new offer's form, so that a double submit creates one offer.
    once: String,
    title: String,
    description: String,
    sector: String,
    street: String,
    postal_code: String,
    city: String,
    latitude: String,
    longitude: String,
    weeks: Vec<String>,
    other_weeks: String,
    places_per_week: String,
    places_total: String,
    tutor_name: String,
    tutor_role: String,
    tutor_email: String,
    tutor_phone: String,
    days: [(String, String, String); 6],
    accessible: bool,
    reservation: String,
    schools: Vec<String>,
}

/// `9:00` or `09h30` or `9h` as minutes after midnight.
fn read_time(typed: &str) -> Option<u16> {
    let typed = typed.trim().to_ascii_lowercase();
    let (hours, minutes) = typed.split_once([':', 'h']).unwrap_or((typed.as_str(), "0"));
    let minutes = if minutes.is_empty() { "0" } else { minutes };
    let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours <= 24 && minutes < 60 && hours * 60 + minutes <= 24 * 60).then_some(hours * 60 + minutes)
}

fn show_time(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl OfferForm {
    fn read(fields: &Fields) -> OfferForm {
        let day = |i: usize| {
            (
                fields.get(&format!("debut_{i}")).to_owned(),
                fields.get(&format!("fin_{i}")).to_owned(),
                fields.get(&format!("pause_{i}")).to_owned(),
            )
        };
        OfferForm {
            title: fields.get("titre").to_owned(),
            description: fields.get("description").to_owned(),
            sector: fields.get("secteur").to_owned(),
            street: fields.get("rue").to_owned(),
            postal_code: fields.get("code_postal").to_owned(),
            city: fields.get("commune").to_owned(),
            latitude: fields.get("latitude").trim().to_owned(),
            longitude: fields.get("longitude").trim().to_owned(),
            weeks: fields.all("semaines").into_iter().map(str::to_owned).collect(),
            other_weeks: fields.get("autres_semaines").to_owned(),
            places_per_week: fields.get("places_semaine").trim().to_owned(),
            places_total: fields.get("places_total").trim().to_owned(),
            tutor_name: fields.get("tuteur_nom").to_owned(),
            tutor_role: fields.get("tuteur_fonction").to_owned(),
            tutor_email: fields.get("tuteur_courriel").to_owned(),
            tutor_phone: fields.get("tuteur_telephone").to_owned(),
            days: [day(0), day(1), day(2), day(3), day(4), day(5)],
            accessible: fields.get("accessible") == "1",
            reservation: fields.get("reservation").to_owned(),
            schools: fields.all("colleges").into_iter().map(str::to_owned).collect(),
            once: fields.get("jeton").to_owned(),
        }
    }

    /// A new offer's form: the host's address, Monday to Friday 9:00–16:30 with an hour's
    /// break, one place.
    fn new_for(host: &store::internship::hosts::HostRecord) -> OfferForm {
        let weekday = ("09:00".to_owned(), "16:30".to_owned(), "60".to_owned());
        let off = (String::new(), String::new(), String::new());
        OfferForm {
            street: host.street.clone(),
            postal_code: host.postal_code.clone(),
            city: host.city.clone(),
            places_per_week: "1".to_owned(),
            places_total: "1".to_owned(),
            days: [
                weekday.clone(),
                weekday.clone(),
                weekday.clone(),
                weekday.clone(),
                weekday,
                off,
            ],
            reservation: Reservation::None.as_str().to_owned(),
            ..OfferForm::default()
        }
    }

    fn of(input: &OfferInput) -> OfferForm {
        let day = |i: usize| match input.hours.days[i] {
            Some(d) => (show_time(d.start), show_time(d.end), d.break_minutes.to_string()),
            None => (String::new(), String::new(), String::new()),
        };
        OfferForm {
            title: input.title.clone(),
            description: input.description.clone(),
            sector: input.sector_id.clone().unwrap_or_default(),
            street: input.street.clone(),
            postal_code: input.postal_code.clone(),
            city: input.city.clone(),
            latitude: input.point.map(|p| p.latitude.to_string()).unwrap_or_default(),
            longitude: input.point.map(|p| p.longitude.to_string()).unwrap_or_default(),
            weeks: input.weeks.iter().map(ToString::to_string).collect(),
            other_weeks: String::new(),
            places_per_week: input.places_per_week.to_string(),
            places_total: input.places_total.to_string(),
            tutor_name: input.tutor_name.clone(),
            tutor_role: input.tutor_role.clone(),
            tutor_email: input.tutor_email.clone(),
            tutor_phone: input.tutor_phone.clone(),
            days: [day(0), day(1), day(2), day(3), day(4), day(5)],
            accessible: input.accessible,
            reservation: input.reservation.as_str().to_owned(),
            schools: input.reserved_schools.clone(),
            once: String::new(),
        }
    }

    /// The offer, or every refusal with its field (the store's rules included).
    fn parse(&self) -> Result<OfferInput, FieldErrors<OfferField>> {
        use OfferField as F;
        let mut errors: FieldErrors<OfferField> = Vec::new();

        let mut weeks = Vec::new();
        let typed = self.other_weeks.split([',', ';', ' ', '\n']).filter(|w| !w.is_empty());
        for text in self.weeks.iter().map(String::as_str).chain(typed) {
            match IsoWeek::parse(text.trim()) {
                Ok(week) => weeks.push(week),
                Err(reason) => errors.push((F::Weeks, reason)),
            }
        }
        let number = |text: &str, field: F, errors: &mut FieldErrors<OfferField>| {
            text.parse::<i64>().unwrap_or_else(|_| {
                errors.push((field, "Indiquez un nombre entier.".to_owned()));
                0
            })
        };
        let places_per_week = number(&self.places_per_week, F::PlacesPerWeek, &mut errors);
        let places_total = number(&self.places_total, F::PlacesTotal, &mut errors);

        let point = match (self.latitude.is_empty(), self.longitude.is_empty()) {
            (true, true) => None,
            _ => {
                let lat = self.latitude.replace(',', ".").parse::<f64>();
                let lon = self.longitude.replace(',', ".").parse::<f64>();
                let point = match (lat, lon) {
                    (Ok(lat), Ok(lon)) => Point::new(lat, lon),
                    _ => None,
                };
                if point.is_none() {
                    let reason = "Indiquez une latitude (−90 à 90) et une longitude (−180 à 180) \
                                  en degrés décimaux, ou laissez les deux vides.";
                    errors.push((F::Point, reason.to_owned()));
                }
                point
            }
        };

        let mut hours = WeekHours::default();
        for (index, (start, end, pause)) in self.days.iter().enumerate() {
            if start.trim().is_empty() && end.trim().is_empty() {
                continue;
            }
            let name = WEEKDAYS_FR[index];
            let pause = if pause.trim().is_empty() { Some(0) } else { pause.trim().parse().ok() };
            match (read_time(start), read_time(end), pause) {
                (Some(start), Some(end), Some(break_minutes)) if break_minutes <= 240 => {
                    hours.days[index] = Some(DayHours { start, end, break_minutes });
                }
                _ => errors.push((
                    F::Hours,
                    format!(
                        "Le {name} : indiquez les heures comme 09:00 et la pause en minutes \
                         (240 au plus)."
                    ),
                )),
            }
        }

        let reservation = Reservation::parse(&self.reservation).unwrap_or_else(|| {
            errors.push((F::Reservation, "Choisissez à qui l'offre est ouverte.".to_owned()));
            Reservation::None
        });
        let mut input = OfferInput {
            title: self.title.clone(),
            description: self.description.clone(),
            sector_id: Some(self.sector.clone()).filter(|s| !s.is_empty()),
            street: self.street.clone(),
            postal_code: self.postal_code.clone(),
            city: self.city.clone(),
            point,
            weeks,
            places_per_week,
            places_total,
            tutor_name: self.tutor_name.clone(),
            tutor_role: self.tutor_role.clone(),
            tutor_email: self.tutor_email.clone(),
            tutor_phone: self.tutor_phone.clone(),
            hours,
            accessible: self.accessible,
            reservation,
            reserved_schools: self.schools.clone(),
        };
        let parsed_hours = errors.iter().any(|(f, _)| *f == F::Hours);
        for (field, reason) in input.check() {
            // Unreadable hours are reported once, not again as "no day".
            let already = match field {
                F::Hours => parsed_hours,
                F::Weeks | F::PlacesPerWeek | F::PlacesTotal => {
                    errors.iter().any(|(f, _)| *f == field)
                }
                _ => false,
            };
            if !already {
                errors.push((field, reason));
            }
        }
        if input.sector_id.is_none() {
            errors.push((F::Sector, "Choisissez un secteur d'activité.".to_owned()));
        }
        if errors.is_empty() { Ok(input) } else { Err(errors) }
    }
}

/// The weeks offered as boxes: from next week to the start of July of the school year.
fn coming_weeks() -> Vec<IsoWeek> {
    let zone = jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC);
    let today = jiff::Timestamp::now().to_zoned_datetime(zone).date();
    let end_year = if today.month() >= 7 { today.year() + 1 } else { today.year() };
    let end = IsoWeek::of(jiff::civil::date(end_year, 7, 3));
    let mut week = IsoWeek::of(today).next();
    let mut weeks = Vec::new();
    while week <= end && weeks.len() < 60 {
        weeks.push(week);
        week = week.next();
    }
    weeks
}

struct PageContext<'a> {
    editing: Option<&'a store::internship::offers::OfferRecord>,
    store_error: Option<String>,
    notice: Option<&'static str>,
}

async fn form_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    form: &OfferForm,
    errors: &FieldErrors<OfferField>,
    context: PageContext<'_>,
) -> Result<Response, AppError> {
    use OfferField as F;
    let e = |field| error_for(errors, field);
    let sectors = state
        .store
        .sectors()
        .await?
        .into_iter()
        .map(|(id, name)| Choice { checked: id == form.sector, value: id, label: name })
        .collect();
    let schools = state
        .store
        .reservable_schools()
        .await?
        .into_iter()
        .map(|(id, name)| Choice { checked: form.schools.contains(&id), value: id, label: name })
        .collect();

    let mut weeks: Vec<IsoWeek> = coming_weeks();
    weeks.extend(form.weeks.iter().filter_map(|w| IsoWeek::parse(w).ok()));
    weeks.sort();
    weeks.dedup();
    let weeks = weeks
        .into_iter()
        .map(|week| Choice {
            value: week.to_string(),
            label: format!("{} ({week})", week.label_fr()),
            checked: form.weeks.contains(&week.to_string()),
        })
        .collect();

    let state_now = context.editing.map(|offer| offer.state);
    let moves = match state_now {
        None => Vec::new(),
        Some(current) => [
            (OfferState::Published, "published", "Publier"),
            (OfferState::Unpublished, "unpublished", "Dépublier"),
            (OfferState::Archived, "archived", "Archiver"),
        ]
        .into_iter()
        .filter(|(next, _, _)| current.may_become(*next))
        .map(|(_, value, label)| Move { value, label })
        .collect(),
    };
    let precision_note = context.editing.map(|offer| {
        if offer.location_precision == "address" {
            "Le lieu du stage est placé au point indiqué."
        } else {
            "Le lieu du stage est placé au centre de la commune."
        }
    });
    let days = form
        .days
        .iter()
        .enumerate()
        .map(|(index, (start, end, pause))| DayRow {
            index,
            name: WEEKDAYS_FR[index],
            start: start.clone(),
            end: end.clone(),
            pause: pause.clone(),
        })
        .collect();

    let (title, action, editing) = match context.editing {
        Some(offer) => (
            "Offre de stage".to_owned(),
            format!("/organisme/offres/{}", offer.id),
            Some(offer.id.clone()),
        ),
        None => ("Nouvelle offre de stage".to_owned(), "/organisme/offres".to_owned(), None),
    };
    let html = render(&FormPage {
        chrome: viewer_chrome(&title, viewer),
        csrf: viewer.csrf_token.clone(),
        once: if editing.is_some() {
            String::new()
        } else if form.once.is_empty() {
            crate::session::random_token(16)
        } else {
            form.once.clone()
        },
        action,
        editing,
        state: state_now,
        moves,
        title: Input::text("titre", "Titre de l'offre", &form.title, MAX_TITLE_CHARS)
            .error(e(F::Title)),
        description: form.description.clone(),
        description_error: e(F::Description),
        sectors,
        sector_error: e(F::Sector),
        address: vec![
            Input::text("rue", "Adresse du lieu du stage", &form.street, MAX_DETAIL_CHARS)
                .optional()
                .error(e(F::Street)),
            Input::text("code_postal", "Code postal", &form.postal_code, 5)
                .error(e(F::PostalCode)),
            Input::text("commune", "Commune", &form.city, MAX_DETAIL_CHARS).error(e(F::City)),
            Input::text("latitude", "Latitude", &form.latitude, 20)
                .optional()
                .hint("En degrés décimaux, par exemple 46.5802. Sans point précis, le stage est placé au centre de la commune.")
                .error(e(F::Point)),
            Input::text("longitude", "Longitude", &form.longitude, 20).optional(),
        ],
        precision_note,
        weeks,
        other_weeks: form.other_weeks.clone(),
        weeks_error: e(F::Weeks),
        places: vec![
            Input::text("places_semaine", "Places par semaine", &form.places_per_week, 3)
                .kind("number")
                .hint("Entre 1 et 50.")
                .error(e(F::PlacesPerWeek)),
            Input::text("places_total", "Places en tout", &form.places_total, 3)
                .kind("number")
                .hint("Entre 1 et 200, au moins les places d'une semaine.")
                .error(e(F::PlacesTotal)),
        ],
        tutor: vec![
            Input::text("tuteur_nom", "Nom du tuteur ou de la tutrice", &form.tutor_name, MAX_DETAIL_CHARS)
                .error(e(F::TutorName)),
            Input::text("tuteur_fonction", "Fonction", &form.tutor_role, MAX_DETAIL_CHARS)
                .error(e(F::TutorRole)),
            Input::text("tuteur_courriel", "Adresse électronique", &form.tutor_email, MAX_EMAIL_BYTES)
                .kind("email")
                .error(e(F::TutorEmail)),
            Input::text("tuteur_telephone", "Téléphone", &form.tutor_phone, MAX_PHONE_CHARS)
                .kind("tel")
                .optional()
                .error(e(F::TutorPhone)),
        ],
        days,
        hours_errors: errors.iter().filter(|(f, _)| *f == F::Hours).map(|(_, r)| r.clone()).collect(),
        accessible: form.accessible,
        reservations: Reservation::ALL
            .into_iter()
            .map(|r| Choice {
                value: r.as_str().to_owned(),
                label: r.label_fr().to_owned(),
                checked: r.as_str() == form.reservation,
            })
            .collect(),
        schools,
        schools_error: e(F::Schools).or(e(F::Reservation)),
        store_error: context.store_error,
        has_errors: !errors.is_empty(),
        notice: context.notice,
    })?;
    Ok((status, Html(html)).into_response())
}

async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    let membership = acting_host(&state, &viewer).await?;
    let offers = state
        .store
        .host_offers(viewer.id())
        .await?
        .into_iter()
        .map(|offer| OfferRow {
            weeks: offer.weeks.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            places: format!(
                "{} par semaine, {} en tout ({} pourvue(s))",
                offer.places_per_week, offer.places_total, offer.confirmed
            ),
            id: offer.id,
            title: offer.title,
            state: offer.state,
            city: offer.city,
        })
        .collect();
    let notice = match Fields::query(&uri).get("fait") {
        "etat" => Some("L'état de l'offre a changé."),
        "enregistree" => Some("L'offre est enregistrée."),
        _ => None,
    };
    let html = render(&ListPage {
        chrome: viewer_chrome("Offres de stage", &viewer),
        pending: membership.status == domain::internship::HostStatus::Pending,
        offers,
        notice,
    })?;
    Ok(Html(html).into_response())
}

async fn new_form(State(state): State<AppState>, viewer: Viewer) -> Result<Response, AppError> {
    acting_host(&state, &viewer).await?;
    let host = state.store.host_of_member(viewer.id()).await?.ok_or(AppError::NotFound)?;
    let form = OfferForm::new_for(&host);
    let context = PageContext { editing: None, store_error: None, notice: None };
    form_page(&state, &viewer, StatusCode::OK, &form, &Vec::new(), context).await
}

async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    acting_host(&state, &viewer).await?;

    let form = OfferForm::read(&fields);
    let refused = |errors: FieldErrors<OfferField>, store_error: Option<String>| {
        let form = form.clone();
        let state = state.clone();
        let viewer = viewer.clone();
        async move {
            let context = PageContext { editing: None, store_error, notice: None };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            form_page(&state, &viewer, status, &form, &errors, context).await
        }
    };
    let input = match form.parse() {
        Ok(input) => input,
        Err(errors) => return refused(errors, None).await,
    };

    // A double submit (a double click, a reload) creates one offer: the form's one-time
    // token is claimed first, and the second submit is sent to the offer the first created.
    let once = form.once.clone();
    if let Some(id) = crate::form::claim_once(&state.store, viewer.id(), &once).await? {
        return Ok(
            Redirect::to(&format!("/organisme/offres/{id}?fait=enregistree")).into_response()
        );
    }
    match state.store.create_offer(viewer.id(), &input, store::now_unix()).await {
        Ok(id) => {
            state.store.complete_form_submission(viewer.id(), &once, &id).await?;
            Ok(Redirect::to(&format!("/organisme/offres/{id}?fait=enregistree")).into_response())
        }
        Err(store::StoreError::Conflict(message)) => {
            state.store.release_form_submission(viewer.id(), &once).await?;
            refused(Vec::new(), Some(message)).await
        }
        Err(error) => {
            state.store.release_form_submission(viewer.id(), &once).await?;
            Err(error.into())
        }
    }
}

async fn edit_form(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    uri: Uri,
) -> Result<Response, AppError> {
    acting_host(&state, &viewer).await?;
    let offer = state.store.host_offer(viewer.id(), &id).await?.ok_or(AppError::NotFound)?;
    let notice = match Fields::query(&uri).get("fait") {
        "enregistree" => Some("L'offre est enregistrée."),
        "etat" => Some("L'état de l'offre a changé."),
        _ => None,
    };
    let form = OfferForm::of(&offer.input);
    let context = PageContext { editing: Some(&offer), store_error: None, notice };
    form_page(&state, &viewer, StatusCode::OK, &form, &Vec::new(), context).await
}

async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    acting_host(&state, &viewer).await?;
    let offer = state.store.host_offer(viewer.id(), &id).await?.ok_or(AppError::NotFound)?;

    let form = OfferForm::read(&fields);
    let (errors, store_error) = match form.parse() {
        Ok(input) => {
            match state.store.update_offer(viewer.id(), &id, &input, store::now_unix()).await {
                Ok(()) => {
                    let target = format!("/organisme/offres/{id}?fait=enregistree");
                    return Ok(Redirect::to(&target).into_response());
                }
                Err(store::StoreError::Conflict(message)) => (Vec::new(), Some(message)),
                Err(error) => return Err(error.into()),
            }
        }
        Err(errors) => (errors, None),
    };
    let context = PageContext { editing: Some(&offer), store_error, notice: None };
    form_page(&state, &viewer, StatusCode::UNPROCESSABLE_ENTITY, &form, &errors, context).await
}

async fn change_state(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    acting_host(&state, &viewer).await?;
    let next = OfferState::parse(fields.get("etat"))
        .ok_or(AppError::BadRequest("Cet état d'offre n'existe pas."))?;

    match state.store.set_offer_state(viewer.id(), &id, next, store::now_unix()).await {
        Ok(()) => Ok(Redirect::to(&format!("/organisme/offres/{id}?fait=etat")).into_response()),
        Err(store::StoreError::Conflict(message)) => {
            let offer =
                state.store.host_offer(viewer.id(), &id).await?.ok_or(AppError::NotFound)?;
            let form = OfferForm::of(&offer.input);
            let context =
                PageContext { editing: Some(&offer), store_error: Some(message), notice: None };
            form_page(&state, &viewer, StatusCode::CONFLICT, &form, &Vec::new(), context).await
        }
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_as_people_type_them() {
        assert_eq!(read_time("9:00"), Some(540));
        assert_eq!(read_time("09h30"), Some(570));
        assert_eq!(read_time("9h"), Some(540));
        assert_eq!(read_time("25:00"), None);
        assert_eq!(read_time("midi"), None);
        assert_eq!(show_time(570), "09:30");
    }
}
