//! SIRET numbers: 14 digits (the 9 of the SIREN, then the establishment's 5) whose Luhn sum is
//! a multiple of 10, except the establishments of La Poste (SIREN 356 000 000), whose digits
//! add up to a multiple of 5. Spaces and dots typed between the digits are allowed.

/// A checked SIRET, stored as its 14 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Siret(String);

/// La Poste's SIREN, whose establishments follow another rule.
const LA_POSTE_SIREN: &str = "356000000";

impl Siret {
    /// Reads a SIRET as a person types it, saying in French what is wrong.
    pub fn parse(typed: &str) -> Result<Siret, String> {
        let digits: String =
            typed.chars().filter(|c| !matches!(c, ' ' | '.' | '\u{a0}' | '\u{202f}')).collect();
        if digits.chars().count() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err("Le numéro SIRET compte 14 chiffres.".to_owned());
        }
        if digits[..9].bytes().all(|b| b == b'0') {
            return Err(
                "Ce numéro SIRET n'existe pas : aucun SIREN ne s'écrit 000 000 000.".to_owned()
            );
        }
        let valid = if digits.starts_with(LA_POSTE_SIREN) {
            digits.bytes().map(|b| u32::from(b - b'0')).sum::<u32>().is_multiple_of(5)
        } else {
            luhn_sum(&digits).is_multiple_of(10)
        };
        if !valid {
            return Err("Ce numéro SIRET n'existe pas : sa clé de contrôle est fausse.".to_owned());
        }
        Ok(Siret(digits))
    }

    /// The 14 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SIREN (the company), the first 9 digits.
    pub fn siren(&self) -> &str {
        &self.0[..9]
    }

    /// `123 456 789 00012`, as printed on documents.
    pub fn display(&self) -> String {
        format!("{} {} {} {}", &self.0[..3], &self.0[3..6], &self.0[6..9], &self.0[9..])
    }
}

/// The Luhn sum: every second digit from the right doubled, minus 9 above 9.
fn luhn_sum(digits: &str) -> u32 {
    digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(index, byte)| {
            let digit = u32::from(byte - b'0');
            if index % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_numbers_as_typed() {
        // The SIRET of the INSEE's head office, and one of La Poste's establishments.
        assert_eq!(Siret::parse("120 027 016 00019").unwrap().as_str(), "12002701600019");
        assert_eq!(Siret::parse("35600000000010").unwrap().siren(), "356000000");
        assert_eq!(Siret::parse("12002701600019").unwrap().display(), "120 027 016 00019");
    }

    #[test]
    fn refuses_wrong_keys_lengths_and_letters() {
        for typed in [
            "00000000000000",
            "12002701600018",
            "1200270160001",
            "120027016000190",
            "1200270160001A",
            "",
            "١٢٠٠٢٧٠١٦٠٠٠١٩",
        ] {
            assert!(Siret::parse(typed).is_err(), "{typed}");
        }
    }
}
