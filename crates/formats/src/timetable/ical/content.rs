//! The lexical layer of iCalendar (RFC 5545 section 3.1): bytes to text (UTF-8 BOM dropped,
//! Windows-1252 as a fallback), folded lines joined (CRLF or LF, then a space or a tab), each
//! content line split into a name, parameters (quoted values, RFC 6868 `^` escapes) and a
//! value, and the `BEGIN`/`END` nesting turned into a tree of components. It knows nothing of
//! what the properties mean: a line it cannot read is recorded as an error of the component
//! it sits in, and only a file that is not iCalendar at all is refused here.

use crate::timetable::MAX_FILE_BYTES;

/// The longest logical line kept (after unfolding); the rest of a longer line is dropped.
pub(crate) const MAX_LINE_BYTES: usize = 256 * 1024;

/// How deep components may nest (VCALENDAR > VEVENT > VALARM is 3).
const MAX_DEPTH: usize = 16;

/// One content line: `NAME;PARAM=VALUE:value`, name and parameter names in upper case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Property {
    pub(crate) name: String,
    pub(crate) params: Vec<(String, Vec<String>)>,
    pub(crate) value: String,
    /// The physical line (1-based) the content line starts on.
    pub(crate) line: u64,
}

impl Property {
    /// The first value of parameter `name` (upper case), if present.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(param, _)| param == name)
            .and_then(|(_, values)| values.first())
            .map(String::as_str)
    }
}

/// A `BEGIN:X` … `END:X` block with its properties and nested blocks.
#[derive(Debug, Clone, Default)]
pub(crate) struct Component {
    pub(crate) name: String,
    pub(crate) line: u64,
    pub(crate) properties: Vec<Property>,
    pub(crate) children: Vec<Component>,
    /// Lines of this component that could not be read, with the reason.
    pub(crate) errors: Vec<(u64, String)>,
    /// Whether its `END` line was found.
    pub(crate) closed: bool,
}

impl Component {
    fn new(name: String, line: u64) -> Component {
        Component { name, line, ..Component::default() }
    }

    /// The first property called `name`.
    pub(crate) fn property(&self, name: &str) -> Option<&Property> {
        self.properties.iter().find(|property| property.name == name)
    }

    /// Every property called `name`.
    pub(crate) fn all<'c>(&'c self, name: &'c str) -> impl Iterator<Item = &'c Property> + 'c {
        self.properties.iter().filter(move |property| property.name == name)
    }
}

/// A file read into components: the top-level ones, and the lines found outside any.
#[derive(Debug, Default)]
pub(crate) struct Document {
    pub(crate) components: Vec<Component>,
    pub(crate) stray_lines: Vec<(u64, String)>,
    /// Whether the bytes were not UTF-8 and were read as Windows-1252.
    pub(crate) decoded_as_windows_1252: bool,
}

/// A whole file refused: the line (0 for the file) and the French reason.
pub(crate) type FileFault = (u64, String);

/// Reads bytes into a [`Document`], or says why they are not iCalendar.
pub(crate) fn read_document(bytes: &[u8]) -> Result<Document, FileFault> {
    let text = decode(bytes)?;
    let mut document = Document { decoded_as_windows_1252: text.1, ..Document::default() };
    let mut stack: Vec<Component> = Vec::new();
    let mut saw_calendar = false;

    for (line, logical) in unfold(&text.0) {
        let property = match parse_line(&logical, line) {
            Ok(property) => property,
            Err(reason) => {
                match stack.last_mut() {
                    Some(component) => component.errors.push((line, reason)),
                    None => document.stray_lines.push((line, reason)),
                }
                continue;
            }
        };
        match property.name.as_str() {
            "BEGIN" => {
                let name = component_name(&property.value);
                if name.is_empty() {
                    let reason = "BEGIN sans nom de composant".to_string();
                    match stack.last_mut() {
                        Some(component) => component.errors.push((line, reason)),
                        None => document.stray_lines.push((line, reason)),
                    }
                    continue;
                }
                if stack.len() >= MAX_DEPTH {
                    return Err((
                        line,
                        format!("composants imbriqués sur plus de {MAX_DEPTH} niveaux"),
                    ));
                }
                if stack.is_empty() && name == "VCALENDAR" {
                    saw_calendar = true;
                }
                stack.push(Component::new(name, line));
            }
            "END" => close(&mut stack, &mut document, &component_name(&property.value), line),
            _ => match stack.last_mut() {
                Some(component) => component.properties.push(property),
                None => document
                    .stray_lines
                    .push((line, format!("propriété {} hors de tout composant", property.name))),
            },
        }
    }

    if !saw_calendar {
        return Err((0, "ce n'est pas un fichier iCalendar : aucune ligne BEGIN:VCALENDAR".into()));
    }
    if let Some(open) = stack.first() {
        return Err((
            open.line,
            format!("fichier tronqué : le composant {} ouvert ici n'est jamais fermé", open.name),
        ));
    }
    Ok(document)
}

/// Pops the component `name` closes; an `END` that matches nothing open is an error of the
/// current component, and components left open inside the closed one are kept as unclosed.
fn close(stack: &mut Vec<Component>, document: &mut Document, name: &str, line: u64) {
    let Some(depth) = stack.iter().rposition(|component| component.name == name) else {
        let reason = format!("END:{name} sans BEGIN:{name} correspondant");
        match stack.last_mut() {
            Some(component) => component.errors.push((line, reason)),
            None => document.stray_lines.push((line, reason)),
        }
        return;
    };

    while stack.len() > depth + 1 {
        if let Some(mut inner) = stack.pop() {
            inner.errors.push((line, format!("composant {} jamais fermé", inner.name)));
            attach(stack, document, inner);
        }
    }
    if let Some(mut component) = stack.pop() {
        component.closed = true;
        attach(stack, document, component);
    }
}

fn attach(stack: &mut [Component], document: &mut Document, component: Component) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(component),
        None => document.components.push(component),
    }
}

fn component_name(value: &str) -> String {
    value.trim().to_ascii_uppercase()
}

/// The text of the file and whether it had to be read as Windows-1252.
fn decode(bytes: &[u8]) -> Result<(String, bool), FileFault> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err((
            0,
            format!("fichier trop gros ({} octets, maximum {MAX_FILE_BYTES})", bytes.len()),
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err((0, "fichier vide".into()));
    }
    if bytes.contains(&0) || looks_binary(bytes) {
        return Err((0, "fichier binaire : ce n'est pas un fichier iCalendar (texte)".into()));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((text.to_string(), false)),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            Ok((text.into_owned(), true))
        }
    }
}

/// Whether the start of the file is mostly control bytes (an image, an archive…).
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let controls =
        head.iter().filter(|b| b.is_ascii_control() && !matches!(b, b'\r' | b'\n' | b'\t')).count();
    controls * 10 > head.len()
}

/// The logical lines of `text` with the physical line each starts on: line breaks are CRLF,
/// LF or a lone CR; a line starting with a space or a tab continues the previous one.
fn unfold(text: &str) -> Vec<(u64, String)> {
    let mut lines: Vec<(u64, String)> = Vec::new();
    let mut current: Option<(u64, String)> = None;

    for (index, physical) in physical_lines(text).enumerate() {
        let number = u64::try_from(index).unwrap_or(u64::MAX).saturating_add(1);
        if let Some(rest) = physical.strip_prefix([' ', '\t'])
            && let Some((_, logical)) = current.as_mut()
        {
            push_capped(logical, rest);
            continue;
        }
        if physical.trim().is_empty() {
            // Blank lines are not content lines; some writers put them inside folded ones.
            continue;
        }
        lines.extend(current.take());
        let mut logical = String::new();
        push_capped(&mut logical, physical);
        current = Some((number, logical));
    }
    lines.extend(current);
    lines
}

fn physical_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').flat_map(|line| {
        let line = line.strip_suffix('\r').unwrap_or(line);
        line.split('\r')
    })
}

fn push_capped(logical: &mut String, piece: &str) {
    let room = MAX_LINE_BYTES.saturating_sub(logical.len());
    if piece.len() <= room {
        logical.push_str(piece);
        return;
    }
    let mut end = room;
    while end > 0 && !piece.is_char_boundary(end) {
        end -= 1;
    }
    logical.push_str(&piece[..end]);
}

/// Splits one logical line into name, parameters and value.
pub(crate) fn parse_line(text: &str, line: u64) -> Result<Property, String> {
    let name_end = text
        .find([';', ':'])
        .ok_or_else(|| format!("ligne illisible (pas de « : ») : « {} »", excerpt(text)))?;
    let name = text[..name_end].trim().to_ascii_uppercase();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(format!("nom de propriété illisible : « {} »", excerpt(&text[..name_end])));
    }

    let mut params = Vec::new();
    let mut rest = &text[name_end..];
    while let Some(after) = rest.strip_prefix(';') {
        let (param, remaining) = parse_param(after)?;
        if let Some(param) = param {
            params.push(param);
        }
        rest = remaining;
    }
    let value = rest
        .strip_prefix(':')
        .ok_or_else(|| format!("propriété {name} : « : » attendu avant la valeur"))?;
    Ok(Property { name, params, value: value.to_string(), line })
}

type Param = (String, Vec<String>);

/// Reads `NAME=value,"quoted value"` up to the next `;` or `:` outside quotes.
fn parse_param(text: &str) -> Result<(Option<Param>, &str), String> {
    let name_end = text.find(['=', ';', ':']).unwrap_or(text.len());
    let name = text[..name_end].trim().to_ascii_uppercase();
    let Some(mut rest) = text[name_end..].strip_prefix('=') else {
        // A parameter without a value (`;;` or an old `;TYPE`): nothing to keep.
        return Ok((None, &text[name_end..]));
    };

    let mut values = Vec::new();
    loop {
        let (value, remaining) = if let Some(quoted) = rest.strip_prefix('"') {
            let close = quoted
                .find('"')
                .ok_or_else(|| format!("paramètre {name} : guillemet jamais fermé"))?;
            (&quoted[..close], &quoted[close + 1..])
        } else {
            let end = rest.find([',', ';', ':']).unwrap_or(rest.len());
            (rest[..end].trim(), &rest[end..])
        };
        values.push(unescape_param(value));
        match remaining.strip_prefix(',') {
            Some(next) => rest = next,
            None => {
                rest = remaining;
                break;
            }
        }
    }
    Ok((Some((name, values)), rest))
}

/// RFC 6868: `^n` is a line break, `^'` a double quote, `^^` a caret.
fn unescape_param(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '^' {
            match chars.peek() {
                Some('n' | 'N') => {
                    out.push('\n');
                    chars.next();
                }
                Some('\'') => {
                    out.push('"');
                    chars.next();
                }
                Some('^') => {
                    out.push('^');
                    chars.next();
                }
                _ => out.push('^'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The start of a line, for a message.
pub(crate) fn excerpt(text: &str) -> String {
    let cleaned: String = text.chars().filter(|c| !c.is_control()).take(40).collect();
    if cleaned.chars().count() < text.chars().count() { format!("{cleaned}…") } else { cleaned }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_lines_join_whatever_the_line_ends() {
        let text = "BEGIN:VCALENDAR\r\nSUMMARY:Un\r\n  deux\r\n\ttrois\nEND:VCALENDAR";
        let lines = unfold(text);
        assert_eq!(lines[1], (2, "SUMMARY:Un deuxtrois".to_string()));
        assert_eq!(lines[2].0, 5);
    }

    #[test]
    fn parameters_with_quotes_escapes_and_lists_are_read() {
        let property = parse_line(
            r#"attendee;cn="Dupont; Jean:x";MEMBER="a","b";X-NOTE=l^'une^nl^^autre:mailto:j@x"#,
            7,
        )
        .unwrap();
        assert_eq!(property.name, "ATTENDEE");
        assert_eq!(property.param("CN"), Some("Dupont; Jean:x"));
        assert_eq!(property.params[1].1, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(property.param("X-NOTE"), Some("l\"une\nl^autre"));
        assert_eq!(property.value, "mailto:j@x");
    }

    #[test]
    fn unreadable_lines_are_errors_not_panics() {
        assert!(parse_line("X", 1).is_err());
        assert!(parse_line("BAD NAME:x", 1).is_err());
        assert!(parse_line("A;B=\"open:x", 1).is_err());
        assert!(parse_line("A;;VALUE=DATE:20240101", 1).is_ok());
    }

    #[test]
    fn an_overlong_line_is_capped_on_a_character_boundary() {
        let long = format!("SUMMARY:{}", "é".repeat(MAX_LINE_BYTES));
        let lines = unfold(&long);
        assert!(lines[0].1.len() <= MAX_LINE_BYTES);
    }

    #[test]
    fn non_calendars_are_refused_with_a_reason() {
        assert!(read_document(b"").unwrap_err().1.contains("vide"));
        assert!(read_document(b"\xEF\xBB\xBF  \n").unwrap_err().1.contains("vide"));
        assert!(read_document(b"BEGIN:\0").unwrap_err().1.contains("binaire"));
        assert!(read_document(b"BEGIN:VEVENT\nEND:VEVENT\n").unwrap_err().1.contains("VCALENDAR"));
        assert!(
            read_document(b"BEGIN:VCALENDAR\nBEGIN:VEVENT\n").unwrap_err().1.contains("tronqué")
        );
        let document = read_document(b"BEGIN:VCALENDAR\nX\nEND:VCALENDAR\n").unwrap();
        assert_eq!(document.components[0].errors.len(), 1);
    }
}
