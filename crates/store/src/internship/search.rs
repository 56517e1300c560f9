//! The offer search of a 3e pupil (and of their legal guardians), and the one rule of which
//! offers a pupil may see or take (`offer_open_to_pupil`, also called by the applications).
//!
//! A search reads three things, each of which the store may keep in memory (`cache`) under
//! the generations the request read with its session:
//! - the pupil's context (`pupil_internship_context`): their current class and school, the
//!   school's 3e weeks, whether it is rural or in priority education, the département's
//!   settings, where they live (placed with the gazetteer of communes from their AAF address or
//!   their legal guardian's), and the offers they already applied to;
//! - the offers open in the département ([`OpenOffers`]): the SQL keeps what an offer must be
//!   for anyone (published, of a verified host or an active partner); read once per
//!   generation of the offers for the whole département (one request reads, the others wait
//!   for it);
//! - the places they have taken ([`Places`]), counted from the confirmed applications per offer
//!   and week, read again when an application takes or gives back a place (a quick grouping,
//!   while the offers stay);
//! - the sectors.
//!
//! What depends on the pupil is then decided here, in memory, as `offer_open_to_pupil` decides
//! it in SQL (a test holds the two to the same answers): the reservation (rural, priority
//! education, chosen collèges), the head start at this instant, the weeks that are the
//! collège's and not already taken by a confirmed internship; then the distance, the radius,
//! the week, sector, keyword and accessibility filters, the offers already applied to, the
//! order and the page. It does not write anything.

use domain::internship::IsoWeek;
use domain::internship::geo::{Point, bounding_box, distance_km};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use domain::internship::search_terms::query_terms;
use sqlx::Row;

use crate::cache::Generations;

use crate::directory::{current_membership, membership_clock_at};
use crate::{Store, StoreError, StoreResult, now_unix};

/// Offers per page of results.
pub const PAGE_SIZE: usize = 20;
/// The radius a pupil may choose, in kilometres.
pub const MIN_RADIUS_KM: i64 = 5;
pub const MAX_RADIUS_KM: i64 = 100;
/// The longest keyword text read (longer is cut).
pub const MAX_KEYWORD_CHARS: usize = 200;

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

/// What a search needs of the pupil and of who asks, read (and kept) together.
#[derive(Debug, Clone)]
pub(crate) struct Searcher {
    /// `None` when the pupil is not a 3e pupil of a class now.
    context: Option<PupilContext>,
    /// Whether the viewer is the pupil or one of their legal guardians.
    allowed: bool,
    /// The offers the pupil applied to, whatever became of the application.
    applied: HashSet<String>,
    /// The weeks of the pupil's confirmed internships: nothing else is offered for them.
    confirmed_weeks: Vec<IsoWeek>,
}

/// An offer open in the département, with what its line in the results shows.
#[derive(Debug, Clone)]
pub(crate) struct OpenOffer {
    id: String,
    title: String,
    host_name: String,
    sector_id: Option<String>,
    sector: Option<String>,
    city: String,
    point: Point,
    accessible: bool,
    permalink: Option<String>,
    /// The stored search words, between spaces (`offers::offer_search_text`).
    search_text: String,
    reservation: domain::internship::Reservation,
    /// The collèges of a `Schools` reservation.
    reserved_for: Vec<String>,
    /// From when pupils without a head start see it (Unix seconds).
    visible_at: i64,
    /// The weeks the offer is open, in order.
    weeks: Vec<IsoWeek>,
    places_per_week: i64,
    places_total: i64,
}

impl OpenOffer {
    /// Whether the reservation admits the pupil's collège and the head start is over for them
    /// at `now` (the conditions of `shown_sql`).
    fn shown_to(&self, context: &PupilContext, now: i64) -> bool {
        use domain::internship::Reservation;
        let admitted = match self.reservation {
            Reservation::None => true,
            Reservation::Rural => context.rural,
            Reservation::PriorityEducation => context.priority,
            Reservation::Schools => self.reserved_for.contains(&context.school_id),
        };
        admitted
            && (context.has_head_start() || context.head_start_days == 0 || self.visible_at <= now)
    }
}

/// The offers open in the département, in latitude order.
#[derive(Debug)]
pub(crate) struct OpenOffers {
    offers: Vec<OpenOffer>,
    /// Where each offer is in `offers`, by id.
    at: HashMap<String, usize>,
    /// Which reading of the offers this is (places are counted against one reading).
    reading: u64,
}

/// The number of the next reading of the open offers.
static NEXT_READING: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The places taken in the open offers, from the confirmed applications: per offer (in the
/// order of [`OpenOffers::offers`]), in all and per week.
#[derive(Debug, Default)]
pub(crate) struct Places {
    taken: Vec<Taken>,
    /// The reading of the offers `taken` follows the order of.
    reading: u64,
}

/// The places taken in one offer.
#[derive(Debug, Default, Clone)]
struct Taken {
    in_all: i64,
    per_week: Vec<(IsoWeek, i64)>,
}

impl Places {
    /// The weeks of the offer at `at` with a place left, and the places left (the fewer of the
    /// week's and the total's).
    fn weeks_left<'a>(
        &'a self,
        offer: &'a OpenOffer,
        at: usize,
    ) -> impl Iterator<Item = (IsoWeek, i64)> + 'a {
        let taken = self.taken.get(at);
        offer.weeks.iter().filter_map(move |week| {
            let (in_all, that_week) = taken.map_or((0, 0), |taken| {
                let that_week = taken.per_week.iter().find(|(w, _)| w == week).map_or(0, |t| t.1);
                (taken.in_all, that_week)
            });
            let left = (offer.places_per_week - that_week).min(offer.places_total - in_all);
            (left > 0).then_some((*week, left))
        })
    }
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

    /// [`Store::search_offers`] at the instant `now`, read afresh.
    pub async fn search_offers_at(
        &self,
        viewer_id: &str,
        pupil_id: &str,
        query: &SearchQuery,
        now: i64,
    ) -> StoreResult<SearchResults> {
        let mut conn = self.pool().acquire().await?;
        let searcher = searcher_in(&mut conn, viewer_id, pupil_id, now).await?;
        let Some(_) = &searcher.context else { return search(&searcher, None, query, now) };
        let offers = open_offers_in(&mut conn).await?;
        let places = places_in(&mut conn, &offers).await?;
        search(&searcher, Some((&offers, &places)), query, now)
    }

    /// [`Store::search_offers`] with what the store kept under `generations` (`cache`): the
    /// pupil's context until the directory, the offers or the pupil's applications change
    /// (or a class membership ends), and the département's open offers until the offers or
    /// their places change.
    pub async fn search_offers_kept(
        &self,
        viewer_id: &str,
        pupil_id: &str,
        query: &SearchQuery,
        generations: Generations,
    ) -> StoreResult<SearchResults> {
        let now = now_unix();
        let key = format!("{viewer_id}\u{1f}{pupil_id}");
        let stamp = Generations { timetable: 0, sso: 0, ..generations };
        let read = async {
            let mut conn = self.pool().acquire().await?;
            searcher_in(&mut conn, viewer_id, pupil_id, now).await
        };
        let searcher =
            self.kept_or_read(&self.caches.searchers, key, stamp, generations, read).await?;
        if searcher.context.is_none() {
            return search(&searcher, None, query, now);
        }

        let (offers, places) = self.open_offers_kept(generations, now).await?;
        search(&searcher, Some((&offers, &places)), query, now)
    }

    /// The département's open offers and their places, as kept under `generations`: each read
    /// again by one request at a time, the others finding what it read.
    async fn open_offers_kept(
        &self,
        generations: Generations,
        now: i64,
    ) -> StoreResult<(Arc<OpenOffers>, Arc<Places>)> {
        let offers_stamp =
            Generations { internship: generations.internship, ..Generations::default() };
        let places_stamp = Generations { places: generations.places, ..offers_stamp };
        let kept = |caches: &crate::cache::Caches| {
            let offers = caches.open_offers.get(&"offers", offers_stamp, now)?;
            let places = caches.places.get(&"places", places_stamp, now)?;
            (places.reading == offers.reading).then_some((offers, places))
        };
        if let Some(both) = kept(&self.caches) {
            return Ok(both);
        }

        let _turn = self.caches.open_offers_turn.lock().await;
        if let Some(both) = kept(&self.caches) {
            return Ok(both);
        }
        let mut conn = self.pool().acquire().await?;
        let offers = match self.caches.open_offers.get(&"offers", offers_stamp, now) {
            Some(offers) => offers,
            None => {
                let offers = Arc::new(open_offers_in(&mut conn).await?);
                self.caches.open_offers.put(
                    "offers",
                    offers_stamp,
                    now + crate::cache::LONGEST_KEPT,
                    Arc::clone(&offers),
                );
                offers
            }
        };
        // The places are counted against this list of offers: kept under its generation too.
        let places = Arc::new(places_in(&mut conn, &offers).await?);
        self.caches.places.put(
            "places",
            places_stamp,
            now + crate::cache::LONGEST_KEPT,
            Arc::clone(&places),
        );
        Ok((offers, places))
    }
}

/// The pupil's context as the viewer may see it, and the offers the pupil applied to.
async fn searcher_in(
    conn: &mut sqlx::AnyConnection,
    viewer_id: &str,
    pupil_id: &str,
    now: i64,
) -> StoreResult<Searcher> {
    let context = context_in(conn, viewer_id, pupil_id, now).await?;
    let allowed = context.is_some() || may_view_pupil(conn, viewer_id, pupil_id).await?;
    let mut applied = HashSet::new();
    let mut confirmed_weeks = Vec::new();
    if context.is_some() {
        let rows = sqlx::query(
            "SELECT offer_id, iso_week, state FROM internship_applications WHERE pupil_id = $1",
        )
        .bind(pupil_id)
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            applied.insert(row.try_get::<String, _>(0)?);
            let state: String = row.try_get(2)?;
            if state == "confirmed"
                && let Ok(week) = IsoWeek::parse(&row.try_get::<String, _>(1)?)
            {
                confirmed_weeks.push(week);
            }
        }
    }
    Ok(Searcher { context, allowed, applied, confirmed_weeks })
}

/// The search itself, in memory: the centre, the radius, the filters, the order and the page.
fn search(
    searcher: &Searcher,
    offers: Option<(&OpenOffers, &Places)>,
    query: &SearchQuery,
    now: i64,
) -> StoreResult<SearchResults> {
    let (Some(context), Some(offers)) = (&searcher.context, offers) else {
        if !searcher.allowed {
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

    let radius_km =
        query.radius_km.unwrap_or(context.default_radius_km).clamp(MIN_RADIUS_KM, MAX_RADIUS_KM);
    let (around, centre, home_unplaced) = match (query.around, context.home) {
        (Around::Home, Some(home)) => (Around::Home, Some(home), false),
        (Around::Home, None) => (Around::School, context.school_point, true),
        (Around::School, _) => (Around::School, context.school_point, false),
    };
    let mut results = SearchResults {
        context: Some(context.clone()),
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
    let Some(centre) = centre.filter(|_| !wrong_week) else { return Ok(results) };

    let (offers, places) = offers;
    let mut found = candidates(offers, places, context, searcher, query, (centre, radius_km), now);
    found.sort_by(|(_, a, a_km), (_, b, b_km)| {
        a_km.total_cmp(b_km).then_with(|| a.title.cmp(&b.title))
    });
    results.total = found.len();
    results.pages = found.len().div_ceil(PAGE_SIZE).max(1);
    results.page = query.page.clamp(1, results.pages);
    results.offers = found
        .into_iter()
        .skip((results.page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|(at, offer, km)| OfferHit {
            id: offer.id.clone(),
            title: offer.title.clone(),
            host_name: offer.host_name.clone(),
            sector: offer.sector.clone(),
            city: offer.city.clone(),
            point: offer.point,
            distance_km: (km * 10.0).round() / 10.0,
            weeks: places
                .weeks_left(offer, at)
                .filter(|(week, _)| pupil_may_take(context, searcher, *week))
                .collect(),
            accessible: offer.accessible,
            permalink: offer.permalink.clone(),
        })
        .collect();
    Ok(results)
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

/// What an offer `o` (joined to its host `h`) must be to be shown to anyone: published, of a
/// verified host (or an active partner's without a host).
const OPEN_SQL: &str = "o.state = 'published' \
     AND (h.status = 'verified' OR (o.host_id IS NULL AND o.partner_id IS NOT NULL)) \
     AND (o.partner_id IS NULL OR EXISTS (SELECT 1 FROM internship_partners ip \
          WHERE ip.id = o.partner_id AND ip.active = 1))";

/// What an offer `o` (joined to its host `h`) must be to be shown to a pupil, whatever the
/// week: open ([`OPEN_SQL`]), reserved for nobody or for the pupil's school (`$2`, rural `$3`,
/// priority education `$4`), and past the head start (`$6` seconds after publication, unless
/// `$7` says the pupil has one) at `$5`.
fn shown_sql() -> String {
    format!(
        "{OPEN_SQL} \
         AND (o.reservation = 'none' OR (o.reservation = 'rural' AND $3 = 1) \
              OR (o.reservation = 'priority_education' AND $4 = 1) \
              OR (o.reservation = 'schools' AND EXISTS (SELECT 1 \
                  FROM internship_offer_schools os WHERE os.offer_id = o.id \
                  AND os.school_id = $2))) \
         AND ($7 = 1 OR $6 = 0 \
              OR COALESCE(o.visible_from, COALESCE(o.published_at, 0) + $6) <= $5)"
    )
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

/// The offers shown to the pupil at `now` within the radius of `centre` that pass the query's
/// filters, were not applied to and are open one of the collège's weeks the pupil has no
/// confirmed internship in, with their great-circle distance: `offers` are in latitude order,
/// so only the band of the box's latitudes is read, then the box's longitudes, the filters and
/// the distance.
fn candidates<'a>(
    offers: &'a OpenOffers,
    places: &Places,
    context: &PupilContext,
    searcher: &Searcher,
    query: &SearchQuery,
    (centre, radius_km): (Point, i64),
    now: i64,
) -> Vec<(usize, &'a OpenOffer, f64)> {
    let radius = radius_km as f64;
    let (min_lat, max_lat, min_lon, max_lon) = bounding_box(centre, radius);
    let keyword: String = query.keyword.chars().take(MAX_KEYWORD_CHARS).collect();
    // A stored word starts with the term: the stored text puts a space before every word.
    let patterns: Vec<String> = query_terms(&keyword).iter().map(|t| format!(" {t}")).collect();
    let sector = query.sector_id.as_deref().filter(|s| !s.is_empty());

    let all = &offers.offers;
    let first = all.partition_point(|offer| offer.point.latitude < min_lat);
    let end = all.partition_point(|offer| offer.point.latitude <= max_lat).max(first);
    (first..end)
        .map(|at| (at, &all[at]))
        .filter(|(at, offer)| {
            (min_lon..=max_lon).contains(&offer.point.longitude)
                && sector.is_none_or(|sector| offer.sector_id.as_deref() == Some(sector))
                && (!query.accessible_only || offer.accessible)
                && patterns.iter().all(|pattern| offer.search_text.contains(pattern.as_str()))
                && offer.shown_to(context, now)
                && places.weeks_left(offer, *at).any(|(open, _)| {
                    query.week.is_none_or(|week| open == week)
                        && pupil_may_take(context, searcher, open)
                })
                && !searcher.applied.contains(&offer.id)
        })
        .filter_map(|(at, offer)| {
            let distance = distance_km(centre, offer.point);
            (distance <= radius).then_some((at, offer, distance))
        })
        .collect()
}

/// Whether `week` is one of the pupil's collège's 3e weeks and not taken by a confirmed
/// internship of theirs.
fn pupil_may_take(context: &PupilContext, searcher: &Searcher, week: IsoWeek) -> bool {
    context.weeks.contains(&week) && !searcher.confirmed_weeks.contains(&week)
}

/// The offers open in the département: published, of a verified host or an active partner,
/// with their weeks, their reservation and the instant their head start ends, in three
/// statements (the offers, their weeks, the collèges of reserved ones).
async fn open_offers_in(conn: &mut sqlx::AnyConnection) -> StoreResult<OpenOffers> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT o.id, o.title, COALESCE(h.name, o.employer_name), o.sector_id, sec.name, o.city, \
         o.latitude, o.longitude, o.accessible, o.permalink, o.search_text, o.reservation, \
         COALESCE(o.visible_from, COALESCE(o.published_at, 0) + st.head_start_days * 86400), \
         o.places_per_week, o.places_total \
         FROM internship_offers o LEFT JOIN hosts h ON h.id = o.host_id \
         JOIN internship_settings st ON st.id = 1 \
         LEFT JOIN internship_sectors sec ON sec.id = o.sector_id WHERE {OPEN_SQL} ORDER BY o.id"
    )))
    .fetch_all(&mut *conn)
    .await?;

    let mut offers: Vec<OpenOffer> = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(point) = point(row.try_get(6)?, row.try_get(7)?) else { continue };
        let reservation: String = row.try_get(11)?;
        let Some(reservation) = domain::internship::Reservation::parse(&reservation) else {
            continue;
        };
        offers.push(OpenOffer {
            id: row.try_get(0)?,
            title: row.try_get(1)?,
            host_name: row.try_get(2)?,
            sector_id: row.try_get(3)?,
            sector: row.try_get(4)?,
            city: row.try_get(5)?,
            point,
            accessible: row.try_get::<i64, _>(8)? != 0,
            permalink: row.try_get::<Option<String>, _>(9)?.filter(|p| !p.is_empty()),
            search_text: row.try_get(10)?,
            reservation,
            reserved_for: Vec::new(),
            visible_at: row.try_get(12)?,
            weeks: Vec::new(),
            places_per_week: row.try_get(13)?,
            places_total: row.try_get(14)?,
        });
    }
    // By latitude: a search reads only the band of its radius (`candidates`).
    offers.sort_by(|a, b| a.point.latitude.total_cmp(&b.point.latitude));
    let at: HashMap<String, usize> =
        offers.iter().enumerate().map(|(i, offer)| (offer.id.clone(), i)).collect();

    let weeks = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT w.offer_id, w.iso_week FROM internship_offer_weeks w \
         JOIN internship_offers o ON o.id = w.offer_id LEFT JOIN hosts h ON h.id = o.host_id \
         WHERE {OPEN_SQL} ORDER BY w.iso_week"
    )))
    .fetch_all(&mut *conn)
    .await?;
    for row in weeks {
        let offer_id: String = row.try_get(0)?;
        let week: String = row.try_get(1)?;
        if let (Some(&i), Ok(week)) = (at.get(&offer_id), IsoWeek::parse(&week)) {
            offers[i].weeks.push(week);
        }
    }

    let reserved = sqlx::query(
        "SELECT os.offer_id, os.school_id FROM internship_offer_schools os \
         JOIN internship_offers o ON o.id = os.offer_id \
         WHERE o.state = 'published' AND o.reservation = 'schools'",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in reserved {
        let offer_id: String = row.try_get(0)?;
        if let Some(&i) = at.get(&offer_id) {
            offers[i].reserved_for.push(row.try_get(1)?);
        }
    }
    let reading = NEXT_READING.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(OpenOffers { offers, at, reading })
}

/// The places taken in `offers`, counted from the confirmed applications (one grouping).
async fn places_in(conn: &mut sqlx::AnyConnection, offers: &OpenOffers) -> StoreResult<Places> {
    let rows = sqlx::query(
        "SELECT offer_id, iso_week, COUNT(*) FROM internship_applications \
         WHERE state = 'confirmed' GROUP BY offer_id, iso_week",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut places =
        Places { taken: vec![Taken::default(); offers.offers.len()], reading: offers.reading };
    for row in rows {
        let offer_id: String = row.try_get(0)?;
        let Some(&i) = offers.at.get(&offer_id) else { continue };
        let count: i64 = row.try_get(2)?;
        let taken = &mut places.taken[i];
        taken.in_all += count;
        if let Ok(week) = IsoWeek::parse(&row.try_get::<String, _>(1)?) {
            taken.per_week.push((week, count));
        }
    }
    Ok(places)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn week() -> IsoWeek {
        IsoWeek::parse("2027-W04").unwrap()
    }

    fn offer(id: usize, latitude: f64, longitude: f64) -> OpenOffer {
        OpenOffer {
            id: format!("o{id}"),
            title: format!("Offre {id}"),
            host_name: String::new(),
            sector_id: None,
            sector: None,
            city: String::new(),
            point: Point::new(latitude, longitude).unwrap(),
            accessible: false,
            permalink: None,
            search_text: " boulang ".to_owned(),
            reservation: domain::internship::Reservation::None,
            reserved_for: Vec::new(),
            visible_at: 0,
            weeks: vec![week()],
            places_per_week: 1,
            places_total: 1,
        }
    }

    fn context() -> PupilContext {
        PupilContext {
            pupil_id: "p".to_owned(),
            school_id: "s".to_owned(),
            school_uai: String::new(),
            school_name: String::new(),
            school_time_zone: "Europe/Paris".to_owned(),
            class_id: String::new(),
            class: String::new(),
            home: None,
            home_commune: None,
            school_point: None,
            weeks: vec![week()],
            rural: false,
            priority: false,
            head_start_days: 0,
            default_radius_km: 30,
        }
    }

    #[test]
    fn the_latitude_band_finds_exactly_what_the_distance_alone_finds() {
        let centre = Point::new(46.58, 0.34).unwrap();
        let mut offers: Vec<OpenOffer> = (0..400)
            .map(|i| {
                let step = i as f64;
                offer(i, 45.9 + (step * 0.37) % 1.4, -0.4 + (step * 0.53) % 1.5)
            })
            .collect();
        offers.sort_by(|a, b| a.point.latitude.total_cmp(&b.point.latitude));
        let at = offers.iter().enumerate().map(|(i, o)| (o.id.clone(), i)).collect();
        let offers = OpenOffers { offers, at, reading: 0 };
        let places = Places::default();
        let query = SearchQuery::default();
        let searcher = Searcher {
            context: None,
            allowed: true,
            applied: HashSet::new(),
            confirmed_weeks: Vec::new(),
        };

        for radius in [5, 30, 100] {
            let mut found: Vec<&str> =
                candidates(&offers, &places, &context(), &searcher, &query, (centre, radius), 0)
                    .into_iter()
                    .map(|(_, offer, _)| offer.id.as_str())
                    .collect();
            found.sort_unstable();
            let mut expected: Vec<&str> = offers
                .offers
                .iter()
                .filter(|offer| distance_km(centre, offer.point) <= radius as f64)
                .map(|offer| offer.id.as_str())
                .collect();
            expected.sort_unstable();
            assert_eq!(found, expected, "{radius} km");
            assert!(!expected.is_empty() || radius == 5);
        }
    }
}
