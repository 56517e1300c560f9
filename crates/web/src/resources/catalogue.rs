//! The catalogue page and the opening of a tile. The filters are a GET form (bookmarkable,
//! working without JavaScript); unknown values filter nothing. A tile is a plain link to
//! `/ressources/{id}/ouvrir`, which counts one opening and redirects (303): through
//! `/cas/login?service=…` when the resource is bound to a CAS application that registered its
//! address, else straight to the address.
//!
//! Why a GET and not a POST form per tile: the site's CSP says `form-action 'self'`, which
//! browsers also apply to the redirects that follow a form submission, so a POST could never
//! end on Pronote's or the library's origin; a link is also what a tile is (it opens in a new
//! tab, it is announced as a link). The GET changes nothing but an aggregate counter, which a
//! reload may at worst raise by one; requests that a browser makes on another site's behalf
//! (`Sec-Fetch-Site: cross-site` or `same-site`) or to prefetch are redirected without being
//! counted.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use store::resources::{
    DYS_TAGS, KINDS, LEVELS, OpenTarget, ResourceFilter, SUBJECTS, Tile, label_of,
};

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::AppError;
use crate::form::{Fields, PathId};
use crate::session::Viewer;
use crate::sso_console::desk::Choice;
use crate::templates::{Chrome, render};

/// A tile as the page shows it.
pub(crate) struct TileView {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) kind: &'static str,
    /// The collège that offers it, for a school's resource.
    pub(crate) school: Option<String>,
    pub(crate) levels: String,
    pub(crate) subjects: String,
    pub(crate) dys: Vec<&'static str>,
    pub(crate) signed_on: bool,
}

#[derive(Template)]
#[template(path = "resources_catalogue.html")]
pub(crate) struct CataloguePage {
    pub(crate) chrome: Chrome,
    pub(crate) tiles: Vec<TileView>,
    pub(crate) levels: Vec<Choice>,
    pub(crate) subjects: Vec<Choice>,
    pub(crate) kinds: Vec<Choice>,
    pub(crate) dys: bool,
    /// Whether any filter is set.
    pub(crate) filtered: bool,
}

/// The labels of some codes of a list, joined.
fn labels(list: &[(&'static str, &'static str)], codes: &[String]) -> Vec<&'static str> {
    codes
        .iter()
        .filter_map(|code| list.iter().find(|(c, _)| c == code).map(|(_, label)| *label))
        .collect()
}

fn tile_view(tile: Tile) -> TileView {
    let levels = labels(&LEVELS, &tile.levels);
    TileView {
        kind: KINDS.iter().find(|(c, _)| *c == tile.kind).map_or("Autre ressource", |(_, l)| *l),
        school: tile.owner.map(|s| s.name),
        levels: if levels.is_empty() { "Tous niveaux".to_owned() } else { levels.join(", ") },
        subjects: labels(&SUBJECTS, &tile.subjects).join(", "),
        dys: labels(&DYS_TAGS, &tile.dys),
        signed_on: tile.signed_on,
        id: tile.id,
        title: tile.title,
        description: tile.description,
    }
}

/// A filter's value when it is one of the list's codes, else no filter.
fn known(list: &[(&str, &str)], value: &str) -> String {
    if list.iter().any(|(code, _)| *code == value) { value.to_owned() } else { String::new() }
}

/// The options of a filter's list, the chosen one selected.
fn options(list: &[(&str, &str)], chosen: &str) -> Vec<Choice> {
    list.iter().map(|(code, label)| Choice::new(code, label, *code == chosen)).collect()
}

pub(crate) async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    let query = Fields::query(&uri);
    let filter = ResourceFilter {
        level: known(&LEVELS, query.get("niveau")),
        subject: known(&SUBJECTS, query.get("matiere")),
        kind: known(&KINDS, query.get("type")),
        dys: query.get("dys") == "1",
    };

    let tiles = state.store.resources_for(viewer.id(), &filter).await?;
    let html = render(&CataloguePage {
        chrome: viewer_chrome("Ressources", &viewer),
        tiles: tiles.into_iter().map(tile_view).collect(),
        levels: options(&LEVELS, &filter.level),
        subjects: options(&SUBJECTS, &filter.subject),
        kinds: options(&KINDS, &filter.kind),
        dys: filter.dys,
        filtered: filter != ResourceFilter::default(),
    })?;
    Ok(Html(html).into_response())
}

/// Whether this request is someone opening a tile, rather than a request made on another
/// site's behalf or a prefetch (those are redirected, not counted).
fn counts(headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let site = header("sec-fetch-site");
    let own = site.is_empty()
        || site.eq_ignore_ascii_case("same-origin")
        || site.eq_ignore_ascii_case("none");
    let prefetch = header("sec-purpose").contains("prefetch") || header("purpose") == "prefetch";
    own && !prefetch
}

/// The address a target opens: Préau's CAS login for the service URL (encoded as a query
/// value), or the resource's own.
fn location(target: OpenTarget) -> String {
    match target {
        OpenTarget::Cas(url) => match serde_urlencoded::to_string([("service", url.as_str())]) {
            Ok(query) => format!("/cas/login?{query}"),
            Err(_) => url,
        },
        OpenTarget::Direct(url) => url,
    }
}

pub(crate) async fn open(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let target = state
        .store
        .open_resource(viewer.id(), &id, store::now_unix(), counts(&headers))
        .await?
        .ok_or(AppError::NotFound)?;

    // A stored address passed `domain::sso::register_url` (canonical, hence ASCII); should one
    // not be a valid header all the same, the answer is a logged fault, not a panic.
    let location = HeaderValue::from_str(&location(target))
        .map_err(|_| AppError::Internal(format!("resource {id}: address not a header value")))?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
}

/// A resource kind's label (the code when unknown), for the administration pages.
pub(crate) fn kind_label(code: &str) -> &str {
    label_of(&KINDS, code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cas_bound_resource_goes_through_cas_login_with_its_url_encoded() {
        let target = OpenTarget::Cas("https://p.example.fr/pronote/?a=1&b=é".to_owned());
        assert_eq!(
            location(target),
            "/cas/login?service=https%3A%2F%2Fp.example.fr%2Fpronote%2F%3Fa%3D1%26b%3D%C3%A9"
        );
        assert_eq!(location(OpenTarget::Direct("https://x.fr/".to_owned())), "https://x.fr/");
    }

    #[test]
    fn only_own_requests_are_counted() {
        let mut headers = HeaderMap::new();
        assert!(counts(&headers));
        headers.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(counts(&headers));
        headers.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!counts(&headers));
        headers.insert("sec-fetch-site", "none".parse().unwrap());
        headers.insert("sec-purpose", "prefetch;prerender".parse().unwrap());
        assert!(!counts(&headers));
    }
}
