//! The French text of a timetable import's report, printed by the demo when a file of its own
//! is not imported cleanly (and meant for `preau import timetable`): counts of courses created,
//! updated, unchanged and removed, every rejected course with its file, line and reason, the
//! notices, and the names of the file that matched nobody or several people in the directory.

use std::fmt::Write as _;

use store::timetable::TimetableImportReport;

/// The report of the import of `file`, in French, one fact per line.
pub fn report_text(file: &str, report: &TimetableImportReport) -> String {
    let mut text = format!(
        "Emploi du temps {file} : {} cours créés, {} modifiés, {} inchangés, {} retirés.\n",
        report.created, report.updated, report.unchanged, report.removed
    );
    if !report.rejections.is_empty() {
        let _ = writeln!(text, "{} cours refusés :", report.rejections.len());
        for rejection in &report.rejections {
            let record = if rejection.record.is_empty() {
                String::new()
            } else {
                format!(" ({})", rejection.record)
            };
            let _ = writeln!(
                text,
                "  - {}, ligne {}{record} : {}",
                rejection.file, rejection.line, rejection.reason
            );
        }
    }
    if !report.notices.is_empty() {
        let _ = writeln!(text, "{} remarques :", report.notices.len());
        for notice in &report.notices {
            let _ =
                writeln!(text, "  - {}, ligne {} : {}", notice.file, notice.line, notice.reason);
        }
    }
    if !report.problems.is_empty() {
        let _ = writeln!(text, "{} noms non reconnus dans l'annuaire :", report.problems.len());
        for problem in &report.problems {
            let why = match problem.candidates {
                0 => "personne ne correspond".to_owned(),
                n => format!("ambigu, {n} correspondances (rien n'a été deviné)"),
            };
            let lines: Vec<String> = problem.lines.iter().map(u64::to_string).collect();
            let _ = writeln!(
                text,
                "  - {} « {} » : {why} (lignes {})",
                problem.kind,
                problem.label,
                lines.join(", ")
            );
        }
    }
    text
}
