//! The application state machine: a pupil applies for one week of an offer; the host reads it,
//! accepts or rejects it; the pupil confirms an accepted one with a legal guardian's consent;
//! either side may cancel; Préau expires what waits too long and cancels a pupil's other
//! pending applications for a week once one is confirmed. `ApplicationState::apply` is the one
//! table of allowed moves; the store checks it before every write and the write itself is
//! conditional on the state it read.

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApplicationState {
    Submitted,
    /// The host opened it.
    Read,
    /// The host accepted it; the pupil may confirm.
    Accepted,
    /// The pupil confirmed (with a guardian's consent): it holds a place.
    Confirmed,
    Rejected,
    CancelledByPupil,
    CancelledByHost,
    /// Cancelled by Préau because the pupil confirmed another offer for the same week.
    Superseded,
    /// Nobody acted before the deadline.
    Expired,
}

/// What happens to an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApplicationAction {
    Read,
    Accept,
    Reject,
    Confirm,
    Cancel,
    Expire,
    Supersede,
}

/// Who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApplicationActor {
    Pupil,
    /// A legal guardian of the pupil.
    Guardian,
    /// A person of the host organisation.
    Host,
    /// Préau itself (expiry, supersession).
    System,
}

impl ApplicationState {
    pub const ALL: [ApplicationState; 9] = [
        ApplicationState::Submitted,
        ApplicationState::Read,
        ApplicationState::Accepted,
        ApplicationState::Confirmed,
        ApplicationState::Rejected,
        ApplicationState::CancelledByPupil,
        ApplicationState::CancelledByHost,
        ApplicationState::Superseded,
        ApplicationState::Expired,
    ];

    /// The states that still wait for someone and may expire or be superseded.
    pub const PENDING: [ApplicationState; 3] =
        [ApplicationState::Submitted, ApplicationState::Read, ApplicationState::Accepted];

    /// The code stored in `internship_applications.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationState::Submitted => "submitted",
            ApplicationState::Read => "read",
            ApplicationState::Accepted => "accepted",
            ApplicationState::Confirmed => "confirmed",
            ApplicationState::Rejected => "rejected",
            ApplicationState::CancelledByPupil => "cancelled_by_pupil",
            ApplicationState::CancelledByHost => "cancelled_by_host",
            ApplicationState::Superseded => "superseded",
            ApplicationState::Expired => "expired",
        }
    }

    pub fn parse(code: &str) -> Option<ApplicationState> {
        ApplicationState::ALL.into_iter().find(|state| state.as_str() == code)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            ApplicationState::Submitted => "Envoyée",
            ApplicationState::Read => "Lue par l'organisme",
            ApplicationState::Accepted => "Acceptée par l'organisme, à confirmer",
            ApplicationState::Confirmed => "Confirmée",
            ApplicationState::Rejected => "Refusée",
            ApplicationState::CancelledByPupil => "Annulée par l'élève",
            ApplicationState::CancelledByHost => "Annulée par l'organisme",
            ApplicationState::Superseded => "Annulée : un autre stage est confirmé",
            ApplicationState::Expired => "Expirée",
        }
    }

    /// Whether the application still waits for someone.
    pub fn is_pending(self) -> bool {
        ApplicationState::PENDING.contains(&self)
    }

    /// The state after `action` by `actor`, or `None` when the move is not allowed.
    pub fn apply(self, action: ApplicationAction, actor: ApplicationActor) -> Option<Self> {
        use ApplicationAction as Do;
        use ApplicationActor as By;
        use ApplicationState::*;
        let pupil_side = matches!(actor, By::Pupil | By::Guardian);
        match (self, action, actor) {
            (Submitted, Do::Read, By::Host) => Some(Read),
            (Submitted | Read, Do::Accept, By::Host) => Some(Accepted),
            (Submitted | Read, Do::Reject, By::Host) => Some(Rejected),
            (Accepted, Do::Confirm, _) if pupil_side => Some(Confirmed),
            (Submitted | Read | Accepted | Confirmed, Do::Cancel, _) if pupil_side => {
                Some(CancelledByPupil)
            }
            (Submitted | Read | Accepted | Confirmed, Do::Cancel, By::Host) => {
                Some(CancelledByHost)
            }
            (Submitted | Read | Accepted, Do::Expire, By::System) => Some(Expired),
            (Submitted | Read | Accepted, Do::Supersede, By::System) => Some(Superseded),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ApplicationAction as Do;
    use ApplicationActor as By;
    use ApplicationState::*;

    const ACTIONS: [ApplicationAction; 7] =
        [Do::Read, Do::Accept, Do::Reject, Do::Confirm, Do::Cancel, Do::Expire, Do::Supersede];
    const ACTORS: [ApplicationActor; 4] = [By::Pupil, By::Guardian, By::Host, By::System];

    /// Every (state, action, actor) triple, against the list of the allowed ones.
    #[test]
    fn exactly_the_listed_moves_are_allowed() {
        let allowed = [
            (Submitted, Do::Read, By::Host, Read),
            (Submitted, Do::Accept, By::Host, Accepted),
            (Read, Do::Accept, By::Host, Accepted),
            (Submitted, Do::Reject, By::Host, Rejected),
            (Read, Do::Reject, By::Host, Rejected),
            (Accepted, Do::Confirm, By::Pupil, Confirmed),
            (Accepted, Do::Confirm, By::Guardian, Confirmed),
            (Submitted, Do::Cancel, By::Pupil, CancelledByPupil),
            (Read, Do::Cancel, By::Pupil, CancelledByPupil),
            (Accepted, Do::Cancel, By::Pupil, CancelledByPupil),
            (Confirmed, Do::Cancel, By::Pupil, CancelledByPupil),
            (Submitted, Do::Cancel, By::Guardian, CancelledByPupil),
            (Read, Do::Cancel, By::Guardian, CancelledByPupil),
            (Accepted, Do::Cancel, By::Guardian, CancelledByPupil),
            (Confirmed, Do::Cancel, By::Guardian, CancelledByPupil),
            (Submitted, Do::Cancel, By::Host, CancelledByHost),
            (Read, Do::Cancel, By::Host, CancelledByHost),
            (Accepted, Do::Cancel, By::Host, CancelledByHost),
            (Confirmed, Do::Cancel, By::Host, CancelledByHost),
            (Submitted, Do::Expire, By::System, Expired),
            (Read, Do::Expire, By::System, Expired),
            (Accepted, Do::Expire, By::System, Expired),
            (Submitted, Do::Supersede, By::System, Superseded),
            (Read, Do::Supersede, By::System, Superseded),
            (Accepted, Do::Supersede, By::System, Superseded),
        ];
        for state in ApplicationState::ALL {
            for action in ACTIONS {
                for actor in ACTORS {
                    let expected = allowed
                        .iter()
                        .find(|(s, a, b, _)| *s == state && *a == action && *b == actor)
                        .map(|(_, _, _, next)| *next);
                    assert_eq!(
                        state.apply(action, actor),
                        expected,
                        "{state:?} {action:?} {actor:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn codes_round_trip() {
        for state in ApplicationState::ALL {
            assert_eq!(ApplicationState::parse(state.as_str()), Some(state));
        }
        assert!(Confirmed.apply(Do::Expire, By::System).is_none(), "a held place never lapses");
    }
}
