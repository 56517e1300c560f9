//! A record's attributes turned into its typed entity: required fields, names through
//! [`PersonName::parse`], `dd/MM/yyyy` dates, UAIs, and the `$`-separated values (functions,
//! teachings, classes, groups, dated class memberships, relative links with their flags).

use std::collections::{HashMap, HashSet};

use domain::names::{PersonName, is_forbidden};
use domain::profile::staff_profile;
use jiff::civil::Date;

use super::{
    Address, Attributes, Category, ClassMembership, Entity, Function, Identity, Mef, Pupil,
    Rejection, Relative, RelativeLink, School, Staff, StructureRef, Subject, Teaching,
};

/// The longest free text accepted (labels, school names, address lines), in characters.
const MAX_TEXT_CHARS: usize = 500;

/// The longest code accepted (jointures, class codes, UAI, MEF), in characters.
const MAX_CODE_CHARS: usize = 64;

type Mapped<T> = Result<T, Rejection>;

/// One record being mapped: where it came from, for the rejections.
pub(super) struct Record<'a> {
    pub(super) file: &'a str,
    pub(super) line: u32,
    pub(super) id: &'a str,
    pub(super) attributes: &'a Attributes,
}

pub(super) fn map(record: &Record<'_>, category: Category) -> Mapped<Entity> {
    if record.id.is_empty() {
        return Err(record.reject("identifiant absent ou vide".to_owned()));
    }
    match category {
        Category::School => record.school().map(Entity::School),
        Category::Subject => record.subject().map(Entity::Subject),
        Category::Mef => record.mef().map(Entity::Mef),
        Category::Staff => record.staff().map(Entity::Staff),
        Category::Relative => record.relative().map(Entity::Relative),
        Category::Pupil => record.pupil().map(Entity::Pupil),
    }
}

impl Record<'_> {
    fn reject(&self, reason: String) -> Rejection {
        Rejection {
            file: self.file.to_owned(),
            line: self.line,
            record_id: super::printable(self.id),
            reason,
        }
    }

    fn field_error(&self, field: &str, reason: impl std::fmt::Display) -> Rejection {
        self.reject(format!("champ {field} : {reason}"))
    }

    fn value_error(
        &self,
        field: &str,
        position: usize,
        reason: impl std::fmt::Display,
    ) -> Rejection {
        self.reject(format!("champ {field}, valeur {} : {reason}", position + 1))
    }

    fn values(&self, field: &str) -> &[String] {
        self.attributes.get(field).map(Vec::as_slice).unwrap_or_default()
    }

    /// The first non-empty value (the reader already trimmed values and dropped empty ones).
    fn first(&self, field: &str) -> Option<&str> {
        self.values(field).iter().map(String::as_str).find(|v| !v.is_empty())
    }

    /// A single-valued free text: white space folded, control and bidi characters refused.
    fn text(&self, field: &str) -> Mapped<Option<String>> {
        self.first(field).map(|raw| self.clean_text(field, raw)).transpose()
    }

    fn clean_text(&self, field: &str, raw: &str) -> Mapped<String> {
        let folded = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(bad) = folded.chars().find(|c| is_forbidden(*c)) {
            return Err(self.field_error(
                field,
                format!(
                    "contient un caractère de contrôle ou de direction de texte (U+{:04X})",
                    u32::from(bad)
                ),
            ));
        }
        let chars = folded.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(self.field_error(
                field,
                format!("trop long ({chars} caractères, maximum {MAX_TEXT_CHARS})"),
            ));
        }
        Ok(folded)
    }

    /// A code: no white space inside, no control character, bounded.
    fn check_code(&self, field: &str, position: Option<usize>, code: &str) -> Mapped<()> {
        let chars = code.chars().count();
        let reason = if code.chars().any(|c| is_forbidden(c) || c.is_whitespace() && c != ' ') {
            Some("contient un caractère de contrôle".to_owned())
        } else if chars > MAX_CODE_CHARS {
            Some(format!("code trop long ({chars} caractères, maximum {MAX_CODE_CHARS})"))
        } else {
            None
        };
        match (reason, position) {
            (None, _) => Ok(()),
            (Some(reason), Some(position)) => Err(self.value_error(field, position, reason)),
            (Some(reason), None) => Err(self.field_error(field, reason)),
        }
    }

    fn required_text(&self, field: &str) -> Mapped<String> {
        self.text(field)?.ok_or_else(|| self.field_error(field, "absent ou vide"))
    }

    /// The record's jointure: the named attribute when given (it must equal the record id),
    /// else the record id.
    fn jointure(&self, field: &str) -> Mapped<String> {
        match self.first(field) {
            Some(value) if value != self.id => Err(self.field_error(
                field,
                format!("« {value} » différent de l'identifiant de l'enregistrement"),
            )),
            _ => {
                self.check_code(field, None, self.id)?;
                Ok(self.id.to_owned())
            }
        }
    }

    fn name(&self, field: &str) -> Mapped<Option<PersonName>> {
        match self.first(field) {
            None => Ok(None),
            Some(raw) => PersonName::parse(raw).map(Some).map_err(|e| self.field_error(field, e)),
        }
    }

    fn required_name(&self, field: &str) -> Mapped<PersonName> {
        self.name(field)?.ok_or_else(|| self.field_error(field, "valeur vide"))
    }

    fn date(&self, field: &str) -> Mapped<Option<Date>> {
        match self.first(field) {
            None => Ok(None),
            Some(raw) => parse_date(raw).map(Some).map_err(|e| self.field_error(field, e)),
        }
    }

    /// A birth date, which must be plausible: from 1900 on, and not after the export was read.
    fn birth_date(&self, field: &str) -> Mapped<Option<Date>> {
        let Some(date) = self.date(field)? else { return Ok(None) };
        let today = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
        if date.year() < 1900 || date > today {
            let reason =
                format!("date de naissance invraisemblable ({})", date.strftime("%d/%m/%Y"));
            return Err(self.field_error(field, reason));
        }
        Ok(Some(date))
    }

    /// The values of a multi-valued code list, without duplicates, in file order.
    fn code_list(&self, field: &str) -> Mapped<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for (position, value) in self.values(field).iter().enumerate() {
            self.check_code(field, Some(position), value)?;
            if seen.insert(value) {
                out.push(value.clone());
            }
        }
        Ok(out)
    }

    /// Splits each value of `field` on `$`, checking the number of parts.
    fn split_values(
        &self,
        field: &str,
        parts: std::ops::RangeInclusive<usize>,
    ) -> Mapped<Vec<(usize, Vec<&str>)>> {
        let mut out = Vec::new();
        for (position, value) in self.values(field).iter().enumerate() {
            let split: Vec<&str> = value.split('$').map(str::trim).collect();
            if !parts.contains(&split.len()) {
                let expected = if parts.start() == parts.end() {
                    parts.start().to_string()
                } else {
                    format!("{} à {}", parts.start(), parts.end())
                };
                return Err(self.value_error(
                    field,
                    position,
                    format!(
                        "{} parties séparées par « $ » au lieu de {expected} (« {value} »)",
                        split.len()
                    ),
                ));
            }
            out.push((position, split));
        }
        Ok(out)
    }

    /// Splits each value of `field` into exactly `N` `$`-separated parts.
    fn split_fixed<const N: usize>(&self, field: &str) -> Mapped<Vec<(usize, [&str; N])>> {
        self.split_values(field, N..=N)?
            .into_iter()
            .map(|(position, parts)| {
                <[&str; N]>::try_from(parts.as_slice())
                    .map(|parts| (position, parts))
                    .map_err(|_| self.value_error(field, position, "valeur mal découpée"))
            })
            .collect()
    }

    /// A `struct$code` reference from parts already split.
    fn structure(
        &self,
        field: &str,
        position: usize,
        school: &str,
        code: &str,
    ) -> Mapped<StructureRef> {
        if school.is_empty() || code.is_empty() {
            return Err(self.value_error(field, position, "structure ou code vide"));
        }
        self.check_code(field, Some(position), school)?;
        self.check_code(field, Some(position), code)?;
        Ok(StructureRef { school: school.to_owned(), code: code.to_owned() })
    }

    /// A list of `struct$code` values, without duplicates.
    fn structure_refs(&self, field: &str) -> Mapped<Vec<StructureRef>> {
        let mut out: Vec<StructureRef> = Vec::new();
        let mut seen: HashSet<StructureRef> = HashSet::new();
        for (position, [school, code]) in self.split_fixed(field)? {
            let reference = self.structure(field, position, school, code)?;
            if seen.insert(reference.clone()) {
                out.push(reference);
            }
        }
        Ok(out)
    }

    fn address(
        &self,
        lines_field: &str,
        postal: &str,
        city: &str,
        country: Option<&str>,
    ) -> Mapped<Address> {
        let mut lines = Vec::new();
        for value in self.values(lines_field) {
            for part in value.split('$') {
                let part = self.clean_text(lines_field, part)?;
                if !part.is_empty() {
                    lines.push(part);
                }
            }
        }
        Ok(Address {
            lines,
            postal_code: self.text(postal)?,
            city: self.text(city)?,
            country: match country {
                Some(field) => self.text(field)?,
                None => None,
            },
        })
    }

    fn identity(&self) -> Mapped<Identity> {
        let jointure = self.jointure("ENTPersonJointure")?;
        let last_name = self.required_name("sn")?;
        let first_name = self.required_name("givenName")?;
        let birth_name = self.name("ENTPersonNomPatro")?.filter(|name| *name != last_name);
        Ok(Identity {
            jointure,
            last_name,
            first_name,
            birth_name,
            title: self.text("personalTitle")?,
            birth_date: self.birth_date("ENTPersonDateNaissance")?,
            email: self.text("mail")?,
        })
    }

    fn school(&self) -> Mapped<School> {
        let jointure = self.jointure("ENTStructureJointure")?;

        let (uai_field, raw_uai) =
            match (self.first("ENTStructureUAI"), self.first("ENTEtablissementUAI")) {
                (Some(uai), _) => ("ENTStructureUAI", uai),
                (None, Some(uai)) => ("ENTEtablissementUAI", uai),
                (None, None) => return Err(self.field_error("ENTStructureUAI", "absent ou vide")),
            };
        let uai = parse_uai(raw_uai).ok_or_else(|| {
            self.field_error(
                uai_field,
                format!("« {raw_uai} » n'est pas un UAI (7 chiffres suivis d'une lettre)"),
            )
        })?;

        let raw_name = self.required_text("ENTStructureNomCourant")?;
        let parts: Vec<&str> = raw_name.split('$').collect();
        let name = match parts.as_slice() {
            [_, middle, _] if !middle.trim().is_empty() => middle.trim().to_owned(),
            _ => raw_name.clone(),
        };

        Ok(School {
            jointure,
            uai,
            name,
            kind: self.text("ENTStructureTypeStruct")?,
            contract: self.text("ENTEtablissementContrat")?,
            siret: self.text("ENTStructureSIREN")?,
            address: self.address("street", "postalCode", "l", None)?,
            phone: self.text("telephoneNumber")?,
            email: self.text("ENTStructureMailSI")?,
            academy: self.text("ENTServAcAcademie")?,
        })
    }

    fn subject(&self) -> Mapped<Subject> {
        let code = self.jointure("ENTMatJointure")?;
        Ok(Subject { code, label: self.required_text("ENTLibelleMatiere")? })
    }

    fn mef(&self) -> Mapped<Mef> {
        let code = self.jointure("ENTMefJointure")?;
        Ok(Mef {
            code,
            label: self.required_text("ENTLibelleMef")?,
            level: self.text("ENTNivFormation")?,
        })
    }

    fn staff(&self) -> Mapped<Staff> {
        let identity = self.identity()?;

        let field = "ENTPersonFonctions";
        let mut functions: Vec<Function> = Vec::new();
        let mut seen: HashSet<(String, String, Option<String>)> = HashSet::new();
        for (position, parts) in self.split_values(field, 2..=5)? {
            let part = |i: usize| parts.get(i).copied().filter(|p| !p.is_empty());
            let (Some(school), Some(code)) = (part(0), part(1)) else {
                return Err(self.value_error(
                    field,
                    position,
                    "structure ou code de fonction vide",
                ));
            };
            self.check_code(field, Some(position), school)?;
            self.check_code(field, Some(position), code)?;
            if let Some(discipline) = part(3) {
                self.check_code(field, Some(position), discipline)?;
            }
            let function = Function {
                school: school.to_owned(),
                code: code.to_owned(),
                label: part(2).map(|l| self.clean_text(field, l)).transpose()?.unwrap_or_default(),
                discipline_code: part(3).map(str::to_owned),
                discipline_label: part(4).map(|l| self.clean_text(field, l)).transpose()?,
            };
            let key =
                (function.school.clone(), function.code.clone(), function.discipline_code.clone());
            if seen.insert(key) {
                functions.push(function);
            }
        }

        Ok(Staff {
            identity,
            profile: staff_profile(functions.iter().map(|f| f.code.as_str())),
            schools: self.code_list("ENTPersonStructRattach")?,
            functions,
            class_teachings: self.teachings("ENTAuxEnsClassesMatieres", "ENTAuxEnsClasses")?,
            group_teachings: self.teachings("ENTAuxEnsGroupesMatieres", "ENTAuxEnsGroupes")?,
            principal_of: self.structure_refs("ENTAuxEnsClassesPrincipal")?,
        })
    }

    /// `struct$code$subject` values of `field` (the subject may be left empty or out), then the
    /// `struct$code` values of the legacy `attached_field` that name a class or group not
    /// listed yet: staff attached to a class without teaching a subject there (a CPE, an
    /// assistant) get a teaching without subject, which is what makes them adults of the class.
    fn teachings(&self, field: &str, attached_field: &str) -> Mapped<Vec<Teaching>> {
        let mut out: Vec<Teaching> = Vec::new();
        let mut seen: HashSet<(StructureRef, Option<String>)> = HashSet::new();
        for (position, parts) in self.split_values(field, 2..=3)? {
            let part = |i: usize| parts.get(i).copied().unwrap_or_default();
            let target = self.structure(field, position, part(0), part(1))?;
            let subject = Some(part(2)).filter(|s| !s.is_empty());
            if let Some(subject) = subject {
                self.check_code(field, Some(position), subject)?;
            }
            let teaching = Teaching { target, subject: subject.map(str::to_owned) };
            if seen.insert((teaching.target.clone(), teaching.subject.clone())) {
                out.push(teaching);
            }
        }

        for target in self.structure_refs(attached_field)? {
            if !out.iter().any(|teaching| teaching.target == target) {
                out.push(Teaching { target, subject: None });
            }
        }
        Ok(out)
    }

    fn relative(&self) -> Mapped<Relative> {
        Ok(Relative {
            identity: self.identity()?,
            mobile: match self.text("mobile")? {
                Some(mobile) => Some(mobile),
                None => self.text("ENTPersonMobileSMS")?,
            },
            address: self.person_address()?,
            pupils: self.code_list("ENTAuxPersRelEleveEleve")?,
        })
    }

    fn person_address(&self) -> Mapped<Address> {
        self.address(
            "ENTPersonAdresse",
            "ENTPersonCodePostal",
            "ENTPersonVille",
            Some("ENTPersonPays"),
        )
    }

    fn pupil(&self) -> Mapped<Pupil> {
        let identity = self.identity()?;

        let mut classes: Vec<ClassMembership> = self
            .structure_refs("ENTEleveClasses")?
            .into_iter()
            .map(|class| ClassMembership { class, entry: None, exit: None })
            .collect();
        let index: HashMap<StructureRef, usize> =
            classes.iter().enumerate().map(|(i, m)| (m.class.clone(), i)).collect();
        // Dates of a class the pupil is not listed in are not turned into memberships: the
        // class list is the authority on where the pupil is.
        for (field, is_entry) in
            [("ENTEleveDateEntreeClasses", true), ("ENTEleveDateSortieClasses", false)]
        {
            for (position, [school, raw_date, code]) in self.split_fixed(field)? {
                let class = self.structure(field, position, school, code)?;
                let date = match raw_date {
                    "" => None,
                    raw => Some(parse_date(raw).map_err(|e| self.value_error(field, position, e))?),
                };
                if let Some(membership) = index.get(&class).and_then(|&i| classes.get_mut(i)) {
                    if is_entry {
                        membership.entry = date;
                    } else {
                        membership.exit = date;
                    }
                }
            }
        }

        Ok(Pupil {
            identity,
            ine: self.text("ENTEleveINE")?,
            schools: self.code_list("ENTPersonStructRattach")?,
            classes,
            groups: self.structure_refs("ENTEleveGroupes")?,
            mef: self.text("ENTEleveMEF")?,
            mef_label: self.text("ENTEleveLibelleMEF")?,
            relatives: self.relative_links()?,
            address: self.person_address()?,
        })
    }

    /// `ENTElevePersRelEleve`, or the deprecated `ENTEleveAutoriteParentale` (legal guardians)
    /// and `ENTEleveParents` (the others) when it is absent or empty.
    fn relative_links(&self) -> Mapped<Vec<RelativeLink>> {
        let field = "ENTElevePersRelEleve";
        let mut links: Vec<RelativeLink> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for (position, [relative, kinship, financial, legal, contact, payment]) in
            self.split_fixed(field)?
        {
            if relative.is_empty() {
                return Err(self.value_error(field, position, "identifiant du responsable vide"));
            }
            self.check_code(field, Some(position), relative)?;
            let flag = |value: &str, name: &str| match value {
                "1" => Ok(true),
                "0" | "" => Ok(false),
                other => Err(self.value_error(
                    field,
                    position,
                    format!("indicateur {name} « {other} » invalide (0 ou 1 attendu)"),
                )),
            };
            let legal = match legal {
                "0" | "" => 0,
                "1" => 1,
                "2" => 2,
                other => {
                    return Err(self.value_error(
                        field,
                        position,
                        format!("responsabilité légale « {other} » invalide (0, 1 ou 2 attendu)"),
                    ));
                }
            };
            let kinship = Some(kinship).filter(|k| !k.is_empty());
            if let Some(kinship) = kinship {
                self.check_code(field, Some(position), kinship)?;
            }
            let link = RelativeLink {
                relative: relative.to_owned(),
                kinship: kinship.map(str::to_owned),
                financial: flag(financial, "financier")?,
                legal,
                contact: flag(contact, "contact")?,
                payment: flag(payment, "paiement")?,
            };
            if seen.insert(relative) {
                links.push(link);
            }
        }
        if !links.is_empty() {
            return Ok(links);
        }

        let legal = self.code_list("ENTEleveAutoriteParentale")?;
        let parents = self.code_list("ENTEleveParents")?;
        let guardians: HashSet<&str> = legal.iter().map(String::as_str).collect();
        let deprecated = legal.iter().map(|relative| (relative, 1)).chain(
            parents
                .iter()
                .filter(|p| !guardians.contains(p.as_str()))
                .map(|relative| (relative, 0)),
        );
        Ok(deprecated
            .map(|(relative, legal)| RelativeLink {
                relative: relative.clone(),
                kinship: None,
                financial: false,
                legal,
                contact: false,
                payment: false,
            })
            .collect())
    }
}

/// A `dd/MM/yyyy` date.
fn parse_date(raw: &str) -> Result<Date, String> {
    let invalid = || format!("date invalide « {raw} » (jj/mm/aaaa attendu)");
    let mut parts = raw.split('/');
    let (Some(day), Some(month), Some(year), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let number = |s: &str, len: std::ops::RangeInclusive<usize>| -> Option<i16> {
        if len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    let (Some(day), Some(month), Some(year)) =
        (number(day, 1..=2), number(month, 1..=2), number(year, 4..=4))
    else {
        return Err(invalid());
    };
    let day = i8::try_from(day).map_err(|_| invalid())?;
    let month = i8::try_from(month).map_err(|_| invalid())?;
    Date::new(year, month, day).map_err(|_| invalid())
}

/// A UAI: 7 digits and a letter (upper-cased). The check letter is not verified: sample files
/// use made-up UAIs.
fn parse_uai(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let well_formed = bytes.len() == 8
        && bytes[..7].iter().all(u8::is_ascii_digit)
        && bytes[7].is_ascii_alphabetic();
    well_formed.then(|| raw.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_day_month_year() {
        assert_eq!(parse_date("14/09/1995"), Ok(jiff::civil::date(1995, 9, 14)));
        assert_eq!(parse_date("1/2/2003"), Ok(jiff::civil::date(2003, 2, 1)));
        assert!(parse_date("31/02/2010").is_err());
        assert!(parse_date("2010-02-01").is_err());
        assert!(parse_date("01/02/10").is_err());
        assert!(parse_date("01/02/2010/3").is_err());
        assert!(parse_date("+1/02/2010").is_err());
    }

    #[test]
    fn uais_are_seven_digits_and_a_letter() {
        assert_eq!(parse_uai("0860001a").as_deref(), Some("0860001A"));
        assert_eq!(parse_uai("0123456A").as_deref(), Some("0123456A"));
        assert_eq!(parse_uai("012345A"), None);
        assert_eq!(parse_uai("01234567"), None);
        assert_eq!(parse_uai("0123456É"), None);
    }
}
