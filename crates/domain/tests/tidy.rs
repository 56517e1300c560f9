//! Repository hygiene, checked by `cargo test`: every Rust file opens with a `//!` paragraph
//! saying what it owns, shortcomings are marked like `FIXME(#42)`, with their issue number, no
//! stub macros are left, and no line carries trailing white space.

use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == "node_modules" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

fn all_rust_files() -> Vec<PathBuf> {
    let mut found = Vec::new();
    rust_files(&workspace_root().join("crates"), &mut found);
    assert!(found.len() > 10, "the tidy test found too few files: {}", found.len());
    found
}

#[test]
fn every_rust_file_opens_with_a_module_paragraph() {
    let missing: Vec<_> = all_rust_files()
        .into_iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            !text.trim_start().starts_with("//!")
        })
        .collect();
    assert!(missing.is_empty(), "files without a //! paragraph: {missing:#?}");
}

#[test]
fn shortcomings_name_their_issue_and_no_stub_is_left() {
    let markers = ["TODO", "XXX", "HACK", "FIXME"];
    let stubs = [concat!("todo", "!("), concat!("unimplemented", "!("), concat!("#[", "ignore")];
    let mut problems = Vec::new();
    for path in all_rust_files() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            let Some(comment) = line.find("//").map(|at| &line[at..]) else {
                if stubs.iter().any(|stub| line.contains(stub)) {
                    problems.push(format!("{}:{}: stub", path.display(), n + 1));
                }
                continue;
            };
            let loose = markers.iter().any(|marker| comment.contains(marker))
                && !comment.contains("FIXME(#");
            if loose {
                problems.push(format!("{}:{}: marker without issue", path.display(), n + 1));
            }
            if stubs.iter().any(|stub| line[..line.len() - comment.len()].contains(stub)) {
                problems.push(format!("{}:{}: stub", path.display(), n + 1));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn no_line_ends_with_white_space() {
    let mut problems = Vec::new();
    for path in all_rust_files() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            if line.ends_with(' ') || line.ends_with('\t') {
                problems.push(format!("{}:{}", path.display(), n + 1));
            }
        }
    }
    assert!(problems.is_empty(), "trailing white space at {problems:#?}");
}
