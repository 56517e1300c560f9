//! The profiles a person holds on the platform and the AAF categories and function codes they
//! come from. A profile decides what a person's home page shows and whom they may write to.

use serde::{Deserialize, Serialize};

/// What a person is on the platform. One person has exactly one profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Profile {
    /// A collège pupil (AAF `Eleve`).
    Pupil,
    /// A parent or other adult linked to a pupil (AAF `PersRelEleve`).
    Relative,
    /// A member of the national education staff whose functions include teaching (`ENS`).
    Teacher,
    /// Any other national education staff: direction, vie scolaire, documentation, agents.
    Staff,
    /// A département agent, created locally by a département administrator.
    Agent,
    /// An elected official of the département, created locally.
    Official,
    /// A person of a host organisation of the 3e internships (company, public body,
    /// association), registered by itself or by a département agent.
    Host,
}

impl Profile {
    /// Every profile, in the order the interface lists them.
    pub const ALL: [Profile; 7] = [
        Profile::Pupil,
        Profile::Relative,
        Profile::Teacher,
        Profile::Staff,
        Profile::Agent,
        Profile::Official,
        Profile::Host,
    ];

    /// The stable code stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Pupil => "pupil",
            Profile::Relative => "relative",
            Profile::Teacher => "teacher",
            Profile::Staff => "staff",
            Profile::Agent => "agent",
            Profile::Official => "official",
            Profile::Host => "host",
        }
    }

    /// Parses the stored code back; `None` for anything else.
    pub fn parse(code: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.as_str() == code)
    }

    /// The French label shown next to a person's name.
    pub fn label_fr(self) -> &'static str {
        match self {
            Profile::Pupil => "Élève",
            Profile::Relative => "Parent",
            Profile::Teacher => "Enseignant",
            Profile::Staff => "Personnel",
            Profile::Agent => "Agent du département",
            Profile::Official => "Élu",
            Profile::Host => "Organisme d'accueil",
        }
    }

    /// Whether the person is an adult of the national education (teacher or staff).
    pub fn is_school_adult(self) -> bool {
        matches!(self, Profile::Teacher | Profile::Staff)
    }

    /// Whether the person belongs to the département rather than to a school.
    pub fn is_departement(self) -> bool {
        matches!(self, Profile::Agent | Profile::Official)
    }
}

/// The profile of a `PersEducNat` record, from the function codes of `ENTPersonFonctions`.
///
/// A person with an `ENS` (enseignement) function in any school is a teacher; everyone else is
/// staff. `ENTPersonCategorieEnseignant` is not used: the 2024 samples show a deputy head marked
/// `O` there who teaches nobody.
pub fn staff_profile<'a>(function_codes: impl IntoIterator<Item = &'a str>) -> Profile {
    if function_codes.into_iter().any(|code| code.eq_ignore_ascii_case("ENS")) {
        Profile::Teacher
    } else {
        Profile::Staff
    }
}

/// Whether a function code makes its holder part of the school's direction (head, deputy).
pub fn is_direction_function(code: &str) -> bool {
    code.eq_ignore_ascii_case("DIR")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_codes_round_trip() {
        for profile in Profile::ALL {
            assert_eq!(Profile::parse(profile.as_str()), Some(profile));
        }
        assert_eq!(Profile::parse("admin"), None);
    }

    #[test]
    fn a_teaching_function_makes_a_teacher() {
        assert_eq!(staff_profile(["DIR", "ENS"]), Profile::Teacher);
        assert_eq!(staff_profile(["DIR", "AEH"]), Profile::Staff);
        assert_eq!(staff_profile([]), Profile::Staff);
    }
}
