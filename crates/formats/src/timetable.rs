//! The timetable exports Préau reads, turned into one shape ([`ParsedTimetable`]) whatever the
//! software that wrote them: the decrypted content of the EDT "export ENT" (`edt`), the UDT
//! export as a folder or ZIP of `UDCal_NN.xml` files (`udt`), and iCalendar feeds such as
//! Pronote's (`ical`, which also writes Préau's own feeds). Nothing here knows the directory:
//! teachers, classes and groups are named as the file names them ([`PartyRef`]), and the store
//! matches them. A course the reader cannot understand becomes a [`Rejection`] with its line;
//! the others are kept.

pub mod edt;
pub mod ical;
pub mod synthetic;
pub mod udt;

use domain::timetable::{LessonTime, WeekSet};
use jiff::civil::Date;

/// Which software wrote a timetable file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimetableSource {
    Edt,
    Udt,
    Ical,
}

impl TimetableSource {
    /// The value stored in `courses.source`.
    pub fn as_str(self) -> &'static str {
        match self {
            TimetableSource::Edt => "edt",
            TimetableSource::Udt => "udt",
            TimetableSource::Ical => "ical",
        }
    }

    pub fn parse(text: &str) -> Option<TimetableSource> {
        match text {
            "edt" => Some(TimetableSource::Edt),
            "udt" => Some(TimetableSource::Udt),
            "ical" => Some(TimetableSource::Ical),
            _ => None,
        }
    }

    /// How the interface names the format.
    pub fn label(self) -> &'static str {
        match self {
            TimetableSource::Edt => "EDT (export ENT déchiffré)",
            TimetableSource::Udt => "UDT (dossier ou ZIP UDCal)",
            TimetableSource::Ical => "iCalendar (.ics)",
        }
    }
}

/// A whole file refused (unreadable, not the expected format, hostile XML…).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}, ligne {line} : {reason}")]
pub struct TimetableFileError {
    pub file: String,
    /// 1-based; 0 when the error concerns the file as a whole.
    pub line: u64,
    pub reason: String,
}

/// One record left out, with where it was and why (French, shown to the school).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub file: String,
    pub line: u64,
    /// The record's own identifier in the file, when it has one (`Cours` number, UID…).
    pub record: String,
    pub reason: String,
}

/// A teacher, class, group or room as the file names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PartyRef {
    /// The identifier of the file itself (`Ident`, UDT `code`), to tie records together.
    pub file_id: String,
    /// A national identifier when the file carries one: the AAF id of a person, the STS code of
    /// a class. Matched first.
    pub external_id: Option<String>,
    /// A teacher's names.
    pub last_name: String,
    pub first_name: String,
    /// A class's, group's or room's name or code as written (`"3E B"`, `"Salle 12"`).
    pub label: String,
}

/// When a parsed course happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CourseWhen {
    /// A weekly pattern in school weeks (EDT, UDT): `weekday` 1 = Monday … 7 = Sunday.
    Weekly { weekday: u8, time: LessonTime, weeks: WeekSet, cancelled_weeks: WeekSet },
    /// Dated occurrences in the school's local time (iCalendar, after expanding recurrences and
    /// converting every time to the school's zone). `cancelled` lists the occurrences the feed
    /// marks cancelled; each of them is also in `occurrences` (like `cancelled_weeks`, a subset).
    Dated { occurrences: Vec<(Date, LessonTime)>, cancelled: Vec<(Date, LessonTime)> },
}

/// One course of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCourse {
    /// Where the record starts, for the report.
    pub line: u64,
    /// A key stable across exports of the same timetable (EDT `Ident` or a digest of the
    /// record's content, UDT fiche code and line, iCalendar UID), unique in the file.
    pub key: String,
    pub subject_code: Option<String>,
    pub subject_label: String,
    pub teachers: Vec<PartyRef>,
    pub classes: Vec<PartyRef>,
    pub groups: Vec<PartyRef>,
    pub rooms: Vec<PartyRef>,
    pub when: CourseWhen,
}

/// A timetable file read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedTimetable {
    pub source: TimetableSource,
    /// The Monday of week 1 and the last day, when the file says (EDT, UDT).
    pub first_monday: Option<Date>,
    pub last_day: Option<Date>,
    /// The slot grid: `(place number, time)`, in order.
    pub places: Vec<(u16, LessonTime)>,
    pub courses: Vec<ParsedCourse>,
    pub rejections: Vec<Rejection>,
    /// Things the reader skipped on purpose and the school should know (an all-day event, a
    /// task): not errors, but reported.
    pub notices: Vec<Rejection>,
}

/// The largest timetable file read (an EDT export of a big collège is a few MB).
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;
