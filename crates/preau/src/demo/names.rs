//! The names the demo gives to people, from lists written for Préau: common French first names
//! and surnames, with the shapes an ENT must handle (accents, apostrophes such as `N'Diaye`,
//! hyphens such as `Jean-Baptiste`, particles such as `de La Fontaine`, a few names in other
//! scripts and one very long name). Names reserved for the people the demo prints are kept
//! apart so that a printed name is never shared by a generated homonym.

/// Girls' and women's first names.
pub const FEMALE_FIRST_NAMES: [&str; 60] = [
    "Emma",
    "Jade",
    "Louise",
    "Alice",
    "Chloé",
    "Lina",
    "Léa",
    "Rose",
    "Anna",
    "Mila",
    "Inès",
    "Ambre",
    "Julia",
    "Mia",
    "Léna",
    "Manon",
    "Juliette",
    "Zoé",
    "Camille",
    "Lou",
    "Agathe",
    "Éva",
    "Romane",
    "Clémence",
    "Margaux",
    "Salomé",
    "Maëlys",
    "Anaïs",
    "Océane",
    "Noémie",
    "Marie-Lou",
    "Anne-Sophie",
    "Héloïse",
    "Élise",
    "Capucine",
    "Yasmine",
    "Nour",
    "Aïcha",
    "Fatoumata",
    "Awa",
    "Maryam",
    "Sofia",
    "Giulia",
    "Ilona",
    "Laïla",
    "Apolline",
    "Victoire",
    "Bérénice",
    "Gaëlle",
    "Nathalie",
    "Sandrine",
    "Isabelle",
    "Céline",
    "Sophie",
    "Valérie",
    "Stéphanie",
    "Aurélie",
    "Émilie",
    "Hélène",
    "Françoise",
];

/// Boys' and men's first names.
pub const MALE_FIRST_NAMES: [&str; 60] = [
    "Gabriel",
    "Léo",
    "Raphaël",
    "Arthur",
    "Louis",
    "Jules",
    "Adam",
    "Maël",
    "Lucas",
    "Hugo",
    "Noah",
    "Liam",
    "Gabin",
    "Sacha",
    "Paul",
    "Nathan",
    "Aaron",
    "Mohamed",
    "Ethan",
    "Tom",
    "Éden",
    "Léon",
    "Timéo",
    "Noé",
    "Mathis",
    "Théo",
    "Axel",
    "Victor",
    "Martin",
    "Baptiste",
    "Jean-Baptiste",
    "Pierre-Louis",
    "Jean-Noël",
    "Loïc",
    "Gaël",
    "Anthony",
    "Mamadou",
    "Moussa",
    "Youssef",
    "Ibrahim",
    "Kylian",
    "Enzo",
    "Matteo",
    "Yanis",
    "Rayan",
    "Benoît",
    "Jérôme",
    "Frédéric",
    "Stéphane",
    "Sébastien",
    "Olivier",
    "Thierry",
    "Pascal",
    "Hervé",
    "Régis",
    "Joël",
    "François",
    "Cédric",
    "Grégory",
    "Aurélien",
];

/// Surnames.
pub const SURNAMES: [&str; 110] = [
    "Martin",
    "Bernard",
    "Thomas",
    "Petit",
    "Robert",
    "Richard",
    "Durand",
    "Dubois",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Lefèvre",
    "Leroy",
    "Roux",
    "David",
    "Bertrand",
    "Morel",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Vincent",
    "Muller",
    "Lefebvre",
    "Faure",
    "André",
    "Mercier",
    "Blanc",
    "Guérin",
    "Boyer",
    "Garnier",
    "Chevalier",
    "François",
    "Legrand",
    "Gauthier",
    "Garcia",
    "Perrin",
    "Robin",
    "Clément",
    "Morin",
    "Nicolas",
    "Henry",
    "Roussel",
    "Mathieu",
    "Gautier",
    "Masson",
    "Marchand",
    "Duval",
    "Denis",
    "Dumont",
    "Marie",
    "Lemaire",
    "Noël",
    "Meyer",
    "Dufour",
    "Meunier",
    "Brun",
    "Blanchard",
    "Giraud",
    "Joly",
    "Rivière",
    "Lucas",
    "Brunet",
    "Gaillard",
    "Barbier",
    "Arnaud",
    "Martinez",
    "Gérard",
    "Roche",
    "Renard",
    "Schmitt",
    "Roy",
    "Leroux",
    "Colin",
    "Vidal",
    "Caron",
    "Picard",
    "Roger",
    "Fabre",
    "Aubert",
    "Lemoine",
    "Renaud",
    "Dumas",
    "Lacroix",
    "Olivier",
    "Philippe",
    "Bourgeois",
    "Pierre",
    "Benoît",
    "Rey",
    "Léger",
    "Hébert",
    "Chauvin",
    "N'Diaye",
    "D'Almeida",
    "N'Guessan",
    "Le Goff",
    "Le Gall",
    "de La Fontaine",
    "de Saint-Just",
    "Da Silva",
    "Nguyễn",
    "Benali",
    "Traoré",
    "Çelik",
    "Bouchereau",
];

/// Names in other scripts, given to a few people (families from abroad keep them in AAF).
pub const OTHER_SCRIPT_NAMES: [(&str, &str); 4] =
    [("Παπαδόπουλος", "Νίκος"), ("Иванова", "Анна"), ("王", "小明"), ("Ковальчук", "Олег")];

/// One very long surname, close to but within the limit a name may have.
pub const LONG_SURNAME: &str =
    "de La Tour d'Auvergne-Lauraguais de Saint-Exupéry-Montmorency de Chastellux";

/// The names of the people the demo prints, never drawn for anyone else: (surname, first
/// name) for the pupil, the parent, the teacher, the head, the département agent.
pub const SHOWCASE_PUPIL: (&str, &str) = ("Lesage-Ollivier", "Maëlys");
pub const SHOWCASE_SIBLING: (&str, &str) = ("Lesage-Ollivier", "Timothée");
pub const SHOWCASE_PARENT: (&str, &str) = ("Lesage-Ollivier", "Hélène");
pub const SHOWCASE_TEACHER: (&str, &str) = ("Vasseur-Nadaud", "Jean-Éric");
pub const SHOWCASE_HEAD: (&str, &str) = ("Tessier d'Arvor", "Armelle");
pub const SHOWCASE_AGENT: (&str, &str) = ("Marsac", "Ségolène");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_accepted_by_the_domain_rules() {
        let all = FEMALE_FIRST_NAMES
            .iter()
            .chain(MALE_FIRST_NAMES.iter())
            .chain(SURNAMES.iter())
            .chain([LONG_SURNAME].iter());
        for name in all {
            assert!(domain::names::PersonName::parse(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn showcase_names_are_never_drawn_at_random() {
        for (surname, _) in [SHOWCASE_PUPIL, SHOWCASE_TEACHER, SHOWCASE_HEAD, SHOWCASE_AGENT] {
            assert!(!SURNAMES.contains(&surname), "{surname}");
        }
    }
}
