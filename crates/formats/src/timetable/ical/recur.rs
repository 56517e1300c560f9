//! Recurrence rules (RFC 5545 section 3.3.10): `FREQ=DAILY/WEEKLY/MONTHLY/YEARLY` with
//! `INTERVAL`, `COUNT`, `UNTIL`, `BYDAY` (with ordinals where the frequency allows them),
//! `BYMONTHDAY`, `BYMONTH` and `WKST`, expanded on the wall clock of the event's zone. A rule
//! part it does not understand (`BYSETPOS`, `BYWEEKNO`, `BYYEARDAY`, sub-daily frequencies,
//! `RSCALE`…) is refused with its name: a rule is expanded exactly or not at all. Expansion is
//! bounded: by the window asked for, by a number of occurrences and by a work budget, so a
//! hostile rule costs little.

use crate::timetable::ical::values::{
    DAY, checked_days, civil_from_days, days_from_civil, days_in_month, parse_date, parse_datetime,
    weekday,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Frequency {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

/// The end a rule gives itself with `UNTIL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Until {
    /// A date: occurrences on that day are kept.
    Date(i64),
    /// A wall-clock date-time (floating, in the event's zone).
    Local(i64),
    /// A UTC instant (Unix seconds); the caller converts it to the event's wall clock.
    Utc(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    pub(crate) frequency: Frequency,
    pub(crate) interval: i64,
    pub(crate) count: Option<u32>,
    pub(crate) until: Option<Until>,
    /// `(ordinal, weekday)`: weekday 0 = Monday; ordinal `None` for every such day.
    pub(crate) by_day: Vec<(Option<i64>, i64)>,
    pub(crate) by_month_day: Vec<i64>,
    pub(crate) by_month: Vec<i64>,
    /// `BYHOUR`, `BYMINUTE`, `BYSECOND`, each accepted only when it names the start's own value.
    pub(crate) by_time: Vec<(&'static str, i64)>,
    pub(crate) week_start: i64,
}

/// Reads an RRULE value. The error says which part is not supported or malformed.
pub(crate) fn parse_rule(text: &str) -> Result<Rule, String> {
    let mut rule = Rule {
        frequency: Frequency::Daily,
        interval: 1,
        count: None,
        until: None,
        by_day: Vec::new(),
        by_month_day: Vec::new(),
        by_month: Vec::new(),
        by_time: Vec::new(),
        week_start: 0,
    };
    let mut frequency = None;
    let mut seen: Vec<String> = Vec::new();

    for part in text.trim().split(';').filter(|part| !part.trim().is_empty()) {
        let (name, value) =
            part.split_once('=').ok_or_else(|| format!("partie « {} » sans « = »", part.trim()))?;
        let name = name.trim().to_ascii_uppercase();
        let value = value.trim();
        if seen.contains(&name) {
            return Err(format!("{name} apparaît deux fois"));
        }
        seen.push(name.clone());
        match name.as_str() {
            "FREQ" => frequency = Some(parse_frequency(value)?),
            "INTERVAL" => rule.interval = number_in(&name, value, 1, 10_000)?,
            "COUNT" => {
                rule.count =
                    Some(u32::try_from(number_in(&name, value, 1, 1_000_000)?).unwrap_or(1))
            }
            "UNTIL" => rule.until = Some(parse_until(value)?),
            "BYDAY" => rule.by_day = list(value, parse_weekday_item)?,
            "BYMONTHDAY" => {
                rule.by_month_day = list(value, |item| signed_in("BYMONTHDAY", item, 31))?;
            }
            "BYMONTH" => rule.by_month = list(value, |item| number_in("BYMONTH", item, 1, 12))?,
            "WKST" => rule.week_start = weekday_code(value)?,
            "BYHOUR" => rule.by_time.push(("BYHOUR", number_in(&name, value, 0, 23)?)),
            "BYMINUTE" => rule.by_time.push(("BYMINUTE", number_in(&name, value, 0, 59)?)),
            "BYSECOND" => rule.by_time.push(("BYSECOND", number_in(&name, value, 0, 60)?)),
            "BYSETPOS" | "BYWEEKNO" | "BYYEARDAY" | "RSCALE" | "SKIP" => {
                return Err(format!("la partie {name} n'est pas prise en charge"));
            }
            _ => return Err(format!("partie inconnue {name}")),
        }
    }

    rule.frequency = frequency.ok_or("FREQ manquant")?;
    check_combinations(&rule)?;
    Ok(rule)
}

fn check_combinations(rule: &Rule) -> Result<(), String> {
    if rule.count.is_some() && rule.until.is_some() {
        return Err("COUNT et UNTIL ne peuvent pas être donnés ensemble".into());
    }
    let ordinals = rule.by_day.iter().any(|(ordinal, _)| ordinal.is_some());
    match rule.frequency {
        Frequency::Daily | Frequency::Weekly if ordinals => {
            Err("un rang dans BYDAY (« 2MO ») n'a de sens qu'en MONTHLY ou YEARLY".into())
        }
        Frequency::Weekly if !rule.by_month_day.is_empty() => {
            Err("BYMONTHDAY ne se combine pas avec FREQ=WEEKLY".into())
        }
        Frequency::Yearly if ordinals && !rule.by_month_day.is_empty() => {
            Err("BYDAY avec rang et BYMONTHDAY ensemble ne sont pas pris en charge".into())
        }
        _ => Ok(()),
    }
}

fn parse_frequency(value: &str) -> Result<Frequency, String> {
    match value.to_ascii_uppercase().as_str() {
        "DAILY" => Ok(Frequency::Daily),
        "WEEKLY" => Ok(Frequency::Weekly),
        "MONTHLY" => Ok(Frequency::Monthly),
        "YEARLY" => Ok(Frequency::Yearly),
        "HOURLY" | "MINUTELY" | "SECONDLY" => {
            Err(format!("la fréquence {value} (plusieurs fois par jour) n'est pas prise en charge"))
        }
        _ => Err(format!("fréquence inconnue « {value} »")),
    }
}

fn parse_until(value: &str) -> Result<Until, String> {
    if let Some(days) = parse_date(value) {
        return Ok(Until::Date(days));
    }
    match parse_datetime(value) {
        Some((local, true)) => Ok(Until::Utc(local)),
        Some((local, false)) => Ok(Until::Local(local)),
        None => Err(format!("UNTIL illisible « {value} »")),
    }
}

fn number_in(name: &str, value: &str, low: i64, high: i64) -> Result<i64, String> {
    let number: i64 =
        value.trim().parse().map_err(|_| format!("{name} : « {value} » n'est pas un nombre"))?;
    if !(low..=high).contains(&number) {
        return Err(format!("{name} : {number} hors de {low}…{high}"));
    }
    Ok(number)
}

fn signed_in(name: &str, value: &str, high: i64) -> Result<i64, String> {
    let number = number_in(name, value.trim().trim_start_matches('+'), -high, high)?;
    if number == 0 {
        return Err(format!("{name} : 0 n'est pas un rang"));
    }
    Ok(number)
}

fn list<T>(value: &str, item: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
    value.split(',').map(|part| item(part.trim())).collect()
}

fn weekday_code(value: &str) -> Result<i64, String> {
    const CODES: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
    let value = value.trim().to_ascii_uppercase();
    CODES
        .iter()
        .position(|code| *code == value)
        .map(|index| i64::try_from(index).unwrap_or(0))
        .ok_or_else(|| format!("jour de la semaine inconnu « {value} »"))
}

fn parse_weekday_item(item: &str) -> Result<(Option<i64>, i64), String> {
    if item.len() < 2 || !item.is_char_boundary(item.len() - 2) {
        return Err(format!("BYDAY : « {item} » illisible"));
    }
    let (ordinal, code) = item.split_at(item.len() - 2);
    let day = weekday_code(code)?;
    if ordinal.is_empty() {
        return Ok((None, day));
    }
    Ok((Some(signed_in("BYDAY", ordinal, 53)?), day))
}

/// Limits on one expansion.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The most occurrences kept inside the range.
    pub(crate) max_occurrences: usize,
}

/// A shared budget of days examined, so that a file of hostile rules stays cheap.
#[derive(Debug)]
pub(crate) struct Budget(pub(crate) u64);

/// The wall-clock starts (local seconds) of the occurrences of `rule` from `start`, inside the
/// days `range` (inclusive), `start` itself included when it falls in the range. `until` must
/// already be on the same wall clock ([`Until::Utc`] converted by the caller).
pub(crate) fn expand(
    rule: &Rule,
    start: i64,
    until: Option<i64>,
    range: (i64, i64),
    limits: Limits,
    budget: &mut Budget,
) -> Result<Vec<i64>, String> {
    let start_day = start.div_euclid(DAY);
    let time_of_day = start.rem_euclid(DAY);
    for (part, value) in &rule.by_time {
        let own = match *part {
            "BYHOUR" => time_of_day / 3600,
            "BYMINUTE" => time_of_day % 3600 / 60,
            _ => time_of_day % 60,
        };
        if own != *value {
            return Err(format!(
                "{part}={value} (plusieurs heures dans la journée) n'est pas pris en charge"
            ));
        }
    }

    let mut out = Vec::new();
    let mut counted: u64 = 0;
    let in_range = |day: i64| day >= range.0 && day <= range.1;
    if in_range(start_day) {
        out.push(start);
    }

    let mut period = if rule.count.is_none() { skip_periods(rule, start_day, range.0) } else { 0 };
    while let Some(days) = period_days(rule, start_day, period) {
        let Some(first) = days.first().copied() else {
            period += 1;
            continue;
        };
        if first > range.1 {
            break;
        }
        budget.0 = budget.0.saturating_sub(u64::try_from(days.len()).unwrap_or(u64::MAX));
        if budget.0 == 0 {
            return Err("règle de récurrence trop coûteuse à développer".into());
        }
        for day in days.into_iter().filter(|day| matches(rule, start_day, *day)) {
            let at = day * DAY + time_of_day;
            if at < start {
                continue;
            }
            if until.is_some_and(|until| at > until) {
                return Ok(out);
            }
            counted += 1;
            if rule.count.is_some_and(|count| counted > u64::from(count)) {
                return Ok(out);
            }
            if at != start && in_range(day) {
                out.push(at);
                if out.len() > limits.max_occurrences {
                    return Err(format!(
                        "plus de {} occurrences dans la période importée",
                        limits.max_occurrences
                    ));
                }
            }
        }
        period += 1;
    }
    Ok(out)
}

/// How many whole periods can be skipped before `range_start` (only without COUNT, which
/// counts from the start).
fn skip_periods(rule: &Rule, start_day: i64, range_start: i64) -> i64 {
    let gap_days = range_start - start_day;
    if gap_days <= 0 {
        return 0;
    }
    let (start_year, start_month, _) = civil_from_days(start_day);
    let (year, month, _) = civil_from_days(range_start);
    let units = match rule.frequency {
        Frequency::Daily => gap_days,
        Frequency::Weekly => gap_days / 7,
        Frequency::Monthly => (year - start_year) * 12 + (month - start_month),
        Frequency::Yearly => year - start_year,
    };
    (units / rule.interval - 1).max(0)
}

/// Every day of period number `period` that the rule may pick from, in order; `None` past the
/// calendar's end.
fn period_days(rule: &Rule, start_day: i64, period: i64) -> Option<Vec<i64>> {
    let step = period.checked_mul(rule.interval)?;
    let (start_year, start_month, _) = civil_from_days(start_day);
    match rule.frequency {
        Frequency::Daily => {
            let day = start_day.checked_add(step)?;
            (civil_from_days(day).0 <= 9999).then(|| vec![day])
        }
        Frequency::Weekly => {
            let week_start = start_day - (weekday(start_day) - rule.week_start).rem_euclid(7);
            let first = week_start.checked_add(step.checked_mul(7)?)?;
            (civil_from_days(first).0 <= 9999).then(|| (first..first + 7).collect())
        }
        Frequency::Monthly => {
            let months = start_year * 12 + (start_month - 1) + step;
            let (year, month) = (months.div_euclid(12), months.rem_euclid(12) + 1);
            let first = checked_days(year, month, 1)?;
            Some((first..first + days_in_month(year, month)).collect())
        }
        Frequency::Yearly => {
            let year = start_year.checked_add(step)?;
            let first = checked_days(year, 1, 1)?;
            let last = checked_days(year, 12, 31)?;
            Some((first..=last).collect())
        }
    }
}

/// Whether `day`, inside its period, is an occurrence of the rule (RFC 5545's table of how
/// each BYxxx part expands or limits a frequency).
fn matches(rule: &Rule, start_day: i64, day: i64) -> bool {
    let (year, month, month_day) = civil_from_days(day);
    let (_, start_month, start_month_day) = civil_from_days(start_day);
    if !rule.by_month.is_empty() && !rule.by_month.contains(&month) {
        return false;
    }
    if rule.frequency == Frequency::Yearly
        && rule.by_month.is_empty()
        && rule.by_month_day.is_empty()
        && rule.by_day.is_empty()
        && month != start_month
    {
        return false;
    }

    if !rule.by_month_day.is_empty() {
        let length = days_in_month(year, month);
        let hit = rule.by_month_day.iter().any(|wanted| {
            if *wanted > 0 { *wanted == month_day } else { length + wanted + 1 == month_day }
        });
        if !hit {
            return false;
        }
    } else if rule.by_day.is_empty() && rule.frequency != Frequency::Daily {
        let same_weekday = weekday(day) == weekday(start_day);
        let own_day = match rule.frequency {
            Frequency::Weekly => same_weekday,
            _ => month_day == start_month_day,
        };
        if !own_day {
            return false;
        }
    }

    if rule.by_day.is_empty() {
        return true;
    }
    let (span_first, span_last) = if rule.frequency == Frequency::Yearly && rule.by_month.is_empty()
    {
        (days_from_civil(year, 1, 1), days_from_civil(year, 12, 31))
    } else {
        let first = days_from_civil(year, month, 1);
        (first, first + days_in_month(year, month) - 1)
    };
    rule.by_day.iter().any(|(ordinal, wanted)| match ordinal {
        None => weekday(day) == *wanted,
        Some(nth) => nth_weekday(span_first, span_last, *nth, *wanted) == Some(day),
    })
}

/// The `nth` (negative: from the end) `wanted` weekday between two days.
fn nth_weekday(first: i64, last: i64, nth: i64, wanted: i64) -> Option<i64> {
    let day = if nth > 0 {
        first + (wanted - weekday(first)).rem_euclid(7) + (nth - 1) * 7
    } else {
        last - (weekday(last) - wanted).rem_euclid(7) + (nth + 1) * 7
    };
    (first..=last).contains(&day).then_some(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(year: i64, month: i64, day: i64, hour: i64) -> i64 {
        days_from_civil(year, month, day) * DAY + hour * 3600
    }

    fn run(rule: &str, start: i64, range: (i64, i64)) -> Result<Vec<i64>, String> {
        let rule = parse_rule(rule)?;
        let until = rule.until.map(|until| match until {
            Until::Date(days) => days * DAY + DAY - 1,
            Until::Local(local) | Until::Utc(local) => local,
        });
        expand(&rule, start, until, range, Limits { max_occurrences: 1000 }, &mut Budget(1_000_000))
    }

    fn year_range(year: i64) -> (i64, i64) {
        (days_from_civil(year, 1, 1), days_from_civil(year, 12, 31))
    }

    #[test]
    fn weekly_with_days_interval_and_count() {
        let start = at(2026, 9, 7, 8);
        let got =
            run("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;COUNT=5", start, year_range(2026)).unwrap();
        let expected = [(9, 7), (9, 10), (9, 21), (9, 24), (10, 5)];
        assert_eq!(got, expected.map(|(m, d)| at(2026, m, d, 8)).to_vec());
    }

    #[test]
    fn monthly_and_yearly_ordinals() {
        let start = at(2026, 1, 21, 9);
        let got = run("FREQ=MONTHLY;BYDAY=+3WE;COUNT=3", start, year_range(2026)).unwrap();
        assert_eq!(got, vec![at(2026, 1, 21, 9), at(2026, 2, 18, 9), at(2026, 3, 18, 9)]);

        let start = at(1996, 3, 31, 2);
        let got = run("FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", start, year_range(2026)).unwrap();
        assert_eq!(got, vec![at(2026, 3, 29, 2)]);

        let got = run(
            "FREQ=YEARLY;BYMONTH=10;BYMONTHDAY=21,22,23,24,25,26,27;BYDAY=SU",
            start,
            year_range(2026),
        )
        .unwrap();
        assert_eq!(got, vec![at(2026, 10, 25, 2)]);
    }

    #[test]
    fn until_and_month_ends() {
        let start = at(2026, 1, 31, 10);
        let got = run("FREQ=MONTHLY;UNTIL=20260601", start, year_range(2026)).unwrap();
        assert_eq!(got, vec![at(2026, 1, 31, 10), at(2026, 3, 31, 10), at(2026, 5, 31, 10)]);
        let got = run("FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=2", start, year_range(2026)).unwrap();
        assert_eq!(got, vec![at(2026, 1, 31, 10), at(2026, 2, 28, 10)]);
    }

    #[test]
    fn far_ranges_are_reached_without_walking_every_period() {
        let start = at(1900, 1, 1, 8);
        let mut budget = Budget(100);
        let rule = parse_rule("FREQ=DAILY").unwrap();
        let range = (days_from_civil(2026, 9, 1), days_from_civil(2026, 9, 3));
        let got = expand(&rule, start, None, range, Limits { max_occurrences: 10 }, &mut budget);
        assert_eq!(got.unwrap().len(), 3);
    }

    #[test]
    fn unsupported_or_malformed_rules_are_refused() {
        for rule in [
            "FREQ=HOURLY",
            "FREQ=INVALID_TYPE_CAUSES_ERROR",
            "RSCALE=HEBREW;FREQ=YEARLY",
            "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO",
            "%n;BYMONTH=",
            "FREQ=WEEKLY;BYDAY=2MO",
            "FREQ=DAILY;COUNT=2;UNTIL=20260101",
            "INTERVAL=2",
        ] {
            assert!(parse_rule(rule).is_err(), "{rule}");
        }
        let start = at(2026, 1, 1, 8);
        assert!(run("FREQ=DAILY;BYHOUR=8,9", start, year_range(2026)).is_err());
        assert!(run("FREQ=DAILY;BYHOUR=8;COUNT=2", start, year_range(2026)).is_ok());
    }

    #[test]
    fn too_many_occurrences_are_refused() {
        let rule = parse_rule("FREQ=DAILY").unwrap();
        let got = expand(
            &rule,
            at(2026, 1, 1, 8),
            None,
            year_range(2026),
            Limits { max_occurrences: 10 },
            &mut Budget(1_000_000),
        );
        assert!(got.is_err());
    }
}
