//! Activation codes: what a school hands out on paper so that a person can claim their account.
//! Twelve characters from an alphabet without look-alikes (no `0`/`O`, `1`/`I`/`L`), about 59
//! bits, stored bare and printed in groups of four (`K7MQ-2XWD-PN4R`).

/// The characters a code is made of.
pub const ALPHABET: &[u8; 30] = b"ABCDEFGHJKMNPQRSTUVWXYZ2345679";
/// The number of characters of a code.
pub const CODE_LEN: usize = 12;

/// A code from random bytes (the caller draws them from a CSPRNG). Each character takes one
/// byte, drawn again when it falls in the biased tail so that every character is uniform.
pub fn code_from_random(random: impl IntoIterator<Item = u8>) -> Option<String> {
    let limit = 256 - (256 % ALPHABET.len());
    let code: String = random
        .into_iter()
        .filter(|byte| usize::from(*byte) < limit)
        .take(CODE_LEN)
        .map(|byte| char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]))
        .collect();
    (code.len() == CODE_LEN).then_some(code)
}

/// What a person typed, reduced to the stored form: upper-case, without spaces or hyphens,
/// with the look-alikes a person may type mapped back (`O`→`0` is not in the alphabet, so `0`
/// and `O` are both refused rather than guessed).
pub fn normalize_typed_code(typed: &str) -> String {
    typed.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_uppercase).collect()
}

/// The printed form, in groups of four.
pub fn format_code(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    chars.chunks(4).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_the_alphabet_and_skip_biased_bytes() {
        let code = code_from_random((0..=255u8).rev()).unwrap();
        assert_eq!(code.len(), CODE_LEN);
        assert!(code.bytes().all(|b| ALPHABET.contains(&b)));
        assert_eq!(code_from_random([1u8; 5]), None);
    }

    #[test]
    fn typed_codes_are_normalised_and_printed_in_groups() {
        assert_eq!(normalize_typed_code(" k7mq-2xwd pn4r "), "K7MQ2XWDPN4R");
        assert_eq!(format_code("K7MQ2XWDPN4R"), "K7MQ-2XWD-PN4R");
    }
}
