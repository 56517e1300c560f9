//! `preau import timetable`: reads one school's timetable file (the decrypted EDT export, a UDT
//! folder or ZIP, or an iCalendar feed of one class or one teacher), applies it with
//! `Store::import_timetable` as the département (no signed-in person), and prints the French
//! report (`report_text`, also printed by the demo when one of its files is not imported
//! cleanly): counts of courses created, updated, unchanged and removed, every rejected course
//! with its file, line and reason, the notices, and the names of the file that matched nobody
//! or several people in the directory, and the timetable of the other format it replaced. A
//! file refused whole is recorded as refused, with its located reason, and nothing of it is
//! applied; so is an import the store finds unsafe (another collège's file, or one that would
//! wipe its scope), unless `--confirmer` was given. File names are shown as
//! `domain::files::display_name` cleans them (no bidirectional controls).

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use domain::timetable::SchoolYear;
use formats::timetable::{MAX_FILE_BYTES, ParsedTimetable, TimetableFileError, TimetableSource};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use store::timetable::{
    ImportOptions, ImportSchool, ImportScope, TimetableImportOutcome, TimetableImportReport,
};

/// Whose timetable an iCalendar file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimetableTarget {
    /// A class of the school, by code (`"4B"`, folded: `"4 b"` is the same class).
    Class(String),
    /// A teacher of the school, by login.
    Teacher(String),
}

/// What `preau import timetable` was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimetableRequest {
    /// The school's UAI.
    pub uai: String,
    pub source: TimetableSource,
    /// Required for iCalendar, refused for EDT and UDT.
    pub target: Option<TimetableTarget>,
    /// A file (EDT, iCalendar, UDT ZIP) or a folder (UDT).
    pub path: PathBuf,
    /// `--confirmer`: apply a file the store refuses as unsafe otherwise.
    pub confirmed: bool,
}

/// The most files read from a UDT folder.
const MAX_FOLDER_FILES: usize = formats::timetable::udt::MAX_ZIP_ENTRIES;

/// Imports the file and prints its report; returns whether the import met problems (the file
/// refused whole, a course rejected, a name matched to nobody or to several people), for the
/// exit code.
///
/// # Errors
/// An unknown school, class or teacher, a file that cannot be opened, or a database failure:
/// nothing is imported then.
pub async fn import_timetable(
    store: &store::Store,
    request: &TimetableRequest,
) -> anyhow::Result<bool> {
    let school = store
        .school_for_import(&request.uai)
        .await?
        .ok_or_else(|| anyhow::anyhow!("aucun collège actif n'a l'UAI « {} »", request.uai))?;
    let scope = scope(store, &school, request).await?;
    let zone = TimeZone::get(&school.time_zone)
        .or_else(|_| TimeZone::get(domain::time_zone::DEFAULT_ZONE))
        .unwrap_or(TimeZone::UTC);
    let window = match store.school_year_info(&school.id).await? {
        Some(info) => (info.first_monday, info.last_day),
        None => {
            let year =
                SchoolYear::around(jiff::Timestamp::now().to_zoned_datetime(zone.clone()).date());
            (year.first_monday, year.last_day)
        }
    };

    let source = request.source;
    let path = request.path.clone();
    let file_name = display_name(&path);
    let parsed = tokio::task::spawn_blocking(move || read_and_parse(source, &path, &zone, window))
        .await
        .map_err(|error| anyhow::anyhow!("lecture interrompue : {error}"))??;
    let parsed = match parsed {
        Ok(parsed) => parsed,
        Err(refusal) => {
            let reason = refusal.to_string();
            store
                .record_refused_timetable(None, &school.id, source.as_str(), &file_name, &reason)
                .await?;
            print!("{}", refused_text(&file_name, &reason));
            tracing::info!(school = %school.uai, source = source.as_str(), "emploi du temps refusé");
            return Ok(true);
        }
    };

    let options = ImportOptions { confirmed: request.confirmed };
    let import =
        store.import_timetable_with(None, &school.id, &file_name, &parsed, &scope, options);
    let outcome = tokio::select! {
        outcome = import => outcome.map_err(|error| import_error(error, &school, request))?,
        () = crate::serve::shutdown_signal() => {
            // Dropping the import rolls its transaction back.
            anyhow::bail!("import interrompu : rien n'a été appliqué");
        }
    };
    let report = match outcome {
        TimetableImportOutcome::Applied(report) => report,
        TimetableImportOutcome::Refused(refusal) => {
            print!("{}", refused_text(&file_name, &refusal.reason));
            if refusal.confirmable {
                println!("Relancez la commande avec --confirmer pour l'importer quand même.");
            }
            tracing::info!(school = %school.uai, source = source.as_str(), "import refusé");
            return Ok(true);
        }
    };
    print!("{}", report_text(&file_name, &report));
    tracing::info!(
        school = %school.uai,
        source = source.as_str(),
        created = report.created,
        updated = report.updated,
        unchanged = report.unchanged,
        removed = report.removed,
        rejected = report.rejections.len(),
        unmatched = report.problems.len(),
        "emploi du temps importé"
    );
    Ok(!report.rejections.is_empty() || !report.problems.is_empty())
}

/// Which courses the file replaces: the school's (EDT, UDT), or one class's or one teacher's
/// (iCalendar), found in the school's directory.
async fn scope(
    store: &store::Store,
    school: &ImportSchool,
    request: &TimetableRequest,
) -> anyhow::Result<ImportScope> {
    let school_label = format!("{} ({})", school.name, school.uai);
    match (&request.target, request.source) {
        (None, TimetableSource::Ical) => anyhow::bail!(
            "un fichier iCalendar est l'emploi du temps d'une classe ou d'un enseignant : \
             précisez --class <CODE> ou --teacher <IDENTIFIANT>"
        ),
        (None, _) => Ok(ImportScope::School),
        (Some(_), TimetableSource::Edt | TimetableSource::Udt) => anyhow::bail!(
            "--class et --teacher ne servent qu'aux fichiers iCalendar (--format ical) : un \
             export EDT ou UDT est l'emploi du temps de tout le collège"
        ),
        (Some(TimetableTarget::Class(code)), TimetableSource::Ical) => {
            let found = store.classes_by_code(&school.id, code).await?;
            match found.as_slice() {
                [id] => Ok(ImportScope::Class(id.clone())),
                [] => anyhow::bail!("le collège {school_label} n'a pas de classe « {code} »"),
                several => anyhow::bail!(
                    "« {code} » désigne {} classes du collège {school_label} : rien n'a été \
                     deviné, écrivez le code exact de la classe",
                    several.len()
                ),
            }
        }
        (Some(TimetableTarget::Teacher(login)), TimetableSource::Ical) => {
            let typed = domain::login::normalize_typed_login(login);
            match store.login_account(&typed).await? {
                Some(account) => Ok(ImportScope::Teacher(account.person_id)),
                None => anyhow::bail!("aucun compte n'a l'identifiant « {login} »"),
            }
        }
    }
}

/// The import's refusal in French: an unknown school or a teacher who does not teach there is
/// the command's mistake, anything else the database's.
fn import_error(
    error: store::StoreError,
    school: &ImportSchool,
    request: &TimetableRequest,
) -> anyhow::Error {
    match (error, &request.target) {
        (store::StoreError::NotFound, Some(TimetableTarget::Teacher(login))) => anyhow::anyhow!(
            "« {login} » n'enseigne pas au collège {} ({}) : rien n'a été importé",
            school.name,
            school.uai
        ),
        (store::StoreError::NotFound, _) => anyhow::anyhow!(
            "le collège {} ({}) n'est plus actif : rien n'a été importé",
            school.name,
            school.uai
        ),
        (other, _) => anyhow::anyhow!("l'import a échoué : {other}"),
    }
}

/// The name the report and the list of imports give the file or folder: its last part,
/// cleaned as an uploaded file's name is (no bidirectional or control characters, capped).
fn display_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| path.display().to_string());
    domain::files::display_name(&name, "")
}

/// « file, ligne N » or, for the file as a whole (line 0), « file ».
fn located(file: &str, line: u64) -> String {
    match line {
        0 => file.to_owned(),
        line => format!("{file}, ligne {line}"),
    }
}

/// Reads the file (or the UDT folder) and parses it. The outer error is a file that cannot be
/// opened at all (nothing to record); the inner one a file refused whole.
fn read_and_parse(
    source: TimetableSource,
    path: &Path,
    zone: &TimeZone,
    window: (Date, Date),
) -> anyhow::Result<Result<ParsedTimetable, TimetableFileError>> {
    let name = display_name(path);
    if path.is_dir() {
        if source != TimetableSource::Udt {
            anyhow::bail!(
                "{} est un dossier : seul un export UDT (--format udt) se lit depuis un dossier",
                path.display()
            );
        }
        let files = match read_folder(path)? {
            Ok(files) => files,
            Err(refusal) => return Ok(Err(refusal)),
        };
        return Ok(formats::timetable::udt::parse_files(&files, &name));
    }

    let bytes = match read_capped(path, &name)? {
        Ok(bytes) => bytes,
        Err(refusal) => return Ok(Err(refusal)),
    };
    Ok(match source {
        TimetableSource::Edt => formats::timetable::edt::parse(&bytes, &name),
        TimetableSource::Udt => formats::timetable::udt::parse_zip(&bytes, &name),
        TimetableSource::Ical => formats::timetable::ical::parse(&bytes, &name, zone, window),
    })
}

/// The bytes of a file of at most [`MAX_FILE_BYTES`]; a larger one is refused.
fn read_capped(path: &Path, name: &str) -> anyhow::Result<Result<Vec<u8>, TimetableFileError>> {
    let file = std::fs::File::open(path)
        .map_err(|error| anyhow::anyhow!("impossible d'ouvrir {} : {error}", path.display()))?;
    let cap = u64::try_from(MAX_FILE_BYTES).unwrap_or(u64::MAX);
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|error| anyhow::anyhow!("impossible de lire {} : {error}", path.display()))?;
    if bytes.len() > MAX_FILE_BYTES {
        return Ok(Err(TimetableFileError {
            file: name.to_owned(),
            line: 0,
            reason: format!(
                "le fichier dépasse {} Mo : il n'a pas été lu",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        }));
    }
    Ok(Ok(bytes))
}

/// Files read from a folder: `(name, bytes)`.
type NamedFiles = Vec<(String, Vec<u8>)>;

/// The `.xml` files of a UDT folder (not its sub-folders), by name.
fn read_folder(dir: &Path) -> anyhow::Result<Result<NamedFiles, TimetableFileError>> {
    let entries = std::fs::read_dir(dir).map_err(|error| {
        anyhow::anyhow!("impossible de lire le dossier {} : {error}", dir.display())
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| {
            anyhow::anyhow!("impossible de lire le dossier {} : {error}", dir.display())
        })?;
        let path = entry.path();
        let is_xml = path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("xml"));
        if is_xml && path.is_file() {
            paths.push(path);
        }
    }
    if paths.len() > MAX_FOLDER_FILES {
        return Ok(Err(TimetableFileError {
            file: display_name(dir),
            line: 0,
            reason: format!("le dossier compte plus de {MAX_FOLDER_FILES} fichiers XML"),
        }));
    }
    paths.sort();

    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let name = display_name(&path);
        match read_capped(&path, &name)? {
            Ok(bytes) => files.push((name, bytes)),
            Err(refusal) => return Ok(Err(refusal)),
        }
    }
    Ok(Ok(files))
}

/// What the command prints for a file refused whole.
pub fn refused_text(file: &str, reason: &str) -> String {
    format!("Emploi du temps {file} refusé, rien n'a été importé : {reason}\n")
}

/// The report of the import of `file`, in French, one fact per line.
pub fn report_text(file: &str, report: &TimetableImportReport) -> String {
    let mut text = format!(
        "Emploi du temps {file} : {} cours créés, {} modifiés, {} inchangés, {} retirés.\n",
        report.created, report.updated, report.unchanged, report.removed
    );
    for replaced in &report.replaced {
        let format = TimetableSource::parse(&replaced.source)
            .map_or_else(|| replaced.source.clone(), |s| s.label().to_owned());
        let _ = writeln!(
            text,
            "Remplace l'emploi du temps importé au format {format} : ses {} cours ont été retirés.",
            replaced.courses
        );
    }
    if !report.rejections.is_empty() {
        let _ = writeln!(text, "{} cours refusés :", report.rejections.len());
        for rejection in &report.rejections {
            let record = if rejection.record.is_empty() {
                String::new()
            } else {
                format!(" ({})", rejection.record)
            };
            let place = located(&rejection.file, rejection.line);
            let _ = writeln!(text, "  - {place}{record} : {}", rejection.reason);
        }
    }
    if !report.notices.is_empty() {
        let _ = writeln!(text, "{} remarques :", report.notices.len());
        for notice in &report.notices {
            let place = located(&notice.file, notice.line);
            let _ = writeln!(text, "  - {place} : {}", notice.reason);
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
