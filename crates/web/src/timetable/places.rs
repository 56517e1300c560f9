//! The schools' coordinates (`/departement/coordonnees`), for the département's
//! administrators: a latitude and a longitude per collège, from which the merged timetable of a
//! teacher computes the time a transfer between two collèges takes. Anyone else gets the
//! ordinary 404 (the store checks again).

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use store::timetable::SchoolPlace;

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::AppError;
use crate::form::Fields;
use crate::session::Viewer;
use crate::templates::{Chrome, render};

#[derive(Template)]
#[template(path = "timetable_places.html")]
pub(crate) struct PlacesPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) schools: Vec<SchoolPlace>,
    pub(crate) notice: Option<&'static str>,
    /// The school whose form was refused, with the typed values and the reason.
    pub(crate) refused: Option<(String, String, String, String)>,
}

impl PlacesPage {
    /// What a field shows: the typed value of a refused form for its school, else the saved
    /// coordinate (written with a comma, as the form takes it), else nothing.
    pub(crate) fn typed(&self, school: &SchoolPlace, latitude: bool) -> String {
        match &self.refused {
            Some((id, lat, lon, _)) if *id == school.school.id => {
                if latitude {
                    lat.clone()
                } else {
                    lon.clone()
                }
            }
            _ => school
                .place
                .map(|(lat, lon)| if latitude { lat } else { lon })
                .map(|value| value.to_string().replace('.', ","))
                .unwrap_or_default(),
        }
    }

    pub(crate) fn error(&self, school_id: &str) -> Option<String> {
        match &self.refused {
            Some((id, _, _, reason)) if id == school_id => Some(reason.clone()),
            _ => None,
        }
    }
}

async fn places_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    notice: Option<&'static str>,
    refused: Option<(String, String, String, String)>,
) -> Result<Response, AppError> {
    let schools = state.store.school_places(viewer.id()).await?;
    let html = render(&PlacesPage {
        chrome: viewer_chrome("Coordonnées des collèges", viewer),
        csrf: viewer.csrf_token.clone(),
        schools,
        notice,
        refused,
    })?;
    Ok((status, Html(html)).into_response())
}

pub(crate) async fn form(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    let notice = match Fields::query(&uri).get("etat") {
        "enregistre" => Some("Les coordonnées sont enregistrées."),
        "efface" => Some("Les coordonnées sont effacées."),
        _ => None,
    };
    places_page(&state, &viewer, StatusCode::OK, notice, None).await
}

/// A coordinate typed with a dot or a comma, within `limit` degrees of zero.
fn coordinate(text: &str, limit: f64) -> Option<f64> {
    let value: f64 = text.trim().replace(',', ".").parse().ok()?;
    (value.is_finite() && value.abs() <= limit).then_some(value)
}

/// The place the form asks for: `None` when both fields are empty.
fn read_place(latitude: &str, longitude: &str) -> Result<Option<(f64, f64)>, String> {
    if latitude.trim().is_empty() && longitude.trim().is_empty() {
        return Ok(None);
    }
    let latitude = coordinate(latitude, 90.0).ok_or_else(|| {
        "Latitude non comprise : un nombre de degrés entre -90 et 90, par exemple 46,58.".to_owned()
    })?;
    let longitude = coordinate(longitude, 180.0).ok_or_else(|| {
        "Longitude non comprise : un nombre de degrés entre -180 et 180, par exemple 0,34."
            .to_owned()
    })?;
    Ok(Some((latitude, longitude)))
}

pub(crate) async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let schools = state.store.school_places(viewer.id()).await?;
    let school_id = fields.get("ecole");
    if !schools.iter().any(|s| s.school.id == school_id) {
        return Err(AppError::NotFound);
    }

    let (latitude, longitude) = (fields.get("latitude"), fields.get("longitude"));
    let place = match read_place(latitude, longitude) {
        Ok(place) => place,
        Err(reason) => {
            let refused = (school_id.to_owned(), latitude.to_owned(), longitude.to_owned(), reason);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return places_page(&state, &viewer, status, None, Some(refused)).await;
        }
    };
    state.store.set_school_place(viewer.id(), school_id, place).await?;
    tracing::info!(person.id = %viewer.id(), school.id = %school_id, "school place set");
    let done = if place.is_some() { "enregistre" } else { "efface" };
    Ok(Redirect::to(&format!("/departement/coordonnees?etat={done}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_take_a_comma_or_a_dot_and_stay_on_earth() {
        assert_eq!(read_place("46,58", "0.34"), Ok(Some((46.58, 0.34))));
        assert_eq!(read_place(" ", ""), Ok(None));
        assert!(read_place("91", "0").unwrap_err().starts_with("Latitude"));
        assert!(read_place("45", "abc").unwrap_err().starts_with("Longitude"));
        assert!(read_place("NaN", "0").is_err());
    }
}
