//! The AAF `ficAlimMENESR` reader: file names, encodings, the XML itself (without DTDs or
//! entities), and the mapping of each record's attributes to typed entities.
//!
//! The reader works one file at a time: [`read_file`] returns every record of a file or a
//! [`FileError`] with the line and column where the file stopped being readable, so that a
//! caller can write a file's records all or nothing. Mapping a record ([`map_record`]) may
//! reject that record alone with a [`Rejection`]; the others are unaffected.

// PUBLIC CONTRACT shared by `store` and `preau`: change it only together with them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use domain::names::PersonName;
use domain::profile::Profile;
use jiff::civil::Date;

mod decode;
mod mapping;
mod xml;

/// The biggest file accepted; a real chunk weighs a few megabytes.
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// What a record describes, from its `operationalAttributes` (and the file name's `Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// `EtabEducNat`: a school.
    School,
    /// `MatiereEducNat`: a national subject.
    Subject,
    /// `MefEducNat`: a MEF level.
    Mef,
    /// `PersEducNat`: teachers and other staff.
    Staff,
    /// `PersRelEleve`: parents and other relatives.
    Relative,
    /// `Eleve`: pupils.
    Pupil,
}

impl Category {
    /// The order in which a run applies categories, so that references point backwards as
    /// much as possible: schools, subjects and MEFs, staff, relatives, then pupils.
    pub const IMPORT_ORDER: [Category; 6] = [
        Category::School,
        Category::Subject,
        Category::Mef,
        Category::Staff,
        Category::Relative,
        Category::Pupil,
    ];

    /// The `Type` part of the file name (`EtabEducNat`, `Eleve`, …).
    pub fn file_type(self) -> &'static str {
        match self {
            Category::School => "EtabEducNat",
            Category::Subject => "MatiereEducNat",
            Category::Mef => "MefEducNat",
            Category::Staff => "PersEducNat",
            Category::Relative => "PersRelEleve",
            Category::Pupil => "Eleve",
        }
    }

    /// The stable code stored in the database (`school`, `pupil`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::School => "school",
            Category::Subject => "subject",
            Category::Mef => "mef",
            Category::Staff => "staff",
            Category::Relative => "relative",
            Category::Pupil => "pupil",
        }
    }
}

/// What an AAF file's name says: `<PREFIX>_<Complet|Delta>_<YYYYMMDD>_<Type>_<NNNN>.xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    /// Everything before `_Complet_` / `_Delta_`, e.g. `ENT2DVA-ENT16`.
    pub prefix: String,
    /// `true` for `Complet` (a full export), `false` for `Delta`.
    pub full: bool,
    /// The export date as written, `YYYYMMDD`.
    pub date: String,
    pub category: Category,
    /// The chunk number `NNNN`.
    pub chunk: u32,
}

/// Parses an AAF file name; `None` when the name is not an AAF file (the DTD, a README, …).
pub fn parse_file_name(file_name: &str) -> Option<FileName> {
    let stem = file_name.strip_suffix(".xml").or_else(|| file_name.strip_suffix(".XML"))?;

    let (rest, chunk) = stem.rsplit_once('_')?;
    if chunk.len() != 4 || !chunk.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let chunk = chunk.parse().ok()?;

    let (rest, file_type) = rest.rsplit_once('_')?;
    let category = Category::IMPORT_ORDER.into_iter().find(|c| c.file_type() == file_type)?;

    let (rest, date) = rest.rsplit_once('_')?;
    let real_date = jiff::civil::Date::strptime("%Y%m%d", date).is_ok();
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) || !real_date {
        return None;
    }

    let (prefix, kind) = rest.rsplit_once('_')?;
    let full = match kind {
        "Complet" => true,
        "Delta" => false,
        _ => return None,
    };
    let prefix_ok = !prefix.is_empty()
        && prefix.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !prefix_ok {
        return None;
    }

    Some(FileName { prefix: prefix.to_owned(), full, date: date.to_owned(), category, chunk })
}

/// What a record asks: add (or replace) the entity, modify some of its attributes, delete it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Add,
    Modify,
    Delete,
}

/// A record's attributes by name, each with its values in file order. Empty values
/// (`<value/>`) are dropped; an attribute whose values are all empty maps to an empty list.
pub type Attributes = BTreeMap<String, Vec<String>>;

/// One `addRequest`, `modifyRequest` or `deleteRequest`, as read.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRecord {
    pub operation: Operation,
    pub category: Category,
    /// The `identifier/id` value.
    pub id: String,
    /// The line of the record's start tag, from 1.
    pub line: u32,
    /// For `Add`: every attribute; for `Modify`: only the replaced ones; for `Delete`: empty.
    pub attributes: Attributes,
}

/// A whole file, read and decoded.
#[derive(Debug, Clone)]
pub struct AafFile {
    pub path: PathBuf,
    pub name: FileName,
    /// The `versionAF` header comment, when present (`AAF-VE2407`).
    pub version: Option<String>,
    pub records: Vec<RawRecord>,
    /// Records refused while reading (unknown category, missing id, duplicate id in this file).
    pub rejections: Vec<Rejection>,
}

/// Why a file could not be read at all. Nothing of such a file may be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: ligne {line}, colonne {column} : {reason}", path = .path.display())]
pub struct FileError {
    pub path: PathBuf,
    /// From 1; 0 when the problem is not at a position (unreadable file).
    pub line: u32,
    pub column: u32,
    /// A French sentence: "DTD interne refusée", "fichier tronqué", …
    pub reason: String,
}

/// An identifier or value as it may be printed in a report or a terminal: every control, bidi
/// or zero-width character written as an escape such as `\u{202E}`, so that a hostile id cannot
/// forge report lines or terminal escapes.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if domain::names::is_forbidden(c) {
            out.push_str(&format!("\\u{{{:04X}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Why one record was refused. The others of its file are unaffected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}, ligne {line}, enregistrement {record_id} : {reason}")]
pub struct Rejection {
    /// The file name (without folders).
    pub file: String,
    pub line: u32,
    pub record_id: String,
    /// A French sentence naming the field and why.
    pub reason: String,
}

/// Reads one AAF file: honours the declared encoding (UTF-8, ISO-8859-15, ISO-8859-1,
/// Windows-1252; no declaration means UTF-8; a UTF-8 BOM is skipped), accepts a `DOCTYPE` that
/// names an external DTD without ever loading it, refuses any internal DTD subset, entity
/// declaration or non-predefined entity reference, and limits depth and record count.
///
/// # Errors
/// A [`FileError`] with line and column when the file is unreadable, not well-formed, truncated,
/// badly encoded for its declaration, or not a `ficAlimMENESR` document.
pub fn read_file(path: &Path) -> Result<AafFile, FileError> {
    let error = |line: u32, column: u32, reason: String| FileError {
        path: path.to_path_buf(),
        line,
        column,
        reason,
    };

    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let name = parse_file_name(file_name).ok_or_else(|| {
        error(
            0,
            0,
            "nom de fichier non reconnu (attendu <PRÉFIXE>_<Complet|Delta>_<AAAAMMJJ>_<Type>_<NNNN>.xml)"
                .to_owned(),
        )
    })?;

    let bytes = read_capped(path).map_err(|reason| error(0, 0, reason))?;
    let text = decode::decode(bytes).map_err(|e| error(e.line, e.column, e.reason))?;
    let document = xml::parse(&text, file_name, name.category)
        .map_err(|e| error(e.line, e.column, e.reason))?;

    Ok(AafFile {
        path: path.to_path_buf(),
        name,
        version: document.version,
        records: document.records,
        rejections: document.rejections,
    })
}

/// Reads a whole file, refusing one bigger than [`MAX_FILE_BYTES`].
fn read_capped(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;

    let file = std::fs::File::open(path).map_err(|e| io_reason(&e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > MAX_FILE_BYTES {
        return Err(format!("fichier trop gros ({size} octets, maximum {MAX_FILE_BYTES})"));
    }

    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| io_reason(&e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("fichier trop gros (plus de {MAX_FILE_BYTES} octets)"));
    }
    Ok(bytes)
}

/// A French sentence for a failed read.
fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "fichier introuvable".to_owned(),
        std::io::ErrorKind::PermissionDenied => "lecture du fichier refusée (droits)".to_owned(),
        std::io::ErrorKind::IsADirectory => "chemin d'un dossier, pas d'un fichier".to_owned(),
        _ => format!("fichier illisible ({error})"),
    }
}

/// A postal address as AAF gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    /// Street lines (the `$`-separated parts of `ENTPersonAdresse`, or `street`), non-empty ones.
    pub lines: Vec<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
}

/// A school (`EtabEducNat`).
#[derive(Debug, Clone, PartialEq)]
pub struct School {
    /// `ENTStructureJointure`, the id other files use as prefix.
    pub jointure: String,
    /// `ENTStructureUAI`, e.g. `0860001A`.
    pub uai: String,
    /// The name from `ENTStructureNomCourant` (its middle part when `$`-separated).
    pub name: String,
    /// `ENTStructureTypeStruct`, e.g. `COLLEGE`.
    pub kind: Option<String>,
    /// `ENTEtablissementContrat`, e.g. `PU`.
    pub contract: Option<String>,
    pub siret: Option<String>,
    pub address: Address,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub academy: Option<String>,
}

/// A national subject (`MatiereEducNat`).
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    /// The 6-digit national code (`ENTMatJointure`).
    pub code: String,
    pub label: String,
}

/// A MEF level (`MefEducNat`).
#[derive(Debug, Clone, PartialEq)]
pub struct Mef {
    /// The 11-character code (`ENTMefJointure`).
    pub code: String,
    pub label: String,
    /// `ENTNivFormation`, e.g. `3EME`.
    pub level: Option<String>,
}

/// The names and birth date every person record carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// `ENTPersonJointure` (the record id).
    pub jointure: String,
    /// `sn`.
    pub last_name: PersonName,
    /// `givenName`.
    pub first_name: PersonName,
    /// `ENTPersonNomPatro`, when different from `sn`.
    pub birth_name: Option<PersonName>,
    /// `personalTitle` (`M.`, `Mme`).
    pub title: Option<String>,
    /// `ENTPersonDateNaissance` (`dd/MM/yyyy`).
    pub birth_date: Option<Date>,
    pub email: Option<String>,
}

/// A function held in a school, from `ENTPersonFonctions` (`struct$CODE$LABEL$DISC$DISCLABEL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// The school's jointure.
    pub school: String,
    /// `ENS`, `DIR`, `EDU`, `DOC`, …
    pub code: String,
    pub label: String,
    pub discipline_code: Option<String>,
    pub discipline_label: Option<String>,
}

/// A reference to a class or a group of a school: `struct$code`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StructureRef {
    /// The school's jointure.
    pub school: String,
    /// The class or group code, e.g. `3A`.
    pub code: String,
}

/// A teaching assignment: `struct$code$subject` from `ENTAuxEnsClassesMatieres` or
/// `ENTAuxEnsGroupesMatieres`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Teaching {
    pub target: StructureRef,
    /// The 6-digit subject code; `None` when the file leaves it empty.
    pub subject: Option<String>,
}

/// A teacher or other staff member (`PersEducNat`).
#[derive(Debug, Clone, PartialEq)]
pub struct Staff {
    pub identity: Identity,
    /// [`Profile::Teacher`] or [`Profile::Staff`], from the function codes.
    pub profile: Profile,
    /// `ENTPersonStructRattach`: the schools' jointures.
    pub schools: Vec<String>,
    pub functions: Vec<Function>,
    pub class_teachings: Vec<Teaching>,
    pub group_teachings: Vec<Teaching>,
    /// `ENTAuxEnsClassesPrincipal`: classes whose principal teacher this person is.
    pub principal_of: Vec<StructureRef>,
}

/// One link from a pupil to a relative, from `ENTElevePersRelEleve`
/// (`rel$parenté$financier$légal$contact$paiement`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelativeLink {
    /// The relative's jointure.
    pub relative: String,
    /// The kinship code (`10` father, `20` mother, …, as written).
    pub kinship: Option<String>,
    pub financial: bool,
    /// `0` none, `1` legal guardian, `2` person in charge.
    pub legal: u8,
    pub contact: bool,
    pub payment: bool,
}

/// A class membership with its dates, from `ENTEleveClasses` and `ENTEleveDateEntreeClasses` /
/// `ENTEleveDateSortieClasses`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassMembership {
    pub class: StructureRef,
    pub entry: Option<Date>,
    pub exit: Option<Date>,
}

/// A pupil (`Eleve`).
#[derive(Debug, Clone, PartialEq)]
pub struct Pupil {
    pub identity: Identity,
    /// `ENTEleveINE`.
    pub ine: Option<String>,
    /// `ENTPersonStructRattach`.
    pub schools: Vec<String>,
    pub classes: Vec<ClassMembership>,
    pub groups: Vec<StructureRef>,
    /// `ENTEleveMEF` and `ENTEleveLibelleMEF`.
    pub mef: Option<String>,
    pub mef_label: Option<String>,
    /// The relative links. When a file carries only the deprecated attributes
    /// (`ENTEleveAutoriteParentale`, …) they are mapped to links with `legal = 1`.
    pub relatives: Vec<RelativeLink>,
    pub address: Address,
}

/// A relative (`PersRelEleve`).
#[derive(Debug, Clone, PartialEq)]
pub struct Relative {
    pub identity: Identity,
    pub mobile: Option<String>,
    pub address: Address,
    /// `ENTAuxPersRelEleveEleve`: the pupils' jointures, when given.
    pub pupils: Vec<String>,
}

/// A record's attributes mapped to its typed entity.
#[derive(Debug, Clone, PartialEq)]
pub enum Entity {
    School(School),
    Subject(Subject),
    Mef(Mef),
    Staff(Staff),
    Relative(Relative),
    Pupil(Pupil),
}

/// Maps a record's (complete) attributes to its entity. For a `Modify`, the caller first merges
/// the replaced attributes into the ones it stored and maps the merged set.
///
/// # Errors
/// A [`Rejection`] naming the field and the reason: a missing or invalid required field (names,
/// UAI, codes), a name refused by [`PersonName::parse`], a malformed date, a malformed
/// `$`-separated value.
pub fn map_record(
    file: &str,
    line: u32,
    category: Category,
    id: &str,
    attributes: &Attributes,
) -> Result<Entity, Rejection> {
    let record = mapping::Record { file, line, id, attributes };
    mapping::map(&record, category)
}
