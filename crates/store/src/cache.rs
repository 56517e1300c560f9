//! What the store keeps in memory between requests, and the one rule that keeps it true: an
//! entry is kept under the generations of the families of tables it was computed from
//! ([`Generations`], counted by the triggers of migration `0012_cache_generations` on every
//! committed change, whoever made it: this process, another instance on the same PostgreSQL
//! database, or a command on the same SQLite file), and until the next instant at which a
//! class membership starts or stops counting ([`Store::membership_horizon`]). A reader takes
//! the generations in the same statement that checks its session; an entry kept under older
//! generations, or past its horizon, is never returned. Entries are whole answers of
//! authorisation-checked reads, so they are keyed by who asked as well as by what.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use sqlx::Row;

use crate::accounts::paris_date;
use crate::{Store, StoreResult, now_unix};

/// The committed-change counters of the families of tables, read together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Generations {
    /// People, accounts' logins, schools, classes, groups, memberships, roles, preferences,
    /// the schools' communication rules.
    pub directory: i64,
    /// School years, slot grids, rooms, courses and their changes.
    pub timetable: i64,
    /// Sectors, communes, hosts, offers, the collèges' weeks and profiles, the settings,
    /// partners.
    pub internship: i64,
    /// Applications taking or giving back a place (becoming or ceasing to be confirmed).
    pub places: i64,
    /// Applications made or removed (who applied to what).
    pub applications: i64,
    /// The registry of sign-on applications: their URLs, schools and profiles.
    pub sso: i64,
}

/// The SQL of the generations as columns `directory_generation`, `timetable_generation`,
/// `internship_generation`, `places_generation`, `applications_generation` and
/// `sso_generation`, to add to a statement's select list (or its `RETURNING` list).
pub(crate) const GENERATION_COLUMNS: &str = "(SELECT value FROM cache_generations WHERE name = 'directory') AS directory_generation, \
     (SELECT value FROM cache_generations WHERE name = 'timetable') AS timetable_generation, \
     (SELECT value FROM cache_generations WHERE name = 'internship') AS internship_generation, \
     (SELECT value FROM cache_generations WHERE name = 'places') AS places_generation, \
     (SELECT value FROM cache_generations WHERE name = 'applications') \
       AS applications_generation, \
     (SELECT value FROM cache_generations WHERE name = 'sso') AS sso_generation";

impl Generations {
    /// The generations of a row selected with [`GENERATION_COLUMNS`].
    pub(crate) fn of_row(row: &sqlx::any::AnyRow) -> Result<Generations, sqlx::Error> {
        Ok(Generations {
            directory: row.try_get("directory_generation")?,
            timetable: row.try_get("timetable_generation")?,
            internship: row.try_get("internship_generation")?,
            places: row.try_get("places_generation")?,
            applications: row.try_get("applications_generation")?,
            sso: row.try_get("sso_generation")?,
        })
    }
}

/// Under what an entry was kept: the generations it depends on (the others zeroed) and the
/// Unix second from which it no longer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    generations: Generations,
    until: i64,
}

/// A bounded map of entries kept under a [`Stamp`]. When it is full, the entries that no
/// longer hold go first, then all of them: a burst of new keys costs a refill, never memory.
pub(crate) struct Kept<K, V> {
    entries: Mutex<HashMap<K, (Stamp, Arc<V>)>>,
    capacity: usize,
}

impl<K: Eq + Hash, V> Kept<K, V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Kept { entries: Mutex::new(HashMap::new()), capacity }
    }

    /// The entry of `key`, if it was kept under `generations` and still holds at `now`.
    pub(crate) fn get<Q>(&self, key: &Q, generations: Generations, now: i64) -> Option<Arc<V>>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (stamp, value) = entries.get(key)?;
        (stamp.generations == generations && now < stamp.until).then(|| Arc::clone(value))
    }

    /// Keeps `value` for `key` under `generations` until `until`.
    pub(crate) fn put(&self, key: K, generations: Generations, until: i64, value: Arc<V>) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);

        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            let now = now_unix();
            entries.retain(|_, (stamp, _)| stamp.generations == generations && now < stamp.until);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (Stamp { generations, until }, value));
    }
}

/// The store's kept answers (see the module's text).
pub(crate) struct Caches {
    /// `(directory generation, the horizon computed for it)`.
    horizon: Mutex<Option<(i64, i64)>>,
    pub(crate) viewer_facts: Kept<String, crate::directory::ViewerFacts>,
    pub(crate) timetables: Kept<String, crate::timetable::Timetable>,
    pub(crate) searchers: Kept<String, crate::internship::search::Searcher>,
    /// The département's open offers, under the one key `offers`.
    pub(crate) open_offers: Kept<&'static str, crate::internship::search::OpenOffers>,
    /// The places they have taken, under the one key `places`.
    pub(crate) places: Kept<&'static str, crate::internship::search::Places>,
    /// Held by the one request that reads the open offers or their places again.
    pub(crate) open_offers_turn: tokio::sync::Mutex<()>,
    /// The internship sectors, under the one key `sectors`.
    pub(crate) sectors: Kept<&'static str, Vec<(String, String)>>,
    /// The enabled CAS applications registered on an origin, per origin.
    pub(crate) cas_services: Kept<String, Vec<crate::sso::Service>>,
    /// Whether a person may use an application, per application and person (`sso::pair_key`).
    pub(crate) service_allowed: Kept<String, bool>,
    /// What a person releases to an application, per application and person (`sso::pair_key`).
    pub(crate) releases: Kept<String, crate::sso::Released>,
    /// A recipient group as a sender's links reach it, per sender and group token.
    pub(crate) group_reaches: Kept<String, crate::rules::GroupReach>,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Caches")
    }
}

impl Caches {
    pub(crate) fn new() -> Self {
        Caches {
            horizon: Mutex::new(None),
            viewer_facts: Kept::new(65_536),
            timetables: Kept::new(8_192),
            searchers: Kept::new(16_384),
            open_offers: Kept::new(1),
            places: Kept::new(1),
            open_offers_turn: tokio::sync::Mutex::new(()),
            sectors: Kept::new(1),
            cas_services: Kept::new(1_024),
            service_allowed: Kept::new(65_536),
            releases: Kept::new(65_536),
            group_reaches: Kept::new(65_536),
        }
    }
}

/// The longest an entry is kept, in seconds, whatever else holds: a bound on what an
/// unforeseen dependency on the clock could cost.
pub(crate) const LONGEST_KEPT: i64 = 15 * 60;

impl Store {
    /// The generations now (one statement).
    pub async fn generations(&self) -> StoreResult<Generations> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {GENERATION_COLUMNS}")))
            .fetch_one(self.pool())
            .await?;
        Ok(Generations::of_row(&row)?)
    }

    /// The next Unix second after `now` at which some class membership stops (or starts)
    /// counting: the earliest `exit_after` still ahead, and the next midnight in Paris when a
    /// membership written by hand is checked against the Paris date; never more than
    /// [`LONGEST_KEPT`] ahead. Computed once per directory generation (and again when passed).
    pub async fn membership_horizon(&self, directory: i64, now: i64) -> StoreResult<i64> {
        {
            let kept =
                self.caches.horizon.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some((generation, horizon)) = *kept
                && generation == directory
                && now < horizon
            {
                return Ok(horizon.min(now + LONGEST_KEPT));
            }
        }

        let row = sqlx::query(
            "SELECT (SELECT MIN(exit_after) FROM pupil_classes WHERE exit_after > $1) AS next_exit, \
             (SELECT COUNT(*) FROM pupil_classes WHERE exit_after IS NULL \
              AND exit_date IS NOT NULL AND exit_date <> '') AS by_hand",
        )
        .bind(now)
        .fetch_one(self.pool())
        .await?;
        let next_exit: Option<i64> = row.try_get("next_exit")?;
        let by_hand: i64 = row.try_get("by_hand")?;
        let mut horizon = next_exit.unwrap_or(i64::MAX);
        if by_hand > 0 {
            horizon = horizon.min(next_paris_midnight(now));
        }
        // The generation read with the session may be older than the rows just read: keeping
        // the horizon under it is safe (a newer generation recomputes it).
        *self.caches.horizon.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((directory, horizon));
        Ok(horizon.min(now + LONGEST_KEPT))
    }

    /// Until when an entry computed now from the directory of `generations` holds.
    pub(crate) async fn kept_until(&self, generations: Generations) -> StoreResult<i64> {
        let now = now_unix();
        self.membership_horizon(generations.directory, now).await
    }

    /// `key`'s entry in `map` when kept under `stamp` (the generations it depends on, taken
    /// from `generations`); otherwise what `read` gives, kept under `stamp` until the next
    /// change of class membership ([`Store::kept_until`]). `read` runs only on a miss.
    pub(crate) async fn kept_or_read<V>(
        &self,
        map: &Kept<String, V>,
        key: String,
        stamp: Generations,
        generations: Generations,
        read: impl Future<Output = StoreResult<V>>,
    ) -> StoreResult<Arc<V>> {
        if let Some(kept) = map.get(&key, stamp, now_unix()) {
            return Ok(kept);
        }

        let until = self.kept_until(generations).await?;
        let value = Arc::new(read.await?);
        map.put(key, stamp, until, Arc::clone(&value));
        Ok(value)
    }
}

/// The first Unix second of the next day in Paris after `now`.
fn next_paris_midnight(now: i64) -> i64 {
    let Some(today) = paris_date(now) else { return now + 60 };
    let Ok(today) = today.parse::<jiff::civil::Date>() else { return now + 60 };
    let Ok(tomorrow) = today.tomorrow() else { return now + 60 };
    let Ok(zone) = jiff::tz::TimeZone::get("Europe/Paris") else { return now + 60 };
    zone.to_ambiguous_timestamp(tomorrow.to_datetime(jiff::civil::Time::midnight()))
        .compatible()
        .map_or(now + 60, |at| at.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generations(directory: i64) -> Generations {
        Generations { directory, timetable: 1, internship: 1, places: 1, applications: 1, sso: 1 }
    }

    #[test]
    fn an_entry_holds_under_its_generations_until_its_horizon() {
        let kept: Kept<&str, u32> = Kept::new(4);
        kept.put("a", generations(3), 100, Arc::new(7));

        assert_eq!(kept.get(&"a", generations(3), 99).as_deref(), Some(&7));
        assert_eq!(kept.get(&"a", generations(4), 99), None, "a newer generation retires it");
        assert_eq!(kept.get(&"a", generations(3), 100), None, "past its horizon");
        assert_eq!(kept.get(&"b", generations(3), 99), None);
    }

    #[test]
    fn a_full_map_drops_what_no_longer_holds_then_everything() {
        let kept: Kept<u32, u32> = Kept::new(2);
        let far = now_unix() + 3_600;
        kept.put(1, generations(1), far, Arc::new(1));
        kept.put(2, generations(2), far, Arc::new(2));
        kept.put(3, generations(2), far, Arc::new(3));
        assert_eq!(kept.get(&1, generations(1), 0), None, "the stale entry went first");
        assert!(kept.get(&2, generations(2), 0).is_some());
        assert!(kept.get(&3, generations(2), 0).is_some());

        kept.put(4, generations(2), far, Arc::new(4));
        assert_eq!(kept.get(&2, generations(2), 0), None, "then all of them");
        assert!(kept.get(&4, generations(2), 0).is_some());
    }

    #[test]
    fn the_next_paris_midnight_follows_daylight_saving() {
        // 2026-03-28 12:00 UTC (13:00 in Paris): the next midnight is 2026-03-29 00:00+01:00.
        assert_eq!(next_paris_midnight(1_774_699_200), 1_774_738_800);
        // 2026-03-29 12:00 UTC (14:00 in Paris, summer time): 2026-03-30 00:00+02:00.
        assert_eq!(next_paris_midnight(1_774_785_600), 1_774_821_600);
    }
}
