//! The internship agreement (convention de stage d'observation, national model of July 2024):
//! its states, the parties who sign it, the daily hours with the legal limits for minors, and
//! `AgreementContent`, the snapshot of every party's details that is pre-filled from the
//! directory, completed by the host and then by the school, frozen, rendered and signed.

use serde::{Deserialize, Serialize};

/// Where an agreement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgreementState {
    /// Created from the confirmed application; the host completes its part.
    HostPending,
    /// The host completed its part; the school completes its own.
    SchoolPending,
    /// Checked and frozen: the document is fixed (its SHA-256 recorded) and parties sign.
    Signing,
    /// Everyone signed; the sealed PDF exists.
    Signed,
    /// The application was cancelled: nothing more happens.
    Cancelled,
}

impl AgreementState {
    pub const ALL: [AgreementState; 5] = [
        AgreementState::HostPending,
        AgreementState::SchoolPending,
        AgreementState::Signing,
        AgreementState::Signed,
        AgreementState::Cancelled,
    ];

    /// The code stored in `internship_agreements.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            AgreementState::HostPending => "host_pending",
            AgreementState::SchoolPending => "school_pending",
            AgreementState::Signing => "signing",
            AgreementState::Signed => "signed",
            AgreementState::Cancelled => "cancelled",
        }
    }

    pub fn parse(code: &str) -> Option<AgreementState> {
        AgreementState::ALL.into_iter().find(|state| state.as_str() == code)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            AgreementState::HostPending => "À compléter par l'organisme d'accueil",
            AgreementState::SchoolPending => "À compléter par le collège",
            AgreementState::Signing => "En signature",
            AgreementState::Signed => "Signée par tous",
            AgreementState::Cancelled => "Annulée",
        }
    }
}

/// A party who signs (or, for the pupil, the guardians, the tutor and the referent teacher,
/// acknowledges) the agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SignatoryRole {
    /// The head of the collège or their delegate.
    Head,
    HostRepresentative,
    Tutor,
    ReferentTeacher,
    Pupil,
    Guardian1,
    Guardian2,
}

impl SignatoryRole {
    pub const ALL: [SignatoryRole; 7] = [
        SignatoryRole::Head,
        SignatoryRole::HostRepresentative,
        SignatoryRole::Tutor,
        SignatoryRole::ReferentTeacher,
        SignatoryRole::Pupil,
        SignatoryRole::Guardian1,
        SignatoryRole::Guardian2,
    ];

    /// The code stored in `internship_signatures.role`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatoryRole::Head => "head",
            SignatoryRole::HostRepresentative => "host_representative",
            SignatoryRole::Tutor => "tutor",
            SignatoryRole::ReferentTeacher => "referent_teacher",
            SignatoryRole::Pupil => "pupil",
            SignatoryRole::Guardian1 => "guardian_1",
            SignatoryRole::Guardian2 => "guardian_2",
        }
    }

    pub fn parse(code: &str) -> Option<SignatoryRole> {
        SignatoryRole::ALL.into_iter().find(|role| role.as_str() == code)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            SignatoryRole::Head => "Le chef d'établissement (ou son délégué)",
            SignatoryRole::HostRepresentative => "Le représentant de l'organisme d'accueil",
            SignatoryRole::Tutor => "Le tuteur",
            SignatoryRole::ReferentTeacher => "Le professeur référent",
            SignatoryRole::Pupil => "L'élève",
            SignatoryRole::Guardian1 => "Le représentant légal",
            SignatoryRole::Guardian2 => "Le second représentant légal",
        }
    }

    /// Whether this party is one of the two contracting parties (the others acknowledge).
    pub fn is_contracting(self) -> bool {
        matches!(self, SignatoryRole::Head | SignatoryRole::HostRepresentative)
    }
}

/// One day's hours, in minutes after local midnight, with the length of the break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayHours {
    pub start: u16,
    pub end: u16,
    pub break_minutes: u16,
}

impl DayHours {
    /// Minutes of presence, the break excluded.
    pub fn worked_minutes(self) -> u32 {
        u32::from(self.end.saturating_sub(self.start)).saturating_sub(u32::from(self.break_minutes))
    }
}

/// The hours of Monday to Saturday (index 0 is Monday); `None` is a day off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WeekHours {
    pub days: [Option<DayHours>; 6],
}

/// The French names of the days of `WeekHours`.
pub const WEEKDAYS_FR: [&str; 6] = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"];

impl WeekHours {
    /// Minutes of presence in the week.
    pub fn worked_minutes(&self) -> u32 {
        self.days.iter().flatten().map(|day| day.worked_minutes()).sum()
    }

    /// Every way these hours break the rules for a minor under 16 on an observation internship
    /// (Code du travail L.3162-1 and following, circular of 12 July 2024), in French; empty
    /// when they are lawful. Checked: at most 7 hours a day and 35 a week, at most 5 days, a
    /// 30-minute break once the day reaches 4 h 30, no work between 20:00 and 06:00, 14 hours
    /// of rest between two days, and two consecutive days of rest in the week.
    pub fn minor_limit_breaches(&self) -> Vec<String> {
        let mut breaches = Vec::new();
        let worked_days: Vec<(usize, DayHours)> =
            self.days.iter().enumerate().filter_map(|(i, day)| day.map(|d| (i, d))).collect();

        if worked_days.is_empty() {
            breaches.push("Aucun jour de présence n'est indiqué.".to_owned());
        }
        if worked_days.len() > 5 {
            breaches.push("Le stage dure au plus cinq jours.".to_owned());
        }
        for &(index, day) in &worked_days {
            let name = WEEKDAYS_FR[index];
            if day.end <= day.start {
                breaches.push(format!("Le {name}, l'heure de fin précède l'heure de début."));
                continue;
            }
            if day.worked_minutes() > 7 * 60 {
                breaches.push(format!("Le {name} dépasse 7 heures de présence."));
            }
            let span = day.end - day.start;
            if span >= 4 * 60 + 30 && day.break_minutes < 30 {
                breaches.push(format!(
                    "Le {name}, une pause de 30 minutes est due dès 4 h 30 de présence."
                ));
            }
            if day.start < 6 * 60 || day.end > 20 * 60 {
                breaches.push(format!("Le {name}, le travail de nuit (20 h – 6 h) est interdit."));
            }
        }
        for pair in worked_days.windows(2) {
            let ((first, a), (second, b)) = (pair[0], pair[1]);
            let rest = (second - first) as u32 * 24 * 60 + u32::from(b.start) - u32::from(a.end);
            if second == first + 1 && rest < 14 * 60 {
                breaches.push(format!(
                    "Entre le {} et le {}, le repos doit durer 14 heures.",
                    WEEKDAYS_FR[first], WEEKDAYS_FR[second]
                ));
            }
        }
        if self.worked_minutes() > 35 * 60 {
            breaches.push("La semaine dépasse 35 heures de présence.".to_owned());
        }
        // Sunday is always off; a second consecutive day is Saturday or Monday.
        if self.days[0].is_some() && self.days[5].is_some() {
            breaches.push(
                "Deux jours de repos consécutifs sont dus : le samedi ou le lundi doit être libre."
                    .to_owned(),
            );
        }
        breaches
    }
}

/// A legal guardian as written on the agreement.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GuardianDetails {
    pub person_id: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub address: String,
}

/// Who brings the emergency kit of a pupil's health plan (PAI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum HealthPlan {
    #[default]
    None,
    /// A PAI; the family brings the kit.
    KitFromFamily,
    /// A PAI; the school provides the kit.
    KitFromSchool,
}

/// Everything the agreement says, as a snapshot: the directory's facts copied at creation, the
/// host's part, the school's part. Never a foreign key: the document must not change when the
/// directory does.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AgreementContent {
    // The pupil.
    pub pupil_id: String,
    pub pupil_name: String,
    /// `YYYY-MM-DD`.
    pub pupil_birth_date: String,
    pub pupil_class: String,
    pub pupil_address: String,
    pub pupil_email: String,
    pub pupil_phone: String,
    pub health_plan: HealthPlan,
    /// One or two legal guardians.
    pub guardians: Vec<GuardianDetails>,

    // The school.
    pub school_id: String,
    pub school_uai: String,
    pub school_name: String,
    pub school_address: String,
    pub school_email: String,
    pub school_phone: String,
    pub head_person_id: String,
    pub head_name: String,
    pub head_role: String,
    /// The date of the board's vote delegating signature to the head, `YYYY-MM-DD`, if known.
    pub delegation_date: String,
    pub referent_teacher_id: String,
    pub referent_teacher_name: String,
    pub referent_teacher_email: String,
    /// The school's own extra article, if any.
    pub school_extra_article: String,

    // The host.
    pub host_id: String,
    pub host_name: String,
    pub host_siret: String,
    pub host_address: String,
    pub host_activity: String,
    pub representative_name: String,
    pub representative_role: String,
    pub representative_email: String,
    pub representative_phone: String,
    pub tutor_name: String,
    pub tutor_role: String,
    pub tutor_email: String,
    pub tutor_phone: String,
    /// Where the internship takes place, when it differs from the host's address.
    pub internship_address: String,
    pub host_insurer: String,
    pub planned_activities: String,
    /// Meals: whether the pupil may use the host's canteen, and on what terms.
    pub meals: String,

    // The internship.
    pub offer_title: String,
    /// `YYYY-Www`.
    pub iso_week: String,
    /// `YYYY-MM-DD`, the first and last days of presence.
    pub first_day: String,
    pub last_day: String,
    pub hours: WeekHours,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(start_h: u16, end_h: u16, break_minutes: u16) -> Option<DayHours> {
        Some(DayHours { start: start_h * 60, end: end_h * 60, break_minutes })
    }

    #[test]
    fn a_usual_week_is_lawful() {
        let week = WeekHours {
            days: [
                day(9, 17, 60),
                day(9, 17, 60),
                day(9, 12, 0),
                day(9, 17, 60),
                day(9, 16, 60),
                None,
            ],
        };
        assert!(week.minor_limit_breaches().is_empty(), "{:?}", week.minor_limit_breaches());
        assert_eq!(week.worked_minutes(), 7 * 60 * 3 + 3 * 60 + 6 * 60);
    }

    #[test]
    fn each_limit_is_enforced() {
        let long_day = WeekHours { days: [day(8, 17, 30), None, None, None, None, None] };
        assert_eq!(long_day.minor_limit_breaches().len(), 1, "over 7 hours");

        let no_break = WeekHours { days: [day(8, 13, 0), None, None, None, None, None] };
        assert_eq!(no_break.minor_limit_breaches().len(), 1, "no break after 4 h 30");

        let night = WeekHours {
            days: [
                None,
                Some(DayHours { start: 14 * 60, end: 21 * 60, break_minutes: 30 }),
                None,
                None,
                None,
                None,
            ],
        };
        assert!(!night.minor_limit_breaches().is_empty(), "after 20:00");

        let six_days = WeekHours { days: [day(9, 12, 0); 6] };
        let breaches = six_days.minor_limit_breaches();
        assert!(breaches.iter().any(|b| b.contains("cinq jours")));
        assert!(breaches.iter().any(|b| b.contains("consécutifs")));

        let short_rest = WeekHours {
            days: [
                Some(DayHours { start: 13 * 60, end: 20 * 60, break_minutes: 30 }),
                day(8, 12, 0),
                None,
                None,
                None,
                None,
            ],
        };
        assert!(short_rest.minor_limit_breaches().iter().any(|b| b.contains("14 heures")));

        assert!(!WeekHours::default().minor_limit_breaches().is_empty(), "no day at all");
    }
}
