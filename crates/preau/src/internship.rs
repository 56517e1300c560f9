//! The internship platform's commands: `preau import sectors` (the national list of
//! professional sectors) and `preau import communes` (the gazetteer of communes), each read
//! whole and written in one transaction, with a French report of what was refused and where.

use std::path::Path;
use std::process::ExitCode;

/// `preau import sectors FILE`.
///
/// # Errors
/// An unreadable file or a database fault; a file of the wrong shape is reported and exits 2.
pub async fn import_sectors(store: &store::Store, file: &Path) -> anyhow::Result<ExitCode> {
    // FIXME(#5): written by the hosts-and-offers work of this session.
    let _ = (store, file);
    anyhow::bail!("l'import des secteurs n'est pas encore écrit")
}

/// `preau import communes FILE`.
///
/// # Errors
/// An unreadable file or a database fault; a file of the wrong shape is reported and exits 2.
pub async fn import_communes(store: &store::Store, file: &Path) -> anyhow::Result<ExitCode> {
    // FIXME(#5): written by the hosts-and-offers work of this session.
    let _ = (store, file);
    anyhow::bail!("l'import des communes n'est pas encore écrit")
}
