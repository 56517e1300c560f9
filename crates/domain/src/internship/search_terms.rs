//! The words of the offer search, the same on both databases: a text is folded (lower case,
//! no accents, letters and digits only) and each word reduced to its stem, so that
//! « Boulangères » finds « boulanger ». An offer stores its terms as ` term term … ` (spaces
//! around each), and a query term matches with `LIKE '% term%'`, a prefix of a stored word.

/// The stored form of a text's terms: each distinct stem with a space before and after.
pub fn search_terms(text: &str) -> String {
    let mut terms: Vec<String> = query_terms(text);
    terms.sort();
    terms.dedup();
    let mut stored = String::from(" ");
    for term in terms {
        stored.push_str(&term);
        stored.push(' ');
    }
    stored
}

/// The stems of a query, in order, without repeats.
pub fn query_terms(text: &str) -> Vec<String> {
    let folded = crate::names::fold_for_search(text);
    let mut terms: Vec<String> = Vec::new();
    for word in folded.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        let stem = stem(word);
        if !stem.is_empty() && !terms.contains(&stem) {
            terms.push(stem);
        }
    }
    terms
}

/// The stem of one folded word.
// FIXME(#5): folding only; French stemming comes with the search.
fn stem(word: &str) -> String {
    word.to_owned()
}
