//! The reference lists of the internship platform as the outside world writes them: the
//! national list of professional sectors (`parse_sectors`: the YAML dump the national platform
//! publishes, one `!ruby/object:Sector` per sector with its attributes as
//! `name`/`value_before_type_cast` pairs; only `uuid` and `name` are kept) and a gazetteer of
//! communes (`parse_communes`: a GeoNames-like CSV `geonames_id,name,admin_code,population,lat,
//! lon`, with an optional `postal_code` column). Only these shapes are read: a file that is not
//! one of them is refused whole with the line where it went wrong, a record that cannot be
//! understood is refused with its line and the reason, in French. A header line repeated
//! inside the CSV (files concatenated by hand) is skipped with a notice. Nothing here panics
//! on any input.

use domain::internship::geo::Point;

/// The largest reference file read, in bytes (the national list is about 20 KB, a
/// département's communes a few hundred KB).
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// The longest sector or commune name kept, in characters.
pub const MAX_NAME_CHARS: usize = 150;

/// A professional sector of the national list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sector {
    /// The national platform's UUID, lower-case.
    pub id: String,
    pub name: String,
}

/// A commune of a gazetteer, with the coordinates of its centre.
#[derive(Debug, Clone, PartialEq)]
pub struct Commune {
    /// The code it came with (GeoNames id or INSEE code).
    pub id: String,
    pub name: String,
    pub postal_code: Option<String>,
    pub population: Option<i64>,
    pub point: Point,
}

/// A whole file refused, or one record refused, or a notice: a 1-based line (0 for the file
/// as a whole) and a French reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ligne {line} : {reason}")]
pub struct LineProblem {
    pub line: u64,
    pub reason: String,
}

/// What a reference file gave: the records understood, the ones refused, and notices about
/// lines skipped on purpose.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T> {
    pub records: Vec<T>,
    pub rejections: Vec<LineProblem>,
    pub notices: Vec<LineProblem>,
}

fn problem(line: u64, reason: impl Into<String>) -> LineProblem {
    LineProblem { line, reason: reason.into() }
}

/// Reads the bytes of a reference file as UTF-8 text, refusing a file too large or not in
/// UTF-8 (with the line of the first bad byte). A byte order mark is dropped.
fn text_of(bytes: &[u8]) -> Result<&str, LineProblem> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(problem(0, "fichier trop volumineux (plus de 16 Mo)"));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|error| {
        let line = bytes[..error.valid_up_to()].iter().filter(|b| **b == b'\n').count() as u64;
        problem(line + 1, "le fichier n'est pas encodé en UTF-8")
    })
}

/// A name as kept: trimmed, not empty, not too long, without control or bidi characters.
fn clean_name(raw: &str) -> Result<String, String> {
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err("nom vide".to_owned());
    }
    if let Some(bad) = name.chars().find(|c| domain::names::is_forbidden(*c)) {
        return Err(format!(
            "le nom contient un caractère de contrôle ou de direction de texte (U+{:04X})",
            bad as u32
        ));
    }
    let count = name.chars().count();
    if count > MAX_NAME_CHARS {
        return Err(format!("nom trop long ({count} caractères, maximum {MAX_NAME_CHARS})"));
    }
    Ok(name)
}

/// Whether a text is a UUID in its canonical 8-4-4-4-12 hexadecimal form.
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A sector being read: its first line and the attributes met so far.
#[derive(Default)]
struct SectorDraft {
    line: u64,
    uuid: Option<String>,
    name: Option<String>,
}

impl SectorDraft {
    fn finish(self, parsed: &mut Parsed<Sector>) {
        let Some(uuid) = self.uuid else {
            parsed.rejections.push(problem(self.line, "secteur sans uuid"));
            return;
        };
        let uuid = uuid.to_ascii_lowercase();
        if !is_uuid(&uuid) {
            parsed.rejections.push(problem(
                self.line,
                format!("uuid « {} » mal formé", crate::aaf::printable(&uuid)),
            ));
            return;
        }
        let Some(name) = self.name else {
            parsed.rejections.push(problem(self.line, format!("secteur {uuid} sans nom")));
            return;
        };
        match clean_name(&name) {
            Ok(name) if parsed.records.iter().any(|s| s.id == uuid) => {
                let reason = format!("uuid {uuid} en double (secteur « {name} »)");
                parsed.rejections.push(problem(self.line, reason));
            }
            Ok(name) => parsed.records.push(Sector { id: uuid, name }),
            Err(reason) => parsed.rejections.push(problem(self.line, format!("{uuid} : {reason}"))),
        }
    }
}

/// A YAML scalar as written after `key: `: plain, or single- or double-quoted. Only what a
/// YAML dump of the national list writes is understood; anything else is refused.
fn yaml_scalar(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if let Some(inner) = raw.strip_prefix('\'') {
        let inner = inner.strip_suffix('\'').ok_or("guillemet simple non fermé")?;
        return Ok(inner.replace("''", "'"));
    }
    if let Some(inner) = raw.strip_prefix('"') {
        let inner = inner.strip_suffix('"').ok_or("guillemet double non fermé")?;
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('/') => out.push('/'),
                Some(other) => return Err(format!("échappement \\{other} non pris en charge")),
                None => return Err("échappement inachevé".to_owned()),
            }
        }
        return Ok(out);
    }
    if raw.starts_with(['|', '>', '&', '*', '[', '{']) {
        return Err("valeur YAML d'une forme non prise en charge".to_owned());
    }
    Ok(raw.to_owned())
}

/// Reads the national list of sectors (`monstage_sectors.yml`).
///
/// # Errors
/// The whole file is refused when it is not UTF-8, too large, or not a YAML list of
/// `!ruby/object:Sector` entries; a sector without a well-formed uuid or a name is refused
/// alone (in `rejections`).
pub fn parse_sectors(bytes: &[u8]) -> Result<Parsed<Sector>, LineProblem> {
    let text = text_of(bytes)?;
    let mut parsed: Parsed<Sector> =
        Parsed { records: Vec::new(), rejections: Vec::new(), notices: Vec::new() };
    let mut current: Option<SectorDraft> = None;
    let mut pending_attribute: Option<String> = None;
    let mut seen_start = false;

    for (index, raw_line) in text.lines().enumerate() {
        let number = index as u64 + 1;
        let line = raw_line.trim_end();
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if !seen_start {
            seen_start = true;
            if trimmed == "---" {
                continue;
            }
        }
        if let Some(tag) = line.strip_prefix("- ") {
            if tag.trim() != "!ruby/object:Sector" {
                return Err(problem(
                    number,
                    "chaque élément de la liste doit être un « !ruby/object:Sector »",
                ));
            }
            if let Some(done) = current.take() {
                done.finish(&mut parsed);
            }
            current = Some(SectorDraft { line: number, ..SectorDraft::default() });
            pending_attribute = None;
            continue;
        }
        if !line.starts_with(' ') {
            return Err(problem(number, "ce n'est pas une liste YAML de secteurs"));
        }
        let Some(draft) = current.as_mut() else {
            return Err(problem(number, "attribut hors d'un secteur"));
        };
        let item = trimmed.strip_prefix("- ").unwrap_or(trimmed);
        let Some((key, value)) = item.split_once(':') else {
            return Err(problem(number, "ligne YAML sans « clé: valeur »"));
        };
        let value = yaml_scalar(value).map_err(|reason| problem(number, reason))?;
        match key.trim() {
            "name" => pending_attribute = Some(value),
            "value_before_type_cast" | "value" => match pending_attribute.take().as_deref() {
                Some("uuid") => draft.uuid = Some(value),
                Some("name") => draft.name = Some(value),
                _ => {}
            },
            _ => {}
        }
    }
    if let Some(done) = current.take() {
        done.finish(&mut parsed);
    }
    if parsed.records.is_empty() && parsed.rejections.is_empty() {
        return Err(problem(0, "aucun secteur dans le fichier"));
    }
    Ok(parsed)
}

/// The columns of a communes file, found by their header names.
struct Columns {
    id: usize,
    name: usize,
    population: Option<usize>,
    latitude: usize,
    longitude: usize,
    postal_code: Option<usize>,
    count: usize,
}

impl Columns {
    fn of(header: &csv::StringRecord) -> Result<Columns, String> {
        let find = |names: &[&str]| {
            header.iter().position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
        };
        let id = find(&["geonames_id", "geonameid", "id", "insee", "code_insee"]);
        let name = find(&["name", "nom"]);
        let latitude = find(&["lat", "latitude"]);
        let longitude = find(&["lon", "lng", "longitude"]);
        match (id, name, latitude, longitude) {
            (Some(id), Some(name), Some(latitude), Some(longitude)) => Ok(Columns {
                id,
                name,
                population: find(&["population"]),
                latitude,
                longitude,
                postal_code: find(&["postal_code", "code_postal", "postcode", "zipcode"]),
                count: header.len(),
            }),
            _ => {
                Err("en-tête attendu : geonames_id,name,…,lat,lon (colonnes introuvables)"
                    .to_owned())
            }
        }
    }

    /// Whether a record repeats the header (its id column holds a header name).
    fn is_header(record: &csv::StringRecord, header: &csv::StringRecord) -> bool {
        record.len() == header.len()
            && record.iter().zip(header.iter()).filter(|(a, b)| a.trim() == b.trim()).count() * 2
                > header.len()
    }

    fn read(&self, record: &csv::StringRecord) -> Result<Commune, String> {
        if record.len() != self.count {
            return Err(format!("{} colonnes au lieu de {}", record.len(), self.count));
        }
        let field = |index: usize| record.get(index).unwrap_or("").trim();
        let id = field(self.id);
        if id.is_empty() || id.len() > 20 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!("identifiant « {} » non valide", crate::aaf::printable(id)));
        }
        let name = clean_name(field(self.name))?;
        let latitude: f64 = field(self.latitude)
            .parse()
            .map_err(|_| format!("latitude « {} » illisible", field(self.latitude)))?;
        let longitude: f64 = field(self.longitude)
            .parse()
            .map_err(|_| format!("longitude « {} » illisible", field(self.longitude)))?;
        let point = Point::new(latitude, longitude)
            .ok_or_else(|| format!("coordonnées hors du globe ({latitude}, {longitude})"))?;
        let population = match self.population.map(field).filter(|p| !p.is_empty()) {
            None => None,
            Some(text) => match text.parse::<i64>() {
                Ok(n) if n >= 0 => Some(n),
                _ => return Err(format!("population « {text} » illisible")),
            },
        };
        let postal_code = match self.postal_code.map(field).filter(|p| !p.is_empty()) {
            None => None,
            Some(code) if code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit()) => {
                Some(code.to_owned())
            }
            Some(code) => return Err(format!("code postal « {code} » non valide")),
        };
        Ok(Commune { id: id.to_owned(), name, postal_code, population, point })
    }
}

/// Reads a communes CSV (`towns-around-vienne.csv` and its like).
///
/// # Errors
/// The whole file is refused when it is not UTF-8, too large, empty, or its header lacks the
/// id, name, latitude or longitude column; a line that cannot be read is refused alone.
pub fn parse_communes(bytes: &[u8]) -> Result<Parsed<Commune>, LineProblem> {
    let text = text_of(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::None)
        .from_reader(text.as_bytes());
    let mut records = reader.records();

    let header = match records.next() {
        None => return Err(problem(0, "fichier vide")),
        Some(Err(error)) => return Err(problem(1, format!("en-tête illisible ({error})"))),
        Some(Ok(header)) => header,
    };
    let columns = Columns::of(&header).map_err(|reason| problem(1, reason))?;
    let mut parsed: Parsed<Commune> =
        Parsed { records: Vec::new(), rejections: Vec::new(), notices: Vec::new() };
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                parsed.rejections.push(problem(line, "ligne CSV mal formée"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if Columns::is_header(&record, &header) || record.get(columns.id) == header.get(columns.id)
        {
            parsed.notices.push(problem(line, "en-tête répété : ligne ignorée"));
            continue;
        }
        match columns.read(&record) {
            Ok(commune) if parsed.records.iter().any(|c| c.id == commune.id) => {
                let reason = format!("identifiant {} en double", commune.id);
                parsed.rejections.push(problem(line, reason));
            }
            Ok(commune) => parsed.records.push(commune),
            Err(reason) => parsed.rejections.push(problem(line, reason)),
        }
    }
    if parsed.records.is_empty() && parsed.rejections.is_empty() {
        return Err(problem(0, "aucune commune dans le fichier"));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECTORS: &str = "---\n- !ruby/object:Sector\n  concise_attributes:\n  - \
        !ruby/object:ActiveModel::Attribute::FromDatabase\n    name: id\n    \
        value_before_type_cast: 1\n  - !ruby/object:ActiveModel::Attribute::FromDatabase\n    \
        name: name\n    value_before_type_cast: 'Artisanat d''art'\n  - \
        !ruby/object:ActiveModel::Attribute::FromDatabase\n    name: uuid\n    \
        value_before_type_cast: 1CE60ECC-273d-4c73-9b1a-2f5ee14e1bc6\n  new_record: false\n";

    #[test]
    fn reads_a_sector_with_a_quoted_name() {
        let parsed = parse_sectors(SECTORS.as_bytes()).unwrap();
        assert_eq!(
            parsed.records,
            vec![Sector {
                id: "1ce60ecc-273d-4c73-9b1a-2f5ee14e1bc6".to_owned(),
                name: "Artisanat d'art".to_owned()
            }]
        );
    }

    #[test]
    fn refuses_other_yaml_and_bad_uuids_with_their_line() {
        let other = "---\n- !ruby/object:User\n  name: x\n";
        assert_eq!(parse_sectors(other.as_bytes()).unwrap_err().line, 2);
        assert_eq!(parse_sectors(b"\xff\xfe").unwrap_err().line, 1);
        assert!(parse_sectors(b"").is_err());

        let bad = SECTORS.replace("1CE60ECC", "ZZ");
        let parsed = parse_sectors(bad.as_bytes()).unwrap();
        assert!(parsed.records.is_empty());
        assert_eq!(parsed.rejections[0].line, 2);
        assert!(parsed.rejections[0].reason.contains("uuid"), "{:?}", parsed.rejections);
    }

    #[test]
    fn skips_a_repeated_header_and_locates_bad_lines() {
        let csv = "geonames_id,name,admin1_code,population,lat,lon\n\
                   geonames_id,name,admin_code,population,lat,lon\n\
                   2986495,\"Poitiers\",75,85960,46.58261,0.34348\n\
                   1,\"Nulle-Part\",75,10,95.0,0.1\n\
                   2,\"Sans-Pop\",75,,46.1,0.1\n\
                   3,\"Trop\",75\n";
        let parsed = parse_communes(csv.as_bytes()).unwrap();
        assert_eq!(parsed.notices.len(), 1);
        assert_eq!(parsed.notices[0].line, 2);
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(parsed.records[0].name, "Poitiers");
        assert_eq!(parsed.records[1].population, None);
        let lines: Vec<u64> = parsed.rejections.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![4, 6]);
        assert!(parsed.rejections[0].reason.contains("globe"));
    }

    #[test]
    fn refuses_a_file_without_the_needed_columns() {
        assert_eq!(parse_communes(b"a,b,c\n1,2,3\n").unwrap_err().line, 1);
        assert!(parse_communes(b"").is_err());
    }
}
