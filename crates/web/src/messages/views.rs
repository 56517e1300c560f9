//! The view structs of the messaging pages (`templates/mail_*.html`): what a folder page, a
//! message, the compose form and the error pages of a send show, already written out for
//! display (dates in the viewer's zone, sizes in French units, names apart for `<bdi>`).
//! Templates receive these, never store rows. The only HTML they print unescaped is a
//! message body that went through `formats::rich_text::sanitize` on the way here.

use askama::Template;

use crate::templates::Chrome;

/// The messaging side bar: the folders with their counts, the search and the folder form.
pub(crate) struct MailNav {
    pub(crate) folders: Vec<FolderLink>,
    /// The search as typed, to show it again.
    pub(crate) query: String,
    /// The viewer's unread count (inbox and own folders), for the badge.
    pub(crate) unread: i64,
    /// The new-folder form's name, kept after a refusal, and the refusal.
    pub(crate) new_folder: String,
    pub(crate) folder_error: Option<String>,
}

/// One folder of the side bar.
pub(crate) struct FolderLink {
    pub(crate) href: String,
    pub(crate) name: String,
    pub(crate) unread: i64,
    pub(crate) current: bool,
}

/// Where a bulk or single "move" may send messages: a folder slug and its name.
pub(crate) struct MoveTarget {
    pub(crate) slug: String,
    pub(crate) name: String,
}

/// One line of a folder page or of a search.
pub(crate) struct MessageLine {
    pub(crate) id: String,
    pub(crate) href: String,
    /// Who is shown: the sender, or the recipients in the sent folder and the drafts.
    pub(crate) who: String,
    /// The sender's profile, in French; empty when `who` is the recipients.
    pub(crate) profile: &'static str,
    pub(crate) subject: String,
    pub(crate) snippet: String,
    pub(crate) date_short: String,
    pub(crate) date_full: String,
    pub(crate) date_iso: String,
    pub(crate) unread: bool,
    pub(crate) has_attachments: bool,
    pub(crate) recalled: bool,
}

/// Which kind of folder a page lists, for its actions.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum FolderKind {
    Inbox,
    Sent,
    Drafts,
    Trash,
    Custom,
    Search,
}

#[derive(Template)]
#[template(path = "mail_folder.html")]
pub(crate) struct FolderPage {
    pub(crate) chrome: Chrome,
    pub(crate) nav: MailNav,
    pub(crate) csrf: String,
    pub(crate) kind: FolderKind,
    /// The folder's slug (`reception`, an own folder's id…); empty for a search.
    pub(crate) slug: String,
    pub(crate) messages: Vec<MessageLine>,
    pub(crate) total: i64,
    pub(crate) page: i64,
    pub(crate) pages: i64,
    pub(crate) previous: Option<String>,
    pub(crate) next: Option<String>,
    pub(crate) move_targets: Vec<MoveTarget>,
    /// Where the bulk actions come back to.
    pub(crate) back: String,
    pub(crate) notice: Option<&'static str>,
    /// The search typed, for a search page.
    pub(crate) query: String,
}

impl FolderPage {
    pub(crate) fn is(&self, kind: FolderKind) -> bool {
        self.kind == kind
    }
}

/// An attachment of a message or a draft.
pub(crate) struct AttachmentLine {
    pub(crate) id: String,
    pub(crate) href: String,
    pub(crate) name: String,
    pub(crate) size: String,
    pub(crate) kind: String,
}

/// A recipient as the sender chose it.
pub(crate) struct RecipientLabel {
    pub(crate) label: String,
    pub(crate) group: bool,
}

#[derive(Template)]
#[template(path = "mail_message.html")]
pub(crate) struct MessagePage {
    pub(crate) chrome: Chrome,
    pub(crate) nav: MailNav,
    pub(crate) csrf: String,
    pub(crate) id: String,
    pub(crate) sender: String,
    pub(crate) sender_profile: &'static str,
    pub(crate) date_full: String,
    pub(crate) date_iso: String,
    pub(crate) recipients: Vec<RecipientLabel>,
    /// Sanitised again on the way here (`formats::rich_text::sanitize`).
    pub(crate) body_html: String,
    pub(crate) attachments: Vec<AttachmentLine>,
    pub(crate) thread: Vec<MessageLine>,
    pub(crate) recalled: Option<String>,
    pub(crate) received: bool,
    pub(crate) in_trash: bool,
    pub(crate) can_recall: bool,
    pub(crate) move_targets: Vec<MoveTarget>,
    pub(crate) notice: Option<&'static str>,
}

/// A chosen recipient of the compose form.
pub(crate) struct ChosenRecipient {
    pub(crate) token: String,
    pub(crate) label: String,
}

/// A person or group the compose search proposes.
pub(crate) struct Candidate {
    pub(crate) token: String,
    pub(crate) label: String,
    pub(crate) detail: String,
}

#[derive(Template)]
#[template(path = "mail_compose.html")]
pub(crate) struct ComposePage {
    pub(crate) chrome: Chrome,
    pub(crate) nav: MailNav,
    pub(crate) csrf: String,
    pub(crate) draft_id: String,
    /// The idempotency key of this compose window.
    pub(crate) key: String,
    pub(crate) mode: &'static str,
    pub(crate) parent_id: String,
    pub(crate) subject: String,
    /// The body as plain text, for the text field (and for anyone without JavaScript).
    pub(crate) body: String,
    /// The body as sanitised HTML, for the editor of `mail.js` (a hidden field without name).
    pub(crate) body_html: String,
    pub(crate) recipients: Vec<ChosenRecipient>,
    pub(crate) query: String,
    pub(crate) searched: bool,
    pub(crate) too_short: bool,
    pub(crate) people: Vec<Candidate>,
    pub(crate) groups: Vec<Candidate>,
    pub(crate) attachments: Vec<AttachmentLine>,
    pub(crate) error: Option<String>,
    pub(crate) notice: Option<&'static str>,
    pub(crate) max_attachment: String,
    pub(crate) max_attachments: usize,
}
