//! The offer search of a 3e pupil (and of their legal guardians), and the one rule of which
//! offers a pupil may see or take (`offer_open_to_pupil`, also called by the applications).
//!
//! A pupil's context (`pupil_internship_context`) is read once per search: their current
//! class and school, the school's 3e weeks, whether it is rural or in priority education, the
//! département's settings, and where they live, placed with the gazetteer of communes from
//! their AAF address (or their legal guardian's). The search itself keeps in SQL what an
//! offer must be to be shown (published, of a verified host or an active partner, reserved for
//! nobody or for this pupil's school, open one of the pupil's weeks with a place left that
//! week and in total, counted from the confirmed applications, not applied to by the pupil,
//! past the head start for pupils who have none) and the latitude and longitude box around
//! the centre; the exact distance, the radius, the order and the page are computed here.
//! It does not write anything.

use domain::internship::IsoWeek;
use domain::internship::geo::{Point, bounding_box, distance_km};
use domain::internship::search_terms::query_terms;
use sqlx::Row;

use crate::directory::{current_membership, membership_clock_at};
use crate::{Store, StoreError, StoreResult, now_unix};

/// Offers per page of results.
pub const PAGE_SIZE: usize = 20;
/// The radius a pupil may choose, in kilometres.
pub const MIN_RADIUS_KM: i64 = 5;
pub const MAX_RADIUS_KM: i64 = 100;
/// The longest keyword text read (longer is cut).
pub const MAX_KEYWORD_CHARS: usize = 200;
/// Kilometres per degree of latitude (a great circle's degree on the mean Earth).
const KM_PER_DEGREE: f64 = 111.195;

/// What Préau knows of a 3e pupil for the internship search.
#[derive(Debug, Clone, PartialEq)]
pub struct PupilContext {
    pub pupil_id: String,
    pub school_id: String,
    pub school_uai: String,
    pub school_name: String,
    pub school_time_zone: String,
    pub class_id: String,
    /// The class code (`3A`).
    pub class: String,
    /// Where the pupil lives: the centre of their commune, when the gazetteer knows it.
    pub home: Option<Point>,
    /// The commune `home` is the centre of.
    pub home_commune: Option<String>,
    pub school_point: Option<Point>,
    /// The school's 3e internship weeks, in order.
    pub weeks: Vec<IsoWeek>,
    pub rural: bool,
    pub priority: bool,
    /// The département's head start, in days, for pupils who are neither rural nor in
    /// priority education; 0 when there is none.
    pub head_start_days: i64,
    pub default_radius_km: i64,
}

impl PupilContext {
    /// Whether the pupil sees offers as soon as they are published.
    pub fn has_head_start(&self) -> bool {
        self.rural || self.priority
    }
}

/// Around what the search looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Around {
    #[default]
    Home,
    School,
}

/// A search as the pupil asks it.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub around: Around,
    /// `None`: the département's default radius. Clamped to 5..=100.
    pub radius_km: Option<i64>,
    /// One of the pupil's weeks, or `None` for all of them; a week that is not theirs finds
    /// nothing.
    pub week: Option<IsoWeek>,
    pub sector_id: Option<String>,
    pub keyword: String,
    pub accessible_only: bool,
    /// From 1.
    pub page: usize,
}

/// One offer found.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferHit {
    pub id: String,
    pub title: String,
    /// The host's name, or the employer's for a partner's offer.
    pub host_name: String,
    pub sector: Option<String>,
    pub city: String,
    pub point: Point,
    /// Rounded to 0.1 km.
    pub distance_km: f64,
    /// The pupil's weeks the offer is open with a place left, and the places left.
    pub weeks: Vec<(IsoWeek, i64)>,
    pub accessible: bool,
    /// Where a partner's offer is applied to; `None` for Préau's own offers.
    pub permalink: Option<String>,
}

/// The answer to a search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    /// `None` when the pupil is not a 3e pupil of a class now: nothing is searched.
    pub context: Option<PupilContext>,
    /// Around what the search looked (the school when the home could not be placed).
    pub around: Around,
    /// The search asked for the home, which could not be placed: it looked around the school.
    pub home_unplaced: bool,
    pub centre: Option<Point>,
    pub radius_km: i64,
    /// The week searched, when one of the pupil's.
    pub week: Option<IsoWeek>,
    /// Offers found in all.
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub offers: Vec<OfferHit>,
}

/// Whether `pupil_id` may take a place in `offer_id` for `iso_week` at `now`: the offer is
/// published, its host verified, not a partner's offer (those are applied to on the
/// partner's site), the week is one of the offer's and one of the pupil's school's 3e weeks,
/// the reservation admits the pupil's school, the head start (if any) is over for this pupil,
/// and a place is left that week and in total (counted from `confirmed` applications).
/// Meant to be called inside the caller's transaction.
pub async fn offer_open_to_pupil(
    conn: &mut sqlx::AnyConnection,
    pupil_id: &str,
    offer_id: &str,
    iso_week: &str,
    now: i64,
) -> StoreResult<bool> {
    let Ok(week) = IsoWeek::parse(iso_week) else { return Ok(false) };
    let Some(context) = context_in(conn, pupil_id, pupil_id, now).await? else {
        return Ok(false);
    };
    if !context.weeks.contains(&week) {
        return Ok(false);
    }

    let sql = format!(
        "SELECT o.id FROM internship_offers o LEFT JOIN hosts h ON h.id = o.host_id \
         WHERE o.id = $1 AND o.partner_id IS NULL AND {} AND {}",
        shown_sql(),
        open_weeks_sql(Some("$8"))
    );
    let row = bind_shown(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(offer_id), &context, now)
        .bind(week.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

impl Store {
    /// The internship context of a 3e pupil, `None` unless they are a 3e pupil of a class now.
    pub async fn pupil_internship_context(
        &self,
        pupil_id: &str,
    ) -> StoreResult<Option<PupilContext>> {
        let mut conn = self.pool().acquire().await?;
        context_in(&mut conn, pupil_id, pupil_id, now_unix()).await
    }

    /// The context of `pupil_id` as `viewer_id` (the pupil or one of their legal guardians)
    /// sees it: `NotFound` when the viewer is neither, `None` when the pupil is not in 3e.
    pub async fn pupil_internship_context_for(
        &self,
        viewer_id: &str,
        pupil_id: &str,
    ) -> StoreResult<Option<PupilContext>> {
        let mut conn = self.pool().acquire().await?;
        let context = context_in(&mut conn, viewer_id, pupil_id, now_unix()).await?;
        if context.is_none() && !may_view_pupil(&mut conn, viewer_id, pupil_id).await? {
            return Err(StoreError::NotFound);
        }
        Ok(context)
    }

    /// The offers `pupil_id` may apply to, as `viewer_id` (the pupil or one of their legal
    /// guardians; anyone else gets `NotFound`) searches them now.
    pub async fn search_offers(
        &self,
        viewer_id: &str,
        pupil_id: &str,
        query: &SearchQuery,
    ) -> StoreResult<SearchResults> {
        self.search_offers_at(viewer_id, pupil_id, query, now_unix()).await
    }

    /// [`Store::search_offers`] at the instant `now`.
    pub async fn search_offers_at(
        &self,
        viewer_id: &str,
        pupil_id: &str,
        query: &SearchQuery,
        now: i64,
    ) -> StoreResult<SearchResults> {
        let mut conn = self.pool().acquire().await?;
        let context = context_in(&mut conn, viewer_id, pupil_id, now).await?;
        let Some(context) = context else {
            if !may_view_pupil(&mut conn, viewer_id, pupil_id).await? {
                return Err(StoreError::NotFound);
            }
            return Ok(SearchResults {
                context: None,
                around: query.around,
                home_unplaced: false,
                centre: None,
                radius_km: query.radius_km.unwrap_or(30).clamp(MIN_RADIUS_KM, MAX_RADIUS_KM),
                week: None,
                total: 0,
                page: 1,
                pages: 1,
                offers: Vec::new(),
            });
        };

        let radius_km = query
            .radius_km
            .unwrap_or(context.default_radius_km)
            .clamp(MIN_RADIUS_KM, MAX_RADIUS_KM);
        let (around, centre, home_unplaced) = match (query.around, context.home) {
            (Around::Home, Some(home)) => (Around::Home, Some(home), false),
            (Around::Home, None) => (Around::School, context.school_point, true),
            (Around::School, _) => (Around::School, context.school_point, false),
        };
        let mut results = SearchResults {
            context: None,
            around,
            home_unplaced,
            centre,
            radius_km,
            week: query.week.filter(|week| context.weeks.contains(week)),
            total: 0,
            page: 1,
            pages: 1,
            offers: Vec::new(),
        };
        let wrong_week = query.week.is_some() && results.week.is_none();
        let Some(centre) = centre.filter(|_| !wrong_week) else {
            results.context = Some(context);
            return Ok(results);
        };

        let mut found = candidates(&mut conn, &context, query, centre, radius_km, now).await?;
        found.sort_by(|a, b| {
            a.distance_km.total_cmp(&b.distance_km).then_with(|| a.title.cmp(&b.title))
        });
        results.total = found.len();
        results.pages = found.len().div_ceil(PAGE_SIZE).max(1);
        results.page = query.page.clamp(1, results.pages);
        let page: Vec<Candidate> =
            found.into_iter().skip((results.page - 1) * PAGE_SIZE).take(PAGE_SIZE).collect();
        results.offers = hits_of(&mut conn, &context, page).await?;
        results.context = Some(context);
        Ok(results)
    }
}

/// Whether `viewer_id` is `pupil_id` or one of their legal guardians.
async fn may_view_pupil(
    conn: &mut sqlx::AnyConnection,
    viewer_id: &str,
    pupil_id: &str,
) -> StoreResult<bool> {
    let row = sqlx::query(
        "SELECT p.id FROM people p WHERE p.id = $1 AND p.profile = 'pupil' AND (p.id = $2 \
         OR EXISTS (SELECT 1 FROM guardianships g WHERE g.pupil_id = p.id \
         AND g.relative_id = $2 AND g.legal IN (1, 2)))",
    )
    .bind(pupil_id)
    .bind(viewer_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.is_some())
}

/// The context of `pupil_id`, if `viewer_id` is them or one of their legal guardians and they
/// are a 3e pupil of a class now.
async fn context_in(
    conn: &mut sqlx::AnyConnection,
    viewer_id: &str,
    pupil_id: &str,
    now: i64,
) -> StoreResult<Option<PupilContext>> {
    let sql = format!(
        "SELECT c.id, c.code, s.id, s.uai, s.name, s.time_zone, s.latitude, s.longitude, \
         COALESCE(sp.rural, 0), sp.priority_education, st.head_start_days, \
         st.default_radius_km, p.postal_code, p.city \
         FROM people p \
         JOIN pupil_classes pc ON pc.pupil_id = p.id \
         JOIN classes c ON c.id = pc.class_id \
         JOIN schools s ON s.id = c.school_id \
         JOIN internship_settings st ON st.id = 1 \
         LEFT JOIN mefs m ON m.code = p.mef_code \
         LEFT JOIN school_internship_profiles sp ON sp.school_id = s.id \
         WHERE p.id = $1 AND p.profile = 'pupil' AND p.active = 1 \
         AND (p.mef_code LIKE '103%' OR m.level LIKE '3EME%') AND {} \
         AND (p.id = $3 OR EXISTS (SELECT 1 FROM guardianships g WHERE g.pupil_id = p.id \
         AND g.relative_id = $3 AND g.legal IN (1, 2))) \
         ORDER BY c.code LIMIT 1",
        current_membership("pc", "$2")
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(pupil_id)
        .bind(membership_clock_at(now))
        .bind(viewer_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };

    let school_id: String = row.try_get(2)?;
    let school_point = point(row.try_get(6)?, row.try_get(7)?);
    let rural: i64 = row.try_get(8)?;
    let priority: Option<String> = row.try_get(9)?;
    let postal_code: Option<String> = row.try_get(12)?;
    let city: Option<String> = row.try_get(13)?;
    let address = match city.filter(|city| !city.trim().is_empty()) {
        Some(city) => Some((postal_code.unwrap_or_default(), city)),
        None => guardian_address(conn, pupil_id).await?,
    };
    let home = match address {
        Some((postal_code, city)) => place(conn, &postal_code, &city).await?,
        None => None,
    };
    let weeks = school_weeks_in(conn, &school_id, "3e").await?;

    Ok(Some(PupilContext {
        pupil_id: pupil_id.to_owned(),
        class_id: row.try_get(0)?,
        class: row.try_get(1)?,
        school_id,
        school_uai: row.try_get(3)?,
        school_name: row.try_get(4)?,
        school_time_zone: row.try_get(5)?,
        home_commune: home.as_ref().map(|(name, _)| name.clone()),
        home: home.map(|(_, point)| point),
        school_point,
        weeks,
        rural: rural != 0,
        priority: priority.is_some_and(|p| !p.is_empty()),
        head_start_days: row.try_get::<i64, _>(10)?.max(0),
        default_radius_km: row.try_get::<i64, _>(11)?.clamp(MIN_RADIUS_KM, MAX_RADIUS_KM),
    }))
}

/// A point from two nullable coordinates.
fn point(latitude: Option<f64>, longitude: Option<f64>) -> Option<Point> {
    Point::new(latitude?, longitude?)
}

/// The postcode and city of the pupil's first legal guardian that has one.
async fn guardian_address(
    conn: &mut sqlx::AnyConnection,
    pupil_id: &str,
) -> StoreResult<Option<(String, String)>> {
    let row = sqlx::query(
        "SELECT r.postal_code, r.city FROM guardianships g JOIN people r ON r.id = g.relative_id \
         WHERE g.pupil_id = $1 AND g.legal IN (1, 2) AND r.city IS NOT NULL AND r.city <> '' \
         ORDER BY g.legal, r.id LIMIT 1",
    )
    .bind(pupil_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let postal_code: Option<String> = row.try_get(0)?;
    Ok(Some((postal_code.unwrap_or_default(), row.try_get(1)?)))
}

/// The commune of an address and its centre, found as `reference::locate_commune_in` finds
/// it, once the AAF spelling of the town is cleaned ([`commune_name`]).
async fn place(
    conn: &mut sqlx::AnyConnection,
    postal_code: &str,
    city: &str,
) -> StoreResult<Option<(String, Point)>> {
    let commune =
        super::reference::locate_commune_in(conn, postal_code, &commune_name(city)).await?;
    Ok(commune.map(|commune| (commune.name, commune.point)))
}

/// A town as AAF may write it, cleaned for the gazetteer: a « Cedex » and what follows are
/// dropped, « St » and « Ste » spelt out (« ST BENOIT CEDEX » → `saint benoit`).
pub fn commune_name(city: &str) -> String {
    let folded = domain::names::fold_for_search(city);
    let words: Vec<&str> = folded
        .split([' ', '-', '\''])
        .filter(|w| !w.is_empty())
        .take_while(|w| *w != "cedex")
        .map(|w| match w {
            "st" => "saint",
            "ste" => "sainte",
            other => other,
        })
        .collect();
    words.join(" ")
}

/// A school's internship weeks for a level, in order.
pub(crate) async fn school_weeks_in(
    conn: &mut sqlx::AnyConnection,
    school_id: &str,
    level: &str,
) -> StoreResult<Vec<IsoWeek>> {
    let rows = sqlx::query(
        "SELECT iso_week FROM school_internship_weeks WHERE school_id = $1 AND level = $2 \
         ORDER BY iso_week",
    )
    .bind(school_id)
    .bind(level)
    .fetch_all(&mut *conn)
    .await?;
    let mut weeks = Vec::with_capacity(rows.len());
    for row in rows {
        let text: String = row.try_get(0)?;
        weeks.push(IsoWeek::parse(&text).map_err(StoreError::Corrupt)?);
    }
    Ok(weeks)
}

/// What an offer `o` (joined to its host `h`) must be to be shown to a pupil, whatever the
/// week: published, of a verified host (or an active partner's without a host), reserved for
/// nobody or for the pupil's school (`$2`, rural `$3`, priority education `$4`), and past the
/// head start (`$6` seconds after publication, unless `$7` says the pupil has one) at `$5`.
fn shown_sql() -> &'static str {
    "o.state = 'published' \
     AND (h.status = 'verified' OR (o.host_id IS NULL AND o.partner_id IS NOT NULL)) \
     AND (o.partner_id IS NULL OR EXISTS (SELECT 1 FROM internship_partners ip \
          WHERE ip.id = o.partner_id AND ip.active = 1)) \
     AND (o.reservation = 'none' OR (o.reservation = 'rural' AND $3 = 1) \
          OR (o.reservation = 'priority_education' AND $4 = 1) \
          OR (o.reservation = 'schools' AND EXISTS (SELECT 1 FROM internship_offer_schools os \
              WHERE os.offer_id = o.id AND os.school_id = $2))) \
     AND ($7 = 1 OR $6 = 0 OR COALESCE(o.visible_from, COALESCE(o.published_at, 0) + $6) <= $5)"
}

/// Binds `$2` to `$7` of [`shown_sql`] for a pupil.
fn bind_shown<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    context: &PupilContext,
    now: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    query
        .bind(context.school_id.clone())
        .bind(i64::from(context.rural))
        .bind(i64::from(context.priority))
        .bind(now)
        .bind(context.head_start_days * 86_400)
        .bind(i64::from(context.has_head_start()))
}

/// The offer `o` is open one of the school's (`$2`) 3e weeks (or the week `week` only) with a
/// place left that week, and a place is left in total: both counted from confirmed rows.
fn open_weeks_sql(week: Option<&str>) -> String {
    let only = week.map_or(String::new(), |param| format!(" AND w.iso_week = {param}"));
    format!(
        "EXISTS (SELECT 1 FROM internship_offer_weeks w WHERE w.offer_id = o.id{only} \
           AND w.iso_week IN (SELECT sw.iso_week FROM school_internship_weeks sw \
               WHERE sw.school_id = $2 AND sw.level = '3e') \
           AND (SELECT COUNT(*) FROM internship_applications a WHERE a.offer_id = o.id \
               AND a.iso_week = w.iso_week AND a.state = 'confirmed') < o.places_per_week) \
         AND (SELECT COUNT(*) FROM internship_applications a WHERE a.offer_id = o.id \
             AND a.state = 'confirmed') < o.places_total"
    )
}

/// An offer found, before its page is chosen.
struct Candidate {
    id: String,
    title: String,
    point: Point,
    distance_km: f64,
}

/// Every offer the search finds within the radius, with its exact distance. The SQL keeps the
/// offers of the latitude and longitude box whose flat-Earth distance (the longitude scaled by
/// the cosine of the centre's latitude, bound here) is within the radius plus a margin; the
/// great-circle distance then decides. Only what the order needs is read.
async fn candidates(
    conn: &mut sqlx::AnyConnection,
    context: &PupilContext,
    query: &SearchQuery,
    centre: Point,
    radius_km: i64,
    now: i64,
) -> StoreResult<Vec<Candidate>> {
    let radius = radius_km as f64;
    let (min_lat, max_lat, min_lon, max_lon) = bounding_box(centre, radius);
    let cos_lat = centre.latitude.to_radians().cos();
    // Degrees of latitude, squared, of the radius and a 5 % margin (within 100 km of a French
    // centre, the flat-Earth distance is within 2 % of the great circle's).
    let reach = (radius * 1.05 / KM_PER_DEGREE).powi(2);
    let keyword: String = query.keyword.chars().take(MAX_KEYWORD_CHARS).collect();
    let terms = query_terms(&keyword);
    let sector = query.sector_id.as_deref().filter(|s| !s.is_empty());

    let mut next = 15;
    let mut param = || {
        next += 1;
        format!("${next}")
    };
    let week_param = query.week.map(|_| param());
    let mut filters = String::new();
    if sector.is_some() {
        filters.push_str(&format!(" AND o.sector_id = {}", param()));
    }
    if query.accessible_only {
        filters.push_str(" AND o.accessible = 1");
    }
    for _ in &terms {
        filters.push_str(&format!(" AND o.search_text LIKE {}", param()));
    }
    let sql = format!(
        "SELECT o.id, o.title, o.latitude, o.longitude \
         FROM internship_offers o LEFT JOIN hosts h ON h.id = o.host_id \
         WHERE o.state = 'published' AND o.latitude BETWEEN $8 AND $9 \
         AND o.longitude BETWEEN $10 AND $11{filters} \
         AND (o.latitude - $12) * (o.latitude - $12) \
           + (o.longitude - $13) * (o.longitude - $13) * $14 <= $15 \
         AND {} \
         AND NOT EXISTS (SELECT 1 FROM internship_applications a WHERE a.pupil_id = $1 \
             AND a.offer_id = o.id) \
         AND {}",
        shown_sql(),
        open_weeks_sql(week_param.as_deref())
    );

    let mut statement = bind_shown(
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(context.pupil_id.clone()),
        context,
        now,
    )
    .bind(min_lat)
    .bind(max_lat)
    .bind(min_lon)
    .bind(max_lon)
    .bind(centre.latitude)
    .bind(centre.longitude)
    .bind(cos_lat * cos_lat)
    .bind(reach);
    if let Some(week) = query.week {
        statement = statement.bind(week.to_string());
    }
    if let Some(sector) = sector {
        statement = statement.bind(sector.to_owned());
    }
    for term in &terms {
        statement = statement.bind(format!("% {term}%"));
    }
    let rows = statement.fetch_all(&mut *conn).await?;

    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(point) = point(row.try_get(2)?, row.try_get(3)?) else { continue };
        let distance = distance_km(centre, point);
        if distance <= radius {
            found.push(Candidate {
                id: row.try_get(0)?,
                title: row.try_get(1)?,
                point,
                distance_km: distance,
            });
        }
    }
    Ok(found)
}

/// The page's offers in full: host, sector, place, and the pupil's weeks each is open with
/// places left (the fewer of the week's and the total's), in one statement.
async fn hits_of(
    conn: &mut sqlx::AnyConnection,
    context: &PupilContext,
    page: Vec<Candidate>,
) -> StoreResult<Vec<OfferHit>> {
    if page.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = (0..page.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT o.id, COALESCE(h.name, o.employer_name), sec.name, o.city, o.accessible, \
         o.permalink, w.iso_week, o.places_per_week - (SELECT COUNT(*) \
             FROM internship_applications a WHERE a.offer_id = o.id \
             AND a.iso_week = w.iso_week AND a.state = 'confirmed'), \
         o.places_total - (SELECT COUNT(*) FROM internship_applications a \
             WHERE a.offer_id = o.id AND a.state = 'confirmed') \
         FROM internship_offers o LEFT JOIN hosts h ON h.id = o.host_id \
         LEFT JOIN internship_sectors sec ON sec.id = o.sector_id \
         JOIN internship_offer_weeks w ON w.offer_id = o.id \
         WHERE o.id IN ({}) AND w.iso_week IN (SELECT sw.iso_week \
             FROM school_internship_weeks sw WHERE sw.school_id = $1 AND sw.level = '3e') \
         ORDER BY w.iso_week",
        list.join(", ")
    );
    let mut statement = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(context.school_id.clone());
    for candidate in &page {
        statement = statement.bind(candidate.id.clone());
    }
    let rows = statement.fetch_all(&mut *conn).await?;

    let mut hits: Vec<OfferHit> = page
        .into_iter()
        .map(|c| OfferHit {
            id: c.id,
            title: c.title,
            host_name: String::new(),
            sector: None,
            city: String::new(),
            point: c.point,
            distance_km: (c.distance_km * 10.0).round() / 10.0,
            weeks: Vec::new(),
            accessible: false,
            permalink: None,
        })
        .collect();
    for row in rows {
        let offer_id: String = row.try_get(0)?;
        let Some(hit) = hits.iter_mut().find(|hit| hit.id == offer_id) else { continue };
        hit.host_name = row.try_get(1)?;
        hit.sector = row.try_get(2)?;
        hit.city = row.try_get(3)?;
        hit.accessible = row.try_get::<i64, _>(4)? != 0;
        hit.permalink = row.try_get::<Option<String>, _>(5)?.filter(|p| !p.is_empty());
        let week: String = row.try_get(6)?;
        let left = row.try_get::<i64, _>(7)?.min(row.try_get::<i64, _>(8)?);
        if let (Ok(week), true) = (IsoWeek::parse(&week), left > 0) {
            hit.weeks.push((week, left));
        }
    }
    Ok(hits)
}
