//! The rules of single sign-on that need no database: which URLs an administrator may register
//! for an application and whether a URL a client sends matches one of them (exact, or a prefix
//! that ends at a path boundary; never a pattern), the shape of CAS tickets, the attributes an
//! application may receive, and the category codes of Pronote's CAS attribute profile.
//!
//! A URL sent by a client is compared only in its canonical form: a URL that the WHATWG parser
//! would rewrite (upper-case host, `..`, encoded dots or slashes, backslashes, default port
//! written out, user information) is refused before any comparison, so that two spellings of one
//! address can never be told apart by the registry and by the application.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::profile::Profile;

/// The sign-on protocol an application speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Protocol {
    /// CAS 3.0: Pronote and most school software.
    Cas,
    /// OpenID Connect, authorization code flow with PKCE.
    Oidc,
}

impl Protocol {
    /// The stable code stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Cas => "cas",
            Protocol::Oidc => "oidc",
        }
    }

    /// The protocol a stored code names.
    pub fn parse(code: &str) -> Option<Protocol> {
        match code {
            "cas" => Some(Protocol::Cas),
            "oidc" => Some(Protocol::Oidc),
            _ => None,
        }
    }

    /// The French label of the interface.
    pub fn label_fr(self) -> &'static str {
        match self {
            Protocol::Cas => "CAS",
            Protocol::Oidc => "OpenID Connect",
        }
    }
}

/// How a registered URL is compared with the URL a client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UrlMatch {
    /// The whole URL, query included, character for character.
    Exact,
    /// The registered URL followed by nothing, or by more path after a `/`, or by a query. CAS
    /// only: OpenID Connect redirect URIs are always exact.
    Prefix,
}

impl UrlMatch {
    /// The stable code stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            UrlMatch::Exact => "exact",
            UrlMatch::Prefix => "prefix",
        }
    }

    /// The kind a stored code names.
    pub fn parse(code: &str) -> Option<UrlMatch> {
        match code {
            "exact" => Some(UrlMatch::Exact),
            "prefix" => Some(UrlMatch::Prefix),
            _ => None,
        }
    }
}

/// A URL an administrator registered for an application, already checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RegisteredUrl {
    pub match_kind: UrlMatch,
    /// The canonical URL (as the WHATWG parser writes it).
    pub url: String,
    /// `scheme://host[:port]`, the index by which candidates are found.
    pub origin: String,
}

/// Why a URL cannot be registered or does not match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("l'adresse n'est pas une URL absolue valide")]
    Invalid,
    #[error("l'adresse doit commencer par https:// (http:// n'est admis que sur la boucle locale)")]
    Scheme,
    #[error("l'adresse ne doit contenir ni identifiant ni mot de passe")]
    UserInfo,
    #[error("l'adresse ne doit pas contenir de fragment (#)")]
    Fragment,
    #[error("l'adresse doit être écrite sous sa forme canonique : {0}")]
    NotCanonical(String),
    #[error(
        "l'adresse ne doit contenir ni « * », ni segment « . » ou « .. », ni caractère encodé qui cache un point, une barre ou un espace"
    )]
    Pattern,
    #[error("une adresse par préfixe doit avoir un chemin, et pas de paramètres")]
    PrefixShape,
    #[error("l'adresse est trop longue (2 048 caractères au plus)")]
    TooLong,
}

/// The longest URL registered or accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Encoded characters that hide a dot, a slash, a backslash, a NUL, a space or a percent sign:
/// refused in any URL, because applications decode them differently.
const HIDING_ESCAPES: [&str; 7] = ["%2e", "%2f", "%5c", "%00", "%20", "%25", "%09"];

/// Whether a host is this machine's loopback interface, where `http://` is allowed (tests, and a
/// local page in front of a service).
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    }
}

/// Parses a URL that must already be canonical, https (or http on the loopback), without user
/// information, fragment or hiding escapes. Shared by registration and matching.
fn parse_canonical(text: &str) -> Result<url::Url, UrlError> {
    if text.len() > MAX_URL_LEN {
        return Err(UrlError::TooLong);
    }
    if text.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\') {
        return Err(UrlError::Invalid);
    }
    let url = url::Url::parse(text).map_err(|_| UrlError::Invalid)?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        _ => return Err(UrlError::Scheme),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::UserInfo);
    }
    if url.fragment().is_some() {
        return Err(UrlError::Fragment);
    }
    let host = url.host_str().unwrap_or("");
    if host.is_empty() || host.ends_with('.') {
        return Err(UrlError::Invalid);
    }
    if url.as_str() != text {
        return Err(UrlError::NotCanonical(url.as_str().to_owned()));
    }
    let lower = text.to_ascii_lowercase();
    if HIDING_ESCAPES.iter().any(|escape| lower.contains(escape))
        || text.contains('*')
        || url.path().split('/').any(|segment| segment == "." || segment == "..")
    {
        return Err(UrlError::Pattern);
    }
    Ok(url)
}

/// `scheme://host[:port]` of a parsed URL.
fn origin_of(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

/// Checks a URL an administrator types. A bare origin (`https://pronote.fr`) is written as the
/// parser writes it (`https://pronote.fr/`) only if the administrator typed it so: the form
/// shows the canonical spelling in its error.
pub fn register_url(text: &str, match_kind: UrlMatch) -> Result<RegisteredUrl, UrlError> {
    let text = text.trim();
    let url = parse_canonical(text)?;
    if match_kind == UrlMatch::Prefix && url.query().is_some() {
        return Err(UrlError::PrefixShape);
    }
    Ok(RegisteredUrl { match_kind, url: url.as_str().to_owned(), origin: origin_of(&url) })
}

/// The origin (`scheme://host[:port]`) of a URL a client sent, if it is acceptable at all: the
/// registry looks up the URLs registered under it, then calls [`url_matches`].
pub fn candidate_origin(candidate: &str) -> Result<String, UrlError> {
    parse_canonical(candidate).map(|url| origin_of(&url))
}

/// Whether the URL a client sent matches a registered one. The candidate must itself pass the
/// same checks as a registration (canonical, https, no hiding escapes).
pub fn url_matches(registered: &RegisteredUrl, candidate: &str) -> bool {
    if parse_canonical(candidate).is_err() {
        return false;
    }
    match registered.match_kind {
        UrlMatch::Exact => candidate == registered.url,
        UrlMatch::Prefix => {
            let Some(rest) = candidate.strip_prefix(registered.url.as_str()) else {
                return false;
            };
            rest.is_empty()
                || registered.url.ends_with('/')
                || rest.starts_with('/')
                || rest.starts_with('?')
        }
    }
}

/// Whether a service URL already carries a `ticket` parameter (in any case, encoded or not).
/// The CAS server appends its own: an application reading the first of two would take one
/// planted in a link, and log the person in as someone else.
pub fn carries_ticket(service_url: &str) -> bool {
    let Ok(url) = url::Url::parse(service_url) else { return false };
    url.query_pairs().any(|(name, _)| name.eq_ignore_ascii_case("ticket"))
}

/// A CAS ticket's kind, by its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketKind {
    /// `ST-`: a service ticket.
    Service,
    /// `PT-`: a proxy ticket.
    Proxy,
    /// `PGT-`: a proxy-granting ticket.
    ProxyGranting,
}

/// The longest ticket looked up; anything longer is refused before any lookup.
pub const MAX_TICKET_LEN: usize = 256;

/// The kind of a well-formed ticket: a known prefix, then only `[A-Za-z0-9-]`, at most
/// [`MAX_TICKET_LEN`] characters. `None` for anything else (checked before any lookup, and
/// never echoed back unescaped).
pub fn ticket_kind(ticket: &str) -> Option<TicketKind> {
    if ticket.len() > MAX_TICKET_LEN
        || !ticket.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return None;
    }
    let (kind, rest) = if let Some(rest) = ticket.strip_prefix("ST-") {
        (TicketKind::Service, rest)
    } else if let Some(rest) = ticket.strip_prefix("PT-") {
        (TicketKind::Proxy, rest)
    } else if let Some(rest) = ticket.strip_prefix("PGT-") {
        (TicketKind::ProxyGranting, rest)
    } else {
        return None;
    };
    (rest.len() >= 16).then_some(kind)
}

/// An attribute Préau can release to an application. The stable codes are those of the
/// attribute names sent over CAS (Pronote's names where Pronote defines them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Attribute {
    /// The person's Préau login.
    Login,
    /// Last name (`nom`).
    LastName,
    /// First name (`prenom`).
    FirstName,
    /// Birth date as `dd/mm/yyyy` (`dateNaissance`).
    BirthDate,
    /// Postcode (`codePostal`): the person's, else their first school's.
    PostalCode,
    /// Pronote's categories (`National_1`…`National_4`, `;`-joined when several).
    Categories,
    /// The e-mail address the person gave for notifications, if any.
    Email,
    /// Préau's profile code (`pupil`, `relative`, …).
    Profile,
    /// The UAIs of the person's schools.
    Schools,
}

impl Attribute {
    /// Every attribute, in the order the registry form lists them.
    pub const ALL: [Attribute; 9] = [
        Attribute::Login,
        Attribute::LastName,
        Attribute::FirstName,
        Attribute::BirthDate,
        Attribute::PostalCode,
        Attribute::Categories,
        Attribute::Email,
        Attribute::Profile,
        Attribute::Schools,
    ];

    /// What Pronote's CAS connector reads.
    pub const PRONOTE: [Attribute; 5] = [
        Attribute::LastName,
        Attribute::FirstName,
        Attribute::BirthDate,
        Attribute::PostalCode,
        Attribute::Categories,
    ];

    /// The stable code, also the CAS attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Attribute::Login => "login",
            Attribute::LastName => "nom",
            Attribute::FirstName => "prenom",
            Attribute::BirthDate => "dateNaissance",
            Attribute::PostalCode => "codePostal",
            Attribute::Categories => "categories",
            Attribute::Email => "email",
            Attribute::Profile => "profil",
            Attribute::Schools => "etablissements",
        }
    }

    /// The attribute a code names.
    pub fn parse(code: &str) -> Option<Attribute> {
        Attribute::ALL.into_iter().find(|attribute| attribute.as_str() == code)
    }

    /// The French label of the registry form.
    pub fn label_fr(self) -> &'static str {
        match self {
            Attribute::Login => "Identifiant Préau",
            Attribute::LastName => "Nom",
            Attribute::FirstName => "Prénom",
            Attribute::BirthDate => "Date de naissance",
            Attribute::PostalCode => "Code postal",
            Attribute::Categories => "Catégorie Pronote (National_1 à 4)",
            Attribute::Email => "Adresse électronique",
            Attribute::Profile => "Profil",
            Attribute::Schools => "Établissements (UAI)",
        }
    }
}

/// What identifies the person to an application (the CAS user, the OpenID Connect `sub`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Principal {
    /// An opaque identifier, different for every application (the GAR rule): the default.
    Opaque,
    /// The Préau login (Pronote matches on it when its administrator asks for it).
    Login,
}

impl Principal {
    /// The stable code stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Principal::Opaque => "opaque",
            Principal::Login => "login",
        }
    }

    /// The principal a stored code names.
    pub fn parse(code: &str) -> Option<Principal> {
        match code {
            "opaque" => Some(Principal::Opaque),
            "login" => Some(Principal::Login),
            _ => None,
        }
    }
}

/// Pronote's category code for a profile: `National_1` pupil, `National_2` relative,
/// `National_3` teacher, `National_4` other staff. The département's own people and the hosts' have none.
pub fn pronote_category(profile: Profile) -> Option<&'static str> {
    match profile {
        Profile::Pupil => Some("National_1"),
        Profile::Relative => Some("National_2"),
        Profile::Teacher => Some("National_3"),
        Profile::Staff => Some("National_4"),
        Profile::Agent | Profile::Official | Profile::Host => None,
    }
}

/// A stored `YYYY-MM-DD` date as Pronote reads it (`dd/mm/yyyy`).
pub fn pronote_date(stored: &str) -> Option<String> {
    let date: jiff::civil::Date = stored.parse().ok()?;
    Some(format!("{:02}/{:02}/{:04}", date.day(), date.month(), date.year()))
}

impl fmt::Display for RegisteredUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.match_kind {
            UrlMatch::Exact => write!(f, "{}", self.url),
            UrlMatch::Prefix => write!(f, "{}…", self.url),
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_service_url_that_already_carries_a_ticket_is_told() {
        for url in [
            "https://pronote.fr/pronote/?ticket=ST-planted",
            "https://pronote.fr/pronote/?a=1&TICKET=x",
            "https://pronote.fr/pronote/?tick%65t=x",
            "https://pronote.fr/pronote/?ticket",
        ] {
            assert!(carries_ticket(url), "{url}");
        }
        for url in [
            "https://pronote.fr/pronote/",
            "https://pronote.fr/pronote/?tickets=1",
            "https://pronote.fr/pronote/ticket?x=ticket",
            "https://pronote.fr/pronote/#ticket=x",
        ] {
            assert!(!carries_ticket(url), "{url}");
        }
    }

    use super::*;

    fn exact(url: &str) -> RegisteredUrl {
        register_url(url, UrlMatch::Exact).unwrap()
    }

    fn prefix(url: &str) -> RegisteredUrl {
        register_url(url, UrlMatch::Prefix).unwrap()
    }

    #[test]
    fn look_alike_services_never_match() {
        let pronote = prefix("https://0860001a.index-education.net/pronote/");
        for hostile in [
            "https://evil.tld",
            "https://0860001a.index-education.net.evil.tld/pronote/",
            "https://0860001a.index-education.net@evil.tld/pronote/",
            "https://evil.tld/?u=https://0860001a.index-education.net/pronote/",
            "//evil.tld",
            "https://0860001a.index-education.net./pronote/",
            "https://0860001A.INDEX-EDUCATION.NET/pronote/",
            "https://0860001a.index-education.net/pronote/%2e%2e/admin",
            "https://0860001a.index-education.net/pronote/../admin",
            "https://0860001a.index-education.net/pronote/..%2fadmin",
            "http://0860001a.index-education.net/pronote/",
            "javascript:alert(1)//0860001a.index-education.net/pronote/",
            "https://0860001a.index-educatіon.net/pronote/",
            "https://0860001a.index-education.net:443/pronote/",
            "https://0860001a.index-education.net/pronote\\..\\admin",
            "https://0860001a.index-education.net/pronotex/",
            " https://0860001a.index-education.net/pronote/",
        ] {
            assert!(!url_matches(&pronote, hostile), "{hostile}");
        }
        assert!(url_matches(&pronote, "https://0860001a.index-education.net/pronote/"));
        assert!(url_matches(&pronote, "https://0860001a.index-education.net/pronote/eleve.html"));
        assert!(url_matches(
            &pronote,
            "https://0860001a.index-education.net/pronote/eleve.html?fd=1&bydlg=A6ABB224"
        ));
    }

    #[test]
    fn a_prefix_ends_at_a_path_boundary() {
        let app = prefix("https://app.example.fr/ent");
        assert!(url_matches(&app, "https://app.example.fr/ent"));
        assert!(url_matches(&app, "https://app.example.fr/ent/login"));
        assert!(url_matches(&app, "https://app.example.fr/ent?next=1"));
        assert!(!url_matches(&app, "https://app.example.fr/entreprise"));
    }

    #[test]
    fn exact_urls_match_only_themselves() {
        let rp = exact("https://rp.example.fr/callback");
        assert!(url_matches(&rp, "https://rp.example.fr/callback"));
        for variant in [
            "https://rp.example.fr/callback/",
            "https://rp.example.fr/callback?x=1",
            "https://rp.example.fr/Callback",
            "https://rp.example.fr/callback/more",
            "https://RP.example.fr/callback",
        ] {
            assert!(!url_matches(&rp, variant), "{variant}");
        }
    }

    #[test]
    fn registrations_refuse_patterns_and_non_canonical_forms() {
        assert!(register_url("https://*.example.fr/", UrlMatch::Prefix).is_err());
        assert!(register_url("https://example.fr/.*", UrlMatch::Prefix).is_err());
        assert_eq!(register_url("http://example.fr/", UrlMatch::Exact), Err(UrlError::Scheme));
        assert!(register_url("http://127.0.0.1:9000/pronote/", UrlMatch::Prefix).is_ok());
        assert!(matches!(
            register_url("https://Example.fr/", UrlMatch::Exact),
            Err(UrlError::NotCanonical(_))
        ));
        assert_eq!(
            register_url("https://example.fr/app?x=1", UrlMatch::Prefix),
            Err(UrlError::PrefixShape)
        );
        assert_eq!(register_url("https://a@example.fr/", UrlMatch::Exact), Err(UrlError::UserInfo));
    }

    #[test]
    fn tickets_are_checked_before_any_lookup() {
        assert_eq!(ticket_kind("ST-abcdefghijklmnop0123"), Some(TicketKind::Service));
        assert_eq!(ticket_kind("PT-abcdefghijklmnop0123"), Some(TicketKind::Proxy));
        assert_eq!(ticket_kind("ST-short"), None);
        assert_eq!(ticket_kind("ST-abc</cas:authenticationFailure>"), None);
        assert_eq!(ticket_kind(&format!("ST-{}", "a".repeat(10_000))), None);
        assert_eq!(ticket_kind("XX-abcdefghijklmnop0123"), None);
    }

    #[test]
    fn pronote_reads_its_own_codes() {
        assert_eq!(pronote_category(Profile::Relative), Some("National_2"));
        assert_eq!(pronote_date("2012-03-07").as_deref(), Some("07/03/2012"));
        assert_eq!(Attribute::parse("dateNaissance"), Some(Attribute::BirthDate));
    }
}
