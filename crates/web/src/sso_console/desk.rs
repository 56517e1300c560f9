//! Where an administration page of the registry or of the catalogue acts: the département's
//! console (`/departement/…`) or one school's (`/etablissement/{uai}/…`), read from the route's
//! path parameters. A département page is anyone's 404 but a département administrator's, a
//! school page anyone's but the school's administrators' (and the département's), as
//! `Store::administered_school` decides; the store checks the scope again in each query.

use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use store::directory::SchoolRef;
use store::sso::admin::AdminScope;

use crate::AppState;
use crate::error::{AppError, percent_encode};
use crate::session::Viewer;

/// The path parameters of an administration route: the school's UAI on a school page, the
/// application's or resource's id on a page of one. Anything that cannot be a UAI or an id
/// reads as a page that does not exist.
#[derive(Debug, Default)]
pub(crate) struct DeskPath {
    pub(crate) uai: Option<String>,
    pub(crate) id: Option<String>,
}

impl DeskPath {
    /// The id of a page of one application or resource.
    pub(crate) fn id(&self) -> Result<&str, AppError> {
        self.id.as_deref().ok_or(AppError::NotFound)
    }
}

fn plausible(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl FromRequestParts<AppState> for DeskPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let params = match RawPathParams::from_request_parts(parts, state).await {
            Ok(params) => params,
            Err(RawPathParamsRejection::MissingPathParams(_)) => return Ok(DeskPath::default()),
            Err(_) => return Err(AppError::NotFound),
        };
        let mut path = DeskPath::default();
        for (key, value) in &params {
            if !plausible(value) {
                return Err(AppError::NotFound);
            }
            match key {
                "uai" => path.uai = Some(value.to_owned()),
                "id" => path.id = Some(value.to_owned()),
                _ => {}
            }
        }
        Ok(path)
    }
}

/// An administration desk: its scope for the store, and the addresses of its pages.
#[derive(Debug, Clone)]
pub(crate) struct Desk {
    pub(crate) scope: AdminScope,
    /// The school of a school desk.
    pub(crate) school: Option<SchoolRef>,
    /// `/departement` or `/etablissement/{uai}`: the console, and the prefix of its pages.
    pub(crate) console: String,
    /// "du département" or "du Collège Jean Moulin", for titles.
    pub(crate) of: String,
}

impl Desk {
    /// The collèges a département desk may reserve an application or a resource to; none for
    /// a school desk.
    pub(crate) async fn known_schools(
        &self,
        state: &AppState,
        viewer: &Viewer,
    ) -> Result<Vec<SchoolRef>, AppError> {
        if !self.is_departement() {
            return Ok(Vec::new());
        }
        Ok(state.store.departement_schools(viewer.id()).await?.unwrap_or_default())
    }

    /// The desk a path names, when the viewer administers it; 404 otherwise.
    pub(crate) async fn of(
        state: &AppState,
        viewer: &Viewer,
        path: &DeskPath,
    ) -> Result<Desk, AppError> {
        match &path.uai {
            None => {
                if !state.store.is_departement_admin(viewer.id()).await? {
                    return Err(AppError::NotFound);
                }
                Ok(Desk {
                    scope: AdminScope::Departement,
                    school: None,
                    console: "/departement".to_owned(),
                    of: "du département".to_owned(),
                })
            }
            Some(uai) => {
                let school = state
                    .store
                    .administered_school(viewer.id(), uai)
                    .await?
                    .ok_or(AppError::NotFound)?;
                Ok(Desk {
                    scope: AdminScope::School(school.id.clone()),
                    console: format!("/etablissement/{}", percent_encode(&school.uai)),
                    of: format!("du {}", school.name),
                    school: Some(school),
                })
            }
        }
    }

    /// Whether this is the département's desk.
    pub(crate) fn is_departement(&self) -> bool {
        self.school.is_none()
    }

    /// The address of a page of this desk: `{console}/{tail}`.
    pub(crate) fn href(&self, tail: &str) -> String {
        format!("{}/{tail}", self.console)
    }
}

/// One checkbox, radio button or option of a form.
#[derive(Debug, Clone)]
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) checked: bool,
}

impl Choice {
    pub(crate) fn new(value: &str, label: &str, checked: bool) -> Choice {
        Choice { value: value.to_owned(), label: label.to_owned(), checked }
    }

    /// Choices from `(value, label)` pairs, checked when their value is in `chosen`.
    pub(crate) fn list<'a>(
        items: impl IntoIterator<Item = (&'a str, &'a str)>,
        chosen: &[String],
    ) -> Vec<Choice> {
        items
            .into_iter()
            .map(|(value, label)| Choice::new(value, label, chosen.iter().any(|c| c == value)))
            .collect()
    }
}

/// Whether a one-time form token is shaped as the pages draw them.
pub(crate) fn token_ok(token: &str) -> bool {
    (1..=64).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// A profile as a group of people, for the forms' checkboxes.
pub(crate) fn profile_group(profile: domain::profile::Profile) -> &'static str {
    use domain::profile::Profile;
    match profile {
        Profile::Pupil => "Élèves",
        Profile::Relative => "Parents",
        Profile::Teacher => "Enseignants",
        Profile::Staff => "Personnels",
        Profile::Agent => "Agents du département",
        Profile::Official => "Élus",
        Profile::Host => "Organismes d'accueil",
    }
}

/// The profiles a desk may give: a school's own people only, or every profile for the
/// département.
pub(crate) fn offered_profiles(desk: &Desk) -> Vec<domain::profile::Profile> {
    domain::profile::Profile::ALL
        .into_iter()
        .filter(|p| desk.is_departement() || !p.is_departement())
        .collect()
}
