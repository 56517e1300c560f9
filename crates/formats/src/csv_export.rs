//! CSV exports safe to open in a spreadsheet: RFC 4180 quoting, and a `'` before any cell that
//! a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, tab, carriage return, NUL).

/// Writes rows as CSV with a header, neutralising formula-like cells. Separator `;` and a UTF-8
/// BOM, as French spreadsheets expect.
///
/// # Errors
/// Only the writer's own I/O errors.
pub fn write_csv<W: std::io::Write>(
    out: W,
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> std::io::Result<()> {
    let mut out = out;
    out.write_all("\u{FEFF}".as_bytes())?;
    let mut writer = csv::WriterBuilder::new().delimiter(b';').from_writer(out);
    writer.write_record(header).map_err(std::io::Error::other)?;
    for row in rows {
        let cells = row.iter().map(|cell| neutralize(cell).into_owned());
        writer.write_record(cells).map_err(std::io::Error::other)?;
    }
    writer.flush()
}

/// A cell made inert for spreadsheets.
pub fn neutralize(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\0') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_quoted() {
        let mut out = Vec::new();
        let rows = vec![vec!["=HYPERLINK(\"http://x\";\"y\")".to_owned(), "Zoé; \"Z\"".to_owned()]];
        write_csv(&mut out, &["a", "b"], rows).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "\u{FEFF}a;b\n\"'=HYPERLINK(\"\"http://x\"\";\"\"y\"\")\";\"Zoé; \"\"Z\"\"\"\n"
        );
    }

    #[test]
    fn harmless_cells_are_left_alone() {
        assert_eq!(neutralize("Dupont"), "Dupont");
        assert_eq!(neutralize("-1+2"), "'-1+2");
        assert_eq!(neutralize("@SUM(1)"), "'@SUM(1)");
    }
}
