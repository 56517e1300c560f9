//! The page layout of the agreement PDF: a flow that places titles, paragraphs, labelled fields,
//! tables and signature boxes on A4 pages, starting a new page whenever the next line does not
//! fit (so any length of text breaks across pages), then draws every page with krilla, with a
//! footer that numbers the pages. Nothing here depends on the agreement itself.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::{Document, metadata::Metadata};

use super::text::{self, Fonts, Line, Weight};

const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN_X: f32 = 54.0;
const MARGIN_TOP: f32 = 50.0;
/// The lowest baseline of the body; the footer sits below it.
const BODY_BOTTOM: f32 = PAGE_HEIGHT - 62.0;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_X;

pub(super) const BODY_SIZE: f32 = 9.0;
const LEADING: f32 = 1.32;
const LABEL_WIDTH: f32 = 150.0;

/// One thing drawn on a page.
enum Op {
    Text { x: f32, baseline: f32, size: f32, line: Line },
    Rule { x1: f32, y1: f32, x2: f32, y2: f32 },
    Frame { x: f32, y: f32, width: f32, height: f32 },
}

/// How a paragraph is set.
#[derive(Debug, Clone, Copy)]
pub(super) struct Style {
    pub(super) weight: Weight,
    pub(super) size: f32,
    pub(super) indent: f32,
    pub(super) centered: bool,
    pub(super) space_after: f32,
}

impl Style {
    pub(super) const BODY: Style = Style {
        weight: Weight::Regular,
        size: BODY_SIZE,
        indent: 0.0,
        centered: false,
        space_after: 4.0,
    };
}

/// The pages being laid out, top to bottom.
pub(super) struct Flow<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Op>>,
    /// The top of the free space on the current page.
    y: f32,
}

impl<'f> Flow<'f> {
    pub(super) fn new(fonts: &'f Fonts) -> Flow<'f> {
        Flow { fonts, pages: vec![Vec::new()], y: MARGIN_TOP }
    }

    fn current(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Starts a new page.
    pub(super) fn page_break(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN_TOP;
    }

    /// Starts a new page unless `height` points still fit on this one.
    pub(super) fn keep(&mut self, height: f32) {
        if self.y + height > BODY_BOTTOM && self.y > MARGIN_TOP {
            self.page_break();
        }
    }

    pub(super) fn space(&mut self, points: f32) {
        self.y += points;
    }

    fn line_height(size: f32) -> f32 {
        size * LEADING
    }

    /// Places one already broken line at `x` (its left edge), breaking the page if needed.
    fn place_line(&mut self, x: f32, size: f32, line: Line) {
        let height = Self::line_height(size);
        self.keep(height);
        let baseline = self.y + size;
        self.current().push(Op::Text { x, baseline, size, line });
        self.y += height;
    }

    /// A paragraph of any length.
    pub(super) fn paragraph(&mut self, text: &str, style: Style) {
        let width = CONTENT_WIDTH - style.indent;
        for line in text::wrap(self.fonts, text, style.weight, style.size, width) {
            let x = if style.centered {
                MARGIN_X + (CONTENT_WIDTH - line.width).max(0.0) / 2.0
            } else {
                MARGIN_X + style.indent
            };
            self.place_line(x, style.size, line);
        }
        self.y += style.space_after;
    }

    /// A heading kept with the three lines that follow it.
    pub(super) fn heading(&mut self, text: &str, size: f32, space_before: f32) {
        self.y += space_before;
        self.keep(Self::line_height(size) * 2.0 + Self::line_height(BODY_SIZE) * 3.0);
        let style =
            Style { weight: Weight::Bold, size, indent: 0.0, centered: false, space_after: 3.0 };
        self.paragraph(text, style);
    }

    /// A label in bold and its value beside it; either may run over several lines and pages.
    pub(super) fn field(&mut self, label: &str, value: &str) {
        let size = BODY_SIZE;
        let labels = text::wrap(self.fonts, label, Weight::Bold, size, LABEL_WIDTH - 8.0);
        let value = if text::clean(value).is_empty() && !value.contains('\n') {
            "—".to_owned()
        } else {
            value.to_owned()
        };
        let values =
            text::wrap(self.fonts, &value, Weight::Regular, size, CONTENT_WIDTH - LABEL_WIDTH);
        let rows = labels.len().max(values.len()).max(1);
        self.keep(Self::line_height(size) * rows.min(3) as f32);

        let mut labels = labels.into_iter();
        let mut values = values.into_iter();
        for _ in 0..rows {
            let height = Self::line_height(size);
            self.keep(height);
            let baseline = self.y + size;
            if let Some(line) = labels.next() {
                self.current().push(Op::Text { x: MARGIN_X, baseline, size, line });
            }
            if let Some(line) = values.next() {
                self.current().push(Op::Text { x: MARGIN_X + LABEL_WIDTH, baseline, size, line });
            }
            self.y += height;
        }
        self.y += 1.5;
    }

    /// A table with a header row; each cell wraps in its column. A row never splits.
    pub(super) fn table(&mut self, widths: &[f32], header: &[&str], rows: &[Vec<String>]) {
        let size = BODY_SIZE - 0.5;
        let total: f32 = widths.iter().sum();
        let scale = CONTENT_WIDTH / total.max(1.0);
        let widths: Vec<f32> = widths.iter().map(|w| w * scale).collect();
        let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();

        self.keep(Self::line_height(size) * 4.0);
        self.table_row(&widths, &header, Weight::Bold, size);
        for row in rows {
            self.table_row(&widths, row, Weight::Regular, size);
        }
        self.y += 6.0;
    }

    fn table_row(&mut self, widths: &[f32], cells: &[String], weight: Weight, size: f32) {
        let padding = 3.0;
        let wrapped: Vec<Vec<Line>> = widths
            .iter()
            .zip(cells)
            .map(|(width, cell)| text::wrap(self.fonts, cell, weight, size, width - 2.0 * padding))
            .collect();
        let rows = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let height =
            (rows as f32 * Self::line_height(size) + 2.0 * padding).min(BODY_BOTTOM - MARGIN_TOP);
        self.keep(height);

        let top = self.y;
        let mut x = MARGIN_X;
        for (width, lines) in widths.iter().zip(wrapped) {
            self.current().push(Op::Frame { x, y: top, width: *width, height });
            let mut baseline = top + padding + size;
            for line in lines {
                if baseline > top + height {
                    break;
                }
                self.current().push(Op::Text { x: x + padding, baseline, size, line });
                baseline += Self::line_height(size);
            }
            x += width;
        }
        self.y = top + height;
    }

    /// Boxes for signatures, two a row: each has a title, a name and room to sign.
    pub(super) fn signature_boxes(&mut self, boxes: &[(String, String)]) {
        let gap = 12.0;
        let width = (CONTENT_WIDTH - gap) / 2.0;
        let height = 78.0;
        for pair in boxes.chunks(2) {
            self.keep(height + 6.0);
            let top = self.y;
            for (index, (title, name)) in pair.iter().enumerate() {
                let x = MARGIN_X + index as f32 * (width + gap);
                self.current().push(Op::Frame { x, y: top, width, height });
                let mut baseline = top + 4.0 + BODY_SIZE;
                let titles = text::wrap(self.fonts, title, Weight::Bold, BODY_SIZE, width - 8.0);
                let names = text::wrap(self.fonts, name, Weight::Regular, BODY_SIZE, width - 8.0);
                for line in titles.into_iter().chain(names).take(4) {
                    self.current().push(Op::Text { x: x + 4.0, baseline, size: BODY_SIZE, line });
                    baseline += Self::line_height(BODY_SIZE);
                }
                let mention = text::wrap(
                    self.fonts,
                    "Date et signature :",
                    Weight::Regular,
                    BODY_SIZE - 1.0,
                    width - 8.0,
                );
                for line in mention {
                    self.current().push(Op::Text {
                        x: x + 4.0,
                        baseline: top + height - 22.0,
                        size: BODY_SIZE - 1.0,
                        line,
                    });
                }
            }
            self.y = top + height + 6.0;
        }
    }

    /// A thin horizontal rule across the page.
    pub(super) fn rule(&mut self) {
        self.keep(6.0);
        let y = self.y + 2.0;
        self.current().push(Op::Rule { x1: MARGIN_X, y1: y, x2: PAGE_WIDTH - MARGIN_X, y2: y });
        self.y += 6.0;
    }

    /// Draws every page with the footer `footer(page, pages)` and returns the PDF's bytes.
    pub(super) fn finish(
        self,
        metadata: Metadata,
        footer: impl Fn(usize, usize) -> String,
    ) -> Result<Vec<u8>, String> {
        let fonts = self.fonts;
        let count = self.pages.len();
        let mut document = Document::new();
        document.set_metadata(metadata);

        for (index, mut ops) in self.pages.into_iter().enumerate() {
            let footer_text = footer(index + 1, count);
            let size = BODY_SIZE - 1.5;
            for line in text::wrap(fonts, &footer_text, Weight::Regular, size, CONTENT_WIDTH)
                .into_iter()
                .take(2)
            {
                let x = MARGIN_X + (CONTENT_WIDTH - line.width).max(0.0) / 2.0;
                ops.push(Op::Text { x, baseline: PAGE_HEIGHT - 32.0, size, line });
            }
            ops.push(Op::Rule {
                x1: MARGIN_X,
                y1: PAGE_HEIGHT - 44.0,
                x2: PAGE_WIDTH - MARGIN_X,
                y2: PAGE_HEIGHT - 44.0,
            });

            let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
                .ok_or_else(|| "format de page invalide".to_owned())?;
            let mut page = document.start_page_with(settings);
            let mut surface = page.surface();
            surface.set_fill(Some(Fill { paint: rgb::Color::black().into(), ..Fill::default() }));
            for op in ops {
                match op {
                    Op::Text { x, baseline, size, line } => {
                        let mut x = x;
                        for piece in &line.pieces {
                            surface.draw_glyphs(
                                Point::from_xy(x, baseline),
                                &piece.glyphs,
                                fonts.pdf_font(piece),
                                &piece.text,
                                size,
                                false,
                            );
                            x += piece.width;
                        }
                    }
                    Op::Rule { x1, y1, x2, y2 } => {
                        let mut path = PathBuilder::new();
                        path.move_to(x1, y1);
                        path.line_to(x2, y2);
                        if let Some(path) = path.finish() {
                            stroke(&mut surface, &path);
                        }
                    }
                    Op::Frame { x, y, width, height } => {
                        let mut path = PathBuilder::new();
                        if let Some(rect) = Rect::from_xywh(x, y, width, height) {
                            path.push_rect(rect);
                        }
                        if let Some(path) = path.finish() {
                            stroke(&mut surface, &path);
                        }
                    }
                }
            }
            surface.finish();
            page.finish();
        }

        document.finish().map_err(|error| format!("le PDF n'a pas pu être écrit : {error:?}"))
    }
}

fn stroke(surface: &mut krilla::surface::Surface<'_>, path: &krilla::geom::Path) {
    let fill = surface.get_fill().cloned();
    surface.set_fill(None);
    surface.set_stroke(Some(Stroke {
        paint: rgb::Color::new(90, 90, 90).into(),
        width: 0.6,
        ..Stroke::default()
    }));
    surface.draw_path(path);
    surface.set_stroke(None);
    surface.set_fill(fill);
}
