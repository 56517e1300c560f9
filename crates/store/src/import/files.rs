//! Which files a run applies and in what order: the AAF files of each folder (not recursive),
//! sorted by category, export date, full before delta, chunk and name, so that the order given
//! on the command line never matters; and which categories a run exports completely.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use formats::aaf::{Category, FileName};

/// An AAF file found in a folder.
#[derive(Debug, Clone)]
pub(crate) struct FoundFile {
    pub(crate) path: PathBuf,
    /// The file name without folders.
    pub(crate) file: String,
    pub(crate) name: FileName,
}

/// What listing the folders gave: the files in applying order, French warnings, and folders
/// that could not be read (with the reason).
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub(crate) files: Vec<FoundFile>,
    pub(crate) warnings: Vec<String>,
    pub(crate) unreadable: Vec<(String, String)>,
}

/// Lists the AAF files of the folders. The DTD is skipped silently; any other file whose name
/// is not an AAF name is skipped with a warning; sub-folders are not entered.
pub(crate) fn list(dirs: &[PathBuf]) -> Listing {
    let mut listing = Listing::default();
    let mut seen_paths = BTreeSet::new();
    for dir in dirs {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(error) => {
                listing.unreadable.push((dir.display().to_string(), io_reason(&error)));
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_file() {
                // Sub-folders go unmentioned, but something named like an AAF file that is not
                // a regular file (a folder, a device, a dangling link) is worth a word.
                let name = entry.file_name();
                let named_like_aaf =
                    name.to_str().is_some_and(|name| formats::aaf::parse_file_name(name).is_some());
                if named_like_aaf {
                    listing.warnings.push(format!(
                        "Ignoré : « {} » n'est pas un fichier ordinaire lisible.",
                        name.to_string_lossy()
                    ));
                }
                continue;
            }
            let Some(file) = path.file_name().and_then(|name| name.to_str()).map(str::to_owned)
            else {
                listing.warnings.push(format!(
                    "Fichier ignoré dans {} : nom illisible (pas en UTF-8).",
                    dir.display()
                ));
                continue;
            };
            match formats::aaf::parse_file_name(&file) {
                Some(name) => {
                    let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                    if seen_paths.insert(canonical) {
                        listing.files.push(FoundFile { path, file, name });
                    }
                }
                None if is_dtd(&path) => {}
                None => listing
                    .warnings
                    .push(format!("Fichier ignoré : « {file} » n'a pas un nom de fichier AAF.")),
            }
        }
    }
    listing.files.sort_by(|a, b| order_key(a).cmp(&order_key(b)));
    listing
}

fn is_dtd(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("dtd"))
}

fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "dossier introuvable".to_owned(),
        std::io::ErrorKind::PermissionDenied => "accès refusé".to_owned(),
        _ => "dossier illisible".to_owned(),
    }
}

fn order_key(found: &FoundFile) -> (usize, &str, bool, u32, &str, &Path) {
    let category = Category::IMPORT_ORDER
        .iter()
        .position(|category| *category == found.name.category)
        .unwrap_or(usize::MAX);
    (
        category,
        found.name.date.as_str(),
        !found.name.full,
        found.name.chunk,
        found.file.as_str(),
        found.path.as_path(),
    )
}

/// The categories of which this run holds one whole département export: full files of a single
/// export (one prefix, one date) whose chunks form a contiguous set from `0000`, under a prefix
/// that is not a single school's (`ENT_<UAI>_Complet_…`). For the other categories with full
/// files, the French reason why nobody can be taken for missing.
pub(crate) fn full_export_sets(
    files: &[FoundFile],
) -> (BTreeSet<Category>, BTreeMap<Category, String>) {
    let mut exports: BTreeMap<Category, BTreeMap<(String, String), BTreeSet<u32>>> =
        BTreeMap::new();
    for found in files.iter().filter(|found| found.name.full) {
        let key = (found.name.prefix.clone(), found.name.date.clone());
        exports
            .entry(found.name.category)
            .or_default()
            .entry(key)
            .or_default()
            .insert(found.name.chunk);
    }

    let mut complete = BTreeSet::new();
    let mut incomplete = BTreeMap::new();
    for (category, by_export) in exports {
        if by_export.len() > 1 {
            let names: Vec<String> =
                by_export.keys().map(|(prefix, date)| format!("{prefix} du {date}")).collect();
            incomplete.insert(category, format!("plusieurs exports mêlés ({})", names.join(", ")));
            continue;
        }
        let Some(((prefix, _), chunks)) = by_export.into_iter().next() else { continue };
        let contiguous = chunks
            .iter()
            .enumerate()
            .all(|(index, chunk)| u32::try_from(index).is_ok_and(|index| index == *chunk));
        if !contiguous {
            let present: Vec<String> = chunks.iter().map(|chunk| format!("{chunk:04}")).collect();
            incomplete.insert(category, format!("tranches présentes : {}", present.join(", ")));
        } else if names_one_school(&prefix) {
            incomplete.insert(category, format!("export d'un seul établissement ({prefix})"));
        } else {
            complete.insert(category);
        }
    }
    (complete, incomplete)
}

/// Whether an export prefix names one school, as in `ENT_0860001A`: it ends with a UAI.
fn names_one_school(prefix: &str) -> bool {
    let last = prefix.rsplit(['_', '-']).next().unwrap_or("");
    let bytes = last.as_bytes();
    bytes.len() == 8 && bytes[..7].iter().all(u8::is_ascii_digit) && bytes[7].is_ascii_uppercase()
}

/// The French name of a category, plural, for reports.
pub(crate) fn category_label(category: Category) -> &'static str {
    match category {
        Category::School => "établissements",
        Category::Subject => "matières",
        Category::Mef => "MEF",
        Category::Staff => "personnels",
        Category::Relative => "responsables",
        Category::Pupil => "élèves",
    }
}
