//! The offer search page, `/stages`: a 3e pupil (or a legal guardian, who picks a child with
//! `?enfant=ID` as on the timetable pages) searches offers around home or the collège with a
//! GET form (radius, week, sector, keywords, accessibility), and reads the results as a
//! numbered list and as a map drawn here as inline SVG (an equirectangular projection around
//! the centre, rings of distance, the same numbers as the list; no tiles, no script, nothing
//! fetched). The list is the map's accessible equivalent. Everyone else reads what the
//! platform is for them and the links that fit them. Who may search for whom is decided by
//! the store's SQL (`store::internship::search`): anyone else's child is an ordinary 404.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use domain::internship::IsoWeek;
use domain::internship::geo::Point;
use domain::profile::Profile;
use store::internship::search::{
    Around, MAX_KEYWORD_CHARS, MAX_RADIUS_KM, MIN_RADIUS_KM, OfferHit, PAGE_SIZE, SearchQuery,
    SearchResults,
};

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::{AppError, percent_encode};
use crate::form::Fields;
use crate::session::Viewer;
use crate::templates::{Chrome, render};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/stages", get(page))
}

/// The half-width of the map, in SVG units; the search's radius is drawn this far out.
const MAP_HALF: f64 = 200.0;
const MAP_RADIUS: f64 = 180.0;
/// Kilometres per degree of latitude (and of longitude at the equator).
const KM_PER_DEGREE: f64 = 111.195;

/// A link of the page (children tabs, other profiles' links, pages of results).
pub(crate) struct Link {
    pub(crate) href: String,
    pub(crate) label: String,
    pub(crate) current: bool,
}

/// An option of a select.
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

/// The search form, as typed.
pub(crate) struct SearchForm {
    pub(crate) child: Option<String>,
    pub(crate) around_home: bool,
    pub(crate) home_label: String,
    pub(crate) school_label: String,
    pub(crate) radius: String,
    pub(crate) weeks: Vec<Choice>,
    pub(crate) sectors: Vec<Choice>,
    pub(crate) keyword: String,
    pub(crate) accessible: bool,
    pub(crate) errors: Vec<String>,
}

/// One offer of the list.
pub(crate) struct HitView {
    pub(crate) number: usize,
    pub(crate) href: String,
    pub(crate) title: String,
    pub(crate) host: String,
    pub(crate) sector: Option<String>,
    pub(crate) city: String,
    pub(crate) distance: String,
    pub(crate) weeks: Vec<String>,
    pub(crate) accessible: bool,
    /// A partner's offer: where to apply.
    pub(crate) permalink: Option<String>,
}

/// A ring of the map.
pub(crate) struct Ring {
    pub(crate) r: String,
    pub(crate) label_y: String,
    pub(crate) label: String,
}

/// A numbered point of the map.
pub(crate) struct MapPoint {
    pub(crate) x: String,
    pub(crate) y: String,
    pub(crate) text_y: String,
    pub(crate) number: usize,
}

/// The map of the results.
pub(crate) struct MapView {
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) centre_label: &'static str,
    pub(crate) rings: Vec<Ring>,
    pub(crate) points: Vec<MapPoint>,
}

/// The results.
pub(crate) struct ResultsView {
    pub(crate) summary: String,
    pub(crate) notice: Option<String>,
    pub(crate) start: usize,
    pub(crate) hits: Vec<HitView>,
    pub(crate) map: Option<MapView>,
    pub(crate) pages: Vec<Link>,
    pub(crate) previous: Option<String>,
    pub(crate) next: Option<String>,
}

#[derive(Template)]
#[template(path = "internship_search_page.html")]
pub(crate) struct SearchPage {
    pub(crate) chrome: Chrome,
    pub(crate) children: Vec<Link>,
    /// Why there is nothing to search (not a 3e pupil, another profile).
    pub(crate) absent: Option<String>,
    pub(crate) links: Vec<Link>,
    /// Where the pupil's applications are.
    pub(crate) applications_href: Option<String>,
    pub(crate) form: Option<SearchForm>,
    pub(crate) results: Option<ResultsView>,
}

/// What the query string asks, checked; `errors` says what was set aside.
struct Asked {
    query: SearchQuery,
    radius_text: String,
    week_text: String,
    errors: Vec<String>,
}

async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    let fields = Fields::query(&uri);

    let (pupil_id, child, children) = match viewer.facts.person.profile {
        Profile::Pupil => (viewer.id().to_owned(), None, Vec::new()),
        Profile::Relative => {
            let wanted = fields.get("enfant");
            let chosen = if wanted.is_empty() {
                viewer.facts.children.first().map(|c| c.id.clone())
            } else if wanted.len() <= 64 && wanted.bytes().all(|b| b.is_ascii_graphic()) {
                Some(wanted.to_owned())
            } else {
                return Err(AppError::NotFound);
            };
            let Some(chosen) = chosen else {
                return other_page(&viewer, "Aucun enfant n'est rattaché à votre compte.");
            };
            let tabs = viewer
                .facts
                .children
                .iter()
                .map(|c| Link {
                    href: format!("/stages?enfant={}", percent_encode(&c.id)),
                    label: format!("{} {}", c.first_name, c.last_name),
                    current: c.id == chosen,
                })
                .collect();
            (chosen.clone(), Some(chosen), tabs)
        }
        Profile::Staff | Profile::Teacher | Profile::Agent | Profile::Official | Profile::Host => {
            return other_page(
                &viewer,
                "La recherche de stages d'observation est réservée aux élèves de 3e et à leurs \
                 parents.",
            );
        }
    };

    let sectors = state.store.sectors_kept(viewer.generations).await?;
    let mut asked = read_query(&fields, &sectors);
    let mut results = state
        .store
        .search_offers_kept(viewer.id(), &pupil_id, &asked.query, viewer.generations)
        .await?;
    if asked.query.week.is_some() && results.week.is_none() && results.context.is_some() {
        asked.errors.push("Cette semaine n'est pas une semaine de stage de votre collège.".into());
        asked.query.week = None;
        asked.week_text.clear();
        results = state
            .store
            .search_offers_kept(viewer.id(), &pupil_id, &asked.query, viewer.generations)
            .await?;
    }

    let name = children.iter().find(|c: &&Link| c.current).map(|c| c.label.clone());
    let title = match &name {
        Some(name) => format!("Stages de 3e : {name}"),
        None => "Stages de 3e".to_owned(),
    };
    let applications_href = Some(match &child {
        Some(id) => format!("/stages/candidatures?enfant={}", percent_encode(id)),
        None => "/stages/candidatures".to_owned(),
    });
    let Some(context) = results.context.clone() else {
        let absent = match &name {
            Some(name) => format!(
                "{name} n'est pas en 3e cette année : la recherche de stages d'observation est \
                 réservée aux élèves de 3e."
            ),
            None => "La recherche de stages d'observation est réservée aux élèves de 3e : elle \
                     vous sera ouverte en 3e."
                .to_owned(),
        };
        let html = render(&SearchPage {
            chrome: viewer_chrome(&title, &viewer),
            children,
            absent: Some(absent),
            links: Vec::new(),
            applications_href: None,
            form: None,
            results: None,
        })?;
        return Ok(Html(html).into_response());
    };

    let form = SearchForm {
        child: child.clone(),
        around_home: results.around == Around::Home || results.home_unplaced,
        home_label: match &context.home_commune {
            Some(commune) => format!("Autour du domicile ({commune})"),
            None => "Autour du domicile (adresse non située)".to_owned(),
        },
        school_label: format!("Autour du collège ({})", context.school_name),
        radius: if asked.radius_text.is_empty() {
            results.radius_km.to_string()
        } else {
            asked.radius_text.clone()
        },
        weeks: context
            .weeks
            .iter()
            .map(|week| Choice {
                value: week.to_string(),
                label: week.label_fr(),
                selected: asked.week_text == week.to_string(),
            })
            .collect(),
        sectors: sectors
            .iter()
            .map(|(id, name)| Choice {
                value: id.clone(),
                label: name.clone(),
                selected: asked.query.sector_id.as_deref() == Some(id.as_str()),
            })
            .collect(),
        keyword: asked.query.keyword.clone(),
        accessible: asked.query.accessible_only,
        errors: asked.errors.clone(),
    };
    let view = results_view(&results, &asked, child.as_deref());
    let html = render(&SearchPage {
        chrome: viewer_chrome(&title, &viewer),
        children,
        absent: None,
        links: Vec::new(),
        applications_href,
        form: Some(form),
        results: Some(view),
    })?;
    Ok(Html(html).into_response())
}

/// The page of a viewer who does not search: why, and where to go instead.
fn other_page(viewer: &Viewer, why: &str) -> Result<Response, AppError> {
    let mut links = Vec::new();
    for school in &viewer.facts.administered {
        links.push(Link {
            href: format!("/etablissement/{}/stages", percent_encode(&school.uai)),
            label: format!("Les stages de 3e du collège {}", school.name),
            current: false,
        });
    }
    if viewer.facts.departement_admin {
        links.push(Link {
            href: "/departement/stages".to_owned(),
            label: "Le bureau des stages du département".to_owned(),
            current: false,
        });
    }
    match viewer.facts.person.profile {
        Profile::Host => links.push(Link {
            href: "/organisme".to_owned(),
            label: "L'espace de votre organisme d'accueil".to_owned(),
            current: false,
        }),
        Profile::Teacher | Profile::Staff | Profile::Relative => links.push(Link {
            href: "/conventions".to_owned(),
            label: "Les conventions de stage qui vous concernent".to_owned(),
            current: false,
        }),
        _ => {}
    }
    let html = render(&SearchPage {
        chrome: viewer_chrome("Stages de 3e", viewer),
        children: Vec::new(),
        absent: Some(why.to_owned()),
        links,
        applications_href: None,
        form: None,
        results: None,
    })?;
    Ok(Html(html).into_response())
}

/// Reads the query string into a search; what is wrong is set aside with a French error.
fn read_query(fields: &Fields, sectors: &[(String, String)]) -> Asked {
    let mut errors = Vec::new();
    let mut query = SearchQuery {
        around: if fields.get("autour") == "college" { Around::School } else { Around::Home },
        page: fields.get("page").parse::<usize>().unwrap_or(1).max(1),
        accessible_only: fields.get("accessible") == "1",
        ..SearchQuery::default()
    };

    let radius_text = fields.get("rayon").trim().to_owned();
    if !radius_text.is_empty() {
        match radius_text.parse::<i64>() {
            Ok(radius) if (MIN_RADIUS_KM..=MAX_RADIUS_KM).contains(&radius) => {
                query.radius_km = Some(radius);
            }
            _ => errors.push(format!(
                "Le rayon est un nombre de kilomètres entre {MIN_RADIUS_KM} et {MAX_RADIUS_KM}."
            )),
        }
    }

    let mut week_text = fields.get("semaine").trim().to_owned();
    if !week_text.is_empty() {
        match IsoWeek::parse(&week_text) {
            Ok(week) => query.week = Some(week),
            Err(_) => {
                errors
                    .push("Cette semaine n'est pas une semaine de stage de votre collège.".into());
                week_text.clear();
            }
        }
    }

    let sector = fields.get("secteur");
    if !sector.is_empty() {
        if sectors.iter().any(|(id, _)| id == sector) {
            query.sector_id = Some(sector.to_owned());
        } else {
            errors.push("Ce secteur d'activité n'existe pas.".into());
        }
    }

    let keyword = fields.get("mots").trim();
    if keyword.chars().count() > MAX_KEYWORD_CHARS {
        errors.push(format!("Les mots-clés tiennent en {MAX_KEYWORD_CHARS} caractères."));
    } else {
        query.keyword = keyword.to_owned();
    }
    Asked { query, radius_text, week_text, errors }
}

/// The query string of a search, for the links between pages.
fn query_string(
    asked: &Asked,
    results: &SearchResults,
    child: Option<&str>,
    page: usize,
) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(child) = child {
        pairs.push(("enfant", child.to_owned()));
    }
    if asked.query.around == Around::School {
        pairs.push(("autour", "college".to_owned()));
    }
    pairs.push(("rayon", results.radius_km.to_string()));
    if let Some(week) = results.week {
        pairs.push(("semaine", week.to_string()));
    }
    if let Some(sector) = &asked.query.sector_id {
        pairs.push(("secteur", sector.clone()));
    }
    if !asked.query.keyword.is_empty() {
        pairs.push(("mots", asked.query.keyword.clone()));
    }
    if asked.query.accessible_only {
        pairs.push(("accessible", "1".to_owned()));
    }
    pairs.push(("page", page.to_string()));
    let encoded: Vec<String> =
        pairs.iter().map(|(key, value)| format!("{key}={}", percent_encode(value))).collect();
    format!("/stages?{}", encoded.join("&"))
}

/// A distance in French: one decimal, a decimal comma.
fn km(value: f64) -> String {
    format!("{value:.1} km").replace('.', ",")
}

fn results_view(results: &SearchResults, asked: &Asked, child: Option<&str>) -> ResultsView {
    let start = (results.page - 1) * PAGE_SIZE + 1;
    let hits: Vec<HitView> =
        results.offers.iter().enumerate().map(|(i, hit)| hit_view(start + i, hit)).collect();
    let place = if results.around == Around::Home { "du domicile" } else { "du collège" };
    let summary = match results.total {
        0 => format!("Aucune offre à moins de {} km {place} pour ces critères.", results.radius_km),
        1 => format!("1 offre à moins de {} km {place}.", results.radius_km),
        n => format!(
            "{n} offres à moins de {} km {place}, de la plus proche à la plus lointaine{}.",
            results.radius_km,
            if results.pages > 1 {
                format!(" (page {} sur {})", results.page, results.pages)
            } else {
                String::new()
            }
        ),
    };
    let notice = results.home_unplaced.then(|| {
        "Votre adresse n'a pas pu être située sur la carte : la recherche se fait autour du \
         collège."
            .to_owned()
    });
    let map = results
        .centre
        .filter(|_| !results.offers.is_empty())
        .map(|centre| map_view(centre, results, start, place));
    let pages = if results.pages > 1 {
        (1..=results.pages)
            .map(|page| Link {
                href: query_string(asked, results, child, page),
                label: page.to_string(),
                current: page == results.page,
            })
            .collect()
    } else {
        Vec::new()
    };
    ResultsView {
        summary,
        notice,
        start,
        hits,
        map,
        pages,
        previous: (results.page > 1).then(|| query_string(asked, results, child, results.page - 1)),
        next: (results.page < results.pages)
            .then(|| query_string(asked, results, child, results.page + 1)),
    }
}

fn hit_view(number: usize, hit: &OfferHit) -> HitView {
    let permalink = hit
        .permalink
        .clone()
        .filter(|link| link.starts_with("https://") || link.starts_with("http://"));
    HitView {
        number,
        href: format!("/stages/offres/{}", percent_encode(&hit.id)),
        title: hit.title.clone(),
        host: hit.host_name.clone(),
        sector: hit.sector.clone(),
        city: hit.city.clone(),
        distance: km(hit.distance_km),
        weeks: hit
            .weeks
            .iter()
            .map(|(week, left)| {
                let places =
                    if *left == 1 { "1 place".to_owned() } else { format!("{left} places") };
                format!("{} ({places})", week.label_fr())
            })
            .collect(),
        accessible: hit.accessible,
        permalink,
    }
}

/// The rings of the map: steps of a round number of kilometres, and the radius itself.
fn ring_distances(radius_km: i64) -> Vec<f64> {
    let radius = radius_km as f64;
    let step = [1.0, 2.0, 5.0, 10.0, 20.0, 25.0, 50.0]
        .into_iter()
        .find(|step| radius / step <= 4.0)
        .unwrap_or(radius);
    let mut rings = Vec::new();
    let mut ring = step;
    while ring <= radius - step / 2.0 {
        rings.push(ring);
        ring += step;
    }
    rings.push(radius);
    rings
}

/// Where a point falls on the map: an equirectangular projection around the centre.
fn project(centre: Point, point: Point, scale: f64) -> (f64, f64) {
    let east =
        (point.longitude - centre.longitude) * centre.latitude.to_radians().cos() * KM_PER_DEGREE;
    let north = (point.latitude - centre.latitude) * KM_PER_DEGREE;
    let x = (MAP_HALF + east * scale).clamp(4.0, 2.0 * MAP_HALF - 4.0);
    let y = (MAP_HALF - north * scale).clamp(4.0, 2.0 * MAP_HALF - 4.0);
    (x, y)
}

fn map_view(centre: Point, results: &SearchResults, start: usize, place: &str) -> MapView {
    let scale = MAP_RADIUS / results.radius_km as f64;
    let rings = ring_distances(results.radius_km)
        .into_iter()
        .map(|km_ring| {
            let r = km_ring * scale;
            Ring {
                r: format!("{r:.1}"),
                label_y: format!("{:.1}", MAP_HALF - r + 12.0),
                label: format!("{} km", km_ring.to_string().replace('.', ",")),
            }
        })
        .collect();
    let points = results
        .offers
        .iter()
        .enumerate()
        .map(|(i, hit)| {
            let (x, y) = project(centre, hit.point, scale);
            MapPoint {
                x: format!("{x:.1}"),
                y: format!("{y:.1}"),
                text_y: format!("{:.1}", y + 4.0),
                number: start + i,
            }
        })
        .collect();
    let count = results.offers.len();
    MapView {
        title: format!("Carte des offres autour {place}"),
        description: format!(
            "{count} offre{} de cette page placée{} sur une carte de {} km de rayon autour {place} \
             ; chaque point porte le numéro de l'offre dans la liste, qui donne les mêmes offres \
             avec leur distance.",
            if count > 1 { "s" } else { "" },
            if count > 1 { "s" } else { "" },
            results.radius_km
        ),
        centre_label: if results.around == Around::Home { "Domicile" } else { "Collège" },
        rings,
        points,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rings_are_round_and_end_at_the_radius() {
        assert_eq!(ring_distances(30), vec![10.0, 20.0, 30.0]);
        assert_eq!(ring_distances(100), vec![25.0, 50.0, 75.0, 100.0]);
        assert_eq!(ring_distances(5), vec![2.0, 4.0, 5.0]);
        assert_eq!(ring_distances(12), vec![5.0, 12.0], "no ring crowding the radius");
    }

    #[test]
    fn the_projection_puts_north_up_and_east_right() {
        let centre = Point::new(46.58, 0.34).unwrap();
        let scale = MAP_RADIUS / 30.0;
        assert_eq!(project(centre, centre, scale), (MAP_HALF, MAP_HALF));
        let (x, y) = project(centre, Point::new(46.70, 0.34).unwrap(), scale);
        assert!(y < MAP_HALF && (x - MAP_HALF).abs() < 1e-9);
        let (x, y) = project(centre, Point::new(46.58, 0.50).unwrap(), scale);
        assert!(x > MAP_HALF && (y - MAP_HALF).abs() < 1e-9);
        let (x, _) = project(centre, Point::new(46.58, 3.0).unwrap(), scale);
        assert!(x <= 2.0 * MAP_HALF, "kept on the map");
    }

    #[test]
    fn distances_read_in_french() {
        assert_eq!(km(12.34), "12,3 km");
        assert_eq!(km(0.0), "0,0 km");
    }
}
