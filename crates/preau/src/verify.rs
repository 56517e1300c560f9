//! `preau verify-agreement FILE`: says whether an internship agreement's PDF is one the
//! département sealed, unaltered, and signed by every party, with the seal's details. Exits 0
//! when it is authentic and complete, 1 when it is not, 2 when the file cannot be read.

use std::path::Path;
use std::process::ExitCode;

use formats::aaf::printable;

/// The largest file read, in bytes: an agreement is far smaller.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Verifies the PDF at `file` against the sealing keys of the database.
///
/// # Errors
/// A database fault. An unreadable file is reported and exits 2; an altered or incomplete
/// document is reported and exits 1.
pub async fn verify_agreement(store: &store::Store, file: &Path) -> anyhow::Result<ExitCode> {
    let name = printable(&file.display().to_string());
    let bytes = match read(file) {
        Ok(bytes) => bytes,
        Err(reason) => {
            eprintln!("{name} : fichier illisible : {reason}.");
            return Ok(ExitCode::from(2));
        }
    };

    let verdict = store.verify_agreement_pdf(&bytes).await?;
    let yes_no = |value: bool| if value { "oui" } else { "non" };
    println!("{name}");
    println!("  Authentique : {}", yes_no(verdict.authentic));
    println!("  Complète : {}", yes_no(verdict.complete));
    println!("  Connue de cette base : {}", yes_no(verdict.known));
    for line in &verdict.explanations {
        println!("  - {line}");
    }
    if let Some(seal) = &verdict.seal {
        println!("Sceau :");
        println!("  Convention : {} (version {})", printable(&seal.agreement_id), seal.version);
        println!("  Clé du Département : {}", printable(&seal.key_id));
        println!("  Empreinte du document signé : {}", printable(&seal.frozen_sha256));
        for signature in &seal.signatures {
            println!(
                "  {} : {} — {} — {}{}",
                signature.role_label,
                printable(&signature.name),
                signature.method_label,
                signature.signed_at_local,
                if signature.on_frozen_document { "" } else { " (pas sur le document figé)" }
            );
        }
    }

    let valid = verdict.authentic && verdict.complete;
    println!(
        "{}",
        if valid {
            "Résultat : convention authentique et complète."
        } else {
            "Résultat : ce fichier n'est pas une convention authentique et complète."
        }
    );
    Ok(if valid { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn read(file: &Path) -> Result<Vec<u8>, String> {
    let metadata = std::fs::metadata(file).map_err(io_reason)?;
    if !metadata.is_file() {
        return Err("ce n'est pas un fichier".to_owned());
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err("il dépasse 64 Mo".to_owned());
    }
    std::fs::read(file).map_err(io_reason)
}

/// An input/output error said in French (the system's own text is English).
fn io_reason(error: std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "il n'existe pas".to_owned(),
        std::io::ErrorKind::PermissionDenied => "sa lecture n'est pas permise".to_owned(),
        std::io::ErrorKind::IsADirectory => "ce n'est pas un fichier".to_owned(),
        _ => "il n'a pas pu être lu".to_owned(),
    }
}
