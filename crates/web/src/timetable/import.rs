//! The timetable import of a school (`/etablissement/{uai}/emploi-du-temps`), for its
//! administrators and the département: an upload form (the decrypted EDT export, a UDT ZIP, or
//! an iCalendar file for one class or one teacher of the school), the file read by
//! `formats::timetable`, applied by `Store::import_timetable`, and its report shown (counts,
//! records left out with their file and line, notices, names matched to nobody or to several
//! people, the timetable of the other format it replaced). A file refused whole shows its
//! located reason and is recorded as refused; an import the store finds unsafe (another
//! collège's file, or one that would wipe its scope) is refused with its counts and a « Remplacer
//! quand même » box, sent again with the file. The school's last imports are listed under the
//! form, their file names cleaned up for display (no path, no bidirectional controls, capped).

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use domain::timetable::SchoolYear;
use formats::timetable::{MAX_FILE_BYTES, ParsedTimetable, TimetableFileError, TimetableSource};
use store::directory::SchoolRef;
use store::timetable::{
    ImportOptions, ImportScope, LessonTeacher, TimetableImportOutcome, TimetableImportReport,
};

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::AppError;
use crate::form::{MultipartForm as Submission, MultipartLimits, PathId, Upload, read_multipart};
use crate::session::Viewer;
use crate::templates::{Chrome, render};
use crate::timetable::{french_date, picker::school_choices, today_in};

/// The largest upload form: the file and a few fields.
pub(crate) const MAX_BODY: usize = MAX_FILE_BYTES + 256 * 1024;
/// The longest text field of the form.
const MAX_TEXT_FIELD: usize = 4 * 1024;
/// How many past imports the page lists.
const IMPORTS_SHOWN: i64 = 10;

/// One line of a report.
pub(crate) struct RejectionLine {
    pub(crate) file: String,
    /// 0 when it concerns the file as a whole (shown without a line).
    pub(crate) line: u64,
    pub(crate) record: String,
    pub(crate) reason: String,
}

/// A name matched to nobody or to several people.
pub(crate) struct ProblemLine {
    pub(crate) kind: String,
    pub(crate) label: String,
    pub(crate) verdict: String,
    pub(crate) lines: String,
}

/// An import's report as the page shows it.
pub(crate) struct ReportView {
    pub(crate) counts: String,
    /// « Remplace l'emploi du temps importé au format … », one line per format replaced.
    pub(crate) replaced: Vec<String>,
    pub(crate) rejections: Vec<RejectionLine>,
    pub(crate) notices: Vec<RejectionLine>,
    pub(crate) problems: Vec<ProblemLine>,
}

impl ReportView {
    fn of(report: &TimetableImportReport) -> ReportView {
        let lines = |list: &[formats::timetable::Rejection]| {
            list.iter()
                .map(|r| RejectionLine {
                    file: display_name(&r.file),
                    line: r.line,
                    record: r.record.clone(),
                    reason: r.reason.clone(),
                })
                .collect()
        };
        ReportView {
            counts: counts(report.created, report.updated, report.unchanged, report.removed),
            replaced: report
                .replaced
                .iter()
                .map(|replaced| {
                    let format = TimetableSource::parse(&replaced.source)
                        .map_or_else(|| replaced.source.clone(), |s| s.label().to_owned());
                    format!(
                        "Cet import remplace l'emploi du temps importé au format {format} : ses \
                         {} cours ont été retirés.",
                        replaced.courses
                    )
                })
                .collect(),
            rejections: lines(&report.rejections),
            notices: lines(&report.notices),
            problems: report
                .problems
                .iter()
                .map(|p| ProblemLine {
                    kind: p.kind.clone(),
                    label: p.label.clone(),
                    verdict: match p.candidates {
                        0 => "inconnu dans l'annuaire".to_owned(),
                        n => format!("ambigu : {n} personnes ou groupes possibles, aucun choisi"),
                    },
                    lines: p.lines.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
                })
                .collect(),
        }
    }
}

fn counts(created: u64, updated: u64, unchanged: u64, removed: u64) -> String {
    format!(
        "{created} cours créé(s), {updated} modifié(s), {unchanged} inchangé(s), \
         {removed} supprimé(s)"
    )
}

/// A past import in the list.
pub(crate) struct PastImport {
    pub(crate) date: String,
    pub(crate) source: String,
    pub(crate) file_name: String,
    pub(crate) outcome: String,
    pub(crate) report: ReportView,
}

/// A choice of the target list.
pub(crate) struct TargetChoice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

#[derive(Template)]
#[template(path = "timetable_import.html")]
pub(crate) struct ImportPage {
    pub(crate) chrome: Chrome,
    pub(crate) csrf: String,
    pub(crate) school: SchoolRef,
    pub(crate) format: String,
    pub(crate) classes: Vec<TargetChoice>,
    pub(crate) teachers: Vec<TargetChoice>,
    pub(crate) error: Option<String>,
    /// The refusal can be overridden: the form shows « Remplacer quand même ».
    pub(crate) confirmable: bool,
    pub(crate) report: Option<ReportView>,
    pub(crate) file_name: String,
    pub(crate) past: Vec<PastImport>,
    pub(crate) year: Option<String>,
    pub(crate) zone: String,
    pub(crate) max_mb: usize,
}

/// The school, its zone, classes and teachers, when the viewer administers it.
struct Setup {
    school: SchoolRef,
    zone: String,
    classes: Vec<(String, String)>,
    teachers: Vec<LessonTeacher>,
}

async fn setup(state: &AppState, viewer: &Viewer, uai: &str) -> Result<Setup, AppError> {
    let school =
        state.store.administered_school(viewer.id(), uai).await?.ok_or(AppError::NotFound)?;
    let zone = state.store.school_zone(&school.id).await?;
    let (classes, teachers) = school_choices(state, viewer, &school).await?;
    Ok(Setup { school, zone, classes, teachers })
}

/// What the form sent and how it went.
#[derive(Default)]
struct Outcome {
    format: String,
    target: String,
    file_name: String,
    error: Option<String>,
    confirmable: bool,
    report: Option<ReportView>,
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    setup: Setup,
    outcome: Outcome,
    status: StatusCode,
) -> Result<Response, AppError> {
    let past = state
        .store
        .timetable_imports(&setup.school.id, IMPORTS_SHOWN)
        .await?
        .into_iter()
        .map(|(summary, report)| PastImport {
            date: crate::news::french_datetime(summary.created_at, &setup.zone).0,
            source: TimetableSource::parse(&summary.source)
                .map_or_else(|| summary.source.clone(), |s| s.label().to_owned()),
            file_name: display_name(&summary.file_name),
            outcome: if summary.outcome == "refused" {
                "Fichier refusé".to_owned()
            } else {
                "Appliqué".to_owned()
            },
            report: ReportView::of(&report),
        })
        .collect();
    let year = state.store.school_year_info(&setup.school.id).await?.map(|info| {
        format!(
            "Année scolaire du {} au {}, {} cours.",
            french_date(info.first_monday),
            french_date(info.last_day),
            info.courses
        )
    });
    let choice = |prefix: &str, id: &str, label: String| TargetChoice {
        value: format!("{prefix}:{id}"),
        selected: outcome.target == format!("{prefix}:{id}"),
        label,
    };
    let classes =
        setup.classes.iter().map(|(id, code)| choice("classe", id, format!("Classe {code}")));
    let teachers = setup.teachers.iter().map(|t| choice("enseignant", &t.id, t.name.clone()));

    let html = render(&ImportPage {
        chrome: viewer_chrome(&format!("Emploi du temps : {}", setup.school.name), viewer),
        csrf: viewer.csrf_token.clone(),
        classes: classes.collect(),
        teachers: teachers.collect(),
        school: setup.school,
        format: if outcome.format.is_empty() { "edt".to_owned() } else { outcome.format },
        error: outcome.error,
        confirmable: outcome.confirmable,
        report: outcome.report,
        file_name: outcome.file_name,
        past,
        year,
        zone: setup.zone,
        max_mb: MAX_FILE_BYTES / (1024 * 1024),
    })?;
    Ok((status, Html(html)).into_response())
}

pub(crate) async fn form(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(uai): PathId,
) -> Result<Response, AppError> {
    let setup = setup(&state, &viewer, &uai).await?;
    page(&state, &viewer, setup, Outcome::default(), StatusCode::OK).await
}

/// The page for an upload over the import's limit: it names the limit (on this form, only the
/// file can be large).
fn file_too_large() -> AppError {
    AppError::FileTooLarge { limit_mb: MAX_FILE_BYTES / (1024 * 1024) }
}

/// What the import form may hold.
const LIMITS: MultipartLimits = MultipartLimits {
    file_field: "fichier",
    file_cap: MAX_FILE_BYTES,
    text_cap: MAX_TEXT_FIELD,
    max_parts: 16,
    too_large: file_too_large,
};

/// The import form, its file's name cleaned for display.
async fn read_submission(multipart: Multipart) -> Result<Submission, AppError> {
    let mut submission = read_multipart(multipart, &LIMITS).await?;
    if let Some(file) = submission.file.as_mut() {
        file.name = display_name(&file.name);
    }
    Ok(submission)
}

/// An uploaded or reported file's name as it is stored and shown: `domain::files::display_name`
/// (the last part of the path, no control, bidirectional or invisible characters), its
/// extension kept as typed, and an ellipsis ending a name cut at the length cap.
fn display_name(name: &str) -> String {
    let max = domain::files::MAX_DISPLAY_NAME_CHARS;
    let clean = domain::files::display_name(name, "");
    if clean.chars().count() < max {
        return clean;
    }
    let mut cut: String = clean.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// A file refused whole, as the page says it: the cleaned file name, the line when there is
/// one, and the reason.
fn refusal_text(error: &TimetableFileError) -> String {
    let file = display_name(&error.file);
    match error.line {
        0 => format!("{file} : {}", error.reason),
        line => format!("{file}, ligne {line} : {}", error.reason),
    }
}

/// Reads the file in the chosen format, off the request threads (a big file takes a while);
/// iCalendar times are read in the school's zone and kept within its year.
async fn parse(
    state: &AppState,
    setup: &Setup,
    source: TimetableSource,
    upload: Upload,
) -> Result<Result<ParsedTimetable, TimetableFileError>, AppError> {
    let window = match source {
        TimetableSource::Ical => {
            Some(match state.store.school_year_info(&setup.school.id).await? {
                Some(info) => (info.first_monday, info.last_day),
                None => {
                    let year = SchoolYear::around(today_in(jiff::Timestamp::now(), &setup.zone));
                    (year.first_monday, year.last_day)
                }
            })
        }
        _ => None,
    };
    let zone = crate::timetable::zone(&setup.zone);

    let Upload { name, bytes, .. } = upload;
    tokio::task::spawn_blocking(move || match (source, window) {
        (TimetableSource::Edt, _) => formats::timetable::edt::parse(&bytes, &name),
        (TimetableSource::Udt, _) => formats::timetable::udt::parse_zip(&bytes, &name),
        (TimetableSource::Ical, Some(window)) => {
            formats::timetable::ical::parse(&bytes, &name, &zone, window)
        }
        (TimetableSource::Ical, None) => Err(TimetableFileError {
            file: name.clone(),
            line: 0,
            reason: "année scolaire inconnue".to_owned(),
        }),
    })
    .await
    .map_err(|e| AppError::Internal(format!("timetable parser: {e}")))
}

/// Checks what the form asks for: the format, the file, and for iCalendar the class or
/// teacher of the school it is for.
fn check(setup: &Setup, submission: &Submission) -> Result<(TimetableSource, ImportScope), String> {
    let source = TimetableSource::parse(submission.get("format"))
        .ok_or_else(|| "Choisissez le format du fichier : EDT, UDT ou iCalendar.".to_owned())?;
    match &submission.file {
        None => return Err("Choisissez le fichier à importer.".to_owned()),
        Some(upload) if upload.too_large => {
            return Err(format!(
                "Le fichier « {} » dépasse {} Mo : il n'a pas été lu.",
                upload.name,
                MAX_FILE_BYTES / (1024 * 1024)
            ));
        }
        Some(upload) if upload.bytes.is_empty() => {
            return Err(format!("Le fichier « {} » est vide.", upload.name));
        }
        Some(_) => {}
    }
    if source != TimetableSource::Ical {
        return Ok((source, ImportScope::School));
    }

    let target = submission.get("cible");
    let scope = match target.split_once(':') {
        Some(("classe", id)) if setup.classes.iter().any(|(c, _)| c == id) => {
            ImportScope::Class(id.to_owned())
        }
        Some(("enseignant", id)) if setup.teachers.iter().any(|t| t.id == id) => {
            ImportScope::Teacher(id.to_owned())
        }
        _ => {
            return Err("Un fichier iCalendar est l'emploi du temps d'une classe ou d'un \
                        enseignant : choisissez lequel dans la liste."
                .to_owned());
        }
    };
    Ok((source, scope))
}

pub(crate) async fn upload(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(uai): PathId,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let multipart = multipart
        .map_err(|_| AppError::BadRequest("Le formulaire envoyé n'est pas au bon format."))?;
    let Some(_slot) = state.uploads.enter_waiting(viewer.id()).await else {
        return Ok(crate::error::error_page(
            StatusCode::TOO_MANY_REQUESTS,
            "Trop d'envois en cours",
            "Trop de fichiers sont en cours d'envoi : patientez un instant puis recommencez.",
        ));
    };
    let mut submission = read_submission(multipart).await?;
    viewer.check_csrf(submission.get("csrf_token"))?;
    let setup = setup(&state, &viewer, &uai).await?;

    let mut outcome = Outcome {
        format: submission.get("format").to_owned(),
        target: submission.get("cible").to_owned(),
        file_name: submission.file.as_ref().map(|f| f.name.clone()).unwrap_or_default(),
        ..Outcome::default()
    };
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let (source, scope) = match check(&setup, &submission) {
        Ok(checked) => checked,
        Err(reason) => {
            outcome.error = Some(reason);
            return page(&state, &viewer, setup, outcome, unprocessable).await;
        }
    };
    let Some(upload) = submission.file.take() else {
        return Err(AppError::Internal("checked upload missing".to_owned()));
    };
    let file_name = upload.name.clone();

    let parsed = match parse(&state, &setup, source, upload).await? {
        Ok(parsed) => parsed,
        Err(error) => {
            let reason = refusal_text(&error);
            state
                .store
                .record_refused_timetable(
                    Some(viewer.id()),
                    &setup.school.id,
                    source.as_str(),
                    &file_name,
                    &reason,
                )
                .await?;
            tracing::info!(
                person.id = %viewer.id(), school.id = %setup.school.id, "timetable file refused"
            );
            outcome.error = Some(format!("Fichier refusé, rien n'a été changé : {reason}"));
            return page(&state, &viewer, setup, outcome, unprocessable).await;
        }
    };

    let options = ImportOptions { confirmed: submission.get("confirmer") == "1" };
    let imported = state
        .store
        .import_timetable_with(
            Some(viewer.id()),
            &setup.school.id,
            &file_name,
            &parsed,
            &scope,
            options,
        )
        .await;
    match imported {
        Ok(TimetableImportOutcome::Applied(report)) => {
            tracing::info!(
                person.id = %viewer.id(), school.id = %setup.school.id,
                created = report.created, updated = report.updated, removed = report.removed,
                rejected = report.rejections.len(), "timetable imported"
            );
            outcome.report = Some(ReportView::of(&report));
            page(&state, &viewer, setup, outcome, StatusCode::OK).await
        }
        Ok(TimetableImportOutcome::Refused(refusal)) => {
            tracing::info!(
                person.id = %viewer.id(), school.id = %setup.school.id,
                confirmable = refusal.confirmable, "timetable import refused"
            );
            outcome.error =
                Some(format!("Import refusé, rien n'a été changé : {}.", refusal.reason));
            outcome.confirmable = refusal.confirmable;
            page(&state, &viewer, setup, outcome, unprocessable).await
        }
        Err(store::StoreError::Conflict(reason)) => {
            outcome.error = Some(format!("Import refusé, rien n'a été changé : {reason}"));
            page(&state, &viewer, setup, outcome, unprocessable).await
        }
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploaded_names_keep_their_last_part_only() {
        assert_eq!(display_name("C:\\exports\\edt.xml"), "edt.xml");
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("\u{7}"), "fichier");
    }

    #[test]
    fn shown_names_lose_bidi_controls_and_long_ones_end_with_an_ellipsis() {
        assert_eq!(display_name("emploi\u{202E}lmx.exe"), "emploilmx.exe");
        let long = format!("{}.xml", "a".repeat(300));
        let shown = display_name(&long);
        assert_eq!(shown.chars().count(), domain::files::MAX_DISPLAY_NAME_CHARS);
        assert!(shown.ends_with('…'), "{shown}");
    }
}
