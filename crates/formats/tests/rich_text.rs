//! The rich-text allowlist against hostile HTML (SECURITY.md §8 items 1 and 31): every output is
//! re-tokenised and must hold only allowlisted elements, no handler, no script and no dangerous
//! address, while the text the author typed stays readable. Also the plain-text conversions.

use std::cell::RefCell;

use formats::rich_text::{ALLOWED_TAGS, LINK_REL, from_plain_text, sanitize, to_plain_text};
use html5ever::TokenizerResult;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer};

/// A start tag's name and its attributes (name, value).
type StartTag = (String, Vec<(String, String)>);

/// Every start tag of an HTML string, with its attributes, as a browser's tokenizer sees them.
#[derive(Default)]
struct Tags {
    found: RefCell<Vec<StartTag>>,
}

impl TokenSink for Tags {
    type Handle = ();

    fn process_token(&self, token: Token, _line_number: u64) -> TokenSinkResult<()> {
        if let Token::TagToken(tag) = token
            && tag.kind == TagKind::StartTag
        {
            let attrs = tag
                .attrs
                .iter()
                .map(|attr| (attr.name.local.to_string(), attr.value.to_string()))
                .collect();
            self.found.borrow_mut().push((tag.name.to_string(), attrs));
        }
        TokenSinkResult::Continue
    }
}

fn start_tags(html: &str) -> Vec<StartTag> {
    let input = BufferQueue::default();
    input.push_back(StrTendril::from(html));
    let tokenizer = Tokenizer::new(Tags::default(), Default::default());
    while let TokenizerResult::Script(()) = tokenizer.feed(&input) {}
    tokenizer.end();
    tokenizer.sink.found.into_inner()
}

/// Sanitises `input` and checks the output is inert; returns it for further checks.
#[track_caller]
fn assert_inert(input: &str) -> String {
    let output = sanitize(input);
    let lower = output.to_lowercase();

    for needle in ["<script", "javascript:", "data:", "vbscript:", "<img", "<svg", "<iframe"] {
        assert!(!lower.contains(needle), "{needle:?} in {output:?} (from {input:?})");
    }
    for (name, attrs) in start_tags(&output) {
        assert!(ALLOWED_TAGS.contains(&name.as_str()), "<{name}> kept in {output:?}");
        for (attr, value) in attrs {
            assert!(!attr.starts_with("on"), "handler {attr} kept in {output:?}");
            match (name.as_str(), attr.as_str()) {
                ("a", "href") => assert!(
                    ["http://", "https://", "mailto:"].iter().any(|s| value.starts_with(s)),
                    "link {value:?} kept in {output:?}"
                ),
                ("a", "rel") => assert_eq!(value, LINK_REL),
                _ => panic!("attribute {attr}={value:?} kept on <{name}> in {output:?}"),
            }
        }
    }
    output
}

#[track_caller]
fn assert_keeps(output: &str, text: &str) {
    assert!(output.contains(text), "{text:?} lost: {output:?}");
}

#[test]
fn handlers_and_scripts_of_the_security_list_are_removed_and_the_text_stays() {
    let out = assert_inert("<p>Bonjour <img src=x onerror=alert(1)> la classe</p>");
    assert_eq!(out, "<p>Bonjour  la classe</p>");

    // ammonia drops foreign (SVG, MathML) content whole, text included.
    let out = assert_inert("<p>Avant</p><svg><script>alert(1)</script><text>dans svg</text></svg>");
    assert_eq!(out, "<p>Avant</p>");

    let out = assert_inert(r#"<a href="javascript:alert(1)">cliquez</a>"#);
    assert_eq!(out, format!(r#"<a rel="{LINK_REL}">cliquez</a>"#));

    let out = assert_inert(r#"<iframe srcdoc="<script>alert(1)</script>">repli</iframe>après"#);
    assert_keeps(&out, "après");

    let out = assert_inert(r#"<p style="background:url(javascript:alert(1))">stylé</p>"#);
    assert_eq!(out, "<p>stylé</p>");

    let out = assert_inert(r#"<noscript><p title="</noscript><img src=x onerror=alert(1)>">"#);
    assert!(!out.contains("onerror=alert"), "{out}");
}

#[test]
fn mutation_and_namespace_tricks_stay_inert() {
    let cases = [
        r#"<svg><p><style><img src=x onerror=alert(1)></style></p></svg>"#,
        r#"<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"#,
        r#"<math><mi><b>texte</b></mi><annotation-xml encoding="text/html"><img src=x onerror=alert(1)></annotation-xml></math>"#,
        r#"<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>"#,
        r#"<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">"#,
        r#"<listing>&lt;img src=x onerror=alert(1)&gt;</listing>"#,
        r#"<xmp><img src=x onerror=alert(1)></xmp>"#,
        r#"<template><img src=x onerror=alert(1)></template>"#,
        r#"<textarea></textarea><img src=x onerror=alert(1)>"#,
        r#"<!--><img src=x onerror=alert(1)>-->"#,
        r#"<![CDATA[><img src=x onerror=alert(1)>]]>"#,
        r#"<svg><foreignObject><img src=x onerror=alert(1)></foreignObject></svg>"#,
        r#"<svg><a xlink:href="javascript:alert(1)"><text>lien</text></a></svg>"#,
        r#"<svg><animate attributeName=href values="javascript:alert(1)"/></svg>"#,
        r#"<svg onload=alert(1)>"#,
        r#"<body onload=alert(1)>corps</body>"#,
        r#"<details open ontoggle=alert(1)>détails</details>"#,
        r#"<video><source onerror=alert(1)></video>"#,
        r#"<object data="javascript:alert(1)"></object><embed src="data:text/html,x">"#,
        r#"<input autofocus onfocus=alert(1)>"#,
        r#"<isindex action=javascript:alert(1) type=image>"#,
    ];
    for case in cases {
        let out = assert_inert(case);
        for (name, attrs) in start_tags(&out) {
            assert!(attrs.iter().all(|(attr, _)| !attr.starts_with("on")), "<{name}>: {out}");
        }
    }
}

#[test]
fn disguised_javascript_and_data_addresses_are_dropped() {
    let cases = [
        r#"<a href="jav&#x09;ascript:alert(1)">a</a>"#,
        r#"<a href="jav&#x0A;ascript:alert(1)">a</a>"#,
        r#"<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">a</a>"#,
        r#"<a href="JaVaScRiPt:alert(1)">a</a>"#,
        r#"<a href="  javascript:alert(1)">a</a>"#,
        r#"<a href="&#0000106avascript:alert(1)">a</a>"#,
        r#"<a href="javascript&colon;alert(1)">a</a>"#,
        r#"<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">a</a>"#,
        r#"<a href="vbscript:msgbox(1)">a</a>"#,
        r#"<a href="/relatif">a</a>"#,
        r#"<a href="//autre.example/x">a</a>"#,
        r#"<a href="file:///etc/passwd">a</a>"#,
        r#"<a href=javascript:alert(1) target=_blank>a</a>"#,
    ];
    for case in cases {
        let out = assert_inert(case);
        assert_eq!(out, format!(r#"<a rel="{LINK_REL}">a</a>"#), "{case}");
    }
}

#[test]
fn documents_forms_and_head_elements_are_unwrapped() {
    let out =
        assert_inert(r#"<base href="https://autre.example/"><a href="https://ok.example/">ok</a>"#);
    assert_eq!(out, format!(r#"<a href="https://ok.example/" rel="{LINK_REL}">ok</a>"#));

    let out =
        assert_inert(r#"<meta http-equiv="refresh" content="0;url=javascript:alert(1)">texte"#);
    assert_eq!(out, "texte");

    let out = assert_inert(
        r#"<form action="https://evil.example/"><input name=x><button>Envoyer</button></form>"#,
    );
    assert_eq!(out, "Envoyer");

    let out = assert_inert(
        r#"<link rel=stylesheet href="https://evil.example/x.css"><style>p{}</style>reste"#,
    );
    assert_eq!(out, "reste");

    let out =
        assert_inert(r#"<html><head><title>T</title></head><body><p>corps</p></body></html>"#);
    assert_keeps(&out, "<p>corps</p>");
}

#[test]
fn nested_and_unclosed_tags_are_balanced() {
    let out = assert_inert("<p><b>gras <i>et italique</p> suite");
    assert_keeps(&out, "gras");
    assert_keeps(&out, "et italique");
    assert_keeps(&out, "suite");
    assert_eq!(out.matches("<b>").count(), out.matches("</b>").count(), "{out}");

    let out = assert_inert("<ul><li>un<li>deux</ul><blockquote>cité");
    assert_eq!(out, "<ul><li>un</li><li>deux</li></ul><blockquote>cité</blockquote>");

    let deep = "<b>".repeat(5_000) + "profond" + &"</b>".repeat(5_000);
    let out = assert_inert(&deep);
    assert_keeps(&out, "profond");

    let out = assert_inert("<p>un <script>alert(1)");
    assert_eq!(out, "<p>un </p>");

    let out = assert_inert("<<script>script>alert(1)<</script>/script>");
    assert!(!out.contains("<script"), "{out}");
}

#[test]
fn the_allowlist_keeps_formatting_and_safe_links() {
    let input = concat!(
        r#"<h3 class="x" id="y">Titre</h3><p>Un <strong>mot</strong> <em>clé</em> <u>souligné</u> "#,
        r#"<s>barré</s></p><ol><li>premier</li></ol><pre><code>let x = 1;</code></pre>"#,
        r#"<table><thead><tr><th>Nom</th></tr></thead><tbody><tr><td>Valeur</td></tr></tbody></table>"#,
        r#"<a href="https://preau.example/page?a=1&amp;b=2" target="_blank" rel="opener">lien</a> "#,
        r#"<a href="mailto:vie.scolaire@college.example">écrire</a>"#
    );
    let out = assert_inert(input);
    for kept in [
        "<h3>Titre</h3>",
        "<strong>mot</strong>",
        "<em>clé</em>",
        "<u>souligné</u>",
        "<s>barré</s>",
        "<ol><li>premier</li></ol>",
        "<pre><code>let x = 1;</code></pre>",
        "<th>Nom</th>",
        "<td>Valeur</td>",
        r#"href="https://preau.example/page?a=1&amp;b=2""#,
        r#"href="mailto:vie.scolaire@college.example""#,
    ] {
        assert_keeps(&out, kept);
    }
    assert!(!out.contains("target"), "{out}");
    assert!(!out.contains("class="), "{out}");
    assert!(!out.contains("opener\""), "{out}");
}

#[test]
fn nul_bytes_invalid_tags_and_long_emoji_runs_do_not_crash() {
    let out = assert_inert("a\0b<p\0>c</p>\0");
    assert!(!out.contains('\0'), "{out:?}");
    assert_keeps(&out, "a");
    assert_keeps(&out, "c");

    let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}";
    let many = family.repeat(10_000);
    let out = assert_inert(&format!("<p>{many}</p>"));
    assert_eq!(out, format!("<p>{many}</p>"));
    assert_eq!(to_plain_text(&out), many);

    assert_eq!(sanitize(""), "");
    assert_eq!(to_plain_text(""), "");
    assert_eq!(from_plain_text(""), "");
    assert_eq!(to_plain_text("\0"), "");
}

#[test]
fn plain_text_is_readable() {
    let html = concat!(
        "<h3>Sortie au musée</h3><p>Bonjour,<br>la sortie a lieu <b>jeudi</b>.</p>",
        "<ul><li>Prévoir un pique-nique</li><li>Un <a href=\"https://musee.example/plan\">plan</a>",
        "</li></ul><ol><li>un</li><li>deux</li></ol>",
        "<blockquote><p>Message cité</p><p>sur deux paragraphes</p></blockquote>",
        "<p>Contact : <a href=\"mailto:cpe@college.example\">cpe@college.example</a> ou ",
        "<a href=\"https://college.example/\">https://college.example/</a>.</p>",
        "<table><tr><th>Jour</th><th>Heure</th></tr><tr><td>jeudi</td><td>9 h</td></tr></table>",
        "<pre>ligne 1\n  ligne 2</pre>"
    );
    let expected = "Sortie au musée\n\n\
        Bonjour,\nla sortie a lieu jeudi.\n\n\
        - Prévoir un pique-nique\n\
        - Un plan (https://musee.example/plan)\n\n\
        1. un\n2. deux\n\n\
        > Message cité\n>\n> sur deux paragraphes\n\n\
        Contact : cpe@college.example ou https://college.example/.\n\n\
        Jour | Heure\njeudi | 9 h\n\n\
        ligne 1\n  ligne 2";
    assert_eq!(to_plain_text(html), expected);
}

#[test]
fn plain_text_of_hostile_html_keeps_only_text() {
    let text =
        to_plain_text(r#"<p>Salut <img src=x onerror=alert(1)><script>vol()</script>toi</p>"#);
    assert_eq!(text, "Salut toi");

    let text = to_plain_text("<ul><li>a<ul><li>b</li></ul></li><li><p>c</p><p>d</p></li></ul>");
    assert_eq!(text, "- a\n  - b\n- c\nd");

    let text = to_plain_text("<blockquote><blockquote>x</blockquote>y</blockquote>z");
    assert_eq!(text, "> > x\n>\n> y\n\nz");

    let text = to_plain_text("a &lt;b&gt; &amp; &quot;c&quot;&nbsp;d");
    assert_eq!(text, "a <b> & \"c\"\u{a0}d");
}

#[test]
fn typed_text_becomes_escaped_paragraphs() {
    let text = "Bonjour <b>&</b> \"vous\",\r\nligne 2\n\n\n  \nDeuxième 'paragraphe'\0\n";
    let html = from_plain_text(text);
    assert_eq!(
        html,
        "<p>Bonjour &lt;b&gt;&amp;&lt;/b&gt; &quot;vous&quot;,<br>ligne 2</p>\
         <p>Deuxième &#39;paragraphe&#39;</p>"
    );
    assert_eq!(sanitize(&html), html.replace("&quot;", "\"").replace("&#39;", "'"));
    assert_eq!(
        to_plain_text(&html),
        "Bonjour <b>&</b> \"vous\",\nligne 2\n\nDeuxième 'paragraphe'"
    );

    let hostile = from_plain_text("<script>alert(1)</script>");
    assert_eq!(hostile, "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
    assert_inert(&hostile);
}
