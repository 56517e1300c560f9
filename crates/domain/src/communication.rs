//! Who may start a conversation with whom, and how much one person may send: the catalogue of
//! communication rules with their defaults (the table of `PRODUCT.md`, which each school may
//! change), the links that no school can switch off (a family's own members, a reply), the
//! recipient groups a sender can choose ("the parents of 3e B"), and the sending caps per
//! profile that keep a hijacked pupil account from writing to a whole school.

use crate::profile::Profile;

/// One editable communication rule. A school's administrators switch each on or off for their
/// school; a school without a choice of its own follows [`Rule::default_allowed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Teachers and staff may write to everyone of their school: adults, pupils, guardians.
    StaffToSchool,
    /// A pupil may write to the other pupils of their current classes.
    PupilToClassmates,
    /// A pupil may write to the adults of their classes and groups (teachers, principal
    /// teachers, staff attached to the class).
    PupilToClassAdults,
    /// A pupil may write to the school's direction (heads, deputy heads). Off by default.
    PupilToDirection,
    /// A legal guardian may write to the adults of their children's classes and groups.
    ParentToClassAdults,
    /// A legal guardian may write to the other legal guardians of their children's classes.
    ParentToClassParents,
    /// A legal guardian may write to the direction of their children's schools.
    ParentToDirection,
    /// Département agents and officials may write to the teachers and staff of the schools of
    /// their scope, and those may write back to them. Not in the field's table: Préau's own.
    DepartementToSchoolAdults,
}

impl Rule {
    /// Every rule, in the order the rule editor lists them.
    pub const ALL: [Rule; 8] = [
        Rule::StaffToSchool,
        Rule::PupilToClassmates,
        Rule::PupilToClassAdults,
        Rule::PupilToDirection,
        Rule::ParentToClassAdults,
        Rule::ParentToClassParents,
        Rule::ParentToDirection,
        Rule::DepartementToSchoolAdults,
    ];

    /// The stable code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Rule::StaffToSchool => "staff_to_school",
            Rule::PupilToClassmates => "pupil_to_classmates",
            Rule::PupilToClassAdults => "pupil_to_class_adults",
            Rule::PupilToDirection => "pupil_to_direction",
            Rule::ParentToClassAdults => "parent_to_class_adults",
            Rule::ParentToClassParents => "parent_to_class_parents",
            Rule::ParentToDirection => "parent_to_direction",
            Rule::DepartementToSchoolAdults => "departement_to_school_adults",
        }
    }

    /// Parses a stored code back; `None` for anything else.
    pub fn parse(code: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|rule| rule.code() == code)
    }

    /// Whether the rule applies when the school has made no choice (the field's defaults).
    pub fn default_allowed(self) -> bool {
        !matches!(self, Rule::PupilToDirection)
    }

    /// The rule as the editor states it, in French.
    pub fn label_fr(self) -> &'static str {
        match self {
            Rule::StaffToSchool => {
                "Les enseignants et les personnels peuvent écrire à toute personne du collège"
            }
            Rule::PupilToClassmates => "Les élèves peuvent écrire aux élèves de leur classe",
            Rule::PupilToClassAdults => {
                "Les élèves peuvent écrire aux enseignants et aux personnels de leurs classes et \
                 groupes"
            }
            Rule::PupilToDirection => "Les élèves peuvent écrire à la direction du collège",
            Rule::ParentToClassAdults => {
                "Les parents peuvent écrire aux enseignants et aux personnels des classes de \
                 leurs enfants"
            }
            Rule::ParentToClassParents => {
                "Les parents peuvent écrire aux autres parents des classes de leurs enfants"
            }
            Rule::ParentToDirection => {
                "Les parents peuvent écrire à la direction du collège de leurs enfants"
            }
            Rule::DepartementToSchoolAdults => {
                "Les agents et les élus du département peuvent écrire aux enseignants et aux \
                 personnels du collège, et ceux-ci leur répondre"
            }
        }
    }
}

/// The kinds of recipient group a sender may choose; the members are resolved when the message
/// is sent, then kept with the message, and the message shows the group as the sender chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupKind {
    /// The current pupils of a class.
    ClassPupils,
    /// The legal guardians (1 or 2) of the current pupils of a class.
    ClassParents,
    /// The adults of a class: its teachers, principal teachers and attached staff.
    ClassAdults,
    /// The pupils of a teaching group.
    GroupPupils,
    /// The legal guardians of the pupils of a teaching group.
    GroupParents,
    /// The teachers and staff of a school.
    SchoolAdults,
    /// The current pupils of a school.
    SchoolPupils,
    /// The legal guardians of the current pupils of a school.
    SchoolParents,
}

impl GroupKind {
    /// Every kind, in the order the recipient picker lists them.
    pub const ALL: [GroupKind; 8] = [
        GroupKind::ClassPupils,
        GroupKind::ClassParents,
        GroupKind::ClassAdults,
        GroupKind::GroupPupils,
        GroupKind::GroupParents,
        GroupKind::SchoolAdults,
        GroupKind::SchoolPupils,
        GroupKind::SchoolParents,
    ];

    /// The stable code used in forms and stored labels.
    pub fn code(self) -> &'static str {
        match self {
            GroupKind::ClassPupils => "class_pupils",
            GroupKind::ClassParents => "class_parents",
            GroupKind::ClassAdults => "class_adults",
            GroupKind::GroupPupils => "group_pupils",
            GroupKind::GroupParents => "group_parents",
            GroupKind::SchoolAdults => "school_adults",
            GroupKind::SchoolPupils => "school_pupils",
            GroupKind::SchoolParents => "school_parents",
        }
    }

    /// Parses a code back; `None` for anything else.
    pub fn parse(code: &str) -> Option<GroupKind> {
        GroupKind::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// Whether the group's target is a school (else a class or a teaching group).
    pub fn targets_school(self) -> bool {
        matches!(self, GroupKind::SchoolAdults | GroupKind::SchoolPupils | GroupKind::SchoolParents)
    }

    /// Whether the group's target is a teaching group.
    pub fn targets_group(self) -> bool {
        matches!(self, GroupKind::GroupPupils | GroupKind::GroupParents)
    }

    /// The group's French name, given the target's name (`"3e B"`, `"Collège Jean Moulin"`).
    pub fn label_fr(self, target: &str) -> String {
        match self {
            GroupKind::ClassPupils => format!("Élèves de {target}"),
            GroupKind::ClassParents => format!("Parents de {target}"),
            GroupKind::ClassAdults => format!("Équipe pédagogique de {target}"),
            GroupKind::GroupPupils => format!("Élèves du groupe {target}"),
            GroupKind::GroupParents => format!("Parents du groupe {target}"),
            GroupKind::SchoolAdults => format!("Personnels et enseignants, {target}"),
            GroupKind::SchoolPupils => format!("Tous les élèves, {target}"),
            GroupKind::SchoolParents => format!("Tous les parents, {target}"),
        }
    }
}

/// A recipient as a compose form names it: a person, or a group of one kind on one target.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Recipient {
    Person(String),
    Group(GroupKind, String),
}

/// The longest identifier a recipient token may carry.
const MAX_TOKEN_ID: usize = 64;

impl Recipient {
    /// The token a form carries: `p:<person id>` or `<group kind>:<target id>`.
    pub fn token(&self) -> String {
        match self {
            Recipient::Person(id) => format!("p:{id}"),
            Recipient::Group(kind, target) => format!("{}:{target}", kind.code()),
        }
    }

    /// Parses a form token; `None` for anything malformed (unknown kind, empty or overlong id,
    /// characters outside `[A-Za-z0-9._-]`).
    pub fn parse(token: &str) -> Option<Recipient> {
        let (kind, id) = token.split_once(':')?;
        let id_ok = !id.is_empty()
            && id.len() <= MAX_TOKEN_ID
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !id_ok {
            return None;
        }
        if kind == "p" {
            return Some(Recipient::Person(id.to_owned()));
        }
        GroupKind::parse(kind).map(|kind| Recipient::Group(kind, id.to_owned()))
    }
}

/// How much one person may send: recipients per message (after groups are resolved) and
/// messages per rolling hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendCaps {
    pub max_recipients: usize,
    pub per_hour: usize,
}

/// The caps of a profile. A pupil reaches a class and its teachers, never a school; an adult
/// of a school reaches the whole school. Administrators of the département are not capped more
/// loosely here: a broadcast to the département is news, not mail.
pub fn send_caps(profile: Profile) -> SendCaps {
    match profile {
        Profile::Pupil => SendCaps { max_recipients: 50, per_hour: 20 },
        Profile::Relative => SendCaps { max_recipients: 80, per_hour: 30 },
        Profile::Teacher => SendCaps { max_recipients: 1_500, per_hour: 120 },
        Profile::Staff => SendCaps { max_recipients: 3_000, per_hour: 200 },
        Profile::Agent | Profile::Official => SendCaps { max_recipients: 3_000, per_hour: 100 },
        // A host's people reach nobody through the directory; they answer through the
        // internship pages.
        Profile::Host => SendCaps { max_recipients: 10, per_hour: 20 },
    }
}

/// The most characters a message's subject may hold (the form's `maxlength`).
pub const MAX_SUBJECT_CHARS: usize = 300;
/// The most bytes a message's subject may hold: room for its characters in any script.
pub const MAX_SUBJECT_BYTES: usize = 4 * MAX_SUBJECT_CHARS;
/// The most bytes a message's body may hold, as submitted (before sanitising).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The most bytes a message body may take once sanitised or escaped (a plain text of `<` is
/// four times longer in HTML): twice what may be typed.
pub const MAX_STORED_BODY_BYTES: usize = 2 * MAX_BODY_BYTES;
/// The most attachments one message may carry.
pub const MAX_ATTACHMENTS: usize = 10;
/// The largest attachment, in bytes.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for rule in Rule::ALL {
            assert_eq!(Rule::parse(rule.code()), Some(rule));
        }
        for kind in GroupKind::ALL {
            assert_eq!(GroupKind::parse(kind.code()), Some(kind));
        }
        assert_eq!(Rule::parse("everyone"), None);
    }

    #[test]
    fn recipient_tokens_are_strict() {
        let class = Recipient::Group(GroupKind::ClassParents, "class-6a".to_owned());
        assert_eq!(Recipient::parse(&class.token()), Some(class));
        assert_eq!(Recipient::parse("p:t-thomas"), Some(Recipient::Person("t-thomas".into())));
        for bad in
            ["", "p:", "x:1", "p:a b", "p:../x", "class_pupils", &format!("p:{}", "a".repeat(65))]
        {
            assert_eq!(Recipient::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn pupils_cannot_reach_a_school() {
        assert!(send_caps(Profile::Pupil).max_recipients < 100);
        assert!(send_caps(Profile::Staff).max_recipients > 1_000);
    }
}
