//! Activation codes handed out by a school: printable letters (one self-contained HTML page,
//! one letter per person and per printed page, only for accounts still to activate) and the
//! formula-safe CSV export. The letters carry their own `<style>` so that a file written to
//! disk by the command line prints alone; the web answer allows exactly that style through the
//! hash in [`letters_csp`], so the site's CSP still forbids any other inline style or script.

use std::sync::OnceLock;

use askama::Template;
use base64::Engine;
use domain::activation::format_code;
use domain::profile::Profile;
use sha2::{Digest, Sha256};
use store::accounts::ActivationCodeRow;

/// The letters' style sheet, inlined in every page of letters.
const LETTERS_CSS: &str = include_str!("../static/letters.css");

/// The header of the CSV export of codes.
pub const CSV_HEADER: [&str; 11] = [
    "Établissement",
    "UAI",
    "Classe",
    "Profil",
    "Nom",
    "Prénom",
    "Pour l'élève",
    "Identifiant",
    "Code d'activation",
    "Valable jusqu'au",
    "État",
];

/// One letter, ready to print.
struct Letter {
    school_name: String,
    first_name: String,
    last_name: String,
    profile: &'static str,
    class_code: Option<String>,
    for_pupils: Vec<String>,
    pupil: bool,
    login: String,
    code: String,
    expires: Option<String>,
}

#[derive(Template)]
#[template(path = "letters.html")]
struct LettersPage<'a> {
    school: &'a str,
    css: &'static str,
    activation_url: String,
    letters: Vec<Letter>,
}

/// The printable letters of the rows whose account still has a live code (activated accounts
/// are skipped): a whole, self-contained HTML document in French. Every value is escaped.
pub fn render_letters(rows: &[ActivationCodeRow], base_url: &str) -> String {
    let letters = rows
        .iter()
        .filter_map(|row| {
            let code = row.code.as_deref()?;
            Some(Letter {
                school_name: row.school_name.clone(),
                first_name: row.first_name.clone(),
                last_name: row.last_name.clone(),
                profile: row.profile.label_fr(),
                class_code: row.class_code.clone(),
                for_pupils: row.for_pupils.clone(),
                pupil: row.profile == Profile::Pupil,
                login: row.login.clone(),
                code: format_code(code),
                expires: row.expires_on.as_deref().map(french_date),
            })
        })
        .collect();
    let page = LettersPage {
        school: rows.first().map_or("", |row| row.school_name.as_str()),
        css: LETTERS_CSS,
        activation_url: format!("{}/activation", base_url.trim_end_matches('/')),
        letters,
    };

    page.render().unwrap_or_else(|error| {
        tracing::error!(%error, "letters template");
        "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Erreur</title>\
         </head><body><p>Les lettres n'ont pas pu être préparées.</p></body></html>\n"
            .to_owned()
    })
}

/// The Content-Security-Policy of a page of letters: nothing but its own inline style.
pub fn letters_csp() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let digest = Sha256::digest(LETTERS_CSS.as_bytes());
        let hash = base64::engine::general_purpose::STANDARD.encode(digest);
        format!(
            "default-src 'none'; style-src 'sha256-{hash}'; img-src 'none'; object-src 'none'; \
             base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
        )
    })
}

/// The codes as CSV (`;`, UTF-8 with BOM), every cell formula-safe through
/// [`formats::csv_export::write_csv`].
///
/// # Errors
/// Only the writer's.
pub fn write_codes_csv<W: std::io::Write>(
    out: W,
    rows: &[ActivationCodeRow],
) -> std::io::Result<()> {
    let lines = rows.iter().map(|row| {
        vec![
            row.school_name.clone(),
            row.uai.clone(),
            row.class_code.clone().unwrap_or_default(),
            row.profile.label_fr().to_owned(),
            row.last_name.clone(),
            row.first_name.clone(),
            row.for_pupils.join(", "),
            row.login.clone(),
            row.code.as_deref().map(format_code).unwrap_or_default(),
            row.expires_on.as_deref().map(french_date).unwrap_or_default(),
            if row.code.is_some() { "à activer" } else { "déjà activé" }.to_owned(),
        ]
    });
    formats::csv_export::write_csv(out, &CSV_HEADER, lines)
}

/// `YYYY-MM-DD` as `dd/mm/yyyy`; anything else unchanged.
pub fn french_date(iso: &str) -> String {
    let parts: Vec<&str> = iso.split('-').collect();
    match parts.as_slice() {
        [year, month, day] if year.len() == 4 => format!("{day}/{month}/{year}"),
        _ => iso.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(first_name: &str, code: Option<&str>) -> ActivationCodeRow {
        ActivationCodeRow {
            uai: "0860876K".to_owned(),
            school_name: "Collège <Aliénor> d'Aquitaine".to_owned(),
            class_code: Some("6A".to_owned()),
            profile: Profile::Relative,
            last_name: "N'Diaye".to_owned(),
            first_name: first_name.to_owned(),
            login: "awa.ndiaye".to_owned(),
            code: code.map(str::to_owned),
            expires_on: Some("2027-04-03".to_owned()),
            for_pupils: vec!["Moussa N'Diaye".to_owned()],
        }
    }

    #[test]
    fn letters_are_escaped_one_per_page_and_skip_activated_accounts() {
        let rows = [
            row("Awa", Some("K7MQ2XWDPN4R")),
            row("<script>alert(1)</script>", Some("ABCDEFGHJKMN")),
            row("Déjà", None),
        ];
        let html = render_letters(&rows, "http://127.0.0.1:8080/");
        assert_eq!(html.matches("<section class=\"lettre\"").count(), 2);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&#60;script&#62;"));
        assert!(html.contains("Collège &#60;Aliénor&#62; d&#39;Aquitaine"));
        assert!(html.contains("K7MQ-2XWD-PN4R"));
        assert!(html.contains("http://127.0.0.1:8080/activation"));
        assert!(html.contains("03/04/2027"));
        assert!(html.contains("responsable de <bdi>Moussa N&#39;Diaye</bdi>"));
        assert!(html.contains("@media print") && html.contains("break-after: page"));
        assert!(!html.contains("Déjà"));
        assert!(!html.contains("src=") && !html.contains("href="));
    }

    #[test]
    fn the_inline_style_is_exactly_the_one_the_csp_allows() {
        let html = render_letters(&[row("Awa", Some("K7MQ2XWDPN4R"))], "http://x");
        let start = html.find("<style>").unwrap() + "<style>".len();
        let end = html.find("</style>").unwrap();
        let digest = Sha256::digest(&html.as_bytes()[start..end]);
        let hash = base64::engine::general_purpose::STANDARD.encode(digest);
        assert!(letters_csp().contains(&format!("'sha256-{hash}'")));
        assert_eq!(html.matches("<style>").count(), 1);
    }

    #[test]
    fn a_selection_without_live_codes_says_so() {
        let html = render_letters(&[row("Déjà", None)], "http://x");
        assert!(html.contains("déjà activés"));
        assert!(!html.contains("Code d'activation</dt>"));
    }

    #[test]
    fn csv_cells_that_look_like_formulas_are_neutralised() {
        let mut hostile = row("=HYPERLINK(\"http://x\")", Some("K7MQ2XWDPN4R"));
        hostile.last_name = "+33".to_owned();
        let mut out = Vec::new();
        write_codes_csv(&mut out, &[hostile]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("'=HYPERLINK") && text.contains("'+33"));
        assert!(text.contains("K7MQ-2XWD-PN4R;03/04/2027;à activer"));
    }
}
