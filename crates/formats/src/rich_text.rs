//! Rich text typed in messages and news: the allowlist that turns any HTML a browser sends into
//! the small, safe subset Préau stores and shows (`sanitize`), the plain-text version of that HTML
//! for e-mails, snippets and search (`to_plain_text`), and the HTML of a body typed without the
//! editor (`from_plain_text`). The allowlist keeps structure and links, never images (remote
//! images track their readers), styles, classes or event handlers.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};
use html5ever::TokenizerResult;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer};

/// The elements a stored body may contain.
pub const ALLOWED_TAGS: &[&str] = &[
    "p",
    "br",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "s",
    "ul",
    "ol",
    "li",
    "blockquote",
    "a",
    "h3",
    "h4",
    "pre",
    "code",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
];

/// The `rel` every kept link carries: no access to the opener, no referrer, no endorsement.
pub const LINK_REL: &str = "noopener noreferrer nofollow";

static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut builder = Builder::empty();
    builder
        .add_tags(ALLOWED_TAGS)
        .tag_attributes(HashMap::from([("a", HashSet::from(["href"]))]))
        .generic_attributes(HashSet::new())
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(UrlRelative::Deny)
        .link_rel(Some(LINK_REL))
        .clean_content_tags(HashSet::from(["script", "style"]))
        .strip_comments(true);
    builder
});

/// The allowlisted form of `html`: unknown elements are unwrapped (their text stays), scripts and
/// styles are dropped with their content, and only `href` survives, on links, when its scheme is
/// http, https or mailto. The result is serialised by html5ever, so it is well-formed.
pub fn sanitize(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

/// The HTML of a body typed as plain text: each run of blank lines starts a paragraph, each other
/// line break becomes `<br>`, and every character that means something in HTML is escaped.
pub fn from_plain_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");

    let mut html = String::with_capacity(text.len() + 16);
    let mut paragraph: Vec<&str> = Vec::new();
    for line in text.split('\n').chain(std::iter::once("")) {
        if !line.trim().is_empty() {
            paragraph.push(line.trim_end());
            continue;
        }
        if paragraph.is_empty() {
            continue;
        }
        html.push_str("<p>");
        for (n, kept) in paragraph.drain(..).enumerate() {
            if n > 0 {
                html.push_str("<br>");
            }
            escape_into(kept, &mut html);
        }
        html.push_str("</p>");
    }
    html
}

fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\0' => {}
            c => out.push(c),
        }
    }
}

/// The readable plain text of `html` (sanitised first): paragraphs, headings and lists are set
/// apart by blank lines, each list item and table row is on its own line, quotes are prefixed
/// with "> ", and a link reads "text (url)" unless its text already is the address.
pub fn to_plain_text(html: &str) -> String {
    let clean = sanitize(html);

    let input = BufferQueue::default();
    input.push_back(StrTendril::from(clean.as_str()));
    let tokenizer = Tokenizer::new(PlainTextSink::default(), Default::default());
    while let TokenizerResult::Script(()) = tokenizer.feed(&input) {}
    tokenizer.end();

    let text = tokenizer.sink.text.into_inner().out;
    text.trim_matches(|c: char| c == '\n' || c == ' ').to_owned()
}

#[derive(Default)]
struct PlainTextSink {
    text: RefCell<PlainText>,
}

impl TokenSink for PlainTextSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line_number: u64) -> TokenSinkResult<()> {
        let mut text = self.text.borrow_mut();
        match token {
            Token::CharacterTokens(chars) => text.push_text(&chars),
            Token::TagToken(tag) => {
                let href = tag
                    .attrs
                    .iter()
                    .find(|attr| &*attr.name.local == "href")
                    .map(|attr| attr.value.to_string());
                match tag.kind {
                    TagKind::StartTag => text.open(&tag.name, href),
                    TagKind::EndTag => text.close(&tag.name),
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// The plain text being written, with the line breaks owed before the next word.
#[derive(Default)]
struct PlainText {
    out: String,
    /// Line breaks owed before the next text: 1 ends the line, 2 leaves a blank line.
    breaks: usize,
    /// A space is owed before the next word on the same line.
    space: bool,
    /// The current line is empty (its quote prefix is not written yet).
    line_start: bool,
    quote_depth: usize,
    pre_depth: usize,
    /// One entry per open list: `None` for bullets, `Some(next number)` for a numbered list.
    lists: Vec<Option<u64>>,
    /// The open link: its address and where its text starts in `out`.
    link: Option<(String, usize)>,
    cells_in_row: usize,
    /// A quote or a list item has just started a line: blocks opening now owe no further break.
    fresh_line: bool,
}

impl PlainText {
    fn owe_breaks(&mut self, breaks: usize) {
        if !self.fresh_line {
            self.breaks = self.breaks.max(breaks);
        }
    }

    fn block_breaks(&self) -> usize {
        if self.lists.is_empty() { 2 } else { 1 }
    }

    fn new_line(&mut self) {
        while self.out.ends_with(' ') {
            self.out.pop();
        }
        self.out.push('\n');
        self.line_start = true;
        self.space = false;
    }

    /// Writes the owed line breaks, blank lines carrying the current quote prefix.
    fn flush_breaks(&mut self) {
        if self.out.is_empty() {
            self.breaks = 0;
            self.line_start = true;
        }
        for n in 0..self.breaks {
            if n > 0 && self.quote_depth > 0 {
                self.out.push_str(&">".repeat(self.quote_depth));
            }
            self.new_line();
        }
        self.breaks = 0;
    }

    /// Writes the owed line breaks and the quote prefix of the line before new text.
    fn settle(&mut self) {
        self.fresh_line = false;
        self.flush_breaks();
        if self.line_start {
            self.out.push_str(&"> ".repeat(self.quote_depth));
            self.line_start = false;
            self.space = false;
        }
    }

    fn write(&mut self, text: &str) {
        self.settle();
        if self.space {
            self.out.push(' ');
            self.space = false;
        }
        self.out.push_str(text);
    }

    fn push_text(&mut self, text: &str) {
        if self.pre_depth > 0 {
            for (n, line) in text.split('\n').enumerate() {
                if n > 0 {
                    self.settle();
                    self.new_line();
                }
                if !line.is_empty() {
                    self.write(line);
                }
            }
            return;
        }

        let breakable = |c: char| c.is_whitespace() && c != '\u{a0}' && c != '\u{202f}';
        for (n, word) in text.split(breakable).enumerate() {
            if n > 0 {
                self.space = true;
            }
            if !word.is_empty() {
                self.write(word);
            }
        }
    }

    fn open(&mut self, name: &str, href: Option<String>) {
        match name {
            "p" | "h3" | "h4" | "pre" | "table" => {
                self.owe_breaks(self.block_breaks());
                if name == "pre" {
                    self.pre_depth += 1;
                }
            }
            "blockquote" => {
                self.owe_breaks(self.block_breaks());
                self.flush_breaks();
                self.quote_depth += 1;
                self.fresh_line = true;
            }
            "ul" | "ol" => {
                self.owe_breaks(self.block_breaks());
                self.lists.push((name == "ol").then_some(1));
            }
            "li" => {
                self.owe_breaks(1);
                let indent = "  ".repeat(self.lists.len().saturating_sub(1));
                let marker = match self.lists.last_mut() {
                    Some(Some(number)) => {
                        *number += 1;
                        format!("{indent}{}. ", *number - 1)
                    }
                    _ => format!("{indent}- "),
                };
                self.write(&marker);
                self.space = false;
                self.fresh_line = true;
            }
            "tr" => {
                self.owe_breaks(1);
                self.cells_in_row = 0;
            }
            "td" | "th" => {
                if self.cells_in_row > 0 {
                    self.write(" |");
                    self.space = true;
                }
                self.cells_in_row += 1;
            }
            "br" => {
                self.settle();
                self.new_line();
            }
            "a" => {
                self.write("");
                self.link = href.map(|href| (href, self.out.len()));
            }
            _ => {}
        }
    }

    fn close(&mut self, name: &str) {
        match name {
            "p" | "h3" | "h4" | "table" => self.owe_breaks(self.block_breaks()),
            "pre" => {
                self.pre_depth = self.pre_depth.saturating_sub(1);
                self.owe_breaks(self.block_breaks());
            }
            "blockquote" => {
                self.fresh_line = false;
                self.quote_depth = self.quote_depth.saturating_sub(1);
                self.owe_breaks(self.block_breaks());
            }
            "ul" | "ol" => {
                self.lists.pop();
                self.owe_breaks(self.block_breaks());
            }
            "li" | "tr" => self.owe_breaks(1),
            "a" => {
                let Some((href, start)) = self.link.take() else { return };
                let shown = self.out.get(start..).unwrap_or_default().trim();
                let bare = href.strip_prefix("mailto:").unwrap_or(&href);
                let trailing_space = self.space;
                if shown.is_empty() {
                    self.write(&href);
                } else if shown != href && shown != bare {
                    self.space = true;
                    self.write(&format!("({href})"));
                }
                self.space = trailing_space;
            }
            _ => {}
        }
    }
}
