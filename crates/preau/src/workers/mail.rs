//! The notification e-mails and their SMTP transport. The e-mail of a new message only says that
//! a message from someone is waiting in Préau, with its subject and a link: the body, the
//! attachments and the other recipients stay in the ENT. The e-mail of a timetable change says
//! what changed and when (the store's one-line summary, which names no pupil), with a link to
//! the timetable. An internship e-mail is the text the store queued (Préau's own words about an
//! application or a signature), with Préau's address at the end. It is built with lettre's typed headers (the texts that come
//! from people are cleaned of control and direction characters on top of lettre's encoding), and
//! carries a `Message-ID` computed from the message and the recipient, so that a relay that sees
//! the same notification twice (a retry after a crash) can drop the copy.

use std::time::Duration;

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::config::{SmtpConfig, SmtpTls};

/// How long one SMTP exchange may take before it counts as failed (and is tried again later).
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// Why an e-mail was not sent.
#[derive(Debug)]
pub enum SendError {
    /// Worth trying again later: the relay is unreachable, busy or answered 4xx.
    Transient(String),
    /// Never going to work for this recipient: a refused address (5xx) or one that cannot be
    /// written in an e-mail.
    Permanent(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Transient(reason) => write!(f, "échec temporaire : {reason}"),
            SendError::Permanent(reason) => write!(f, "échec définitif : {reason}"),
        }
    }
}

/// What one notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification<'a> {
    pub message_id: &'a str,
    pub recipient_id: &'a str,
    /// The address the recipient gave for notifications.
    pub to: &'a str,
    pub sender_name: &'a str,
    pub subject: &'a str,
}

/// What one e-mail about a changed lesson says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeNotification<'a> {
    /// What identifies this version of the change (the same on every try).
    pub change_key: &'a str,
    pub recipient_id: &'a str,
    /// The address the recipient gave for notifications.
    pub to: &'a str,
    /// Who made the change (the school), as the store names it.
    pub author: &'a str,
    /// The store's French summary: what changed, and when ("Cours annulé : …").
    pub summary: &'a str,
}

/// The SMTP relay and what every notification shares. Cheap to clone (the connection pool is
/// shared).
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The right-hand side of the `Message-ID`s: the domain of the `From` address.
    id_domain: String,
    base_url: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl Mailer {
    /// The transport for the configured relay. Nothing is connected yet: the first e-mail
    /// opens the connection.
    ///
    /// # Errors
    /// A `From` address that does not parse (the configuration checks it first), or TLS
    /// settings that cannot be built.
    pub fn new(smtp: &SmtpConfig, base_url: &str) -> anyhow::Result<Mailer> {
        let from: Mailbox = smtp
            .from
            .parse()
            .map_err(|_| anyhow::anyhow!("smtp_from : adresse d'expédition invalide"))?;
        let id_domain = from.email.domain().to_owned();

        let builder = match smtp.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
            SmtpTls::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                    .map_err(|error| anyhow::anyhow!("smtp_tls : STARTTLS impossible : {error}"))?
            }
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
                .map_err(|error| anyhow::anyhow!("smtp_tls : TLS impossible : {error}"))?,
        };
        let mut builder = builder
            .port(smtp.port)
            .timeout(Some(SMTP_TIMEOUT))
            .hello_name(ClientId::Domain(id_domain.clone()));
        if let Some((user, password)) = &smtp.credentials {
            builder = builder
                .credentials(Credentials::new(user.clone(), password.expose_secret().to_owned()));
        }

        Ok(Mailer {
            transport: builder.build(),
            from,
            id_domain,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Builds the e-mail of one notification.
    ///
    /// # Errors
    /// [`SendError::Permanent`] when the recipient's address cannot be written in an e-mail.
    pub fn build(&self, notification: &Notification<'_>) -> Result<Message, SendError> {
        let to: Address = notification
            .to
            .trim()
            .parse()
            .map_err(|_| SendError::Permanent("adresse du destinataire invalide".to_owned()))?;
        let sender = clean_line(notification.sender_name);
        let subject = clean_line(notification.subject);
        let link = format!("{}/messagerie/messages/{}", self.base_url, notification.message_id);
        let settings = format!("{}/parametres", self.base_url);
        let body = format!(
            "Bonjour,\n\n\
             Vous avez reçu un nouveau message de {sender} sur Préau.\n\n\
             Objet : {subject}\n\n\
             Pour le lire, connectez-vous à Préau :\n{link}\n\n\
             Ce courriel ne contient pas le message lui-même, qui reste dans Préau. Vous le \
             recevez parce que vous avez demandé à être prévenu des nouveaux messages ; pour ne \
             plus le recevoir, modifiez vos paramètres :\n{settings}\n\n\
             Merci de ne pas répondre à ce courriel.\n"
        );

        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(format!("Nouveau message de {sender} sur Préau"))
            .message_id(Some(message_id_header(
                notification.message_id,
                notification.recipient_id,
                &self.id_domain,
            )))
            .header(AutoSubmitted)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|error| {
                SendError::Permanent(format!("courriel impossible à écrire : {error}"))
            })
    }

    /// Builds the e-mail that tells one person about a changed lesson.
    ///
    /// # Errors
    /// [`SendError::Permanent`] when the recipient's address cannot be written in an e-mail.
    pub fn build_change(&self, change: &ChangeNotification<'_>) -> Result<Message, SendError> {
        let to: Address = change
            .to
            .trim()
            .parse()
            .map_err(|_| SendError::Permanent("adresse du destinataire invalide".to_owned()))?;
        let summary = clean_line(change.summary);
        let author = clean_line(change.author);
        let by = if author.is_empty() { String::new() } else { format!(" ({author})") };
        let link = format!("{}/emploi-du-temps", self.base_url);
        let settings = format!("{}/parametres", self.base_url);
        let body = format!(
            "Bonjour,\n\n\
             Un cours qui vous concerne a changé dans l'emploi du temps{by} :\n\n\
             {summary}\n\n\
             L'emploi du temps à jour est dans Préau :\n{link}\n\n\
             Vous recevez ce courriel parce que vous avez demandé à être prévenu par courriel ; \
             pour ne plus le recevoir, modifiez vos paramètres :\n{settings}\n\n\
             Merci de ne pas répondre à ce courriel.\n"
        );

        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(format!("Emploi du temps : {summary}"))
            .message_id(Some(message_id_header(
                &format!("emploi-du-temps:{}", change.change_key),
                change.recipient_id,
                &self.id_domain,
            )))
            .header(AutoSubmitted)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|error| {
                SendError::Permanent(format!("courriel impossible à écrire : {error}"))
            })
    }

    /// Builds an internship e-mail as the store queued it (its subject and text, written by
    /// Préau), with the address of Préau at the end.
    ///
    /// # Errors
    /// [`SendError::Permanent`] when the recipient's address cannot be written in an e-mail.
    pub fn build_internship(
        &self,
        mail: &store::internship::PendingMail,
    ) -> Result<Message, SendError> {
        let to: Address = mail
            .to_email
            .trim()
            .parse()
            .map_err(|_| SendError::Permanent("adresse du destinataire invalide".to_owned()))?;
        let subject = clean_line(&mail.subject);
        let body = format!(
            "{}\n\nPréau : {}\n\nMerci de ne pas répondre à ce courriel.\n",
            mail.body.trim_end(),
            self.base_url
        );

        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(subject)
            .message_id(Some(message_id_header(
                &format!("stage:{}", mail.id),
                &mail.to_email,
                &self.id_domain,
            )))
            .header(AutoSubmitted)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|error| {
                SendError::Permanent(format!("courriel impossible à écrire : {error}"))
            })
    }

    /// Builds and sends one internship e-mail.
    ///
    /// # Errors
    /// [`SendError::Transient`] for what may work later, [`SendError::Permanent`] otherwise.
    pub async fn send_internship(
        &self,
        mail: &store::internship::PendingMail,
    ) -> Result<(), SendError> {
        let email = self.build_internship(mail)?;
        self.deliver(email).await
    }

    /// Builds and sends one notification of a new message.
    ///
    /// # Errors
    /// [`SendError::Transient`] for what may work later, [`SendError::Permanent`] otherwise.
    pub async fn send(&self, notification: &Notification<'_>) -> Result<(), SendError> {
        let email = self.build(notification)?;
        self.deliver(email).await
    }

    /// Builds and sends one notification of a changed lesson.
    ///
    /// # Errors
    /// [`SendError::Transient`] for what may work later, [`SendError::Permanent`] otherwise.
    pub async fn send_change(&self, change: &ChangeNotification<'_>) -> Result<(), SendError> {
        let email = self.build_change(change)?;
        self.deliver(email).await
    }

    /// Hands one e-mail to the relay.
    async fn deliver(&self, email: Message) -> Result<(), SendError> {
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            Err(error) => {
                let code = error.status().map(u16::from);
                // A server's reply may quote the address: only its code is kept (for the log
                // and the outbox's last error); errors without a reply (network, TLS) are kept
                // as they are.
                let reason = match code {
                    Some(code) => format!("le serveur de courriel a répondu {code}"),
                    None => error.to_string(),
                };
                if refuses_the_recipient(code) {
                    Err(SendError::Permanent(reason))
                } else {
                    Err(SendError::Transient(reason))
                }
            }
        }
    }
}

/// Whether an SMTP reply refuses this recipient for good (no such mailbox, not accepted, bad
/// address). Other permanent replies (authentication refused, a policy of the relay) concern
/// the relay or its settings, not the recipient: the entry is tried again until an
/// administrator fixes them, rather than counted as delivered.
fn refuses_the_recipient(code: Option<u16>) -> bool {
    matches!(code, Some(550 | 551 | 553 | 501))
}

/// The `Message-ID` of the notification of `message_id` to `recipient_id`: the same on every
/// try, different for every pair, and revealing neither id.
pub fn message_id_header(message_id: &str, recipient_id: &str, domain: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(message_id.as_bytes());
    hash.update([0u8]);
    hash.update(recipient_id.as_bytes());
    let digest = hex::encode(hash.finalize());
    format!("<notification.{}@{domain}>", &digest[..40])
}

/// A text from a person made fit for one line of an e-mail: no control characters (line
/// breaks included), no invisible direction overrides, runs of spaces collapsed.
fn clean_line(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() || is_direction_mark(c) { ' ' } else { c })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_direction_mark(c: char) -> bool {
    matches!(
        c,
        '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// `Auto-Submitted: auto-generated` (RFC 3834): out-of-office replies must not answer it.
#[derive(Debug, Clone, Copy)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_text: &str) -> Result<AutoSubmitted, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailer() -> Mailer {
        let smtp = SmtpConfig {
            host: "127.0.0.1".to_owned(),
            port: 2525,
            tls: SmtpTls::None,
            credentials: None,
            from: "Préau <ne-pas-repondre@ent.example.fr>".to_owned(),
        };
        Mailer::new(&smtp, "https://ent.example.fr/").unwrap()
    }

    fn notification<'a>(sender: &'a str, subject: &'a str, to: &'a str) -> Notification<'a> {
        Notification { message_id: "m-1", recipient_id: "p-1", to, sender_name: sender, subject }
    }

    fn raw(message: &Message) -> String {
        String::from_utf8(message.formatted()).unwrap()
    }

    // The transport's connection pool needs a runtime, even unused.
    #[tokio::test]
    async fn the_email_names_the_sender_and_the_subject_and_links_to_the_message() {
        let email = mailer().build(&notification("Thomas Bernard", "Sortie", "p@x.fr")).unwrap();
        let text = raw(&email);
        assert!(text.contains("Message-ID: <notification."), "{text}");
        assert!(text.contains("@ent.example.fr>"), "{text}");
        assert!(text.contains("Auto-Submitted: auto-generated"), "{text}");
        assert!(text.contains("To: p@x.fr"), "{text}");
        assert!(text.contains("Content-Type: text/plain; charset=utf-8"), "{text}");
        assert!(text.contains("https://ent.example.fr/messagerie/messages/m-1"), "{text}");
    }

    #[test]
    fn message_ids_are_stable_per_pair_and_distinct_between_pairs() {
        let a = message_id_header("m-1", "p-1", "x.fr");
        assert_eq!(a, message_id_header("m-1", "p-1", "x.fr"));
        assert_ne!(a, message_id_header("m-1", "p-2", "x.fr"));
        assert_ne!(a, message_id_header("m-1p", "-1", "x.fr"));
        assert!(!a.contains("m-1") && !a.contains("p-1"));
    }

    #[tokio::test]
    async fn line_breaks_in_names_and_subjects_cannot_add_headers() {
        let hostile = "Bonjour\r\nBcc: victime@evil.example\r\n\r\ncorps";
        let email =
            mailer().build(&notification("Eve\r\nX-Injected: 1", hostile, "p@x.fr")).unwrap();
        let text = raw(&email);
        let headers = text.split("\r\n\r\n").next().unwrap();
        assert!(!headers.lines().any(|line| line.starts_with("Bcc:")), "{headers}");
        assert!(!headers.lines().any(|line| line.starts_with("X-Injected:")), "{headers}");
        assert_eq!(clean_line("a\u{202e}b\n\tc  d"), "a b c d");
    }

    #[tokio::test]
    async fn every_tls_mode_builds_a_transport_without_connecting() {
        for tls in [SmtpTls::None, SmtpTls::StartTls, SmtpTls::Tls] {
            let smtp = SmtpConfig {
                host: "127.0.0.1".to_owned(),
                port: 2525,
                tls,
                credentials: Some(("preau".to_owned(), "secret".to_owned().into())),
                from: "preau@ent.example.fr".to_owned(),
            };
            let mailer = Mailer::new(&smtp, "https://ent.example.fr").unwrap();
            assert!(!format!("{mailer:?}").contains("secret"));
        }
    }

    #[test]
    fn only_replies_about_the_recipient_are_final() {
        assert!(refuses_the_recipient(Some(550)));
        assert!(refuses_the_recipient(Some(553)));
        assert!(!refuses_the_recipient(Some(535)), "authentication: the relay's settings");
        assert!(!refuses_the_recipient(Some(451)));
        assert!(!refuses_the_recipient(None), "no reply: connection or timeout");
    }

    #[tokio::test]
    async fn the_change_email_says_what_changed_and_links_to_the_timetable() {
        let change = ChangeNotification {
            change_key: "c-1:2",
            recipient_id: "p-1",
            to: "p@x.fr",
            author: "Collège Jean Moulin",
            summary: "Cours annulé : MATHEMATIQUES, lundi 30 mars, 08:00–08:55\r\nBcc: y@z.fr",
        };
        let email = mailer().build_change(&change).unwrap();
        let text = raw(&email);
        let headers = text.split("\r\n\r\n").next().unwrap();
        assert!(!headers.lines().any(|line| line.starts_with("Bcc:")), "{headers}");
        assert!(text.contains("Message-ID: <notification."), "{text}");
        assert!(text.contains("Auto-Submitted: auto-generated"), "{text}");
        assert!(text.contains("https://ent.example.fr/emploi-du-temps\r\n"), "{text}");
        let again = mailer().build_change(&change).unwrap();
        let id = |message: &Message| {
            raw(message).lines().find(|l| l.starts_with("Message-ID:")).unwrap().to_owned()
        };
        assert_eq!(id(&email), id(&again), "the same change gets the same Message-ID");
        let other = mailer().build_change(&ChangeNotification { change_key: "c-1:3", ..change });
        assert_ne!(id(&email), id(&other.unwrap()), "a new version is a new e-mail");
        let message = mailer().build(&notification("A", "B", "p@x.fr")).unwrap();
        assert_ne!(id(&email), id(&message));
    }

    #[tokio::test]
    async fn an_internship_email_keeps_its_text_and_cannot_add_headers() {
        let mail = store::internship::PendingMail {
            id: "mail-1".to_owned(),
            to_email: "p@x.fr".to_owned(),
            subject: "Candidature acceptée\r\nBcc: y@z.fr".to_owned(),
            body: "Bonjour,\n\nL'organisme a accepté la candidature.".to_owned(),
        };
        let email = mailer().build_internship(&mail).unwrap();
        let text = raw(&email);
        let headers = text.split("\r\n\r\n").next().unwrap();
        assert!(!headers.lines().any(|line| line.starts_with("Bcc:")), "{headers}");
        assert!(text.contains("Message-ID: <notification."), "{text}");
        assert!(text.contains("https://ent.example.fr"), "{text}");
        let bad =
            store::internship::PendingMail { to_email: "p@x.fr\r\nBcc: y".to_owned(), ..mail };
        assert!(matches!(mailer().build_internship(&bad), Err(SendError::Permanent(_))));
    }

    #[tokio::test]
    async fn an_address_with_a_line_break_is_refused_for_good() {
        let refused = mailer().build(&notification("A", "B", "p@x.fr\r\nBcc: y@z.fr"));
        assert!(matches!(refused, Err(SendError::Permanent(_))));
        let refused = mailer().build(&notification("A", "B", "pas une adresse"));
        assert!(matches!(refused, Err(SendError::Permanent(_))));
    }
}
