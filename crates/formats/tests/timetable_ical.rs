//! The iCalendar reader on every file of `shared/data/ical` (read in place) and on calendars
//! written here for what a school meets (Pronote's layout, changes of clocks, overseas
//! collèges, exceptions and overrides), and the feed writer, read back by the reader.

use domain::timetable::LessonTime;
use formats::timetable::ical::{FeedEvent, parse, write_feed};
use formats::timetable::{CourseWhen, ParsedCourse, ParsedTimetable};
use jiff::civil::{Date, date};
use jiff::tz::TimeZone;

fn data_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ical")
}

fn data(name: &str) -> Vec<u8> {
    std::fs::read(data_dir().join(name)).unwrap()
}

fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap()
}

fn read(text: &str, zone_name: &str, window: (Date, Date)) -> ParsedTimetable {
    parse(text.as_bytes(), "test.ics", &zone(zone_name), window).unwrap()
}

fn school_year() -> (Date, Date) {
    (date(2026, 9, 1), date(2027, 7, 7))
}

fn occurrences(course: &ParsedCourse) -> &[(Date, LessonTime)] {
    match &course.when {
        CourseWhen::Dated { occurrences, .. } => occurrences,
        CourseWhen::Weekly { .. } => panic!("an iCalendar course has dated occurrences"),
    }
}

fn cancelled(course: &ParsedCourse) -> &[(Date, LessonTime)] {
    match &course.when {
        CourseWhen::Dated { cancelled, .. } => cancelled,
        CourseWhen::Weekly { .. } => panic!("an iCalendar course has dated occurrences"),
    }
}

fn at(day: Date, start: (u16, u16), end: (u16, u16)) -> (Date, LessonTime) {
    (day, LessonTime::new(start.0 * 60 + start.1, end.0 * 60 + end.1).unwrap())
}

fn calendar(events: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Index Education//PRONOTE//FR\r\n{}END:VCALENDAR\r\n",
        events.replace('\n', "\r\n")
    )
}

#[test]
fn every_file_of_the_corpus_is_read_or_refused_with_a_reason() {
    let mut paths: Vec<_> =
        std::fs::read_dir(data_dir()).unwrap().map(|entry| entry.unwrap().path()).collect();
    paths.sort();
    assert_eq!(paths.len(), 150, "the corpus is read in place, whole");

    let (mut read_whole, mut refused, mut courses) = (0, 0, 0);
    for path in &paths {
        let bytes = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for (zone_name, window) in [
            ("Europe/Paris", (date(1990, 1, 1), date(2030, 12, 31))),
            ("Pacific/Noumea", (date(2014, 8, 1), date(2014, 8, 31))),
            ("Indian/Reunion", (date(2026, 9, 1), date(2026, 9, 30))),
        ] {
            match parse(&bytes, &name, &zone(zone_name), window) {
                Ok(timetable) => {
                    read_whole += 1;
                    courses += timetable.courses.len();
                    for entry in timetable.rejections.iter().chain(&timetable.notices) {
                        assert!(!entry.reason.is_empty(), "{name}: a reason is given");
                        assert_eq!(entry.file, name);
                    }
                    for course in &timetable.courses {
                        assert!(!occurrences(course).is_empty(), "{name}: {}", course.key);
                    }
                }
                Err(error) => {
                    refused += 1;
                    assert!(!error.reason.is_empty(), "{name}: a reason is given");
                    assert_eq!(error.file, name);
                }
            }
        }
        for eighth in 1..8 {
            let cut = bytes.len() * eighth / 8;
            let _ = parse(&bytes[..cut], &name, &zone("Europe/Paris"), school_year());
        }
    }
    assert_eq!(refused, 3 * 53, "the files without a VCALENDAR, binary or truncated");
    assert_eq!(read_whole, 3 * 97);
    assert!(courses >= 30, "{courses} courses read");
}

#[test]
fn whole_files_that_are_not_calendars_are_refused_with_a_french_reason() {
    let paris = zone("Europe/Paris");
    let refused = |bytes: &[u8]| parse(bytes, "f.ics", &paris, school_year()).unwrap_err().reason;
    assert!(refused(&data("LICENSE-icalendar.rst")).contains("BEGIN:VCALENDAR"));
    assert!(refused(&data("events_event_with_recurrence.ics")).contains("BEGIN:VCALENDAR"));
    assert!(
        refused(&data("calendars_fuzz_testcase_0_char_in_component_name.ics")).contains("binaire")
    );
    assert!(refused(&data("calendars_small_bad_calendar.ics")).contains("tronqué"));
    assert!(refused(b"").contains("vide"));
    assert!(refused(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR").contains("binaire"));
}

#[test]
fn corpus_files_give_the_expected_courses() {
    let paris = zone("Europe/Paris");
    let wide = (date(2000, 1, 1), date(2030, 12, 31));

    let holidays = parse(&data("calendars_example.ics"), "h.ics", &paris, wide).unwrap();
    assert!(holidays.courses.is_empty());
    assert_eq!(holidays.notices.len(), 3, "three all-day events");
    assert!(holidays.notices.iter().all(|notice| notice.reason.contains("journée entière")));
    assert_eq!(holidays.notices[0].record, "636a0cc1dbd5a1667894465@icalendar");

    let bom = parse(&data("calendars_bom_calendar.ics"), "b.ics", &paris, wide).unwrap();
    assert!(bom.courses.is_empty() && bom.rejections.is_empty() && bom.notices.is_empty());

    // A custom VTIMEZONE copying New York's rules: 08:00 EDT is 14:00 in Paris.
    let new_york = parse(&data("calendars_america_new_york.ics"), "n.ics", &paris, wide).unwrap();
    assert_eq!(new_york.courses.len(), 1);
    assert_eq!(occurrences(&new_york.courses[0]), [at(date(2014, 8, 29), (14, 0), (16, 0))]);

    // RFC 7265's example: five daily meetings, an RDATE period of two hours, and an override
    // that moves the third meeting from 12:00 to 14:00 (US/Eastern, six hours behind Paris).
    let meetings =
        parse(&data("calendars_rfc_7265_appendix_example_2_ical.ics"), "r.ics", &paris, wide)
            .unwrap();
    assert_eq!(meetings.courses.len(), 1);
    let days = |day: i8| date(2006, 1, day);
    assert_eq!(
        occurrences(&meetings.courses[0]),
        [
            at(days(2), (18, 0), (19, 0)),
            at(days(2), (21, 0), (23, 0)),
            at(days(3), (18, 0), (19, 0)),
            at(days(4), (20, 0), (21, 0)),
            at(days(5), (18, 0), (19, 0)),
            at(days(6), (18, 0), (19, 0)),
        ]
    );

    // A VTIMEZONE under a name that is not IANA's, weekly on Fridays at 20:00 across the end
    // of summer time on 30 October 2022.
    let fridays = (date(2022, 10, 1), date(2022, 11, 30));
    let custom =
        parse(&data("calendars_issue_466_respect_unique_timezone.ics"), "c.ics", &paris, fridays)
            .unwrap();
    let got = occurrences(&custom.courses[0]);
    assert_eq!(got.len(), 6);
    assert!(got.iter().all(|(_, time)| time.start_minute == 20 * 60), "{got:?}");

    // Every weekday at 14:00 in Zurich since 2016: 22 weekdays in September 2026.
    let sync = parse(
        &data("calendars_x_location.ics"),
        "x.ics",
        &paris,
        (date(2026, 9, 1), date(2026, 9, 30)),
    )
    .unwrap();
    let got = occurrences(&sync.courses[0]);
    assert_eq!(got.len(), 22);
    assert_eq!(got[0], at(date(2026, 9, 1), (14, 0), (14, 30)));

    let mixed =
        parse(&data("calendars_issue_1050_all_components.ics"), "m.ics", &paris, wide).unwrap();
    assert_eq!(mixed.courses.len(), 1);
    assert_eq!(mixed.notices.len(), 3, "a task, a journal entry and an availability");
    assert!(mixed.notices[0].reason.contains("VTODO"));

    let broken = parse(&data("calendars_broken_dtstart.ics"), "d.ics", &paris, wide).unwrap();
    assert_eq!(broken.rejections.len(), 1);
    assert_eq!((broken.rejections[0].line, broken.rejections[0].record.as_str()), (4, "test-123"));
    assert!(broken.rejections[0].reason.contains("DTSTART"));

    let unknown =
        parse(&data("calendars_issue_526_calendar_with_events.ics"), "u.ics", &paris, wide)
            .unwrap();
    assert_eq!(unknown.rejections.len(), 2);
    assert!(unknown.rejections[0].reason.contains("Western/Central Europe"));
}

const MONDAY_MATHS: &str = "BEGIN:VEVENT
UID:cours-maths-3a@pronote
DTSTAMP:20260901T120000Z
DTSTART;TZID=Europe/Paris:20260907T080000
DTEND;TZID=Europe/Paris:20260907T085500
RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20270705T235959Z
SUMMARY:MATHEMATIQUES - DUPONT J.
DESCRIPTION:Matière : MATHEMATIQUES\\nProfesseur(s) : DUPONT Jean\\, LE GA
 LL Anne-Marie\\nSalle(s) : 101\\nGroupe(s) : 3A_G1\\, 3A_G2
LOCATION:Salle 101
CATEGORIES:Cours
END:VEVENT
";

#[test]
fn a_pronote_weekly_lesson_stays_at_eight_across_both_changes_of_clocks() {
    let timetable = read(&calendar(MONDAY_MATHS), "Europe/Paris", school_year());
    assert!(timetable.rejections.is_empty(), "{:?}", timetable.rejections);
    let course = &timetable.courses[0];
    assert_eq!(course.key, "cours-maths-3a@pronote");
    assert_eq!(course.line, 4);
    assert_eq!(course.subject_label, "MATHEMATIQUES");
    let teachers: Vec<_> =
        course.teachers.iter().map(|t| (t.last_name.as_str(), t.first_name.as_str())).collect();
    assert_eq!(teachers, [("DUPONT", "Jean"), ("LE GALL", "Anne-Marie")]);
    assert_eq!(course.rooms[0].label, "101");
    let groups: Vec<_> = course.groups.iter().map(|g| g.label.as_str()).collect();
    assert_eq!(groups, ["3A_G1", "3A_G2"]);

    let got = occurrences(course);
    assert_eq!(got.len(), 44, "every Monday from 7 September 2026 to 5 July 2027");
    assert!(got.iter().all(|(_, time)| *time == LessonTime::new(480, 535).unwrap()));
    for around in [date(2026, 10, 19), date(2026, 10, 26), date(2027, 3, 22), date(2027, 3, 29)] {
        assert!(got.iter().any(|(day, _)| *day == around), "{around}");
    }
    assert!(got.iter().all(|(day, _)| day.weekday() == jiff::civil::Weekday::Monday));
}

#[test]
fn the_summary_gives_the_subject_when_the_description_does_not() {
    let event = "BEGIN:VEVENT\nUID:a\nDTSTART:20260907T060000Z\nDTEND:20260907T070000Z\n\
        SUMMARY:HISTOIRE-GEO - MARTIN P.\nDESCRIPTION:Professeur(s) : MARTIN Paul\nEND:VEVENT\n";
    let timetable = read(&calendar(event), "Europe/Paris", school_year());
    assert_eq!(timetable.courses[0].subject_label, "HISTOIRE-GEO");
    let plain = "BEGIN:VEVENT\nUID:b\nDTSTART:20260907T060000Z\nDURATION:PT1H\n\
        SUMMARY:Sortie - musée\nLOCATION:Musée des beaux-arts\\, Lyon\nEND:VEVENT\n";
    let timetable = read(&calendar(plain), "Europe/Paris", school_year());
    let course = &timetable.courses[0];
    assert_eq!(course.subject_label, "Sortie - musée");
    assert_eq!(course.rooms[0].label, "Musée des beaux-arts, Lyon");
    assert_eq!(occurrences(course), [at(date(2026, 9, 7), (8, 0), (9, 0))]);
}

#[test]
fn utc_times_land_on_the_right_local_day_overseas() {
    let event = "BEGIN:VEVENT\nUID:outre-mer\nDTSTART:20261206T213000Z\nDTEND:20261206T223000Z\n\
        SUMMARY:Anglais\nEND:VEVENT\n";
    let noumea = read(&calendar(event), "Pacific/Noumea", school_year());
    assert_eq!(occurrences(&noumea.courses[0]), [at(date(2026, 12, 7), (8, 30), (9, 30))]);
    assert_eq!(date(2026, 12, 7).weekday(), jiff::civil::Weekday::Monday);

    let event = event
        .replace("20261206T213000Z", "20261207T043000Z")
        .replace("20261206T223000Z", "20261207T053000Z");
    let reunion = read(&calendar(&event), "Indian/Reunion", school_year());
    assert_eq!(occurrences(&reunion.courses[0]), [at(date(2026, 12, 7), (8, 30), (9, 30))]);
    let paris = read(&calendar(&event), "Europe/Paris", school_year());
    assert_eq!(occurrences(&paris.courses[0]), [at(date(2026, 12, 7), (5, 30), (6, 30))]);
}

#[test]
fn floating_times_are_on_the_schools_clock_and_late_lessons_pass_midnight() {
    let event = "BEGIN:VEVENT\nUID:flottant\nDTSTART:20261207T080000\nDTEND:20261207T090000\n\
        SUMMARY:SVT\nEND:VEVENT\nBEGIN:VEVENT\nUID:tard\nDTSTART;TZID=Europe/Paris:20261207T230000\n\
        DTEND;TZID=Europe/Paris:20261208T003000\nSUMMARY:Observation du ciel\nEND:VEVENT\n";
    for zone_name in ["Europe/Paris", "Pacific/Noumea"] {
        let timetable = read(&calendar(event), zone_name, school_year());
        assert_eq!(occurrences(&timetable.courses[0]), [at(date(2026, 12, 7), (8, 0), (9, 0))]);
    }
    let paris = read(&calendar(event), "Europe/Paris", school_year());
    assert_eq!(
        occurrences(&paris.courses[1]),
        [(date(2026, 12, 7), LessonTime::new(1380, 1470).unwrap())]
    );
}

#[test]
fn exdates_remove_and_overrides_move_or_cancel_single_occurrences() {
    let events = format!(
        "{}{}",
        MONDAY_MATHS.replace(
            "CATEGORIES:Cours\n",
            "EXDATE;TZID=Europe/Paris:20260914T080000\nEXDATE:20260921T060000Z\nEXDATE;VALUE=DATE:20260928\n"
        ),
        "BEGIN:VEVENT
UID:cours-maths-3a@pronote
RECURRENCE-ID;TZID=Europe/Paris:20261005T080000
DTSTART;TZID=Europe/Paris:20261006T100000
DTEND;TZID=Europe/Paris:20261006T105500
SUMMARY:MATHEMATIQUES - DUPONT J.
DESCRIPTION:Matière : MATHEMATIQUES\\nProfesseur(s) : DUPONT Jean\\, LE GALL Anne-Marie\\nSalle(s) : 101\\nGroupe(s) : 3A_G1\\, 3A_G2
END:VEVENT
BEGIN:VEVENT
UID:cours-maths-3a@pronote
RECURRENCE-ID:20261012T060000Z
DTSTART;TZID=Europe/Paris:20261012T080000
DTEND;TZID=Europe/Paris:20261012T085500
STATUS:CANCELLED
SUMMARY:MATHEMATIQUES - DUPONT J.
DESCRIPTION:Matière : MATHEMATIQUES\\nProfesseur(s) : DUPONT Jean\\, LE GALL Anne-Marie\\nSalle(s) : 101\\nGroupe(s) : 3A_G1\\, 3A_G2
END:VEVENT
BEGIN:VEVENT
UID:cours-maths-3a@pronote
RECURRENCE-ID;TZID=Europe/Paris:20261019T080000
DTSTART;TZID=Europe/Paris:20261019T080000
DTEND;TZID=Europe/Paris:20261019T085500
SUMMARY:MATHEMATIQUES - DUPONT J.
DESCRIPTION:Matière : MATHEMATIQUES\\nProfesseur(s) : DUPONT Jean\\, LE GALL Anne-Marie\\nSalle(s) : CDI\\nGroupe(s) : 3A_G1\\, 3A_G2
END:VEVENT
"
    );
    let timetable = read(&calendar(&events), "Europe/Paris", school_year());
    assert!(timetable.rejections.is_empty(), "{:?}", timetable.rejections);
    assert_eq!(timetable.courses.len(), 2, "the series, and the occurrence moved to the CDI");

    let series = &timetable.courses[0];
    let got = occurrences(series);
    let on = |day: Date| got.iter().filter(|(d, _)| *d == day).count();
    assert_eq!(got.len(), 44 - 3 - 1, "three EXDATE forms, one occurrence in another room");
    for removed in [
        date(2026, 9, 14),
        date(2026, 9, 21),
        date(2026, 9, 28),
        date(2026, 10, 5),
        date(2026, 10, 19),
    ] {
        assert_eq!(on(removed), 0, "{removed}");
    }
    assert!(got.contains(&at(date(2026, 10, 6), (10, 0), (10, 55))), "moved to Tuesday");
    assert_eq!(cancelled(series), [at(date(2026, 10, 12), (8, 0), (8, 55))]);
    assert!(
        got.contains(&at(date(2026, 10, 12), (8, 0), (8, 55))),
        "cancelled occurrences stay listed"
    );

    let room_change = &timetable.courses[1];
    assert_eq!(room_change.key, "cours-maths-3a@pronote#20261019T060000Z");
    assert_eq!(room_change.rooms[0].label, "CDI");
    assert_eq!(occurrences(room_change), [at(date(2026, 10, 19), (8, 0), (8, 55))]);
}

#[test]
fn a_cancelled_event_lists_its_occurrences_as_cancelled() {
    let event = "BEGIN:VEVENT\nUID:annule\nDTSTART;TZID=Europe/Paris:20261207T100000\n\
        DURATION:PT55M\nSTATUS:CANCELLED\nSUMMARY:EPS\nEND:VEVENT\n";
    let timetable = read(&calendar(event), "Europe/Paris", school_year());
    let course = &timetable.courses[0];
    assert_eq!(cancelled(course), occurrences(course));
    assert_eq!(cancelled(course), [at(date(2026, 12, 7), (10, 0), (10, 55))]);
}

#[test]
fn windows_zone_names_and_own_vtimezones_are_understood() {
    let events = "BEGIN:VTIMEZONE
TZID:Heure de Paris (perso)
BEGIN:STANDARD
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:windows
DTSTART;TZID=\"Romance Standard Time\":20261026T080000
DTEND;TZID=\"Romance Standard Time\":20261026T090000
SUMMARY:Technologie
END:VEVENT
BEGIN:VEVENT
UID:berlin
DTSTART;TZID=W. Europe Standard Time:20270329T080000
DTEND;TZID=W. Europe Standard Time:20270329T090000
SUMMARY:Allemand
END:VEVENT
BEGIN:VEVENT
UID:perso
DTSTART;TZID=Heure de Paris (perso):20260907T080000
DTEND;TZID=Heure de Paris (perso):20260907T090000
RRULE:FREQ=WEEKLY;COUNT=30
SUMMARY:Musique
END:VEVENT
BEGIN:VEVENT
UID:inconnu
DTSTART;TZID=Heure de Mars:20260907T080000
DTEND;TZID=Heure de Mars:20260907T090000
SUMMARY:Physique
END:VEVENT
";
    let timetable = read(&calendar(events), "Europe/Paris", school_year());
    assert_eq!(occurrences(&timetable.courses[0]), [at(date(2026, 10, 26), (8, 0), (9, 0))]);
    assert_eq!(occurrences(&timetable.courses[1]), [at(date(2027, 3, 29), (8, 0), (9, 0))]);
    let own = occurrences(&timetable.courses[2]);
    assert_eq!(own.len(), 30, "crosses both changes of clocks");
    assert!(own.iter().all(|(_, time)| *time == LessonTime::new(480, 540).unwrap()));
    assert_eq!(timetable.rejections.len(), 1);
    assert_eq!(timetable.rejections[0].record, "inconnu");
    assert!(timetable.rejections[0].reason.contains("Heure de Mars"));
}

#[test]
fn what_is_not_a_lesson_is_a_notice_and_what_cannot_be_read_exactly_is_refused() {
    let events = "BEGIN:VEVENT
UID:ferie
DTSTART;VALUE=DATE:20261111
DTEND;VALUE=DATE:20261112
SUMMARY:Armistice
END:VEVENT
BEGIN:VEVENT
UID:voyage
DTSTART;TZID=Europe/Paris:20261116T060000
DTEND;TZID=Europe/Paris:20261116T220000
SUMMARY:Voyage scolaire
END:VEVENT
BEGIN:VEVENT
UID:setpos
DTSTART;TZID=Europe/Paris:20260907T080000
DTEND;TZID=Europe/Paris:20260907T090000
RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1
SUMMARY:Conseil
END:VEVENT
BEGIN:VEVENT
UID:horaire
DTSTART;TZID=Europe/Paris:20260907T080000
DTEND;TZID=Europe/Paris:20260907T090000
RRULE:FREQ=HOURLY;COUNT=3
SUMMARY:Permanence
END:VEVENT
BEGIN:VEVENT
UID:envers
DTSTART;TZID=Europe/Paris:20260907T090000
DTEND;TZID=Europe/Paris:20260907T080000
SUMMARY:À l'envers
END:VEVENT
BEGIN:VTODO
UID:devoir
SUMMARY:Rendre le DM
END:VTODO
";
    let timetable = read(&calendar(events), "Europe/Paris", school_year());
    assert!(timetable.courses.is_empty());
    let notices: Vec<_> = timetable.notices.iter().map(|n| n.record.as_str()).collect();
    assert_eq!(notices, ["ferie", "voyage", "devoir"]);
    assert!(timetable.notices[0].reason.contains("journée entière"));
    assert!(timetable.notices[1].reason.contains("12 heures"));
    let rejected: Vec<_> =
        timetable.rejections.iter().map(|r| (r.line, r.record.as_str())).collect();
    assert_eq!(rejected, [(16, "setpos"), (23, "horaire"), (30, "envers")]);
    assert!(timetable.rejections[0].reason.contains("BYSETPOS"));
    assert!(timetable.rejections[1].reason.contains("HOURLY"));
}

#[test]
fn folded_escaped_and_odd_but_valid_text_is_read() {
    let text = "\u{feff}begin:vcalendar\nversion:2.0\nBEGIN:VEVENT\nuid:plié\n\
        dtstart;tzid=\"Europe/Paris\":20261207T080000\nDTEND;TZID=Europe/Paris:20261207T09\n\t0000\n\
        SUMMARY:Français\\, latin\\; grec \\\\ \n  et 🎭 théâtre\nEND:VEVENT\nend:vcalendar\n\
        BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:second\nDTSTART:20261208T080000Z\nDTEND:20261208T090000Z\n\
        SUMMARY:Deuxième calendrier\nEND:VEVENT\nEND:VCALENDAR\n";
    let timetable = parse(text.as_bytes(), "p.ics", &zone("Europe/Paris"), school_year()).unwrap();
    assert!(timetable.rejections.is_empty(), "{:?}", timetable.rejections);
    assert_eq!(timetable.courses.len(), 2, "both calendars of the file");
    assert_eq!(timetable.courses[0].subject_label, "Français, latin; grec \\  et 🎭 théâtre");
    assert_eq!(occurrences(&timetable.courses[0]), [at(date(2026, 12, 7), (8, 0), (9, 0))]);
}

#[test]
fn hostile_inputs_are_bounded() {
    let huge_line = format!("BEGIN:VCALENDAR\nX-JUNK:{}\nEND:VCALENDAR\n", "a".repeat(2_000_000));
    assert!(parse(huge_line.as_bytes(), "h.ics", &zone("Europe/Paris"), school_year()).is_ok());

    let daily = "BEGIN:VEVENT\nUID:chaque-jour\nDTSTART:00010101T080000Z\nDTEND:00010101T090000Z\n\
        RRULE:FREQ=DAILY;COUNT=1000000\nSUMMARY:x\nEND:VEVENT\n";
    let timetable = read(&calendar(daily), "Europe/Paris", school_year());
    assert_eq!(timetable.rejections.len(), 1, "too costly to count from year 1");

    let yearly = "BEGIN:VEVENT\nUID:jamais\nDTSTART:20260101T080000Z\nDTEND:20260101T090000Z\n\
        RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30\nSUMMARY:x\nEND:VEVENT\n";
    let timetable = read(&calendar(yearly), "Europe/Paris", school_year());
    assert!(timetable.courses.is_empty() && timetable.rejections.is_empty());

    let deep = format!("BEGIN:VCALENDAR\n{}", "BEGIN:X\n".repeat(100));
    assert!(parse(deep.as_bytes(), "d.ics", &zone("Europe/Paris"), school_year()).is_err());
}

fn feed_event(uid: &str, zone_name: &str, start: &str, end: &str, summary: &str) -> FeedEvent {
    FeedEvent {
        uid: uid.to_string(),
        sequence: 2,
        zone: zone_name.to_string(),
        start: start.parse().unwrap(),
        end: end.parse().unwrap(),
        summary: summary.to_string(),
        location: "Salle 101, bâtiment B; étage 1".to_string(),
        description: "Professeur : DUPONT Jean\nRemplacement \\ exceptionnel".to_string(),
        cancelled: false,
        last_modified: "2026-08-30T10:00:00Z".parse().unwrap(),
    }
}

fn feed() -> Vec<FeedEvent> {
    let long = "Éducation musicale 🎵🎻, chorale; orchestre\net répétition générale du spectacle de fin d'année 🎭";
    let mut events = vec![
        feed_event(
            "a@preau",
            "Europe/Paris",
            "2026-10-19T08:00",
            "2026-10-19T08:55",
            "Mathématiques",
        ),
        feed_event(
            "b@preau",
            "Europe/Paris",
            "2026-10-26T08:00",
            "2026-10-26T08:55",
            "Mathématiques",
        ),
        feed_event("c@preau", "Europe/Paris", "2027-03-29T08:00", "2027-03-29T08:55", long),
        feed_event("d@preau", "Europe/Paris", "2026-12-07T23:00", "2026-12-08T00:30", "Astronomie"),
        feed_event("e@preau", "Pacific/Noumea", "2026-12-07T08:30", "2026-12-07T09:30", "Anglais"),
        feed_event("f@preau", "Indian/Reunion", "2026-12-07T08:30", "2026-12-07T09:30", "Créole"),
    ];
    events[1].cancelled = true;
    events
}

#[test]
fn the_feed_is_well_formed() {
    let now = "2026-09-01T06:00:00Z".parse().unwrap();
    let text = write_feed("Emploi du temps de Zoé, 3e B", &feed(), now);
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    assert!(!text.replace("\r\n", "").contains('\n'), "every line ends with CRLF");
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    let unfolded = text.replace("\r\n ", "");
    for expected in [
        "PRODID:-//Préau//Emploi du temps//FR",
        "X-WR-CALNAME:Emploi du temps de Zoé\\, 3e B",
        "X-WR-TIMEZONE:Europe/Paris",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "TZID:Europe/Paris",
        "TZID:Pacific/Noumea",
        "TZID:Indian/Reunion",
        "DTSTART;TZID=Europe/Paris:20261019T080000",
        "DTSTAMP:20260901T060000Z",
        "LAST-MODIFIED:20260830T100000Z",
        "SEQUENCE:2",
        "LOCATION:Salle 101\\, bâtiment B\\; étage 1",
        "DESCRIPTION:Professeur : DUPONT Jean\\nRemplacement \\\\ exceptionnel",
        "SUMMARY:Éducation musicale 🎵🎻\\, chorale\\; orchestre\\net répétition",
        "STATUS:CANCELLED\r\nTRANSP:TRANSPARENT",
    ] {
        assert!(unfolded.contains(expected), "{expected}");
    }
    assert_eq!(unfolded.matches("BEGIN:VTIMEZONE").count(), 3);
    assert_eq!(unfolded.matches("BEGIN:VEVENT").count(), 6);
    assert_eq!(unfolded.matches("STATUS:CONFIRMED").count(), 5);
    // Paris changes clocks on 25 October 2026 and 28 March 2027, inside the events' range.
    assert!(unfolded.contains(
        "BEGIN:STANDARD\r\nDTSTART:20261025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100"
    ));
    assert!(unfolded.contains(
        "BEGIN:DAYLIGHT\r\nDTSTART:20270328T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200"
    ));
    assert!(unfolded.contains("TZOFFSETTO:+1100"));
    let reunion = "TZID:Indian/Reunion\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n\
        TZOFFSETFROM:+0400\r\nTZOFFSETTO:+0400\r\nTZNAME:+04\r\nEND:STANDARD\r\nEND:VTIMEZONE";
    assert!(unfolded.contains(reunion), "a fixed observance for a zone without changes");
}

#[test]
fn the_feed_read_back_gives_the_same_occurrences() {
    let now = "2026-09-01T06:00:00Z".parse().unwrap();
    let events = feed();
    let text = write_feed("Zoé", &events, now);

    for (zone_name, uids) in [
        ("Europe/Paris", &["a@preau", "b@preau", "c@preau", "d@preau"][..]),
        ("Pacific/Noumea", &["e@preau"][..]),
        ("Indian/Reunion", &["f@preau"][..]),
    ] {
        let timetable = read(&text, zone_name, school_year());
        assert!(timetable.rejections.is_empty() && timetable.notices.is_empty());
        for uid in uids {
            let event = events.iter().find(|event| event.uid == *uid).unwrap();
            let course = timetable.courses.iter().find(|course| course.key == *uid).unwrap();
            let start = event.start.hour() as u16 * 60 + event.start.minute() as u16;
            let length = (event.start.duration_until(event.end).as_secs() / 60) as u16;
            let expected = (event.start.date(), LessonTime::new(start, start + length).unwrap());
            assert_eq!(occurrences(course), [expected], "{uid} in {zone_name}");
            assert_eq!(cancelled(course).len(), usize::from(event.cancelled));
            assert_eq!(course.subject_label, event.summary);
            assert_eq!(course.rooms[0].label, event.location);
        }
    }
}

#[test]
fn the_feeds_own_vtimezones_carry_the_changes_of_clocks() {
    let now = "2026-09-01T06:00:00Z".parse().unwrap();
    let text = write_feed("Zoé", &feed(), now);
    // Renamed, the zones are read from the feed's VTIMEZONE blocks rather than jiff's database.
    let renamed = text
        .replace("TZID=Europe/Paris", "TZID=Paris-du-flux")
        .replace("TZID:Europe/Paris", "TZID:Paris-du-flux")
        .replace("TZID=Pacific/Noumea", "TZID=Noumea-du-flux")
        .replace("TZID:Pacific/Noumea", "TZID:Noumea-du-flux");
    let original = read(&text, "Europe/Paris", school_year());
    let from_feed = read(&renamed, "Europe/Paris", school_year());
    assert!(from_feed.rejections.is_empty(), "{:?}", from_feed.rejections);
    assert_eq!(original.courses, from_feed.courses);
    let noumea = from_feed.courses.iter().find(|course| course.key == "e@preau").unwrap();
    assert_eq!(occurrences(noumea), [at(date(2026, 12, 6), (22, 30), (23, 30))]);
}

#[test]
fn an_archive_or_an_xml_file_given_as_icalendar_names_the_format_to_choose() {
    let window = school_year();
    let paris = zone("Europe/Paris");
    let zip = parse(b"PK\x03\x04\x14\x00", "udt.zip", &paris, window).unwrap_err();
    assert!(zip.reason.contains("archive ZIP : choisissez le format UDT"), "{}", zip.reason);
    let xml = parse(b"\xEF\xBB\xBF  <ExportEntEdt/>", "edt.xml", &paris, window).unwrap_err();
    assert!(xml.reason.contains("choisissez le format EDT"), "{}", xml.reason);
    assert_eq!((zip.line, xml.line), (0, 0));
    assert!(!zip.to_string().contains("ligne 0"), "{zip}");
}
