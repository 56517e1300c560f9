//! Timetable arithmetic, free of input and output: a school year counted in weeks from the
//! Monday of its first week, week sets (which weeks a course runs, A/B alternation included),
//! lesson times as minutes after local midnight, the instants of an occurrence in the school's
//! own time zone (daylight saving included), and the two conflicts the merged timetable of a
//! teacher flags: overlapping lessons and transfers between collèges too short for the trip.
//!
//! A lesson is stored as a local wall-clock time ("Monday, 08:00 in Europe/Paris"), never as a
//! UTC instant: the instant is computed for each date, so a Monday-08:00 lesson stays at 08:00
//! on both sides of a change of clocks.

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;

/// The most weeks a school year may count (a bit each in a [`WeekSet`]).
pub const MAX_WEEKS: u8 = 60;

/// Minutes in a day.
pub const MINUTES_PER_DAY: u16 = 24 * 60;

/// The longest a single lesson may last, in minutes (a whole-day outing is 12 hours at most).
pub const MAX_LESSON_MINUTES: u16 = 12 * 60;

/// A school's year: its week 1 starts on `first_monday`; lessons stop after `last_day`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchoolYear {
    pub first_monday: Date,
    pub last_day: Date,
}

/// Why a school year cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YearError {
    #[error("la première semaine doit commencer un lundi (reçu {0})")]
    NotMonday(Date),
    #[error("l'année se termine ({last}) avant de commencer ({first})")]
    EndsBeforeStart { first: Date, last: Date },
    #[error("l'année compte plus de {MAX_WEEKS} semaines")]
    TooLong,
}

impl SchoolYear {
    /// A year from the Monday of its first week to its last day, both checked.
    pub fn new(first_monday: Date, last_day: Date) -> Result<SchoolYear, YearError> {
        if first_monday.weekday() != Weekday::Monday {
            return Err(YearError::NotMonday(first_monday));
        }
        if last_day < first_monday {
            return Err(YearError::EndsBeforeStart { first: first_monday, last: last_day });
        }
        let year = SchoolYear { first_monday, last_day };
        if year.week_of(last_day).is_none() {
            return Err(YearError::TooLong);
        }
        Ok(year)
    }

    /// The usual French school year that contains `date`: from the Monday of the week of
    /// 1 September to 7 July of the next calendar year. At the edges of the calendar jiff
    /// knows (years -9999 and 9999), the year is cut to what exists.
    pub fn around(date: Date) -> SchoolYear {
        let start_year = if date.month() >= 8 { date.year() } else { date.year() - 1 };
        let september_first = Date::new(start_year, 9, 1).unwrap_or(Date::MIN);
        let back = i64::from(september_first.weekday().to_monday_zero_offset());
        let first_monday = monday_of(
            september_first.checked_sub(jiff::Span::new().days(back)).unwrap_or(september_first),
        );
        let last_day = Date::new(start_year.saturating_add(1), 7, 7).unwrap_or(Date::MAX);
        SchoolYear { first_monday, last_day }
    }

    /// The school week (1-based) that `date` falls in, if it is inside the year.
    pub fn week_of(&self, date: Date) -> Option<u8> {
        if date < self.first_monday || date > self.last_day {
            return None;
        }
        let days = (date - self.first_monday).get_days();
        let week = days / 7 + 1;
        u8::try_from(week).ok().filter(|week| *week <= MAX_WEEKS)
    }

    /// The date of `weekday` (1 = Monday … 7 = Sunday) in school week `week`, if inside the year.
    pub fn date_of(&self, week: u8, weekday: u8) -> Option<Date> {
        if week == 0 || week > MAX_WEEKS || !(1..=7).contains(&weekday) {
            return None;
        }
        let offset = i64::from(week - 1) * 7 + i64::from(weekday - 1);
        let date = self.first_monday.checked_add(jiff::Span::new().days(offset)).ok()?;
        (date <= self.last_day).then_some(date)
    }

    /// How many weeks the year counts.
    pub fn week_count(&self) -> u8 {
        self.week_of(self.last_day).unwrap_or(MAX_WEEKS)
    }
}

/// The weeks of a school year a course runs, one bit per week: bit 0 is week 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct WeekSet(pub u64);

impl WeekSet {
    /// No week.
    pub const EMPTY: WeekSet = WeekSet(0);

    /// Every week from 1 to `count`.
    pub fn all(count: u8) -> WeekSet {
        let count = count.min(MAX_WEEKS);
        WeekSet(if count == 0 { 0 } else { u64::MAX >> (64 - u32::from(count)) })
    }

    /// The weeks listed (1-based); weeks out of range are ignored.
    pub fn from_weeks(weeks: impl IntoIterator<Item = u8>) -> WeekSet {
        let mut set = WeekSet::EMPTY;
        for week in weeks {
            set.insert(week);
        }
        set
    }

    /// Adds week `week` (1-based) if it is in range.
    pub fn insert(&mut self, week: u8) {
        if (1..=MAX_WEEKS).contains(&week) {
            self.0 |= 1 << (week - 1);
        }
    }

    /// Whether the course runs in week `week` (1-based).
    pub fn contains(&self, week: u8) -> bool {
        (1..=MAX_WEEKS).contains(&week) && self.0 & (1 << (week - 1)) != 0
    }

    /// The weeks, in order.
    pub fn iter(&self) -> impl Iterator<Item = u8> + '_ {
        (1..=MAX_WEEKS).filter(|week| self.contains(*week))
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The weeks of both.
    pub fn union(self, other: WeekSet) -> WeekSet {
        WeekSet(self.0 | other.0)
    }

    /// The weeks of `self` that are not in `other`.
    pub fn minus(self, other: WeekSet) -> WeekSet {
        WeekSet(self.0 & !other.0)
    }

    /// The value stored in a `BIGINT` column (the bits, reinterpreted).
    pub fn to_db(self) -> i64 {
        i64::from_ne_bytes(self.0.to_ne_bytes())
    }

    /// Reads the value of a `BIGINT` column.
    pub fn from_db(value: i64) -> WeekSet {
        WeekSet(u64::from_ne_bytes(value.to_ne_bytes()) & WeekSet::all(MAX_WEEKS).0)
    }
}

/// When a lesson happens within its local day, in minutes after local midnight.
/// `end_minute` may pass midnight (a lesson from 23:00 to 00:30 ends at minute 1470).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LessonTime {
    pub start_minute: u16,
    pub end_minute: u16,
}

/// Why a lesson's times are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LessonTimeError {
    #[error("l'heure de début {0} n'existe pas (minutes après minuit, de 0 à 1439)")]
    StartOutOfDay(u16),
    #[error("la séance finit avant de commencer, ou dure plus de 12 heures")]
    BadDuration,
}

impl LessonTime {
    pub fn new(start_minute: u16, end_minute: u16) -> Result<LessonTime, LessonTimeError> {
        if start_minute >= MINUTES_PER_DAY {
            return Err(LessonTimeError::StartOutOfDay(start_minute));
        }
        if end_minute <= start_minute || end_minute - start_minute > MAX_LESSON_MINUTES {
            return Err(LessonTimeError::BadDuration);
        }
        Ok(LessonTime { start_minute, end_minute })
    }

    /// `"08:05"` for minute 485 (minutes past midnight wrap to the next day's clock).
    pub fn clock(minute: u16) -> String {
        let minute = minute % MINUTES_PER_DAY;
        format!("{:02}:{:02}", minute / 60, minute % 60)
    }

    /// Reads `"8:05"`, `"08:05"`, `"08h05"` or `"08H05"` as minutes after midnight.
    pub fn parse_clock(text: &str) -> Option<u16> {
        let text = text.trim();
        let (hours, minutes) = text.split_once([':', 'h', 'H'])?;
        let hours: u16 = hours.trim().parse().ok()?;
        let minutes: u16 =
            if minutes.trim().is_empty() { 0 } else { minutes.trim().parse().ok()? };
        (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
    }

    /// The instants this lesson starts and ends on `date`, in time zone `zone`. A wall-clock
    /// time that a change of clocks skips is moved forward by the gap, one that it repeats is
    /// taken at its first occurrence (RFC 5545's rule).
    pub fn instants(&self, date: Date, zone: &TimeZone) -> (Timestamp, Timestamp) {
        (local_instant(date, self.start_minute, zone), local_instant(date, self.end_minute, zone))
    }
}

/// The instant of `minute` minutes after the local midnight of `date` in `zone`, counted on
/// the wall clock (a minute past 1440 falls on the next day's clock).
pub fn local_instant(date: Date, minute: u16, zone: &TimeZone) -> Timestamp {
    let days = i64::from(minute / MINUTES_PER_DAY);
    let minute = minute % MINUTES_PER_DAY;
    let date = date.checked_add(jiff::Span::new().days(days)).unwrap_or(date);
    let time = jiff::civil::Time::new(
        i8::try_from(minute / 60).unwrap_or(0),
        i8::try_from(minute % 60).unwrap_or(0),
        0,
        0,
    )
    .unwrap_or(jiff::civil::Time::midnight());
    zone.to_ambiguous_timestamp(date.to_datetime(time))
        .compatible()
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The date and minute after local midnight of instant `at` in `zone`.
pub fn local_date_minute(at: Timestamp, zone: &TimeZone) -> (Date, u16) {
    let zoned = at.to_zoned_datetime(zone.clone());
    let minute =
        u16::try_from(i32::from(zoned.hour()) * 60 + i32::from(zoned.minute())).unwrap_or(0);
    (zoned.date(), minute)
}

/// 1 for Monday … 7 for Sunday.
pub fn weekday_number(date: Date) -> u8 {
    u8::try_from(date.weekday().to_monday_one_offset()).unwrap_or(1)
}

/// The Monday of the ISO week that contains `date`.
pub fn monday_of(date: Date) -> Date {
    let back = i64::from(date.weekday().to_monday_zero_offset());
    date.checked_sub(jiff::Span::new().days(back)).unwrap_or(date)
}

/// How long a teacher needs between lessons in two collèges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TravelPolicy {
    /// Average speed of the trip, door to door, in km/h.
    pub speed_kmh: f64,
    /// Minutes always needed on top of the drive (parking, walking to the room).
    pub margin_minutes: u16,
}

impl Default for TravelPolicy {
    fn default() -> TravelPolicy {
        TravelPolicy { speed_kmh: 40.0, margin_minutes: 10 }
    }
}

impl TravelPolicy {
    /// Minutes needed to go from one point to the other (great-circle distance at the policy's
    /// speed, rounded up, plus the margin). Without both points, only the margin.
    pub fn transfer_minutes(&self, from: Option<(f64, f64)>, to: Option<(f64, f64)>) -> u32 {
        let drive = match (from, to) {
            (Some(from), Some(to)) if self.speed_kmh > 0.0 => {
                (distance_km(from, to) / self.speed_kmh * 60.0).ceil()
            }
            _ => 0.0,
        };
        let drive = if drive.is_finite() && drive >= 0.0 { drive.min(10_000.0) } else { 0.0 };
        // The value is bounded above, so the conversion is exact.
        drive as u32 + u32::from(self.margin_minutes)
    }
}

/// The great-circle distance in kilometres between two `(latitude, longitude)` points.
pub fn distance_km(from: (f64, f64), to: (f64, f64)) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6371.0;
    let (lat1, lon1) = (from.0.to_radians(), from.1.to_radians());
    let (lat2, lon2) = (to.0.to_radians(), to.1.to_radians());
    let half_chord = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * half_chord.sqrt().min(1.0).asin()
}

/// One lesson of a teacher's merged timetable, as the conflict check sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// Whatever identifies the occurrence to the caller.
    pub key: String,
    pub school_id: String,
    pub start: Timestamp,
    pub end: Timestamp,
    /// The school's `(latitude, longitude)`, if known.
    pub place: Option<(f64, f64)>,
}

/// A conflict in a teacher's timetable, between the occurrences at `first` and `second` in the
/// slice given to [`conflicts`] (`first` starts no later than `second`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// The two lessons overlap.
    Overlap { first: usize, second: usize },
    /// Consecutive lessons in two schools with less time between them than the trip takes.
    ShortTransfer { first: usize, second: usize, available_minutes: i64, needed_minutes: u32 },
}

/// The conflicts among `spans` (cancelled lessons left out by the caller): every overlapping
/// pair, and every pair of consecutive lessons in different schools whose gap is shorter than
/// the trip. Lessons more than six hours apart are not consecutive (a morning in one collège
/// and an evening meeting in the other are not a transfer).
pub fn conflicts(spans: &[Span], travel: &TravelPolicy) -> Vec<Conflict> {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|index| (spans[*index].start, spans[*index].end));
    let mut found = Vec::new();

    for (position, &first) in order.iter().enumerate() {
        for &second in &order[position + 1..] {
            if spans[second].start >= spans[first].end {
                break;
            }
            found.push(Conflict::Overlap { first, second });
        }
    }

    for pair in order.windows(2) {
        let (first, second) = (pair[0], pair[1]);
        let (a, b) = (&spans[first], &spans[second]);
        if a.school_id == b.school_id || b.start < a.end {
            continue;
        }
        let available_minutes = (b.start.as_second() - a.end.as_second()) / 60;
        if available_minutes > 6 * 60 {
            continue;
        }
        let needed_minutes = travel.transfer_minutes(a.place, b.place);
        if available_minutes < i64::from(needed_minutes) {
            found.push(Conflict::ShortTransfer {
                first,
                second,
                available_minutes,
                needed_minutes,
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn paris() -> TimeZone {
        TimeZone::get("Europe/Paris").unwrap()
    }

    #[test]
    fn a_monday_eight_oclock_lesson_stays_at_eight_across_both_changes_of_clocks() {
        let lesson = LessonTime::new(8 * 60, 9 * 60).unwrap();
        for monday in [date(2026, 3, 23), date(2026, 3, 30), date(2026, 10, 19), date(2026, 10, 26)]
        {
            let (start, end) = lesson.instants(monday, &paris());
            let zoned = start.to_zoned_datetime(paris());
            assert_eq!((zoned.date(), zoned.hour(), zoned.minute()), (monday, 8, 0));
            assert_eq!(end.as_second() - start.as_second(), 3600);
        }
        let before = lesson.instants(date(2026, 3, 23), &paris()).0;
        let after = lesson.instants(date(2026, 3, 30), &paris()).0;
        assert_eq!(after.as_second() - before.as_second(), 7 * 86_400 - 3600);
    }

    #[test]
    fn a_lesson_across_midnight_ends_on_the_next_day() {
        let lesson = LessonTime::new(23 * 60, 24 * 60 + 30).unwrap();
        let (start, end) = lesson.instants(date(2026, 10, 24), &paris());
        assert_eq!(end.as_second() - start.as_second(), 90 * 60);
        let (day, minute) = local_date_minute(end, &paris());
        assert_eq!((day, minute), (date(2026, 10, 25), 30));
    }

    #[test]
    fn lesson_times_are_checked() {
        assert!(LessonTime::new(1440, 1500).is_err());
        assert!(LessonTime::new(600, 600).is_err());
        assert!(LessonTime::new(60, 60 + 13 * 60).is_err());
        assert_eq!(LessonTime::parse_clock("8h05"), Some(485));
        assert_eq!(LessonTime::parse_clock("08:05"), Some(485));
        assert_eq!(LessonTime::parse_clock("24:00"), None);
        assert_eq!(LessonTime::clock(1470), "00:30");
    }

    #[test]
    fn weeks_count_from_the_first_monday() {
        let year = SchoolYear::around(date(2026, 12, 4));
        assert_eq!(year.first_monday, date(2026, 8, 31));
        assert_eq!(year.week_of(date(2026, 8, 31)), Some(1));
        assert_eq!(year.week_of(date(2026, 9, 6)), Some(1));
        assert_eq!(year.week_of(date(2026, 9, 7)), Some(2));
        assert_eq!(year.week_of(date(2026, 8, 30)), None);
        assert_eq!(year.week_of(date(2027, 7, 8)), None);
        assert_eq!(year.date_of(2, 1), Some(date(2026, 9, 7)));
        assert_eq!(year.date_of(year.week_count(), 3), Some(date(2027, 7, 7)));
        assert_eq!(year.date_of(year.week_count(), 4), None);
        assert!(SchoolYear::new(date(2026, 9, 1), date(2027, 7, 4)).is_err());
    }

    #[test]
    fn the_year_around_any_date_jiff_knows_exists() {
        for day in [Date::MIN, date(-9999, 12, 31), date(9999, 1, 1), Date::MAX] {
            let year = SchoolYear::around(day);
            assert!(year.first_monday <= year.last_day);
            assert_eq!(year.first_monday.weekday(), Weekday::Monday);
        }
    }

    #[test]
    fn week_sets_express_alternating_weeks_and_survive_the_database() {
        let week_a = WeekSet::from_weeks((1..=MAX_WEEKS).step_by(2));
        let week_b = WeekSet::all(MAX_WEEKS).minus(week_a);
        assert!(week_a.contains(1) && !week_a.contains(2) && week_b.contains(2));
        assert_eq!(week_a.union(week_b), WeekSet::all(MAX_WEEKS));
        assert_eq!(WeekSet::from_db(week_b.to_db()), week_b);
        assert_eq!(WeekSet::all(3).iter().collect::<Vec<_>>(), vec![1, 2, 3]);
        assert!(!WeekSet::all(3).contains(0) && !WeekSet::all(3).contains(61));
    }

    #[test]
    fn overlaps_and_short_transfers_are_flagged_and_feasible_days_are_not() {
        let at = |hour: i8, minute: i8| {
            date(2026, 12, 7).at(hour, minute, 0, 0).to_zoned_datetime(paris()).unwrap().timestamp()
        };
        let poitiers = Some((46.58, 0.34));
        let loudun = Some((47.01, 0.08));
        let span = |key: &str, school: &str, start, end, place| Span {
            key: key.into(),
            school_id: school.into(),
            start,
            end,
            place,
        };
        let travel = TravelPolicy::default();
        let feasible = [
            span("a", "poitiers", at(8, 0), at(9, 0), poitiers),
            span("b", "loudun", at(10, 30), at(11, 30), loudun),
        ];
        assert!(conflicts(&feasible, &travel).is_empty());

        let tight = [
            span("a", "poitiers", at(8, 0), at(9, 0), poitiers),
            span("b", "loudun", at(9, 30), at(10, 30), loudun),
            span("c", "loudun", at(10, 0), at(11, 0), loudun),
        ];
        let found = conflicts(&tight, &travel);
        assert!(found.contains(&Conflict::Overlap { first: 1, second: 2 }));
        assert!(found.iter().any(|conflict| matches!(
            conflict,
            Conflict::ShortTransfer { first: 0, second: 1, available_minutes: 30, .. }
        )));
        assert_eq!(found.len(), 2);
    }

    #[test]
    fn distances_are_great_circle() {
        let poitiers_to_loudun = distance_km((46.58, 0.34), (47.01, 0.08));
        assert!((50.0..54.0).contains(&poitiers_to_loudun), "{poitiers_to_loudun}");
    }
}
