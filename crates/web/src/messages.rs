//! The secure messaging pages under `/messagerie`: the folders and their pages, a message and
//! its actions, the compose form (which works without JavaScript), the drafts saved as one
//! types, the recipient suggestions, the attachment downloads and the live unread count. This
//! file holds the routes and what the pages share: the side bar of folders, dates written in
//! the viewer's zone, sizes in French units and the publication of changed mailboxes. What a
//! person may see or do is decided by the SQL of `store::messaging` and `store::rules`, which
//! take the viewer's id; the sender of a message is always the session's person.

mod compose;
mod compose_form;
mod download;
mod mailbox;
mod reading;
mod upload;
mod views;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use jiff::tz::TimeZone;
use store::messaging::{Folder, FolderInfo};

use crate::AppState;
use crate::error::AppError;
use crate::session::Viewer;
pub(crate) use upload::Uploads;
use views::{FolderLink, MailNav, MoveTarget};

/// The largest compose form accepted: an attachment at its cap, the body at its cap and the
/// other fields. Beyond it the request is answered 413 before it is read further.
pub(crate) const MAX_COMPOSE_BODY: usize =
    domain::communication::MAX_ATTACHMENT_BYTES + 1024 * 1024;

/// The messaging routes, merged into the application's router.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/messagerie", get(mailbox::root))
        .route("/messagerie/dossiers", post(mailbox::create_folder))
        .route("/messagerie/dossiers/{slug}", get(mailbox::folder))
        .route("/messagerie/dossiers/{slug}/supprimer", post(mailbox::delete_folder))
        .route("/messagerie/actions", post(mailbox::bulk_action))
        .route("/messagerie/corbeille/vider", post(mailbox::empty_trash))
        .route("/messagerie/recherche", get(mailbox::search))
        .route("/messagerie/messages/{id}", get(reading::show))
        .route("/messagerie/messages/{id}/actions", post(reading::action))
        .route("/messagerie/messages/{id}/signaler", post(reading::report))
        .route("/messagerie/messages/{id}/rappeler", post(reading::recall))
        .route(
            "/messagerie/ecrire",
            get(compose::form).post(compose::submit).layer(DefaultBodyLimit::max(MAX_COMPOSE_BODY)),
        )
        .route("/messagerie/brouillons/{id}", post(compose::autosave))
        .route("/messagerie/brouillons/{id}/supprimer", post(compose::delete_draft))
        .route("/messagerie/destinataires", get(compose::suggestions))
        .route("/messagerie/pieces-jointes/{id}", get(download::attachment))
        .route("/messagerie/evenements", get(crate::live::events))
}

/// Tells the open pages of these people (and of the viewer) that their mailbox changed.
pub(crate) fn publish(state: &AppState, people: &[String]) {
    state.live.publish(people);
}

/// Tells the viewer's open pages, on this instance and (PostgreSQL) on the others, that they
/// changed their own mailbox. The change is made: a notification that cannot be sent is only
/// logged.
pub(crate) async fn publish_own(state: &AppState, person_id: &str) {
    state.live.publish(&[person_id.to_owned()]);
    if let Err(error) = state.store.announce_mailbox_change(person_id).await {
        tracing::warn!(?error, "live : changement non annoncé aux autres instances");
    }
}

/// The side bar of the messaging pages, and the folders it was built from.
pub(crate) async fn mail_nav(
    state: &AppState,
    viewer: &Viewer,
    current: Option<&Folder>,
    query: &str,
) -> Result<(MailNav, Vec<FolderInfo>), AppError> {
    let folders = state.store.folders(viewer.id()).await?;
    let unread = folders
        .iter()
        .filter(|f| matches!(f.folder, Folder::Inbox | Folder::Custom(_)))
        .map(|f| f.unread)
        .sum();
    let links = folders
        .iter()
        .map(|info| FolderLink {
            href: folder_href(&info.folder),
            name: info.name.clone(),
            unread: info.unread,
            current: current == Some(&info.folder),
        })
        .collect();
    let nav = MailNav {
        folders: links,
        query: query.to_owned(),
        unread,
        new_folder: String::new(),
        folder_error: None,
    };
    Ok((nav, folders))
}

/// The folders messages may be moved to: the inbox (which puts each back where it came from)
/// and the viewer's own folders.
pub(crate) fn move_targets(folders: &[FolderInfo], except: Option<&Folder>) -> Vec<MoveTarget> {
    folders
        .iter()
        .filter(|f| matches!(f.folder, Folder::Inbox | Folder::Custom(_)))
        .filter(|f| except != Some(&f.folder))
        .map(|f| MoveTarget { slug: f.folder.slug(), name: f.name.clone() })
        .collect()
}

/// The page of a folder.
pub(crate) fn folder_href(folder: &Folder) -> String {
    format!("/messagerie/dossiers/{}", crate::error::percent_encode(&folder.slug()))
}

/// A size in the units a French reader expects ("532 octets", "12 Ko", "1,4 Mo").
pub(crate) fn size_label(bytes: i64) -> String {
    const KIB: i64 = 1024;
    const MIB: i64 = 1024 * 1024;
    if bytes < KIB {
        format!("{bytes} octet{}", if bytes > 1 { "s" } else { "" })
    } else if bytes < MIB {
        format!("{} Ko", (bytes + KIB / 2) / KIB)
    } else {
        let tenths = (bytes * 10 + MIB / 2) / MIB;
        format!("{},{} Mo", tenths / 10, tenths % 10)
    }
}

/// The months in French, for dates written out (also the news pages').
pub(crate) const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const WEEKDAYS: [&str; 7] =
    ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];

/// Dates as the viewer reads them: in the zone of their (first) school, Europe/Paris otherwise.
pub(crate) struct Clock {
    zone: TimeZone,
    today: jiff::civil::Date,
}

impl Clock {
    pub(crate) fn for_viewer(viewer: &Viewer) -> Clock {
        let name = viewer.facts.schools.first().map_or(domain::time_zone::DEFAULT_ZONE, |school| {
            domain::time_zone::zone_for_uai(&school.uai)
        });
        Clock::in_zone(name, jiff::Timestamp::now())
    }

    fn in_zone(name: &str, now: jiff::Timestamp) -> Clock {
        let zone = TimeZone::get(name).unwrap_or(TimeZone::UTC);
        let today = now.to_zoned_datetime(zone.clone()).date();
        Clock { zone, today }
    }

    fn at(&self, unix: i64) -> Option<jiff::ZonedDateTime> {
        jiff::Timestamp::from_second(unix).ok().map(|t| t.to_zoned_datetime(self.zone.clone()))
    }

    /// "14:32" today, "hier" yesterday, "3 mars" this year, "03/03/2024" before.
    pub(crate) fn short(&self, unix: i64) -> String {
        let Some(at) = self.at(unix) else { return String::new() };
        let date = at.date();
        if date == self.today {
            at.strftime("%H:%M").to_string()
        } else if self.today.yesterday().is_ok_and(|yesterday| yesterday == date) {
            "hier".to_owned()
        } else if date.year() == self.today.year() {
            format!("{} {}", date.day(), MONTHS[usize::from(date.month().unsigned_abs()) - 1])
        } else {
            at.strftime("%d/%m/%Y").to_string()
        }
    }

    /// "lundi 3 mars 2025 à 14:32".
    pub(crate) fn full(&self, unix: i64) -> String {
        let Some(at) = self.at(unix) else { return String::new() };
        let date = at.date();
        let weekday = WEEKDAYS[usize::from(date.weekday().to_monday_zero_offset().unsigned_abs())];
        format!(
            "{weekday} {} {} {} à {}",
            date.day(),
            MONTHS[usize::from(date.month().unsigned_abs()) - 1],
            date.year(),
            at.strftime("%H:%M")
        )
    }

    /// The instant for `<time datetime>`, with the zone's offset.
    pub(crate) fn iso(&self, unix: i64) -> String {
        self.at(unix).map(|at| at.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()).unwrap_or_default()
    }
}

/// A page number from a query string: 1 when absent or malformed, capped.
pub(crate) fn page_number(raw: &str) -> i64 {
    let number = match raw.parse::<i64>() {
        Ok(number) => number,
        // A number too long for 64 bits is past the last page too.
        Err(error) if *error.kind() == std::num::IntErrorKind::PosOverflow => i64::MAX,
        Err(_) => 1,
    };
    number.clamp(1, 100_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_french_units() {
        assert_eq!(size_label(1), "1 octet");
        assert_eq!(size_label(532), "532 octets");
        assert_eq!(size_label(12 * 1024 + 100), "12 Ko");
        assert_eq!(size_label(1_468_006), "1,4 Mo");
        assert_eq!(size_label(10 * 1024 * 1024), "10,0 Mo");
    }

    #[test]
    fn dates_are_short_near_today_and_in_the_viewer_zone() {
        let now: jiff::Timestamp = "2025-03-05T13:00:00Z".parse().unwrap();
        let clock = Clock::in_zone("Europe/Paris", now);
        let second = |text: &str| text.parse::<jiff::Timestamp>().unwrap().as_second();

        assert_eq!(clock.short(second("2025-03-05T13:32:00Z")), "14:32");
        assert_eq!(clock.short(second("2025-03-04T08:00:00Z")), "hier");
        assert_eq!(clock.short(second("2025-01-02T08:00:00Z")), "2 janvier");
        assert_eq!(clock.short(second("2024-12-31T08:00:00Z")), "31/12/2024");
        assert_eq!(clock.full(second("2025-03-03T13:32:00Z")), "lundi 3 mars 2025 à 14:32");
        assert_eq!(clock.iso(second("2025-03-03T13:32:00Z")), "2025-03-03T14:32:00+01:00");

        let reunion = Clock::in_zone("Indian/Reunion", now);
        assert_eq!(reunion.short(second("2025-03-05T13:32:00Z")), "17:32");
    }

    #[test]
    fn page_numbers_are_clamped() {
        assert_eq!(page_number(""), 1);
        assert_eq!(page_number("-4"), 1);
        assert_eq!(page_number("3"), 3);
        assert_eq!(page_number("99999999999"), 100_000);
        assert_eq!(page_number("99999999999999999999"), 100_000);
        assert_eq!(page_number("-99999999999999999999"), 1);
        assert_eq!(page_number("trois"), 1);
    }
}
