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

/// A whole file refused (unreadable, not the expected format, hostile XML…). It reads
/// « file, ligne N : reason », or « file : reason » when it concerns the file as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct TimetableFileError {
    pub file: String,
    /// 1-based; 0 when the error concerns the file as a whole.
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for TimetableFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            0 => write!(f, "{} : {}", self.file, self.reason),
            line => write!(f, "{}, ligne {line} : {}", self.file, self.reason),
        }
    }
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
    /// The UAI of the school the file says it belongs to, when it says (an EDT `UAI`).
    pub school_uai: Option<String>,
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

/// What the first bytes of a file say it is, whatever format was chosen for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sniffed {
    Zip,
    Calendar,
    Xml,
}

fn sniff(bytes: &[u8]) -> Option<Sniffed> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Some(Sniffed::Zip);
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = text.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(text.len());
    let text = &text[start..];
    let head = &text[..text.len().min(15)];
    if head.eq_ignore_ascii_case(b"BEGIN:VCALENDAR") {
        return Some(Sniffed::Calendar);
    }
    let xml = text.first() == Some(&b'<')
        && text.get(1).is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b'?' | b'!'));
    xml.then_some(Sniffed::Xml)
}

/// Refuses, before reading it, a file whose first bytes show it is another format than the one
/// chosen (`expected`), with the format to choose instead.
pub(crate) fn refuse_other_format(
    bytes: &[u8],
    file: &str,
    expected: TimetableSource,
) -> Result<(), TimetableFileError> {
    let reason = match (sniff(bytes), expected) {
        (Some(Sniffed::Zip), TimetableSource::Edt | TimetableSource::Ical) => {
            "ce fichier est une archive ZIP : choisissez le format UDT"
        }
        (Some(Sniffed::Calendar), TimetableSource::Edt | TimetableSource::Udt) => {
            "ce fichier est un calendrier iCalendar (BEGIN:VCALENDAR) : choisissez le format \
             iCalendar"
        }
        (Some(Sniffed::Xml), TimetableSource::Ical | TimetableSource::Udt) => {
            "ce fichier est un document XML : choisissez le format EDT (un export UDT s'importe \
             en archive ZIP du dossier UDCal, ou en dossier avec la commande preau)"
        }
        _ => return Ok(()),
    };
    Err(TimetableFileError { file: file.to_owned(), line: 0, reason: reason.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_error_names_its_line_only_when_it_has_one() {
        let error = |line| TimetableFileError { file: "f.xml".into(), line, reason: "r".into() };
        assert_eq!(error(0).to_string(), "f.xml : r");
        assert_eq!(error(3).to_string(), "f.xml, ligne 3 : r");
    }
}
