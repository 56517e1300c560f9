//! The internship platform's commands: `preau import sectors` (the national list of
//! professional sectors) and `preau import communes` (the gazetteer of communes), each read
//! whole and written in one transaction, with a French report of what was refused and where.
//! The import is all or nothing: when any line is refused, the report lists every refusal,
//! nothing is written and the command exits with 2; a line skipped on purpose (a repeated
//! header) is only a notice.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use formats::aaf::printable;
use formats::internship_reference::{
    LineProblem, MAX_FILE_BYTES, Parsed, parse_communes, parse_sectors,
};

/// `preau import sectors FILE`.
///
/// # Errors
/// An unreadable file or a database fault; a file of the wrong shape is reported and exits 2.
pub async fn import_sectors(store: &store::Store, file: &Path) -> anyhow::Result<ExitCode> {
    let Some((name, parsed)) = read(file, parse_sectors)? else { return Ok(ExitCode::from(2)) };
    if !report(&name, &parsed, "secteur refusé") {
        return Ok(ExitCode::from(2));
    }

    let counts = store.import_sectors(&parsed.records).await.context("import des secteurs")?;
    println!(
        "{name} : {} secteurs lus, {} ajoutés, {} mis à jour.",
        parsed.records.len(),
        counts.added,
        counts.updated
    );
    Ok(ExitCode::SUCCESS)
}

/// `preau import communes FILE`.
///
/// # Errors
/// An unreadable file or a database fault; a file of the wrong shape is reported and exits 2.
pub async fn import_communes(store: &store::Store, file: &Path) -> anyhow::Result<ExitCode> {
    let Some((name, parsed)) = read(file, parse_communes)? else { return Ok(ExitCode::from(2)) };
    if !report(&name, &parsed, "commune refusée") {
        return Ok(ExitCode::from(2));
    }

    let counts = store.import_communes(&parsed.records).await.context("import des communes")?;
    println!(
        "{name} : {} communes lues, {} ajoutées, {} mises à jour.",
        parsed.records.len(),
        counts.added,
        counts.updated
    );
    Ok(ExitCode::SUCCESS)
}

/// Reads and parses a file; a file refused whole is reported here (`None`).
fn read<T>(
    file: &Path,
    parse: fn(&[u8]) -> Result<Parsed<T>, LineProblem>,
) -> anyhow::Result<Option<(String, Parsed<T>)>> {
    let name = printable(
        &file
            .file_name()
            .map_or_else(|| file.display().to_string(), |name| name.to_string_lossy().into_owned()),
    );
    let size =
        std::fs::metadata(file).with_context(|| format!("lecture de {}", file.display()))?.len();
    if size > MAX_FILE_BYTES as u64 {
        println!(
            "{name} : fichier refusé : trop volumineux (plus de 16 Mo). Rien n'a été importé."
        );
        return Ok(None);
    }
    let bytes = std::fs::read(file).with_context(|| format!("lecture de {}", file.display()))?;
    match parse(&bytes) {
        Ok(parsed) => Ok(Some((name, parsed))),
        Err(problem) => {
            println!("{} Rien n'a été importé.", located(&name, &problem, "fichier refusé"));
            Ok(None)
        }
    }
}

/// Prints the notices and refusals; returns whether the import may go on (nothing refused).
fn report<T>(name: &str, parsed: &Parsed<T>, refused: &str) -> bool {
    for notice in &parsed.notices {
        println!("{}", located(name, notice, "remarque"));
    }
    for rejection in &parsed.rejections {
        println!("{}", located(name, rejection, refused));
    }
    if parsed.rejections.is_empty() {
        return true;
    }
    println!(
        "{name} : {} ligne(s) refusée(s) : rien n'a été importé. Corrigez le fichier et \
         relancez la commande.",
        parsed.rejections.len()
    );
    false
}

/// `file, ligne N : kind : reason` (or `file : kind : reason` for the file as a whole).
fn located(name: &str, problem: &LineProblem, kind: &str) -> String {
    let reason = printable(&problem.reason);
    match problem.line {
        0 => format!("{name} : {kind} : {reason}."),
        line => format!("{name}, ligne {line} : {kind} : {reason}."),
    }
}
