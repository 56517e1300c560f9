//! The words of the offer search, the same on both databases: a text is cut into words, each
//! word reduced to its French stem (the Snowball algorithm, on the accented lower-case word)
//! and then folded (no accents, ASCII letters and digits only), so that « Boulangères » finds
//! « Boulangerie ». Elided articles and the commonest grammatical words are dropped: a query
//! term must match, and « de » would match almost every offer. An offer stores its terms as
//! ` term term … ` (spaces around each), and a query term matches with `LIKE '% term%'`, a
//! prefix of a stored word; a query word is stemmed until its stem stops shrinking, so that
//! « boulangerie » (stem `boulanger`, then `boulang`) also finds « boulanger » (`boulang`).
//! It owns no SQL: the store writes and reads the terms.

use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};

/// The most terms a query keeps; more would only slow the search down.
pub const MAX_QUERY_TERMS: usize = 6;

/// Words that say nothing of an offer (articles, prepositions, conjunctions, pronouns), folded.
const STOP_WORDS: [&str; 48] = [
    "a", "au", "aux", "avec", "ce", "ces", "c", "d", "dans", "de", "des", "du", "elle", "en",
    "est", "et", "il", "j", "je", "l", "la", "le", "les", "leur", "leurs", "lui", "m", "ma", "mes",
    "mon", "n", "ne", "nous", "on", "ou", "par", "pas", "pour", "qu", "que", "qui", "s", "sa",
    "se", "ses", "son", "sur", "un",
];

/// The stored form of a text's terms: each distinct stem with a space before and after.
pub fn search_terms(text: &str) -> String {
    let mut terms: Vec<String> = all_terms(text, Depth::Once);
    terms.sort();
    terms.dedup();
    let mut stored = String::from(" ");
    for term in terms {
        stored.push_str(&term);
        stored.push(' ');
    }
    stored
}

/// The stems of a query, in order, without repeats, at most [`MAX_QUERY_TERMS`].
pub fn query_terms(text: &str) -> Vec<String> {
    let mut terms = all_terms(text, Depth::Shortest);
    terms.truncate(MAX_QUERY_TERMS);
    terms
}

/// How far a word is stemmed: once for what is stored, until it stops shrinking for a query
/// (a shorter query term is a prefix of more stored words).
#[derive(Clone, Copy)]
enum Depth {
    Once,
    Shortest,
}

/// Every stem of a text, in order, without repeats.
fn all_terms(text: &str, depth: Depth) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut terms: Vec<String> = Vec::new();
    for word in lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        for stem in stem(word, depth) {
            if !STOP_WORDS.contains(&stem.as_str()) && !terms.contains(&stem) {
                terms.push(stem);
            }
        }
    }
    terms
}

/// The folded stem of one lower-case word; a word whose folding splits it (« œuvre » is one
/// word, « ﬁ » ligatures too, but a transliterated script may give several) gives several.
fn stem(word: &str, depth: Depth) -> Vec<String> {
    static FRENCH: OnceLock<Stemmer> = OnceLock::new();
    let stemmer = FRENCH.get_or_init(|| Stemmer::create(Algorithm::French));

    let mut stemmed = stemmer.stem(word).into_owned();
    if let Depth::Shortest = depth {
        for _ in 0..3 {
            let shorter = stemmer.stem(&stemmed);
            if shorter.len() >= stemmed.len() || !stemmed.starts_with(shorter.as_ref()) {
                break;
            }
            stemmed = shorter.into_owned();
        }
    }
    let folded = crate::names::fold_for_search(&stemmed);
    folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether an offer's text answers a query, as the SQL reads it: every query term is the
    /// start of a stored word.
    fn finds(query: &str, offer: &str) -> bool {
        let stored = search_terms(offer);
        let terms = query_terms(query);
        !terms.is_empty() && terms.iter().all(|term| stored.contains(&format!(" {term}")))
    }

    #[test]
    fn inflections_and_derived_words_find_each_other() {
        for (query, offer) in [
            ("boulangère", "Boulangerie Éluard"),
            ("boulangerie", "Apprenti boulanger"),
            ("BOULANGERS", "boulangères"),
            ("mécaniciens", "Mécanicienne poids lourds"),
            ("hôpitaux", "Découverte de l'hôpital"),
            ("cuisinière", "Aide-cuisinier"),
            ("électricité", "Électricien du bâtiment"),
            ("vétérinaire", "Cabinet vétérinaire"),
            ("informatique", "Informaticien"),
            ("jardin", "jardinier paysagiste"),
        ] {
            assert!(finds(query, offer), "{query} → {offer}");
        }
    }

    #[test]
    fn unrelated_words_are_not_found() {
        for (query, offer) in [
            ("boulangerie", "Garage du Clain"),
            ("mécanicien", "Mécanique générale"),
            ("coiffure", "Boulangerie"),
            ("boulangerie vente", "Boulangerie, fournil"),
        ] {
            assert!(!finds(query, offer), "{query} → {offer}");
        }
    }

    #[test]
    fn accents_and_case_do_not_matter() {
        assert_eq!(query_terms("Pâtisserie"), query_terms("patisserie"));
        assert_eq!(query_terms("HÔTELLERIE"), query_terms("hôtellerie"));
        assert!(finds("PATISSERIE", "pâtisserie fine"));
        assert!(query_terms("électricité").iter().all(|term| term.is_ascii()));
    }

    #[test]
    fn grammatical_words_and_elisions_are_dropped() {
        assert_eq!(query_terms("l'atelier de la boulangerie"), query_terms("atelier boulangerie"));
        assert!(query_terms("de la").is_empty());
        assert!(!search_terms("l'atelier du boulanger").contains(" l "));
    }

    #[test]
    fn stored_terms_are_spaced_sorted_and_distinct() {
        let stored = search_terms("Boulangerie : boulangeries, vente ; Vente");
        assert!(stored.starts_with(' ') && stored.ends_with(' '));
        let words: Vec<&str> = stored.split_whitespace().collect();
        assert_eq!(words.len(), 2, "{stored}");
        let mut sorted = words.clone();
        sorted.sort();
        assert_eq!(words, sorted);
    }

    #[test]
    fn any_script_gives_ascii_terms_and_never_panics() {
        for text in ["فاطمة الزهراء", "Nguyễn Thị Minh Khai", "Léo 🎒", "œuvre", "", "  ,;"]
        {
            for term in query_terms(text)
                .into_iter()
                .chain(search_terms(text).split(' ').map(str::to_owned))
            {
                assert!(term.bytes().all(|b| b.is_ascii_alphanumeric()), "{text}: {term}");
            }
        }
    }

    #[test]
    fn a_query_keeps_a_bounded_number_of_terms() {
        let long = "alpha bravo charlie delta echo foxtrot golf hotel india juliett";
        assert_eq!(query_terms(long).len(), MAX_QUERY_TERMS);
    }
}
