//! Text for the agreement PDF: the embedded fonts, the clean-up of any string (control and
//! bidirectional formatting characters removed, NFC), the choice of a font per character with a
//! fallback, shaping with rustybuzz, the bidirectional order of a line (unicode-bidi), and the
//! breaking of a paragraph into lines of a given width. A character that no font has is drawn as
//! a replacement glyph that still extracts as the original character.

use std::ops::Range;

use krilla::text::{Font, GlyphId, KrillaGlyph};
use rustybuzz::{Direction, Face, UnicodeBuffer};
use unicode_bidi::{BidiInfo, Level};
use unicode_normalization::UnicodeNormalization;

/// DejaVu Sans, subset to the Latin (Vietnamese included), Greek, Cyrillic, Armenian, Georgian,
/// Hebrew and Arabic scripts with their OpenType layout tables (see `fonts/LICENSE`).
const REGULAR_TTF: &[u8] = include_bytes!("fonts/DejaVuSans-Subset.ttf");

/// DejaVu Sans Bold, subset to Latin: headings and labels, which are French.
const BOLD_TTF: &[u8] = include_bytes!("fonts/DejaVuSans-Bold-Subset.ttf");

/// Drawn for a character no font has; it extracts as the original character.
const REPLACEMENT: char = '\u{FFFD}';

/// The weight asked for a piece of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Weight {
    Regular,
    Bold,
}

/// Which font actually draws a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Bold,
    Regular,
    /// No font has the character: the replacement glyph of the regular font.
    Missing,
}

struct Face2 {
    pdf: Font,
    face: Face<'static>,
}

/// The two embedded fonts, parsed once per document.
pub(super) struct Fonts {
    regular: Face2,
    bold: Face2,
    replacement_gid: u16,
}

impl Fonts {
    pub(super) fn load() -> Result<Fonts, String> {
        let load = |bytes: &'static [u8]| -> Result<Face2, String> {
            let pdf = Font::new(bytes.into(), 0)
                .ok_or_else(|| "la police embarquée est illisible".to_owned())?;
            let face = Face::from_slice(bytes, 0)
                .ok_or_else(|| "la police embarquée est illisible".to_owned())?;
            Ok(Face2 { pdf, face })
        };
        let regular = load(REGULAR_TTF)?;
        let bold = load(BOLD_TTF)?;
        let replacement_gid = regular.face.glyph_index(REPLACEMENT).map_or(0, |gid| gid.0);
        Ok(Fonts { regular, bold, replacement_gid })
    }

    fn face(&self, source: Source) -> &Face2 {
        match source {
            Source::Bold => &self.bold,
            Source::Regular | Source::Missing => &self.regular,
        }
    }

    fn has(&self, source: Source, c: char) -> bool {
        self.face(source).face.glyph_index(c).is_some_and(|gid| gid.0 != 0)
    }

    /// The font of a character that starts a segment.
    fn source_of(&self, c: char, weight: Weight) -> Source {
        if weight == Weight::Bold && self.has(Source::Bold, c) {
            Source::Bold
        } else if self.has(Source::Regular, c) {
            Source::Regular
        } else {
            Source::Missing
        }
    }

    /// The krilla font that draws a piece.
    pub(super) fn pdf_font(&self, piece: &Piece) -> Font {
        self.face(piece.source).pdf.clone()
    }

    /// The width of one space at `size`.
    fn space_width(&self, weight: Weight, size: f32) -> f32 {
        let source = if weight == Weight::Bold { Source::Bold } else { Source::Regular };
        let face = &self.face(source).face;
        let advance = face
            .glyph_index(' ')
            .and_then(|gid| face.glyph_hor_advance(gid))
            .map_or(0.0, f32::from);
        advance / face.units_per_em() as f32 * size
    }
}

/// Whether a character belongs to the character before it (combining marks, joiners, variation
/// selectors, emoji modifiers and tags), so that it is drawn by the same font.
fn attaches(c: char) -> bool {
    matches!(
        u32::from(c),
        0x0300..=0x036F
            | 0x0483..=0x0489
            | 0x0591..=0x05BD
            | 0x05BF..=0x05C7
            | 0x0610..=0x061A
            | 0x064B..=0x065F
            | 0x0670
            | 0x06D6..=0x06ED
            | 0x1AB0..=0x1AFF
            | 0x1DC0..=0x1DFF
            | 0x200C..=0x200D
            | 0x20D0..=0x20FF
            | 0xFE00..=0xFE0F
            | 0xFE20..=0xFE2F
            | 0x1F3FB..=0x1F3FF
            | 0xE0020..=0xE007F
            | 0xE0100..=0xE01EF
    )
}

/// Characters that shape nothing and that a font may lack: dropped when the font of their
/// segment has no glyph for them.
fn default_ignorable(c: char) -> bool {
    matches!(
        u32::from(c),
        0x200B..=0x200D | 0x2060..=0x2064 | 0xFE00..=0xFE0F | 0xE0000..=0xE0FFF
    )
}

/// Whether a character is removed before anything is drawn: controls, bidirectional embeddings,
/// overrides, isolates and marks (the order is computed from the text itself), the byte-order
/// mark and interlinear annotations.
fn removed(c: char) -> bool {
    c.is_control() && !c.is_whitespace()
        || matches!(
            u32::from(c),
            0x061C | 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069 | 0xFEFF | 0xFFF9..=0xFFFB
        )
}

/// One line of any string: NFC, every removed character dropped, every run of white space made
/// one space, trimmed.
pub(super) fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfc() {
        if removed(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// Shaped glyphs of one font and one direction, ready to draw at a point.
#[derive(Debug, Clone)]
pub(super) struct Piece {
    source: Source,
    pub(super) text: String,
    pub(super) glyphs: Vec<KrillaGlyph>,
    /// The width at the size it was shaped for, in points.
    pub(super) width: f32,
}

/// A line: pieces in visual order, left to right.
#[derive(Debug, Clone, Default)]
pub(super) struct Line {
    pub(super) pieces: Vec<Piece>,
    pub(super) width: f32,
}

/// Splits `text` (one cleaned line) into segments of one font each, in logical order.
fn segments(fonts: &Fonts, text: &str, weight: Weight) -> Vec<(Source, String)> {
    let mut out: Vec<(Source, String)> = Vec::new();
    for c in text.chars() {
        let continuing = out.last().map(|(source, _)| *source);
        let source = match continuing {
            Some(previous) if attaches(c) || c == ' ' => previous,
            _ => fonts.source_of(c, weight),
        };
        if source != Source::Missing && !fonts.has(source, c) && default_ignorable(c) {
            continue;
        }
        match out.last_mut() {
            Some((last, segment)) if *last == source => segment.push(c),
            _ => out.push((source, c.to_string())),
        }
    }
    out
}

/// Shapes one segment of one font in one direction.
fn shape(fonts: &Fonts, source: Source, text: String, rtl: bool, size: f32) -> Piece {
    let face = &fonts.face(source).face;
    let units = face.units_per_em() as f32;
    let mut glyphs = Vec::new();

    if source == Source::Missing {
        let advance = face
            .glyph_hor_advance(rustybuzz::ttf_parser::GlyphId(fonts.replacement_gid))
            .map_or(0.0, f32::from)
            / units;
        let mut clusters: Vec<Range<usize>> = Vec::new();
        for (index, c) in text.char_indices() {
            match clusters.last_mut() {
                Some(last) if attaches(c) => last.end = index + c.len_utf8(),
                _ => clusters.push(index..index + c.len_utf8()),
            }
        }
        if rtl {
            clusters.reverse();
        }
        for range in clusters {
            glyphs.push(KrillaGlyph::new(
                GlyphId::new(u32::from(fonts.replacement_gid)),
                advance,
                0.0,
                0.0,
                0.0,
                range,
                None,
            ));
        }
    } else {
        let mut buffer = UnicodeBuffer::new();
        buffer.push_str(&text);
        buffer.guess_segment_properties();
        buffer.set_direction(if rtl { Direction::RightToLeft } else { Direction::LeftToRight });
        let output = rustybuzz::shape(face, &[], buffer);
        let infos = output.glyph_infos();
        let positions = output.glyph_positions();

        // A cluster ends where the next cluster (in logical order) starts.
        let mut starts: Vec<usize> = infos.iter().map(|info| info.cluster as usize).collect();
        starts.sort_unstable();
        starts.dedup();
        for (info, position) in infos.iter().zip(positions) {
            let start = (info.cluster as usize).min(text.len());
            let end = starts.iter().copied().find(|&s| s > start).unwrap_or(text.len());
            let gid =
                if info.glyph_id == 0 { u32::from(fonts.replacement_gid) } else { info.glyph_id };
            glyphs.push(KrillaGlyph::new(
                GlyphId::new(gid),
                position.x_advance as f32 / units,
                position.x_offset as f32 / units,
                position.y_offset as f32 / units,
                position.y_advance as f32 / units,
                start..end,
                None,
            ));
        }
    }

    let width = glyphs.iter().map(|glyph| glyph.x_advance).sum::<f32>() * size;
    Piece { source, text, glyphs, width }
}

/// Lays one cleaned line out in visual order.
pub(super) fn visual_line(fonts: &Fonts, text: &str, weight: Weight, size: f32) -> Line {
    let mut line = Line::default();
    if text.is_empty() {
        return line;
    }
    let info = BidiInfo::new(text, Some(Level::ltr()));

    for paragraph in &info.paragraphs {
        let (levels, runs) = info.visual_runs(paragraph, paragraph.range.clone());
        for run in runs {
            let rtl = levels.get(run.start).is_some_and(|level| level.is_rtl());
            let mut parts = segments(fonts, &text[run], weight);
            if rtl {
                parts.reverse();
            }
            for (source, segment) in parts {
                let piece = shape(fonts, source, segment, rtl, size);
                line.width += piece.width;
                line.pieces.push(piece);
            }
        }
    }
    line
}

/// The width of a cleaned string drawn on one line.
fn measure(fonts: &Fonts, text: &str, weight: Weight, size: f32) -> f32 {
    segments(fonts, text, weight)
        .into_iter()
        .map(|(source, segment)| shape(fonts, source, segment, false, size).width)
        .sum()
}

/// Cuts a word wider than `max_width` into pieces that fit, between characters (never inside a
/// character and its combining marks).
fn split_word(fonts: &Fonts, word: &str, weight: Weight, size: f32, max_width: f32) -> Vec<String> {
    let mut clusters: Vec<String> = Vec::new();
    for c in word.chars() {
        match clusters.last_mut() {
            Some(last) if attaches(c) => last.push(c),
            _ => clusters.push(c.to_string()),
        }
    }

    let mut out = Vec::new();
    let mut current = String::new();
    let mut width = 0.0;
    for cluster in clusters {
        let cluster_width = measure(fonts, &cluster, weight, size);
        if !current.is_empty() && width + cluster_width > max_width {
            out.push(std::mem::take(&mut current));
            width = 0.0;
        }
        current.push_str(&cluster);
        width += cluster_width;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Breaks any text into lines no wider than `max_width`: each line of the text (`\n`) starts a
/// new line, words are kept whole unless one alone is too wide. An empty text gives no line.
pub(super) fn wrap(
    fonts: &Fonts,
    text: &str,
    weight: Weight,
    size: f32,
    max_width: f32,
) -> Vec<Line> {
    let space = fonts.space_width(weight, size);
    let mut lines = Vec::new();

    for source_line in text.split('\n') {
        let cleaned = clean(source_line);
        let mut current = String::new();
        let mut width = 0.0;
        for word in cleaned.split(' ').filter(|word| !word.is_empty()) {
            let word_width = measure(fonts, word, weight, size);
            let parts = if word_width > max_width {
                split_word(fonts, word, weight, size, max_width)
            } else {
                vec![word.to_owned()]
            };
            for part in parts {
                let part_width = if part.len() == word.len() {
                    word_width
                } else {
                    measure(fonts, &part, weight, size)
                };
                let needed = if current.is_empty() { part_width } else { space + part_width };
                if !current.is_empty() && width + needed > max_width {
                    lines.push(visual_line(fonts, &current, weight, size));
                    current.clear();
                    width = 0.0;
                }
                if !current.is_empty() {
                    current.push(' ');
                    width += space;
                }
                current.push_str(&part);
                width += part_width;
            }
        }
        if !current.is_empty() {
            lines.push(visual_line(fonts, &current, weight, size));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_drops_controls_and_overrides() {
        assert_eq!(clean("  a\u{202E}b\u{0007}\tc  "), "ab c");
        assert_eq!(clean("e\u{0301}"), "é");
    }

    #[test]
    fn a_missing_character_falls_back_to_the_replacement() {
        let fonts = Fonts::load().unwrap();
        let line = visual_line(&fonts, "Léo 🎒", Weight::Regular, 10.0);
        assert!(line.pieces.iter().any(|piece| piece.source == Source::Missing));
        assert!(line.width > 0.0);
    }

    #[test]
    fn arabic_is_one_right_to_left_run() {
        let fonts = Fonts::load().unwrap();
        let line = visual_line(&fonts, "Élève : فاطمة", Weight::Bold, 10.0);
        assert_eq!(line.pieces.len(), 2, "{line:?}");
        assert_eq!(line.pieces[1].text, "فاطمة");
    }

    #[test]
    fn long_words_are_cut_to_the_width() {
        let fonts = Fonts::load().unwrap();
        let lines = wrap(&fonts, &"x".repeat(2_000), Weight::Regular, 10.0, 100.0);
        assert!(lines.len() > 10);
        assert!(lines.iter().all(|line| line.width <= 100.0 + 0.01));
    }
}
