//! `preau verify-agreement FILE`: says whether an internship agreement's PDF is one the
//! département sealed, unaltered, and signed by every party, with the seal's details.

use std::path::Path;
use std::process::ExitCode;

/// Verifies the PDF at `file` against the sealing keys of the database.
///
/// # Errors
/// An unreadable file or a database fault. An altered or incomplete document is not an error:
/// it is reported and exits 1.
pub async fn verify_agreement(store: &store::Store, file: &Path) -> anyhow::Result<ExitCode> {
    // FIXME(#5): written by the agreement seal work of this session.
    let _ = (store, file);
    anyhow::bail!("la vérification n'est pas encore écrite")
}
