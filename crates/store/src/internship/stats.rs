//! The statistics of the internship platform, for the département (every collège) and for one
//! collège's administrators: 3e pupils with a confirmed internship by week and their share of
//! the 3e pupils, offers and places by sector and by commune (with the internships confirmed
//! in each), the distance from the pupil's home commune (placed through the gazetteer) to the
//! internship, and the share of pupils placed in rural and priority-education collèges against
//! the others. Only counts leave this module: no name, no id of a pupil. A "confirmed
//! internship" is an application in state `confirmed`, counted in the collège it was made
//! from. The same SQL runs on both engines; what needs folding of names or distances (the
//! home commune) is computed here in Rust.

use std::collections::{BTreeMap, HashMap};

use domain::internship::geo::{Point, distance_km};
use sqlx::Row;

use crate::directory::{SchoolRef, administered_by, current_membership, membership_clock};
use crate::{Store, StoreResult};

/// What the statistics cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsScope {
    /// Every collège of the département.
    Departement,
    /// One collège, by id.
    School(String),
}

/// One collège's 3e pupils and how many have a confirmed internship.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolPlacement {
    pub school: SchoolRef,
    pub rural: bool,
    /// `rep`, `rep_plus` or `None`.
    pub priority_education: Option<String>,
    pub third_year: i64,
    /// Pupils with at least one confirmed internship.
    pub placed: i64,
}

/// The pupils of one collège with a confirmed internship in one ISO week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekPlacement {
    pub school: SchoolRef,
    pub iso_week: String,
    /// Whether the collège declared this week as one of its 3e weeks.
    pub declared: bool,
    pub placed: i64,
    pub third_year: i64,
}

/// The pupils of the scope with a confirmed internship in one ISO week, against the 3e pupils
/// of the collèges that declared the week or placed pupils in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekTotal {
    pub iso_week: String,
    pub placed: i64,
    pub third_year: i64,
}

/// Offers and places of one sector or commune.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferLine {
    /// The sector's name or the commune (`86000 Poitiers`); empty when the offers name none.
    pub label: String,
    /// Published offers of verified hosts and partners.
    pub offers: i64,
    /// Their places in all.
    pub places: i64,
    /// Internships confirmed there (by pupils of the scope), in any offer's state.
    pub confirmed: i64,
}

/// The upper bounds of the distance buckets, in km; the last bucket is beyond the last bound.
pub const DISTANCE_BOUNDS_KM: [f64; 4] = [5.0, 10.0, 20.0, 30.0];

/// The distance from home to the confirmed internships of the scope.
#[derive(Debug, Clone, PartialEq)]
pub struct DistanceStats {
    /// Confirmed internships whose pupil's home commune is in the gazetteer.
    pub located: i64,
    /// Confirmed internships whose pupil's home could not be placed (unknown commune, abroad).
    pub unlocated: i64,
    pub median_km: Option<f64>,
    /// Counts for 0–5, 5–10, 10–20, 20–30 and 30 km or more.
    pub buckets: [i64; 5],
}

/// A group of pupils (rural collèges, priority education, the others) and how many are placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupShare {
    /// `rural`, `rep`, `rep_plus`, `other`, `all`.
    pub group: &'static str,
    pub label: &'static str,
    pub third_year: i64,
    pub placed: i64,
}

/// Every statistic of a scope.
#[derive(Debug, Clone, PartialEq)]
pub struct InternshipStats {
    pub schools: Vec<SchoolPlacement>,
    pub weeks: Vec<WeekPlacement>,
    pub week_totals: Vec<WeekTotal>,
    pub sectors: Vec<OfferLine>,
    pub communes: Vec<OfferLine>,
    pub distance: DistanceStats,
    pub groups: Vec<GroupShare>,
}

/// "The pupil `p` (with `pc`, `c`, `m` joined) is a current 3e pupil", `$1` being the
/// membership clock.
fn third_year_pupils_sql() -> String {
    format!(
        "FROM people p JOIN pupil_classes pc ON pc.pupil_id = p.id \
         JOIN classes c ON c.id = pc.class_id JOIN schools s ON s.id = c.school_id \
         LEFT JOIN mefs m ON m.code = p.mef_code \
         WHERE p.profile = 'pupil' AND p.active = 1 AND s.active = 1 AND {} \
         AND (p.mef_code LIKE '103%' OR m.level LIKE '3EME%')",
        current_membership("pc", "$1")
    )
}

/// A commune's name as the AAF and the gazetteer may both write it, reduced to one key:
/// folded, hyphens and apostrophes as spaces, `st`/`ste` as `saint`/`sainte`.
pub fn place_key(name: &str) -> String {
    let folded = domain::names::fold_for_search(&name.replace(['-', '\'', '’'], " "));
    folded
        .split(' ')
        .map(|word| match word {
            "st" => "saint",
            "ste" => "sainte",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The gazetteer in memory, to place homes without one query per pupil.
struct Gazetteer {
    by_name: HashMap<String, Vec<(String, Point)>>,
    by_postcode: HashMap<String, Vec<Point>>,
}

impl Gazetteer {
    /// The centre of the commune named `city` with `postcode`: the name (and the postcode when
    /// several communes share the name), else the postcode alone when it names one commune.
    fn place(&self, postcode: &str, city: &str) -> Option<Point> {
        let postcode = postcode.trim();
        if let Some(found) = self.by_name.get(&place_key(city)) {
            if let Some((_, point)) = found.iter().find(|(code, _)| code == postcode) {
                return Some(*point);
            }
            if found.len() == 1 {
                return Some(found[0].1);
            }
        }
        match self.by_postcode.get(postcode).map(Vec::as_slice) {
            Some([only]) => Some(*only),
            _ => None,
        }
    }
}

/// The median of distances (sorted in place).
fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    })
}

/// The bucket of a distance in km (see [`DISTANCE_BOUNDS_KM`]).
pub fn bucket_of(km: f64) -> usize {
    DISTANCE_BOUNDS_KM.iter().position(|bound| km < *bound).unwrap_or(DISTANCE_BOUNDS_KM.len())
}

/// A group of collèges: its code, its French label, and which collèges belong to it.
type GroupRule = (&'static str, &'static str, fn(&SchoolPlacement) -> bool);

/// The pupils of the groups the département distinguishes, from the collèges' lines.
fn group_shares(schools: &[SchoolPlacement]) -> Vec<GroupShare> {
    let groups: [GroupRule; 5] = [
        ("rural", "Collèges ruraux", |s| s.rural),
        ("rep", "Éducation prioritaire (REP)", |s| s.priority_education.as_deref() == Some("rep")),
        ("rep_plus", "Éducation prioritaire renforcée (REP+)", |s| {
            s.priority_education.as_deref() == Some("rep_plus")
        }),
        ("other", "Autres collèges (ni ruraux ni en éducation prioritaire)", |s| {
            !s.rural && s.priority_education.is_none()
        }),
        ("all", "Tous les collèges", |_| true),
    ];
    groups
        .into_iter()
        .map(|(group, label, member)| {
            let members = schools.iter().filter(|s| member(s));
            let (third_year, placed) =
                members.fold((0, 0), |(t, p), s| (t + s.third_year, p + s.placed));
            GroupShare { group, label, third_year, placed }
        })
        .collect()
}

impl Store {
    /// Whether `actor_id` may read the statistics of `scope`: a département administrator for
    /// every scope, a collège's administrators (role or direction) for theirs.
    async fn may_read_stats(&self, actor_id: &str, scope: &StatsScope) -> StoreResult<bool> {
        match scope {
            StatsScope::Departement => self.is_departement_admin(actor_id).await,
            StatsScope::School(school_id) => {
                let found: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT CAST(1 AS BIGINT) FROM schools s JOIN people p ON p.id = $1 \
                     WHERE s.id = $2 AND s.active = 1 AND p.active = 1 AND (\
                     EXISTS (SELECT 1 FROM roles r WHERE r.person_id = $1 \
                       AND r.role = 'departement_admin') \
                     OR s.id IN ({}))",
                    administered_by("$1")
                )))
                .bind(actor_id)
                .bind(school_id)
                .fetch_optional(self.pool())
                .await?;
                Ok(found.is_some())
            }
        }
    }

    /// The statistics of `scope` for `actor_id`; `None` when they may not read them.
    pub async fn internship_stats(
        &self,
        actor_id: &str,
        scope: &StatsScope,
    ) -> StoreResult<Option<InternshipStats>> {
        if !self.may_read_stats(actor_id, scope).await? {
            return Ok(None);
        }
        let school_id = match scope {
            StatsScope::Departement => None,
            StatsScope::School(id) => Some(id.as_str()),
        };

        let schools = self.school_placements(school_id).await?;
        let (weeks, week_totals) = self.week_placements(school_id, &schools).await?;
        let sectors = self.offer_lines(school_id, OfferGrouping::Sector).await?;
        let communes = self.offer_lines(school_id, OfferGrouping::Commune).await?;
        let distance = self.distance_stats(school_id).await?;
        let groups = group_shares(&schools);
        Ok(Some(InternshipStats {
            schools,
            weeks,
            week_totals,
            sectors,
            communes,
            distance,
            groups,
        }))
    }

    /// The collèges of the scope with their profile, 3e pupils and placed pupils, by name.
    async fn school_placements(
        &self,
        school_id: Option<&str>,
    ) -> StoreResult<Vec<SchoolPlacement>> {
        let rows = sqlx::query(
            "SELECT s.id AS school_id, s.uai, s.name AS school_name, sp.rural, \
             sp.priority_education FROM schools s \
             LEFT JOIN school_internship_profiles sp ON sp.school_id = s.id \
             WHERE s.active = 1 AND ($1 = '' OR s.id = $1) ORDER BY s.name, s.id",
        )
        .bind(school_id.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        let third_year: HashMap<String, i64> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT c.school_id, COUNT(DISTINCT p.id) AS n {} \
             AND ($2 = '' OR c.school_id = $2) GROUP BY c.school_id",
            third_year_pupils_sql()
        )))
        .bind(membership_clock())
        .bind(school_id.unwrap_or(""))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<StoreResult<_>>()?;
        let placed: HashMap<String, i64> = sqlx::query(
            "SELECT a.school_id, COUNT(DISTINCT a.pupil_id) AS n FROM internship_applications a \
             WHERE a.state = 'confirmed' AND ($1 = '' OR a.school_id = $1) GROUP BY a.school_id",
        )
        .bind(school_id.unwrap_or(""))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<StoreResult<_>>()?;

        rows.iter()
            .map(|row| {
                let school = crate::directory::school_ref(row)?;
                let rural: Option<i64> = row.try_get("rural")?;
                Ok(SchoolPlacement {
                    third_year: third_year.get(&school.id).copied().unwrap_or(0),
                    placed: placed.get(&school.id).copied().unwrap_or(0),
                    rural: rural.unwrap_or(0) != 0,
                    priority_education: row.try_get("priority_education")?,
                    school,
                })
            })
            .collect()
    }

    /// The placed pupils per collège and week (the collège's declared 3e weeks and the weeks
    /// it placed pupils in), and per week for the scope.
    async fn week_placements(
        &self,
        school_id: Option<&str>,
        schools: &[SchoolPlacement],
    ) -> StoreResult<(Vec<WeekPlacement>, Vec<WeekTotal>)> {
        let declared = sqlx::query(
            "SELECT school_id, iso_week FROM school_internship_weeks \
             WHERE level = '3e' AND ($1 = '' OR school_id = $1)",
        )
        .bind(school_id.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        let placed = sqlx::query(
            "SELECT a.school_id, a.iso_week, COUNT(DISTINCT a.pupil_id) AS n \
             FROM internship_applications a WHERE a.state = 'confirmed' \
             AND ($1 = '' OR a.school_id = $1) GROUP BY a.school_id, a.iso_week",
        )
        .bind(school_id.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;

        // (school id, week) → (declared, placed).
        let mut cells: BTreeMap<(String, String), (bool, i64)> = BTreeMap::new();
        for row in &declared {
            cells.entry((row.try_get(0)?, row.try_get(1)?)).or_default().0 = true;
        }
        for row in &placed {
            cells.entry((row.try_get(0)?, row.try_get(1)?)).or_default().1 = row.try_get(2)?;
        }
        let mut weeks = Vec::new();
        let mut totals: BTreeMap<String, WeekTotal> = BTreeMap::new();
        for school in schools {
            for ((_, week), (declared, placed)) in cells
                .range((school.school.id.clone(), String::new())..)
                .take_while(|((id, _), _)| *id == school.school.id)
            {
                weeks.push(WeekPlacement {
                    school: school.school.clone(),
                    iso_week: week.clone(),
                    declared: *declared,
                    placed: *placed,
                    third_year: school.third_year,
                });
                let total = totals.entry(week.clone()).or_insert_with(|| WeekTotal {
                    iso_week: week.clone(),
                    placed: 0,
                    third_year: 0,
                });
                total.placed += placed;
                total.third_year += school.third_year;
            }
        }
        Ok((weeks, totals.into_values().collect()))
    }

    /// Published offers and their places per sector or commune, with the internships confirmed
    /// there by pupils of the scope, largest first.
    async fn offer_lines(
        &self,
        school_id: Option<&str>,
        grouping: OfferGrouping,
    ) -> StoreResult<Vec<OfferLine>> {
        let (key, label, join) = match grouping {
            OfferGrouping::Sector => (
                "COALESCE(o.sector_id, '')",
                "COALESCE(sec.name, '')",
                "LEFT JOIN internship_sectors sec ON sec.id = o.sector_id",
            ),
            OfferGrouping::Commune => {
                ("o.postal_code || ' ' || o.city", "TRIM(o.postal_code || ' ' || o.city)", "")
            }
        };
        let offers = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {key} AS k, {label} AS label, COUNT(*) AS offers, \
             CAST(SUM(o.places_total) AS BIGINT) AS places \
             FROM internship_offers o {join} LEFT JOIN hosts h ON h.id = o.host_id \
             WHERE o.state = 'published' AND (o.host_id IS NULL OR h.status = 'verified') \
             GROUP BY {key}, {label}"
        )))
        .fetch_all(self.pool())
        .await?;
        let confirmed = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {key} AS k, {label} AS label, COUNT(*) AS n \
             FROM internship_applications a JOIN internship_offers o ON o.id = a.offer_id {join} \
             WHERE a.state = 'confirmed' AND ($1 = '' OR a.school_id = $1) \
             GROUP BY {key}, {label}"
        )))
        .bind(school_id.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;

        let mut lines: BTreeMap<String, OfferLine> = BTreeMap::new();
        for row in &offers {
            let line = lines.entry(row.try_get("k")?).or_insert_with(OfferLine::empty);
            line.label = row.try_get("label")?;
            line.offers = row.try_get("offers")?;
            line.places = row.try_get("places")?;
        }
        for row in &confirmed {
            let line = lines.entry(row.try_get("k")?).or_insert_with(OfferLine::empty);
            line.label = row.try_get("label")?;
            line.confirmed = row.try_get("n")?;
        }
        let mut lines: Vec<OfferLine> = lines.into_values().collect();
        lines.sort_by(|a, b| {
            (b.offers, b.confirmed).cmp(&(a.offers, a.confirmed)).then_with(|| {
                domain::names::fold_for_search(&a.label)
                    .cmp(&domain::names::fold_for_search(&b.label))
            })
        });
        Ok(lines)
    }

    /// The distances from home to the confirmed internships of the scope.
    async fn distance_stats(&self, school_id: Option<&str>) -> StoreResult<DistanceStats> {
        let internships = sqlx::query(
            "SELECT COALESCE(p.postal_code, '') AS postal_code, COALESCE(p.city, '') AS city, \
             o.latitude, o.longitude FROM internship_applications a \
             JOIN people p ON p.id = a.pupil_id JOIN internship_offers o ON o.id = a.offer_id \
             WHERE a.state = 'confirmed' AND ($1 = '' OR a.school_id = $1)",
        )
        .bind(school_id.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        let gazetteer = self.gazetteer().await?;

        let mut distances = Vec::with_capacity(internships.len());
        let mut unlocated = 0;
        for row in &internships {
            let postcode: String = row.try_get("postal_code")?;
            let city: String = row.try_get("city")?;
            let offer = Point::new(row.try_get("latitude")?, row.try_get("longitude")?);
            match (gazetteer.place(&postcode, &city), offer) {
                (Some(home), Some(offer)) => distances.push(distance_km(home, offer)),
                _ => unlocated += 1,
            }
        }
        let mut buckets = [0i64; 5];
        for km in &distances {
            buckets[bucket_of(*km)] += 1;
        }
        Ok(DistanceStats {
            located: i64::try_from(distances.len()).unwrap_or(i64::MAX),
            unlocated,
            median_km: median(&mut distances),
            buckets,
        })
    }

    /// The gazetteer's communes by name key and by postcode.
    async fn gazetteer(&self) -> StoreResult<Gazetteer> {
        let rows = sqlx::query(
            "SELECT name, COALESCE(postal_code, '') AS postal_code, latitude, longitude \
             FROM communes",
        )
        .fetch_all(self.pool())
        .await?;
        let mut gazetteer = Gazetteer { by_name: HashMap::new(), by_postcode: HashMap::new() };
        for row in &rows {
            let name: String = row.try_get("name")?;
            let postcode: String = row.try_get("postal_code")?;
            let Some(point) = Point::new(row.try_get("latitude")?, row.try_get("longitude")?)
            else {
                continue;
            };
            gazetteer.by_name.entry(place_key(&name)).or_default().push((postcode.clone(), point));
            if !postcode.is_empty() {
                gazetteer.by_postcode.entry(postcode).or_default().push(point);
            }
        }
        Ok(gazetteer)
    }
}

/// How offers are grouped.
#[derive(Debug, Clone, Copy)]
enum OfferGrouping {
    Sector,
    Commune,
}

impl OfferLine {
    fn empty() -> OfferLine {
        OfferLine { label: String::new(), offers: 0, places: 0, confirmed: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn place_keys_agree_between_the_aaf_and_the_gazetteer() {
        assert_eq!(place_key("ST BENOIT"), place_key("Saint-Benoît"));
        assert_eq!(place_key("LUSSAC LES CHATEAUX"), place_key("Lussac-les-Châteaux"));
        assert_eq!(place_key("L'ISLE-JOURDAIN"), place_key("L’Isle-Jourdain"));
        assert_ne!(place_key("Poitiers"), place_key("Chauvigny"));
    }

    #[test]
    fn distances_fall_in_their_bucket_and_the_median_is_the_middle() {
        assert_eq!(bucket_of(0.0), 0);
        assert_eq!(bucket_of(4.99), 0);
        assert_eq!(bucket_of(5.0), 1);
        assert_eq!(bucket_of(19.9), 2);
        assert_eq!(bucket_of(29.9), 3);
        assert_eq!(bucket_of(30.0), 4);
        assert_eq!(bucket_of(300.0), 4);
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [9.0, 1.0, 5.0]), Some(5.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 10.0]), Some(3.0));
    }
}
