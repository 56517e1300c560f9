//! The `ficAlimMENESR` document itself, read with quick-xml over already decoded text: the
//! DOCTYPE (an external DTD is named, never loaded; an internal subset is refused), entity
//! references (only the five predefined ones and character references), the nesting limit, the
//! `versionAF` header comment, and each request turned into a [`RawRecord`] or a
//! [`Rejection`].

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::errors::{Error as XmlError, IllFormedError, SyntaxError};
use quick_xml::events::{BytesStart, Event};

use super::decode::{Cursor, LocatedError};
use super::{Attributes, Category, Operation, RawRecord, Rejection};

/// The deepest element nesting accepted (the format needs 5 levels).
const MAX_DEPTH: usize = 32;

/// The most records accepted in one file; a real chunk holds a few thousand.
const MAX_RECORDS: usize = 5_000_000;

/// What the document holds.
#[derive(Debug)]
pub(super) struct Document {
    pub(super) version: Option<String>,
    pub(super) records: Vec<RawRecord>,
    pub(super) rejections: Vec<Rejection>,
}

/// An element of the format, as seen in its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Root,
    Request,
    OperationalAttributes,
    /// An `attr` of `operationalAttributes`; `true` when it names the category.
    OperationalAttr(bool),
    Identifier,
    Id,
    Attributes,
    Attr,
    Modifications,
    Modification,
    Value,
    /// An element the format does not define, inside a request: skipped with its content.
    Ignored,
}

/// A request being read.
#[derive(Debug)]
struct Request {
    operation: Operation,
    line: u32,
    category: Option<String>,
    id: Option<String>,
    attributes: Attributes,
    /// The attribute (`attr` or `modification`) whose values are being read.
    current: Option<(String, Vec<String>)>,
    /// The first reason found to refuse the record, if any.
    problem: Option<String>,
}

/// Parses decoded text into records. `file` is the file name used in rejections,
/// `expected` the category given by the file name.
pub(super) fn parse(text: &str, file: &str, expected: Category) -> Result<Document, LocatedError> {
    let mut parser = Parser {
        text,
        file,
        expected,
        cursor: Cursor::default(),
        stack: Vec::with_capacity(MAX_DEPTH),
        root_done: false,
        doctype_seen: false,
        version: None,
        request: None,
        value: String::new(),
        seen: HashMap::new(),
        records: Vec::new(),
        rejections: Vec::new(),
    };
    parser.run()?;
    Ok(Document { version: parser.version, records: parser.records, rejections: parser.rejections })
}

struct Parser<'a> {
    text: &'a str,
    file: &'a str,
    expected: Category,
    cursor: Cursor,
    stack: Vec<Node>,
    root_done: bool,
    doctype_seen: bool,
    version: Option<String>,
    request: Option<Request>,
    /// The text of the `value` or `id` being read.
    value: String,
    /// Every record id seen so far, with the line of its first record.
    seen: HashMap<String, u32>,
    records: Vec<RawRecord>,
    rejections: Vec<Rejection>,
}

impl<'a> Parser<'a> {
    fn run(&mut self) -> Result<(), LocatedError> {
        let mut reader = Reader::from_str(self.text);
        reader.config_mut().check_end_names = true;

        loop {
            let start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            let event = match reader.read_event() {
                Ok(event) => event,
                Err(error) => {
                    let at = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
                    return Err(self.error_at(at, syntax_reason(&error)));
                }
            };

            match event {
                Event::Start(tag) => self.open(&tag, start)?,
                Event::Empty(tag) => {
                    self.open(&tag, start)?;
                    self.close(start)?;
                }
                Event::End(_) => self.close(start)?,
                Event::Text(text) => {
                    if self.in_value() {
                        self.value.push_str(&text.xml10_content());
                    } else if self.stack.is_empty() && !text.trim().is_empty() {
                        return Err(self.error_at(start, "texte en dehors de l'élément racine"));
                    }
                }
                Event::CData(data) => {
                    if self.in_value() {
                        self.value.push_str(&data.xml10_content());
                    }
                }
                Event::GeneralRef(reference) => {
                    let resolved =
                        resolve_reference(&reference).map_err(|r| self.error_at(start, r))?;
                    if self.in_value() {
                        self.value.push(resolved);
                    }
                }
                Event::Comment(comment) => {
                    if self.version.is_none() && self.stack.len() <= 1 {
                        self.version = version_af(&comment);
                    }
                }
                Event::DocType(doctype) => {
                    if doctype.contains('[') || doctype.contains('<') {
                        return Err(self.error_at(
                            start,
                            "DTD interne refusée : seule une DTD externe nommée (jamais lue) est admise",
                        ));
                    }
                    if !self.stack.is_empty() || self.root_done || self.doctype_seen {
                        return Err(
                            self.error_at(start, "DOCTYPE inattendu après le début du document")
                        );
                    }
                    self.doctype_seen = true;
                }
                Event::Decl(_) if start > 0 => {
                    return Err(
                        self.error_at(start, "déclaration XML ailleurs qu'au début du fichier")
                    );
                }
                Event::Decl(_) | Event::PI(_) => {}
                Event::Eof => return self.finish(),
            }
        }
    }

    fn in_value(&self) -> bool {
        matches!(self.stack.last(), Some(Node::Value | Node::Id))
    }

    fn error_at(&mut self, at: usize, reason: impl Into<String>) -> LocatedError {
        let (line, column) = self.cursor.advance(self.text.as_bytes(), at);
        LocatedError { line, column, reason: reason.into() }
    }

    fn finish(&mut self) -> Result<(), LocatedError> {
        let end = self.text.len();
        if let Some(open) = self.stack.last().copied() {
            let name = node_name(open);
            return Err(self.error_at(end, format!("fichier tronqué : élément <{name}> non fermé")));
        }
        if !self.root_done {
            return Err(self.error_at(end, "aucun élément racine <ficAlimMENESR> (fichier vide ?)"));
        }
        Ok(())
    }

    fn open(&mut self, tag: &BytesStart<'_>, start: usize) -> Result<(), LocatedError> {
        let name = tag.name();
        let name = name.as_ref();
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error_at(
                start,
                format!("imbrication trop profonde (plus de {MAX_DEPTH} niveaux)"),
            ));
        }
        self.check_attributes(tag, start)?;

        let parent = self.stack.last().copied();
        let node = match parent {
            None if self.root_done => {
                return Err(
                    self.error_at(start, format!("élément <{name}> après l'élément racine"))
                );
            }
            None if name == "ficAlimMENESR" => Node::Root,
            None => {
                return Err(self.error_at(
                    start,
                    format!(
                        "structure inconnue : élément racine <{name}> (attendu <ficAlimMENESR>)"
                    ),
                ));
            }
            Some(Node::Root) => {
                let operation = match name {
                    "addRequest" => Operation::Add,
                    "modifyRequest" => Operation::Modify,
                    "deleteRequest" => Operation::Delete,
                    _ => {
                        return Err(self.error_at(
                            start,
                            format!(
                                "élément <{name}> inattendu dans <ficAlimMENESR> (attendu \
                                 addRequest, modifyRequest ou deleteRequest)"
                            ),
                        ));
                    }
                };
                if self.records.len() + self.rejections.len() >= MAX_RECORDS {
                    return Err(self.error_at(
                        start,
                        format!("trop d'enregistrements (plus de {MAX_RECORDS}) dans un fichier"),
                    ));
                }
                let (line, _) = self.cursor.advance(self.text.as_bytes(), start);
                self.request = Some(Request {
                    operation,
                    line,
                    category: None,
                    id: None,
                    attributes: Attributes::new(),
                    current: None,
                    problem: None,
                });
                Node::Request
            }
            Some(Node::Request) => {
                let operation = self.request.as_ref().map(|r| r.operation);
                match (name, operation) {
                    ("operationalAttributes", _) => Node::OperationalAttributes,
                    ("identifier", _) => Node::Identifier,
                    ("attributes", Some(Operation::Add)) => Node::Attributes,
                    ("modifications", Some(Operation::Modify)) => Node::Modifications,
                    _ => Node::Ignored,
                }
            }
            Some(Node::OperationalAttributes) if name == "attr" => {
                let attr_name = self.name_attribute(tag, "name", start)?;
                let is_category = attr_name.as_deref().is_some_and(|n| n.starts_with("categorie"));
                Node::OperationalAttr(is_category)
            }
            Some(Node::Identifier) if name == "id" => {
                self.value.clear();
                Node::Id
            }
            Some(Node::Attributes) if name == "attr" => {
                let attr_name = self.name_attribute(tag, "name", start)?;
                self.begin_attribute(attr_name, "attr");
                Node::Attr
            }
            Some(Node::Modifications) if name == "modification" => {
                let attr_name = self.name_attribute(tag, "name", start)?;
                let operation = self.name_attribute(tag, "operation", start)?;
                if operation.as_deref() != Some("replace") {
                    let shown = operation.unwrap_or_default();
                    let target = attr_name.clone().unwrap_or_default();
                    self.note_problem(format!(
                        "modification « {shown} » de l'attribut {target} non prise en charge \
                         (seule « replace » est connue)"
                    ));
                }
                self.begin_attribute(attr_name, "modification");
                Node::Modification
            }
            Some(Node::OperationalAttr(_) | Node::Attr | Node::Modification) if name == "value" => {
                self.value.clear();
                Node::Value
            }
            Some(_) => Node::Ignored,
        };
        self.stack.push(node);
        Ok(())
    }

    fn begin_attribute(&mut self, name: Option<String>, element: &str) {
        match name {
            Some(name) if !name.is_empty() => {
                if let Some(request) = self.request.as_mut() {
                    request.current = Some((name, Vec::new()));
                }
            }
            _ => self.note_problem(format!("élément <{element}> sans attribut name")),
        }
    }

    fn note_problem(&mut self, reason: String) {
        if let Some(request) = self.request.as_mut() {
            request.problem.get_or_insert(reason);
        }
    }

    /// Checks every XML attribute of a tag, read or not: well-formed, unique, and without any
    /// entity reference other than the predefined ones.
    fn check_attributes(&mut self, tag: &BytesStart<'_>, start: usize) -> Result<(), LocatedError> {
        for attribute in tag.attributes() {
            let Ok(attribute) = attribute else {
                return Err(self.error_at(start, "attribut XML mal formé"));
            };
            if attribute.normalized_value(XmlVersion::Implicit1_0).is_err() {
                let key = attribute.key.as_ref().to_owned();
                return Err(self.error_at(
                    start,
                    format!(
                        "valeur de l'attribut XML {key} invalide (seules les 5 entités \
                         prédéfinies et les références de caractère sont admises)"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// An XML attribute of a tag, entities resolved (only the predefined ones).
    fn name_attribute(
        &mut self,
        tag: &BytesStart<'_>,
        key: &str,
        start: usize,
    ) -> Result<Option<String>, LocatedError> {
        for attribute in tag.attributes() {
            let Ok(attribute) = attribute else {
                return Err(self.error_at(start, "attribut XML mal formé"));
            };
            if attribute.key.as_ref() == key {
                return match attribute.normalized_value(XmlVersion::Implicit1_0) {
                    Ok(value) => Ok(Some(value.trim().to_owned())),
                    Err(_) => Err(self.error_at(
                        start,
                        format!(
                            "valeur de l'attribut XML {key} invalide (seules les 5 entités \
                             prédéfinies et les références de caractère sont admises)"
                        ),
                    )),
                };
            }
        }
        Ok(None)
    }

    fn close(&mut self, start: usize) -> Result<(), LocatedError> {
        let Some(node) = self.stack.pop() else {
            return Err(self.error_at(start, "balise fermante sans balise ouvrante"));
        };
        let parent = self.stack.last().copied();
        match node {
            Node::Root => self.root_done = true,
            Node::Request => self.finish_request(),
            Node::Id => {
                let id = self.value.trim().to_owned();
                if let Some(request) = self.request.as_mut() {
                    request.id.get_or_insert(id);
                }
            }
            Node::Value => {
                let value = self.value.trim();
                if let Some(request) = self.request.as_mut() {
                    match parent {
                        Some(Node::OperationalAttr(true)) if !value.is_empty() => {
                            request.category.get_or_insert_with(|| value.to_owned());
                        }
                        Some(Node::Attr | Node::Modification) if !value.is_empty() => {
                            if let Some((_, values)) = request.current.as_mut() {
                                values.push(value.to_owned());
                            }
                        }
                        _ => {}
                    }
                }
            }
            Node::Attr | Node::Modification => {
                if let Some(request) = self.request.as_mut()
                    && let Some((name, values)) = request.current.take()
                {
                    request.attributes.entry(name).or_default().extend(values);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn finish_request(&mut self) {
        let Some(request) = self.request.take() else {
            return;
        };
        let id = request.id.unwrap_or_default();
        let category = request.category.as_deref().map(|value| (value, parse_category(value)));

        let problem = match category {
            None => Some("catégorie absente (operationalAttributes)".to_owned()),
            Some((value, None)) => Some(format!("catégorie inconnue : « {value} »")),
            Some(_) if id.is_empty() => {
                Some("identifiant (identifier/id) absent ou vide".to_owned())
            }
            Some((value, Some(category))) if category != self.expected => {
                Some(format!("catégorie {value} dans un fichier {}", self.expected.file_type()))
            }
            Some(_) => request.problem,
        };
        let problem = problem.or_else(|| {
            self.seen
                .get(&id)
                .map(|first| format!("identifiant déjà présent ligne {first} de ce fichier"))
        });
        if !id.is_empty() {
            self.seen.entry(id.clone()).or_insert(request.line);
        }

        match (problem, category) {
            (None, Some((_, Some(category)))) => self.records.push(RawRecord {
                operation: request.operation,
                category,
                id,
                line: request.line,
                attributes: if request.operation == Operation::Delete {
                    Attributes::new()
                } else {
                    request.attributes
                },
            }),
            (problem, _) => self.rejections.push(Rejection {
                file: self.file.to_owned(),
                line: request.line,
                record_id: super::printable(&id),
                reason: problem.unwrap_or_else(|| "enregistrement illisible".to_owned()),
            }),
        }
    }
}

/// The category named by an `operationalAttributes` value.
pub(super) fn parse_category(value: &str) -> Option<Category> {
    match value {
        "Eleve" => Some(Category::Pupil),
        "PersEducNat" => Some(Category::Staff),
        "PersRelEleve" => Some(Category::Relative),
        "EtabEducNat" => Some(Category::School),
        "MatEducNat" | "MatiereEducNat" => Some(Category::Subject),
        "MefEducNat" => Some(Category::Mef),
        _ => None,
    }
}

/// The character an entity or character reference stands for; only the five predefined
/// entities and character references are accepted.
fn resolve_reference(reference: &quick_xml::events::BytesRef<'_>) -> Result<char, String> {
    let name: &str = reference;
    if reference.is_char_ref() {
        return match reference.resolve_char_ref() {
            Ok(Some(c)) => Ok(c),
            _ => Err(format!("référence de caractère invalide : &{name};")),
        };
    }
    match name {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "apos" => Ok('\''),
        "quot" => Ok('"'),
        _ => Err(format!(
            "référence à l'entité &{name}; refusée : seules les 5 entités prédéfinies et les \
             références de caractère sont admises"
        )),
    }
}

/// The `versionAF="…"` value of a header comment.
fn version_af(comment: &str) -> Option<String> {
    let rest = comment.trim().strip_prefix("versionAF=\"")?;
    let end = rest.find('"')?;
    Some(rest[..end].to_owned())
}

fn node_name(node: Node) -> &'static str {
    match node {
        Node::Root => "ficAlimMENESR",
        Node::Request => "addRequest/modifyRequest/deleteRequest",
        Node::OperationalAttributes => "operationalAttributes",
        Node::OperationalAttr(_) | Node::Attr => "attr",
        Node::Identifier => "identifier",
        Node::Id => "id",
        Node::Attributes => "attributes",
        Node::Modifications => "modifications",
        Node::Modification => "modification",
        Node::Value => "value",
        Node::Ignored => "inconnu",
    }
}

/// A French sentence for a quick-xml error.
fn syntax_reason(error: &XmlError) -> String {
    match error {
        XmlError::Syntax(syntax) => match syntax {
            SyntaxError::InvalidBangMarkup => {
                "balise <! invalide (seuls les commentaires, CDATA et DOCTYPE sont admis)"
                    .to_owned()
            }
            SyntaxError::UnclosedPI => {
                "instruction de traitement non fermée (fichier tronqué ?)".to_owned()
            }
            SyntaxError::UnclosedXmlDecl => {
                "déclaration XML non fermée (fichier tronqué ?)".to_owned()
            }
            SyntaxError::UnclosedComment => "commentaire non fermé (fichier tronqué ?)".to_owned(),
            SyntaxError::UnclosedDoctype => "DOCTYPE non fermé (fichier tronqué ?)".to_owned(),
            SyntaxError::UnclosedCData => "section CDATA non fermée (fichier tronqué ?)".to_owned(),
            SyntaxError::UnclosedTag => "balise non fermée (fichier tronqué ?)".to_owned(),
            SyntaxError::UnclosedSingleQuotedAttributeValue
            | SyntaxError::UnclosedDoubleQuotedAttributeValue => {
                "valeur d'attribut XML non fermée (fichier tronqué ?)".to_owned()
            }
        },
        XmlError::IllFormed(ill) => match ill {
            IllFormedError::MismatchedEndTag { expected, found } => {
                format!("balise fermante </{found}> au lieu de </{expected}>")
            }
            IllFormedError::UnmatchedEndTag(name) => {
                format!("balise fermante </{name}> sans balise ouvrante")
            }
            IllFormedError::MissingEndTag(name) => {
                format!("fichier tronqué : élément <{name}> non fermé")
            }
            IllFormedError::UnclosedReference => {
                "référence d'entité non terminée par « ; » (fichier tronqué ?)".to_owned()
            }
            IllFormedError::MissingDoctypeName => "DOCTYPE sans nom d'élément racine".to_owned(),
            IllFormedError::MissingDeclVersion(_) | IllFormedError::UnknownVersion => {
                "déclaration XML invalide (version absente ou inconnue)".to_owned()
            }
            IllFormedError::DoubleHyphenInComment => "« -- » dans un commentaire".to_owned(),
        },
        XmlError::Escape(_) => "référence d'entité invalide (« & » doit s'écrire &amp;)".to_owned(),
        XmlError::InvalidAttr(_) => "attribut XML mal formé".to_owned(),
        XmlError::Encoding(_) => "texte mal encodé".to_owned(),
        _ => "XML mal formé".to_owned(),
    }
}
