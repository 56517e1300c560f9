//! Writes `ficAlimMENESR` files as the académie delivers them: `addRequest` records with the
//! attributes of the real exports, a `DOCTYPE` naming the DTD (never shipped: readers must not
//! load it), the AAF header comments, chunks of a few thousand records named
//! `<PREFIX>_Complet_<YYYYMMDD>_<Type>_<NNNN>.xml`, in UTF-8 or ISO-8859-15 (with LF or CRLF),
//! streamed to disk. Values are escaped; a character the encoding cannot hold is written as a
//! character reference.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// How a file's text is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// Latin-9: Latin-1 with `€ Š š Ž ž Œ œ Ÿ` in place of eight symbols.
    Iso885915,
}

impl Encoding {
    fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Iso885915 => "ISO-8859-15",
        }
    }
}

/// The byte of a character in ISO-8859-15, if it has one.
pub fn latin9_byte(c: char) -> Option<u8> {
    match c {
        '€' => Some(0xA4),
        'Š' => Some(0xA6),
        'š' => Some(0xA8),
        'Ž' => Some(0xB4),
        'ž' => Some(0xB8),
        'Œ' => Some(0xBC),
        'œ' => Some(0xBD),
        'Ÿ' => Some(0xBE),
        '\u{A4}' | '\u{A6}' | '\u{A8}' | '\u{B4}' | '\u{B8}' | '\u{BC}' | '\u{BD}' | '\u{BE}' => {
            None
        }
        c => u8::try_from(u32::from(c)).ok(),
    }
}

/// The kind of record a file holds: its operational attribute and file `Type`.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// `categoriePersonne`, `categorieStructure`, `categorieMatiere`, `categorieMef`.
    pub attribute: &'static str,
    /// `Eleve`, `EtabEducNat`, `MatEducNat`, …
    pub value: &'static str,
    /// The `Type` of the file name.
    pub file_type: &'static str,
}

pub const SCHOOLS: Kind =
    Kind { attribute: "categorieStructure", value: "EtabEducNat", file_type: "EtabEducNat" };
pub const SUBJECTS: Kind =
    Kind { attribute: "categorieMatiere", value: "MatEducNat", file_type: "MatiereEducNat" };
pub const MEFS: Kind =
    Kind { attribute: "categorieMef", value: "MefEducNat", file_type: "MefEducNat" };
pub const STAFF: Kind =
    Kind { attribute: "categoriePersonne", value: "PersEducNat", file_type: "PersEducNat" };
pub const RELATIVES: Kind =
    Kind { attribute: "categoriePersonne", value: "PersRelEleve", file_type: "PersRelEleve" };
pub const PUPILS: Kind =
    Kind { attribute: "categoriePersonne", value: "Eleve", file_type: "Eleve" };

/// How the files of one kind are written.
#[derive(Debug, Clone)]
pub struct FileSpec {
    pub dir: PathBuf,
    /// The part of the name before `_Complet_`, e.g. `PREAU86`.
    pub prefix: String,
    /// `YYYYMMDD`.
    pub date: String,
    /// `dd/MM/yyyy`, for the header comment.
    pub generation_date: String,
    pub kind: Kind,
    pub encoding: Encoding,
    pub crlf: bool,
    /// Records per file.
    pub chunk_size: usize,
}

/// One attribute: its name and values (an empty list is written as `<value/>`).
pub type Attr = (&'static str, Vec<String>);

/// A writer of one kind of record over as many chunk files as needed.
pub struct AafWriter {
    spec: FileSpec,
    out: Option<BufWriter<File>>,
    chunk: u32,
    in_chunk: usize,
    buffer: String,
    files: Vec<PathBuf>,
    records: u64,
}

impl AafWriter {
    pub fn new(spec: FileSpec) -> AafWriter {
        AafWriter {
            spec,
            out: None,
            chunk: 0,
            in_chunk: 0,
            buffer: String::with_capacity(8192),
            files: Vec::new(),
            records: 0,
        }
    }

    /// Writes one `addRequest`.
    ///
    /// # Errors
    /// The file system's.
    pub fn add(&mut self, id: &str, attributes: &[Attr]) -> std::io::Result<()> {
        if self.out.is_none() || self.in_chunk >= self.spec.chunk_size {
            self.open_next()?;
        }

        let kind = self.spec.kind;
        let buffer = &mut self.buffer;
        buffer.clear();
        buffer.push_str("<addRequest>\n");
        buffer.push_str("<operationalAttributes><attr name=\"");
        buffer.push_str(kind.attribute);
        buffer.push_str("\"><value>");
        buffer.push_str(kind.value);
        buffer.push_str("</value></attr></operationalAttributes>\n<identifier><id>");
        escape_into(buffer, id);
        buffer.push_str("</id></identifier>\n<attributes>\n");
        for (name, values) in attributes {
            buffer.push_str("<attr name=\"");
            buffer.push_str(name);
            buffer.push_str("\">");
            if values.is_empty() {
                buffer.push_str("<value/>");
            }
            for value in values {
                buffer.push_str("<value>");
                escape_into(buffer, value);
                buffer.push_str("</value>");
            }
            buffer.push_str("</attr>\n");
        }
        buffer.push_str("</attributes>\n</addRequest>\n");

        let text = std::mem::take(&mut self.buffer);
        let written = self.write_text(&text);
        self.buffer = text;
        written?;
        self.in_chunk += 1;
        self.records += 1;
        Ok(())
    }

    /// Closes the last file; returns the files written and the number of records.
    ///
    /// # Errors
    /// The file system's.
    pub fn finish(mut self) -> std::io::Result<(Vec<PathBuf>, u64)> {
        self.close_current()?;
        Ok((self.files, self.records))
    }

    fn open_next(&mut self) -> std::io::Result<()> {
        if self.out.is_some() {
            self.close_current()?;
            self.chunk += 1;
        }
        let name = format!(
            "{}_Complet_{}_{}_{:04}.xml",
            self.spec.prefix, self.spec.date, self.spec.kind.file_type, self.chunk
        );
        let path = self.spec.dir.join(name);
        self.out = Some(BufWriter::with_capacity(256 * 1024, File::create(&path)?));
        self.files.push(path);
        self.in_chunk = 0;

        let header = format!(
            "<?xml version=\"1.0\" encoding=\"{}\"?>\n\
             <!DOCTYPE ficAlimMENESR SYSTEM \"ficAlimMENESR.dtd\">\n\
             <ficAlimMENESR>\n\
             <!-- versionAF=\"AAF-VE2407\" -->\n\
             <!-- versionSDET=\"Annexe 4bis version 6.4\" -->\n\
             <!-- codeAcademieExport=\"13\" -->\n\
             <!-- degre=\"2D\" -->\n\
             <!-- dateGenerationExport=\"{}\" -->\n\n",
            self.spec.encoding.label(),
            self.spec.generation_date
        );
        self.write_text(&header)
    }

    fn close_current(&mut self) -> std::io::Result<()> {
        if self.out.is_some() {
            self.write_text("</ficAlimMENESR>\n")?;
        }
        if let Some(mut out) = self.out.take() {
            out.flush()?;
        }
        Ok(())
    }

    fn write_text(&mut self, text: &str) -> std::io::Result<()> {
        let Some(out) = self.out.as_mut() else {
            return Err(std::io::Error::other("aucun fichier ouvert"));
        };
        match (self.spec.encoding, self.spec.crlf) {
            (Encoding::Utf8, false) => out.write_all(text.as_bytes()),
            (encoding, crlf) => {
                let mut bytes = Vec::with_capacity(text.len() + 64);
                for c in text.chars() {
                    if c == '\n' && crlf {
                        bytes.push(b'\r');
                    }
                    match encoding {
                        Encoding::Utf8 => {
                            let mut utf8 = [0u8; 4];
                            bytes.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                        }
                        Encoding::Iso885915 => match latin9_byte(c) {
                            Some(byte) => bytes.push(byte),
                            None => bytes
                                .extend_from_slice(format!("&#x{:X};", u32::from(c)).as_bytes()),
                        },
                    }
                }
                out.write_all(&bytes)
            }
        }
    }
}

/// Appends a value escaped for XML text.
pub fn escape_into(buffer: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => buffer.push_str("&amp;"),
            '<' => buffer.push_str("&lt;"),
            '>' => buffer.push_str("&gt;"),
            '"' => buffer.push_str("&quot;"),
            '\'' => buffer.push_str("&apos;"),
            c => buffer.push(c),
        }
    }
}

/// Removes the files a previous demo wrote with this prefix in `dir`, leaving anything else.
///
/// # Errors
/// The file system's.
pub fn remove_previous(dir: &Path, prefix: &str) -> std::io::Result<usize> {
    let mut removed = 0;
    if !dir.is_dir() {
        return Ok(0);
    }
    let start = format!("{prefix}_Complet_");
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&start) && name.ends_with(".xml") {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(dir: &Path, encoding: Encoding, crlf: bool, chunk_size: usize) -> FileSpec {
        FileSpec {
            dir: dir.to_path_buf(),
            prefix: "PREAU86".to_owned(),
            date: "20261204".to_owned(),
            generation_date: "04/12/2026".to_owned(),
            kind: PUPILS,
            encoding,
            crlf,
            chunk_size,
        }
    }

    #[test]
    fn values_are_escaped_and_records_are_chunked() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = AafWriter::new(spec(dir.path(), Encoding::Utf8, false, 2));
        for id in ["1", "2", "3"] {
            writer
                .add(id, &[("sn", vec!["D'Almeida <&> \"x\"".to_owned()]), ("mail", vec![])])
                .unwrap();
        }
        let (files, records) = writer.finish().unwrap();
        assert_eq!(records, 3);
        let names: Vec<String> =
            files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(
            names,
            ["PREAU86_Complet_20261204_Eleve_0000.xml", "PREAU86_Complet_20261204_Eleve_0001.xml"]
        );
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(
            text.contains("<value>D&apos;Almeida &lt;&amp;&gt; &quot;x&quot;</value>"),
            "{text}"
        );
        assert!(text.contains("<attr name=\"mail\"><value/></attr>"));
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE ficAlimMENESR SYSTEM \"ficAlimMENESR.dtd\">"));
        assert!(text.trim_end().ends_with("</ficAlimMENESR>"));
    }

    #[test]
    fn latin9_files_hold_latin9_bytes_crlf_and_character_references() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = AafWriter::new(spec(dir.path(), Encoding::Iso885915, true, 10));
        writer.add("1", &[("sn", vec!["Œuvré € Nguyễn".to_owned()])]).unwrap();
        let (files, _) = writer.finish().unwrap();
        let bytes = std::fs::read(&files[0]).unwrap();
        assert!(bytes.starts_with(b"<?xml version=\"1.0\" encoding=\"ISO-8859-15\"?>\r\n"));
        let expected: &[u8] = b"<value>\xBCuvr\xE9 \xA4 Nguy&#x1EC5;n</value>";
        assert!(bytes.windows(expected.len()).any(|w| w == expected));
        assert!(!bytes.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'));
    }

    #[test]
    fn only_the_previous_demo_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("PREAU86_Complet_20200101_Eleve_0000.xml"), "x").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        assert_eq!(remove_previous(dir.path(), "PREAU86").unwrap(), 1);
        assert!(dir.path().join("notes.txt").exists());
    }
}
