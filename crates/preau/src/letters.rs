//! Printable activation letters: one self-contained HTML page (no external resource), one
//! letter per person and per printed page, giving the school, the person, the login, the code
//! in groups of four, its expiry and the activation address. Every value is escaped.

use std::fmt::Write as _;

use domain::activation::format_code;
use domain::profile::Profile;
use store::accounts::ActivationCodeRow;

const STYLE: &str = "\
body { font-family: system-ui, sans-serif; margin: 0; color: #111; }
.letter { max-width: 40rem; margin: 2rem auto; padding: 2rem; border: 1px solid #999; }
h1 { font-size: 1.4rem; margin-top: 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .5rem 1rem; }
dt { font-weight: bold; }
.code { font-family: ui-monospace, monospace; font-size: 1.5rem; letter-spacing: .1em; }
.url { font-family: ui-monospace, monospace; }
@media print {
  .letter { border: none; margin: 0; max-width: none; page-break-after: always; break-after: page; }
  .letter:last-child { page-break-after: auto; break-after: auto; }
}
";

/// The letters of the rows whose account is still to activate.
pub fn render(rows: &[ActivationCodeRow], base_url: &str) -> String {
    let activation_url = format!("{}/activation", base_url.trim_end_matches('/'));
    let school = rows.first().map_or("", |row| row.school_name.as_str());

    let mut html = String::with_capacity(2048 + rows.len() * 1024);
    html.push_str("<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(html, "<title>Codes d'activation — {}</title>", escape(school));
    let _ = writeln!(html, "<style>\n{STYLE}</style>\n</head>\n<body>");
    let mut printed = 0;
    for row in rows {
        let Some(code) = &row.code else { continue };
        printed += 1;
        letter(&mut html, row, code, &activation_url);
    }
    if printed == 0 {
        html.push_str(
            "<main class=\"letter\"><p>Tous les comptes de cette sélection sont déjà activés.</p></main>\n",
        );
    }
    html.push_str("</body>\n</html>\n");
    html
}

fn letter(html: &mut String, row: &ActivationCodeRow, code: &str, activation_url: &str) {
    let name = format!("{} {}", row.first_name, row.last_name);
    let _ = writeln!(html, "<main class=\"letter\">");
    let _ = writeln!(html, "<h1>{} — votre compte Préau</h1>", escape(&row.school_name));
    let _ = writeln!(html, "<p>À l'attention de <strong>{}</strong>", escape(&name));
    let _ = write!(html, " ({}", escape(row.profile.label_fr()));
    if let Some(class) = &row.class_code {
        let _ = write!(html, ", classe {}", escape(class));
    }
    if !row.for_pupils.is_empty() {
        let _ = write!(html, ", responsable de {}", escape(&row.for_pupils.join(", ")));
    }
    let _ = writeln!(html, ").</p>");
    let _ = writeln!(
        html,
        "<p>Pour activer votre compte, rendez-vous à l'adresse ci-dessous et saisissez votre \
         identifiant et ce code{}, puis choisissez votre mot de passe.</p>",
        if row.profile == Profile::Pupil { ", votre date de naissance" } else { "" }
    );
    let _ = writeln!(html, "<dl>");
    let _ = writeln!(html, "<dt>Adresse</dt><dd class=\"url\">{}</dd>", escape(activation_url));
    let _ = writeln!(html, "<dt>Identifiant</dt><dd class=\"url\">{}</dd>", escape(&row.login));
    let _ = writeln!(
        html,
        "<dt>Code d'activation</dt><dd class=\"code\">{}</dd>",
        escape(&format_code(code))
    );
    if let Some(expires) = &row.expires_on {
        let _ =
            writeln!(html, "<dt>Valable jusqu'au</dt><dd>{}</dd>", escape(&french_date(expires)));
    }
    let _ = writeln!(html, "</dl>");
    let _ = writeln!(
        html,
        "<p>Ce code ne sert qu'une fois. Ne le communiquez à personne : le collège ne vous le \
         demandera jamais.</p>\n</main>"
    );
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
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
        let html = render(&rows, "http://127.0.0.1:8080/");
        assert_eq!(html.matches("<main class=\"letter\">").count(), 2);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("Collège &lt;Aliénor&gt; d&#39;Aquitaine"));
        assert!(html.contains("K7MQ-2XWD-PN4R"));
        assert!(html.contains("http://127.0.0.1:8080/activation"));
        assert!(html.contains("03/04/2027"));
        assert!(html.contains("responsable de Moussa N&#39;Diaye"));
        assert!(html.contains("@media print"));
        assert!(!html.contains("Déjà N"));
        assert!(!html.contains("src=") && !html.contains("href="));
    }
}
