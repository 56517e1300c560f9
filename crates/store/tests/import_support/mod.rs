//! Shared helpers of the import tests: where the real AAF samples are, counting and dumping
//! rows, building variants of the real files in temporary folders, and a generator that
//! multiplies a real file (renumbered ids) for timing a large import by hand.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};

use sqlx::{AssertSqlSafe, Column, Row};
use store::Store;
use store::import::{ImportOptions, ImportReport, NoProgress};

/// The folder of one AAF sample set (`entcore-2013`, …), read in place.
pub fn aaf(set: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/aaf")).join(set)
}

/// Every sample set.
pub const SETS: [&str; 3] = ["entcore-2020-minimal", "entcore-2024", "entcore-2013"];

/// Imports the folders with the default options.
pub async fn import(store: &Store, dirs: &[PathBuf]) -> ImportReport {
    import_with(store, dirs, &ImportOptions::default()).await
}

pub async fn import_with(store: &Store, dirs: &[PathBuf], options: &ImportOptions) -> ImportReport {
    store.import_aaf(dirs, options, &NoProgress).await.expect("the import runs")
}

/// The single number a query returns.
pub async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.to_owned()))
        .fetch_one(store.import_test_pool())
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// The text values of a one-column query.
pub async fn texts(store: &Store, sql: &str) -> Vec<String> {
    sqlx::query_scalar::<_, String>(AssertSqlSafe(sql.to_owned()))
        .fetch_all(store.import_test_pool())
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// Runs a statement (for setting up a case).
pub async fn execute(store: &Store, sql: &str) {
    sqlx::query(AssertSqlSafe(sql.to_owned()))
        .execute(store.import_test_pool())
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
}

/// The tables an import writes, each as sorted lines of its values, without the bookkeeping
/// column `last_seen_run` (which a complete full export sets on every run).
pub async fn dump(store: &Store) -> Vec<String> {
    const TABLES: [&str; 19] = [
        "schools",
        "subjects",
        "mefs",
        "classes",
        "teaching_groups",
        "people",
        "person_schools",
        "person_functions",
        "class_teachers",
        "group_teachers",
        "principal_teachers",
        "pupil_classes",
        "pupil_groups",
        "guardianships",
        "pending_references",
        "roles",
        "logins",
        "accounts",
        "login_counters",
    ];
    let mut lines = Vec::new();
    for table in TABLES {
        let rows = sqlx::query(AssertSqlSafe(format!("SELECT * FROM {table}")))
            .fetch_all(store.import_test_pool())
            .await
            .unwrap();
        let mut table_lines = Vec::new();
        for row in rows {
            let mut line = format!("{table}:");
            for (index, column) in row.columns().iter().enumerate() {
                if column.name() == "last_seen_run" {
                    continue;
                }
                let value = if let Ok(text) = row.try_get::<Option<String>, _>(index) {
                    format!("{text:?}")
                } else if let Ok(number) = row.try_get::<Option<i64>, _>(index) {
                    format!("{number:?}")
                } else {
                    format!("{:?}", row.try_get::<Option<f64>, _>(index).ok().flatten())
                };
                line.push_str(&value);
                line.push('|');
            }
            table_lines.push(line);
        }
        table_lines.sort();
        lines.extend(table_lines);
    }
    lines
}

/// Copies the files of sample sets whose name contains `filter` into `dest`.
pub fn copy_files(set: &str, filter: &str, dest: &Path) {
    for entry in std::fs::read_dir(aaf(set)).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.contains(filter) {
            std::fs::copy(&path, dest.join(&name)).unwrap();
        }
    }
}

/// The text of a sample file.
pub fn read(set: &str, file: &str) -> String {
    std::fs::read_to_string(aaf(set).join(file)).unwrap()
}

/// Writes `text` as `dest/name`.
pub fn write(dest: &Path, name: &str, text: &str) {
    std::fs::write(dest.join(name), text).unwrap();
}

/// The records of a file's text (from the first `<addRequest>` to the last request's end),
/// with the text before and after them.
pub fn split_records(text: &str) -> (String, Vec<String>, String) {
    let mut records = Vec::new();
    let mut rest = text;
    let mut head = None;
    while let Some(start) = rest.find("<addRequest>") {
        if head.is_none() {
            head = Some(text[..text.len() - rest.len() + start].to_owned());
        }
        let end = rest[start..].find("</addRequest>").unwrap() + start + "</addRequest>".len();
        records.push(rest[start..end].to_owned());
        rest = &rest[end..];
    }
    (head.unwrap_or_default(), records, rest.to_owned())
}

/// Prefixes with `copy` every id of exactly `digits` digits that starts a value or an
/// identifier (`<value>2605692$…`, `<id>2605692</id>`): person jointures in the samples.
pub fn renumber(text: &str, digits: usize, copy: usize) -> String {
    let prefix = copy.to_string();
    let mut out = String::with_capacity(text.len() + text.len() / 20);
    let mut rest = text;
    loop {
        let next = [rest.find("<value>").map(|i| (i, 7)), rest.find("<id>").map(|i| (i, 4))]
            .into_iter()
            .flatten()
            .min();
        let Some((at, tag)) = next else {
            out.push_str(rest);
            return out;
        };
        let value_start = at + tag;
        out.push_str(&rest[..value_start]);
        let value = &rest[value_start..];
        let run = value.bytes().take_while(u8::is_ascii_digit).count();
        if run == digits && matches!(value.as_bytes().get(run), Some(b'$' | b'<')) {
            out.push_str(&prefix);
        }
        rest = value;
    }
}

/// Writes `copies` renumbered copies of the records of a real file (copies `first..`) as one
/// file named `name` in `dest`: a generator for timing large imports by hand.
pub fn multiply(
    source: &Path,
    digits: usize,
    first: usize,
    copies: usize,
    dest: &Path,
    name: &str,
) {
    let text = std::fs::read_to_string(source).unwrap();
    let (head, records, tail) = split_records(&text);
    let body: String = records.iter().map(|record| format!("{record}\n")).collect();
    let mut out = head;
    for copy in first..first + copies {
        out.push_str(&renumber(&body, digits, copy));
    }
    out.push_str(&tail);
    std::fs::write(dest.join(name), out).unwrap();
}
