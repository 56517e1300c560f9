//! ISO 8601 weeks, the unit an offer and a collège's internship calendar are matched on:
//! written `2027-W05`, as the national operator API writes them, with their Monday and the
//! French words for "the week of 1 to 5 February 2027".

use jiff::civil::{Date, ISOWeekDate, Weekday};

/// One ISO week (Monday to Sunday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoWeek {
    year: i16,
    week: i8,
}

impl IsoWeek {
    /// Parses `YYYY-Www` (upper-case `W`, two digits), refusing a week the year does not have.
    pub fn parse(text: &str) -> Result<IsoWeek, String> {
        let refuse = || format!("« {text} » n'est pas une semaine ISO de la forme 2027-W05.");
        let (year, week) = text.split_once("-W").ok_or_else(refuse)?;
        if year.len() != 4 || week.len() != 2 {
            return Err(refuse());
        }
        if !year.bytes().chain(week.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(refuse());
        }
        let year: i16 = year.parse().map_err(|_| refuse())?;
        let week: i8 = week.parse().map_err(|_| refuse())?;
        ISOWeekDate::new(year, week, Weekday::Monday).map_err(|_| refuse())?;
        Ok(IsoWeek { year, week })
    }

    /// The week a civil date falls in.
    pub fn of(date: Date) -> IsoWeek {
        let iso = date.iso_week_date();
        IsoWeek { year: iso.year(), week: iso.week() }
    }

    pub fn year(self) -> i16 {
        self.year
    }

    pub fn week(self) -> i8 {
        self.week
    }

    /// The week's Monday.
    pub fn monday(self) -> Date {
        self.day(Weekday::Monday)
    }

    /// The given day of the week.
    pub fn day(self, weekday: Weekday) -> Date {
        ISOWeekDate::new(self.year, self.week, weekday)
            .expect("an IsoWeek is always a valid ISO week")
            .date()
    }

    /// The following week.
    pub fn next(self) -> IsoWeek {
        IsoWeek::of(self.monday().saturating_add(jiff::Span::new().days(7)))
    }

    /// `semaine du 1er au 5 février 2027` (Monday to Friday), for pages and documents.
    pub fn label_fr(self) -> String {
        let monday = self.monday();
        let friday = self.day(Weekday::Friday);
        let first = if monday.day() == 1 { "1er".to_owned() } else { monday.day().to_string() };
        if monday.month() == friday.month() {
            format!("semaine du {first} au {} {} {}", friday.day(), month_fr(friday), friday.year())
        } else if monday.year() == friday.year() {
            format!(
                "semaine du {first} {} au {} {} {}",
                month_fr(monday),
                friday.day(),
                month_fr(friday),
                friday.year()
            )
        } else {
            format!(
                "semaine du {first} {} {} au {} {} {}",
                month_fr(monday),
                monday.year(),
                friday.day(),
                month_fr(friday),
                friday.year()
            )
        }
    }
}

/// Why an offer cannot be open in `week`, seen on `today`: a week already over, or one more
/// than two years ahead (no school plans its internships that far); `None` when it can.
pub fn offer_week_problem(week: IsoWeek, today: Date) -> Option<String> {
    if week.day(Weekday::Friday) < today {
        return Some(format!("La semaine {week} est déjà passée."));
    }
    if week.monday() > today.saturating_add(jiff::Span::new().days(731)) {
        return Some(format!("La semaine {week} est à plus de deux ans."));
    }
    None
}

impl std::fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-W{:02}", self.year, self.week)
    }
}

/// The French name of a date's month.
pub fn month_fr(date: Date) -> &'static str {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    MONTHS[usize::try_from(date.month() - 1).unwrap_or(0)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn parses_prints_and_finds_the_monday() {
        let week = IsoWeek::parse("2027-W05").unwrap();
        assert_eq!(week.to_string(), "2027-W05");
        assert_eq!(week.monday(), date(2027, 2, 1));
        assert_eq!(week.label_fr(), "semaine du 1er au 5 février 2027");
        assert_eq!(IsoWeek::of(date(2027, 2, 7)), week);
        assert_eq!(IsoWeek::parse("2026-W53").unwrap().monday(), date(2026, 12, 28));
        assert_eq!(IsoWeek::parse("2026-W53").unwrap().next().to_string(), "2027-W01");
    }

    #[test]
    fn an_offer_is_open_only_in_weeks_to_come_within_two_years() {
        let today = date(2026, 12, 5);
        assert!(offer_week_problem(IsoWeek::parse("2027-W05").unwrap(), today).is_none());
        assert!(offer_week_problem(IsoWeek::parse("2026-W49").unwrap(), today).is_some());
        assert!(offer_week_problem(IsoWeek::parse("2026-W50").unwrap(), today).is_none());
        assert!(offer_week_problem(IsoWeek::parse("2020-W01").unwrap(), today).is_some());
        assert!(offer_week_problem(IsoWeek::parse("9999-W01").unwrap(), today).is_some());
    }

    #[test]
    fn refuses_what_is_not_a_week() {
        for text in
            ["2027-W54", "2027-W00", "2027W05", "2027-w05", "2027-W5", "27-W05", "", "２０２７-W05"]
        {
            assert!(IsoWeek::parse(text).is_err(), "{text}");
        }
        assert!(IsoWeek::parse("2027-W53").is_err(), "2027 has 52 weeks");
    }
}
