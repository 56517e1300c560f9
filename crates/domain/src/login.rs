//! How a login is derived from a person's names: the French ENT convention `prenom.nom`, in
//! lower-case ASCII, accents and apostrophes folded, any script transliterated, numbered on
//! collision (`jean.dupont`, `jean.dupont2`, …). Which numbers are free is the store's business.

/// The longest login base, in bytes, before any collision number.
pub const MAX_LOGIN_BASE: usize = 48;

/// The login base for a first name and a surname, for instance `("Jean-Éric", "D'Arc")` gives
/// `jean-eric.darc`. Only the first of several first names is used. Never empty: a name with
/// nothing left after folding gives `utilisateur`.
pub fn login_base(first_name: &str, last_name: &str) -> String {
    let first = first_name.split([' ', ',']).find(|part| !part.is_empty()).unwrap_or("");
    let first = fold_part(first);
    let last = fold_part(last_name);

    let mut base = match (first.is_empty(), last.is_empty()) {
        (false, false) => format!("{first}.{last}"),
        (false, true) => first,
        (true, false) => last,
        (true, true) => "utilisateur".to_owned(),
    };
    if base.len() > MAX_LOGIN_BASE {
        base.truncate(MAX_LOGIN_BASE);
        base = base.trim_end_matches(['-', '.']).to_owned();
    }
    base
}

/// The `n`-th candidate for a base: the base itself for 1, then `base2`, `base3`, ….
pub fn login_candidate(base: &str, n: u32) -> String {
    if n <= 1 { base.to_owned() } else { format!("{base}{n}") }
}

/// Normalises what a person types in the login field so that `Jean.Dupont ` or `hélène.roux`
/// finds `jean.dupont` or `helene.roux`: trimmed, lower-cased, compatibility-folded (fullwidth
/// letters become ASCII) and, since logins are ASCII, accents taken off.
pub fn normalize_typed_login(typed: &str) -> String {
    use unicode_normalization::UnicodeNormalization;

    let folded: String = typed.trim().nfkc().flat_map(char::to_lowercase).collect();
    if folded.is_ascii() { folded } else { deunicode::deunicode(&folded).to_ascii_lowercase() }
}

/// One name part folded to `[a-z0-9-]`: letters transliterated (symbols and emoji dropped),
/// lower-cased, apostrophes dropped, spaces and other separators turned into single hyphens.
fn fold_part(part: &str) -> String {
    let letters: String = part
        .chars()
        .filter(|c| c.is_alphanumeric() || !c.is_alphabetic() && c.is_ascii())
        .collect();
    let ascii = deunicode::deunicode(&letters).to_ascii_lowercase();

    let mut folded = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            folded.push(c);
        } else if c == '\'' || c == '`' || c == '"' {
            continue;
        } else if !folded.is_empty() && !folded.ends_with('-') {
            folded.push('-');
        }
    }
    folded.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_apostrophes_and_hyphens_fold() {
        assert_eq!(login_base("Jean-Éric", "D'Arc"), "jean-eric.darc");
        assert_eq!(login_base("Zoé", "Le Guen"), "zoe.le-guen");
        assert_eq!(login_base("Anaïs Marie", "N’Diaye"), "anais.ndiaye");
        assert_eq!(login_base("Œdipe", "Ça"), "oedipe.ca");
    }

    #[test]
    fn other_scripts_are_transliterated() {
        assert_eq!(login_base("Méng", "Wheeler"), "meng.wheeler");
        assert!(login_base("محمد", "علي").is_ascii());
        assert_eq!(login_base("🙂", "😀"), "utilisateur");
    }

    #[test]
    fn long_names_are_capped() {
        let base = login_base("a", &"b".repeat(300));
        assert!(base.len() <= MAX_LOGIN_BASE);
    }

    #[test]
    fn candidates_are_numbered_from_two() {
        assert_eq!(login_candidate("jean.dupont", 1), "jean.dupont");
        assert_eq!(login_candidate("jean.dupont", 2), "jean.dupont2");
    }

    #[test]
    fn typed_logins_are_normalised() {
        assert_eq!(normalize_typed_login(" Jean.Dupont "), "jean.dupont");
        assert_eq!(normalize_typed_login("ｊｅａｎ"), "jean");
        assert_eq!(normalize_typed_login("Hélène.Roux"), "helene.roux");
    }
}
