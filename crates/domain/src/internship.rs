//! The rules of the 3e internship platform that need no database: the states of offers, hosts,
//! applications and agreements and which moves between them are allowed, ISO weeks, SIRET
//! numbers, distances, the folded and stemmed words of the offer search, the daily hours and
//! the legal limits for minors, and the content of an agreement as it is frozen and signed.

pub mod agreement;
pub mod application;
pub mod communes;
pub mod geo;
pub mod search_terms;
pub mod siret;
pub mod weeks;

pub use agreement::{AgreementContent, AgreementState, DayHours, SignatoryRole, WeekHours};
pub use application::{ApplicationAction, ApplicationActor, ApplicationState};
pub use weeks::IsoWeek;

/// Where an offer stands. Only a published offer of a verified host is shown to pupils.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfferState {
    Draft,
    Published,
    Unpublished,
    Archived,
}

impl OfferState {
    pub const ALL: [OfferState; 4] =
        [OfferState::Draft, OfferState::Published, OfferState::Unpublished, OfferState::Archived];

    /// The code stored in `internship_offers.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            OfferState::Draft => "draft",
            OfferState::Published => "published",
            OfferState::Unpublished => "unpublished",
            OfferState::Archived => "archived",
        }
    }

    pub fn parse(code: &str) -> Option<OfferState> {
        OfferState::ALL.into_iter().find(|state| state.as_str() == code)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            OfferState::Draft => "Brouillon",
            OfferState::Published => "Publiée",
            OfferState::Unpublished => "Dépubliée",
            OfferState::Archived => "Archivée",
        }
    }

    /// Whether the host may move an offer from this state to `next`. An archived offer is
    /// final; a draft is published before it can be unpublished.
    pub fn may_become(self, next: OfferState) -> bool {
        use OfferState::*;
        matches!(
            (self, next),
            (Draft, Published)
                | (Draft, Archived)
                | (Published, Unpublished)
                | (Published, Archived)
                | (Unpublished, Published)
                | (Unpublished, Archived)
        )
    }
}

/// Which pupils an offer is reserved for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reservation {
    /// Every 3e pupil of the département.
    None,
    /// Pupils of REP and REP+ collèges.
    PriorityEducation,
    /// Pupils of the collèges the département marks as rural.
    Rural,
    /// Pupils of the collèges listed with the offer.
    Schools,
}

impl Reservation {
    pub const ALL: [Reservation; 4] = [
        Reservation::None,
        Reservation::PriorityEducation,
        Reservation::Rural,
        Reservation::Schools,
    ];

    /// The code stored in `internship_offers.reservation`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reservation::None => "none",
            Reservation::PriorityEducation => "priority_education",
            Reservation::Rural => "rural",
            Reservation::Schools => "schools",
        }
    }

    pub fn parse(code: &str) -> Option<Reservation> {
        Reservation::ALL.into_iter().find(|reservation| reservation.as_str() == code)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            Reservation::None => "Ouverte à tous les élèves de 3e",
            Reservation::PriorityEducation => "Réservée aux collèges de l'éducation prioritaire",
            Reservation::Rural => "Réservée aux collèges ruraux",
            Reservation::Schools => "Réservée à certains collèges",
        }
    }
}

/// Where a host organisation stands with the département.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostStatus {
    /// Registered by itself and not yet checked: its offers are not shown to pupils.
    Pending,
    Verified,
    /// Its offers are hidden and its people cannot act.
    Suspended,
    /// Merged into another host, which took its offers and people.
    Merged,
}

impl HostStatus {
    pub const ALL: [HostStatus; 4] =
        [HostStatus::Pending, HostStatus::Verified, HostStatus::Suspended, HostStatus::Merged];

    /// The code stored in `hosts.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            HostStatus::Pending => "pending",
            HostStatus::Verified => "verified",
            HostStatus::Suspended => "suspended",
            HostStatus::Merged => "merged",
        }
    }

    pub fn parse(code: &str) -> Option<HostStatus> {
        HostStatus::ALL.into_iter().find(|status| status.as_str() == code)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            HostStatus::Pending => "En attente de vérification",
            HostStatus::Verified => "Vérifié",
            HostStatus::Suspended => "Suspendu",
            HostStatus::Merged => "Fusionné",
        }
    }
}

/// What kind of organisation a host is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostKind {
    Company,
    Public,
    Association,
}

impl HostKind {
    pub const ALL: [HostKind; 3] = [HostKind::Company, HostKind::Public, HostKind::Association];

    /// The code stored in `hosts.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            HostKind::Company => "company",
            HostKind::Public => "public",
            HostKind::Association => "association",
        }
    }

    pub fn parse(code: &str) -> Option<HostKind> {
        HostKind::ALL.into_iter().find(|kind| kind.as_str() == code)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            HostKind::Company => "Entreprise",
            HostKind::Public => "Service public",
            HostKind::Association => "Association",
        }
    }
}

/// The level whose pupils must do the observation internship.
pub const LEVEL_3E: &str = "3e";

/// The longest title of an offer, in characters.
pub const MAX_TITLE_CHARS: usize = 150;

/// The longest description of an offer or motivation of an application, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;

/// The longest planned-activities text of an agreement, in characters (national model).
pub const MAX_ACTIVITIES_CHARS: usize = 1_500;
