//! The partners' JSON API, in the shape of the national platform's operator API:
//! `POST /api/internship_offers` (body `{"internship_offer": {…}}`), `PATCH` and `DELETE
//! /api/internship_offers/{remote_id}` (a deletion archives), `GET /api/internship_offers`
//! (the partner's own offers, 30 a page, with the national `pagination` object) and
//! `GET /api/sectors`. Each call carries `Authorization: Bearer <token>`; the token is looked
//! up by its SHA-256 among active partners, and anything else is a 401. Bodies are capped;
//! malformed JSON is a 400, input that breaks a rule a 422 with the errors by field, a
//! `remote_id` the partner already used a 409, another partner's offer a 404; never a 500 for
//! input. Nothing here reads the session cookie, so the site's cross-site guard only ever
//! refuses these calls when a browser of another site sends them (it then names its Origin).

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::internship::IsoWeek;
use domain::internship::geo::Point;
use serde_json::{Map, Value, json};
use store::internship::partners::{Partner, PartnerOffer, PartnerOfferInput, PartnerOutcome};

use crate::AppState;

/// The largest request body read, in bytes.
pub(crate) const MAX_API_BODY: usize = 32 * 1024;
/// Offers per page of the index, as the national API.
const PER_PAGE: i64 = 30;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/internship_offers", get(index).post(create))
        .route("/api/internship_offers/{remote_id}", axum::routing::patch(update).delete(remove))
        .route("/api/sectors", get(sectors))
}

/// A JSON answer with a status.
fn reply(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    response
}

/// A JSON error.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    reply(status, &json!({ "error": message, "code": code }))
}

fn unauthorized() -> Response {
    let mut response = error(
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "jeton d'accès manquant, inconnu ou désactivé",
    );
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn server_fault(cause: &store::StoreError) -> Response {
    tracing::error!(cause = ?cause, "api store fault");
    error(StatusCode::INTERNAL_SERVER_ERROR, "SERVER_ERROR", "erreur du serveur")
}

fn invalid(errors: &[(&'static str, String)]) -> Response {
    let mut fields = Map::new();
    for (field, reason) in errors {
        let entry = fields.entry(*field).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = entry {
            list.push(Value::String(reason.clone()));
        }
    }
    reply(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({
            "error": "données non valides",
            "code": "VALIDATION_ERROR",
            "fields": fields,
        }),
    )
}

/// The partner a request's bearer token designates, or the 401 to answer.
async fn partner_of(state: &AppState, headers: &HeaderMap) -> Result<Partner, Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
        })
        .ok_or_else(unauthorized)?;
    match state.store.partner_by_token(&token, store::now_unix()).await {
        Ok(Some(partner)) => Ok(partner),
        Ok(None) => {
            tracing::warn!("api call with an unknown token");
            Err(unauthorized())
        }
        Err(cause) => Err(server_fault(&cause)),
    }
}

/// The `internship_offer` object of a request body, or the error to answer.
async fn offer_object(request: Request) -> Result<Map<String, Value>, Response> {
    let bytes = axum::body::to_bytes(request.into_body(), MAX_API_BODY).await.map_err(|_| {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "corps de requête trop volumineux",
        )
    })?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| {
        error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "le corps n'est pas du JSON valide")
    })?;
    match value {
        Value::Object(mut body) => match body.remove("internship_offer") {
            Some(Value::Object(offer)) => Ok(offer),
            _ => Err(error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "objet « internship_offer » attendu",
            )),
        },
        _ => Err(error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "objet JSON attendu")),
    }
}

/// Writes the fields present in `object` over `input`, collecting type errors.
fn overlay(
    object: &Map<String, Value>,
    input: &mut PartnerOfferInput,
    errors: &mut Vec<(&'static str, String)>,
) {
    let texts: [(&'static str, &mut String); 9] = [
        ("title", &mut input.title),
        ("description", &mut input.description),
        ("employer_name", &mut input.employer_name),
        ("street", &mut input.street),
        ("zipcode", &mut input.zipcode),
        ("city", &mut input.city),
        ("remote_id", &mut input.remote_id),
        ("permalink", &mut input.permalink),
        ("sector_uuid", &mut input.sector_uuid),
    ];
    for (name, slot) in texts {
        match object.get(name) {
            None => {}
            Some(Value::String(text)) => *slot = text.clone(),
            Some(Value::Null) => slot.clear(),
            Some(_) => errors.push((name, "chaîne de caractères attendue".to_owned())),
        }
    }
    match object.get("max_candidates") {
        None => {}
        Some(value) => match value.as_i64() {
            Some(n) => input.max_candidates = n,
            None => errors.push(("max_candidates", "nombre entier attendu".to_owned())),
        },
    }
    match object.get("handicap_accessible") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(accessible)) => input.accessible = *accessible,
        Some(_) => errors.push(("handicap_accessible", "booléen attendu".to_owned())),
    }
    match object.get("weeks") {
        None | Some(Value::Null) => {}
        Some(Value::Array(weeks)) if weeks.len() <= 100 => {
            let mut parsed = Vec::new();
            for week in weeks {
                match week.as_str().map(IsoWeek::parse) {
                    Some(Ok(week)) => parsed.push(week),
                    _ => {
                        let shown =
                            week.as_str().unwrap_or("?").chars().take(20).collect::<String>();
                        errors.push((
                            "weeks",
                            format!("semaine « {shown} » non valide (forme 2027-W05)"),
                        ));
                    }
                }
            }
            input.weeks = parsed;
        }
        Some(_) => errors.push(("weeks", "liste de semaines attendue (forme 2027-W05)".to_owned())),
    }
    match object.get("coordinates") {
        None | Some(Value::Null) => {}
        Some(Value::Object(coordinates)) => {
            let latitude = coordinates.get("latitude").and_then(Value::as_f64);
            let longitude = coordinates.get("longitude").and_then(Value::as_f64);
            match (latitude, longitude) {
                (Some(lat), Some(lon)) => match Point::new(lat, lon) {
                    Some(point) => input.point = Some(point),
                    None => errors.push(("coordinates", "coordonnées hors du globe".to_owned())),
                },
                _ => errors
                    .push(("coordinates", "latitude et longitude numériques attendues".to_owned())),
            }
        }
        Some(_) => errors.push(("coordinates", "objet {latitude, longitude} attendu".to_owned())),
    }
}

/// An instant in RFC 3339, Europe/Paris.
fn rfc3339(unix: i64) -> Value {
    let Ok(timestamp) = jiff::Timestamp::from_second(unix) else { return Value::Null };
    let zone = jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC);
    Value::String(timestamp.to_zoned_datetime(zone).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

/// `22 janvier 2024`.
fn french_date(date: jiff::civil::Date) -> String {
    let day = if date.day() == 1 { "1er".to_owned() } else { date.day().to_string() };
    format!("{day} {} {}", domain::internship::weeks::month_fr(date), date.year())
}

/// An offer as the create and update calls answer it.
fn offer_json(offer: &PartnerOffer) -> Value {
    let input = &offer.input;
    json!({
        "id": offer.id,
        "title": input.title,
        "description": input.description,
        "max_candidates": input.max_candidates,
        "street": input.street,
        "zipcode": input.zipcode,
        "city": input.city,
        "employer_name": input.employer_name,
        "remote_id": input.remote_id,
        "permalink": input.permalink,
        "sector_uuid": input.sector_uuid,
        "weeks": input.weeks.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "handicap_accessible": input.accessible,
        "published_at": offer.published_at.map_or(Value::Null, rfc3339),
        "formatted_coordinates": input.point.map_or(Value::Null, |p| json!({
            "latitude": p.latitude,
            "longitude": p.longitude,
        })),
    })
}

/// An offer as the index lists it.
fn index_json(offer: &PartnerOffer) -> Value {
    let input = &offer.input;
    let first = input.weeks.first().map(|w| french_date(w.monday()));
    let last = input.weeks.last().map(|w| french_date(w.day(jiff::civil::Weekday::Sunday)));
    json!({
        "id": offer.id,
        "remote_id": input.remote_id,
        "title": input.title,
        "description": input.description,
        "employer_name": input.employer_name,
        "url": input.permalink,
        "city": input.city,
        "date_start": first,
        "date_end": last,
        "latitude": input.point.map(|p| p.latitude),
        "longitude": input.point.map(|p| p.longitude),
        "sector": input.sector_uuid,
        "handicap_accessible": input.accessible,
    })
}

fn outcome_reply(outcome: PartnerOutcome, created: bool) -> Response {
    match outcome {
        PartnerOutcome::Done(offer) => {
            let status = if created { StatusCode::CREATED } else { StatusCode::OK };
            reply(status, &offer_json(&offer))
        }
        PartnerOutcome::Invalid(errors) => invalid(&errors),
        PartnerOutcome::Duplicate => error(
            StatusCode::CONFLICT,
            "DUPLICATE_REMOTE_ID",
            "une offre de ce partenaire porte déjà ce remote_id",
        ),
        PartnerOutcome::NotFound => not_found(),
    }
}

fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "NOT_FOUND", "aucune offre de ce partenaire avec ce remote_id")
}

async fn create(State(state): State<AppState>, request: Request) -> Response {
    let partner = match partner_of(&state, request.headers()).await {
        Ok(partner) => partner,
        Err(response) => return response,
    };
    let object = match offer_object(request).await {
        Ok(object) => object,
        Err(response) => return response,
    };

    let mut input = PartnerOfferInput::default();
    let mut errors = Vec::new();
    overlay(&object, &mut input, &mut errors);
    if !object.contains_key("max_candidates") {
        errors.push(("max_candidates", "champ obligatoire".to_owned()));
    }
    if !errors.is_empty() {
        return invalid(&errors);
    }
    match state.store.partner_create_offer(&partner, &input, store::now_unix()).await {
        Ok(outcome) => outcome_reply(outcome, true),
        Err(cause) => server_fault(&cause),
    }
}

/// A `remote_id` taken from the path, if it can be one.
fn path_remote_id(uri: &Uri) -> Option<String> {
    let last = uri.path().rsplit('/').next()?;
    let plausible = !last.is_empty()
        && last.len() <= store::internship::partners::MAX_REMOTE_ID_BYTES
        && last.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    plausible.then(|| last.to_owned())
}

async fn update(State(state): State<AppState>, request: Request) -> Response {
    let partner = match partner_of(&state, request.headers()).await {
        Ok(partner) => partner,
        Err(response) => return response,
    };
    let Some(remote_id) = path_remote_id(request.uri()) else { return not_found() };
    let object = match offer_object(request).await {
        Ok(object) => object,
        Err(response) => return response,
    };

    let existing = match state.store.partner_offer(&partner.id, &remote_id).await {
        Ok(Some(offer)) if offer.state != domain::internship::OfferState::Archived => offer,
        Ok(_) => return not_found(),
        Err(cause) => return server_fault(&cause),
    };
    let mut input = existing.input;
    // Without coordinates in the call, a changed town is placed again by the gazetteer.
    let moved = object.contains_key("zipcode") || object.contains_key("city");
    if moved && !object.contains_key("coordinates") {
        input.point = None;
    }
    let mut errors = Vec::new();
    overlay(&object, &mut input, &mut errors);
    if input.remote_id != remote_id {
        errors.push(("remote_id", "ne peut pas changer".to_owned()));
    }
    if !errors.is_empty() {
        return invalid(&errors);
    }
    match state.store.partner_update_offer(&partner, &input, store::now_unix()).await {
        Ok(outcome) => outcome_reply(outcome, false),
        Err(cause) => server_fault(&cause),
    }
}

async fn remove(State(state): State<AppState>, request: Request<Body>) -> Response {
    let partner = match partner_of(&state, request.headers()).await {
        Ok(partner) => partner,
        Err(response) => return response,
    };
    let Some(remote_id) = path_remote_id(request.uri()) else { return not_found() };

    match state.store.partner_archive_offer(&partner, &remote_id, store::now_unix()).await {
        Ok(true) => reply(StatusCode::OK, &json!({ "remote_id": remote_id, "state": "archived" })),
        Ok(false) => not_found(),
        Err(cause) => server_fault(&cause),
    }
}

async fn index(State(state): State<AppState>, request: Request) -> Response {
    let partner = match partner_of(&state, request.headers()).await {
        Ok(partner) => partner,
        Err(response) => return response,
    };
    let page: i64 = crate::form::Fields::query(request.uri())
        .get("page")
        .parse()
        .ok()
        .filter(|page| (1..=100_000).contains(page))
        .unwrap_or(1);

    let (total, offers) = match state.store.partner_offers(&partner.id, page, PER_PAGE).await {
        Ok(found) => found,
        Err(cause) => return server_fault(&cause),
    };
    let total_pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let base = format!("{}/api/internship_offers", state.config.base_url.trim_end_matches('/'));
    let link = |page: i64| Value::String(format!("{base}?page={page}"));
    reply(
        StatusCode::OK,
        &json!({
            "pagination": {
                "totalInternshipOffers": total,
                "internshipOffersPerPage": PER_PAGE,
                "totalPages": total_pages,
                "currentPage": page,
                "nextPage": if page < total_pages { link(page + 1) } else { Value::Null },
                "prevPage": if page > 1 { link(page - 1) } else { Value::Null },
                "isFirstPage": page == 1,
                "isLastPage": page >= total_pages,
                "pageUrlBase": base,
            },
            "internshipOffers": offers.iter().map(index_json).collect::<Vec<_>>(),
        }),
    )
}

async fn sectors(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(response) = partner_of(&state, &headers).await {
        return response;
    }
    match state.store.sectors().await {
        Ok(sectors) => {
            let sectors: Vec<Value> = sectors
                .into_iter()
                .map(|(uuid, name)| json!({ "id": uuid, "name": name, "external_url": "", "uuid": uuid }))
                .collect();
            reply(StatusCode::OK, &json!({ "sectors": sectors }))
        }
        Err(cause) => server_fault(&cause),
    }
}
