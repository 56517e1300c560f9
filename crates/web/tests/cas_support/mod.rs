//! What the CAS tests share: registering applications (one Pronote per collège), reading a
//! ticket out of a redirect, a strict reader of the server's XML answers, and proxy callbacks
//! served over TLS on the loopback (a self-signed certificate, or one from a test authority)
//! that record what they were sent.
#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use domain::profile::Profile;
use domain::sso::{Attribute, Principal, Protocol, UrlMatch};
use quick_xml::events::Event;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;

use crate::common::{App, Reply, encode, ids};

pub const PRONOTE_1: &str = "https://0860001a.index-education.net/pronote/";
pub const PRONOTE_2: &str = "https://0860002b.index-education.net/pronote/";
/// The Pronote of collège 1 as a pupil's browser asks for it.
pub const PRONOTE_1_PUPIL: &str = "https://0860001a.index-education.net/pronote/eleve.html";
pub const PRONOTE_2_PUPIL: &str = "https://0860002b.index-education.net/pronote/eleve.html";

/// An application as the tests register it.
pub struct Registration {
    pub school: Option<&'static str>,
    pub urls: Vec<(UrlMatch, String)>,
    pub attributes: Vec<Attribute>,
    pub principal: Principal,
    pub profiles: Vec<Profile>,
    pub allow_proxy: bool,
    pub require_second_factor: bool,
}

impl Registration {
    /// A collège's Pronote: every profile of its people, Pronote's attributes, the login as
    /// principal.
    pub fn pronote(school: &'static str, prefix: &str) -> Registration {
        Registration {
            school: Some(school),
            urls: vec![(UrlMatch::Prefix, prefix.to_owned())],
            attributes: Attribute::PRONOTE.to_vec(),
            principal: Principal::Login,
            profiles: vec![Profile::Pupil, Profile::Relative, Profile::Teacher, Profile::Staff],
            allow_proxy: false,
            require_second_factor: false,
        }
    }

    pub async fn register(self, app: &App) -> String {
        let new = store::sso::admin::NewService {
            name: format!("Application {}", self.urls[0].1),
            protocol: Protocol::Cas,
            school_id: self.school.map(str::to_owned),
            principal: self.principal,
            attributes: self.attributes,
            require_second_factor: self.require_second_factor,
            allow_proxy: self.allow_proxy,
            client_id: None,
            client_secret_hash: None,
            urls: self.urls,
            logout_urls: Vec::new(),
            schools: self.school.map(|school| vec![school.to_owned()]).unwrap_or_default(),
            profiles: self.profiles,
        };
        app.store.register_service(None, &new).await.unwrap()
    }
}

/// Registers the Pronote of both collèges; returns their ids.
pub async fn register_pronotes(app: &App) -> (String, String) {
    let one = Registration::pronote(ids::SCHOOL_1, PRONOTE_1).register(app).await;
    let two = Registration::pronote(ids::SCHOOL_2, PRONOTE_2).register(app).await;
    (one, two)
}

pub fn login_path(service: &str) -> String {
    format!("/cas/login?service={}", encode(service))
}

/// The ticket a redirect to a service carries.
pub fn ticket_of(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
    let location = reply.location();
    let (_, ticket) = location.rsplit_once("ticket=").expect("a ticket in the redirect");
    ticket.to_owned()
}

/// The SHA-256 (hex) of a session cookie's value, as the sessions table keys it.
pub fn session_hash(cookie: &str) -> String {
    use sha2::Digest;
    let value = cookie.split_once('=').map_or(cookie, |(_, value)| value);
    hex::encode(sha2::Sha256::digest(value.as_bytes()))
}

pub async fn count(app: &App, sql: &'static str) -> i64 {
    app.store.fixture_count(sql, &[]).await.unwrap()
}

pub async fn tickets(app: &App) -> i64 {
    count(app, "SELECT COUNT(*) FROM cas_tickets").await
}

pub async fn pgts(app: &App) -> i64 {
    count(app, "SELECT COUNT(*) FROM cas_proxy_granting_tickets").await
}

/// A validation path with its parameters encoded.
pub fn validation(endpoint: &str, params: &[(&str, &str)]) -> String {
    let query: Vec<String> =
        params.iter().map(|(name, value)| format!("{name}={}", encode(value))).collect();
    format!("{endpoint}?{}", query.join("&"))
}

/// One element of an answer: its name, attributes and direct text, and its parent's index.
#[derive(Debug, Clone)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub text: String,
    pub parent: Option<usize>,
}

/// A CAS XML answer, read strictly: any XML error fails the test.
#[derive(Debug)]
pub struct CasDoc {
    pub elements: Vec<Element>,
}

fn entity(name: &str) -> String {
    match name {
        "amp" => "&".to_owned(),
        "lt" => "<".to_owned(),
        "gt" => ">".to_owned(),
        "apos" => "'".to_owned(),
        "quot" => "\"".to_owned(),
        other => {
            let code = match other.strip_prefix("#x") {
                Some(hex) => u32::from_str_radix(hex, 16).expect("a character reference"),
                None => other.strip_prefix('#').expect("a known entity").parse().unwrap(),
            };
            char::from_u32(code).expect("a character").to_string()
        }
    }
}

impl CasDoc {
    pub fn parse(body: &str) -> CasDoc {
        let mut reader = quick_xml::Reader::from_str(body);
        let mut elements: Vec<Element> = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        loop {
            let event = reader.read_event().unwrap_or_else(|e| panic!("not XML: {e}\n{body}"));
            match event {
                Event::Start(start) => {
                    elements.push(element_of(&start, stack.last().copied()));
                    stack.push(elements.len() - 1);
                }
                Event::Empty(start) => elements.push(element_of(&start, stack.last().copied())),
                Event::End(_) => {
                    stack.pop().expect("balanced elements");
                }
                Event::Text(text) => {
                    if let Some(&top) = stack.last() {
                        elements[top].text.push_str(&text.xml10_content());
                    } else {
                        assert!(text.trim().is_empty(), "text outside the document: {body}");
                    }
                }
                Event::GeneralRef(reference) => {
                    let top = *stack.last().expect("a reference inside an element");
                    elements[top].text.push_str(&entity(&reference));
                }
                Event::Eof => break,
                Event::Decl(_) => {}
                other => panic!("unexpected XML: {other:?}"),
            }
        }
        assert!(stack.is_empty(), "unclosed elements");
        CasDoc { elements }
    }

    pub fn count(&self, name: &str) -> usize {
        self.elements.iter().filter(|element| element.name == name).count()
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.elements.iter().find(|element| element.name == name).map(|e| e.text.trim().to_owned())
    }

    /// The failure's code, when the answer is a failure.
    pub fn failure_code(&self) -> Option<String> {
        self.elements
            .iter()
            .find(|e| e.name == "cas:authenticationFailure" || e.name == "cas:proxyFailure")
            .and_then(|e| e.attributes.iter().find(|(k, _)| k == "code"))
            .map(|(_, value)| value.clone())
    }

    /// The values of one attribute under `<cas:attributes>`.
    pub fn attribute(&self, name: &str) -> Vec<String> {
        let Some(parent) = self.elements.iter().position(|e| e.name == "cas:attributes") else {
            return Vec::new();
        };
        let name = format!("cas:{name}");
        self.elements
            .iter()
            .filter(|e| e.parent == Some(parent) && e.name == name)
            .map(|e| e.text.clone())
            .collect()
    }
}

fn element_of(start: &quick_xml::events::BytesStart<'_>, parent: Option<usize>) -> Element {
    let name = start.name().as_ref().to_owned();
    let attributes = start
        .attributes()
        .map(|attribute| {
            let attribute = attribute.unwrap();
            let key = attribute.key.as_ref().to_owned();
            (
                key,
                attribute
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .unwrap()
                    .into_owned(),
            )
        })
        .collect();
    Element { name, attributes, text: String::new(), parent }
}

/// Asserts an XML answer is a failure with this code and nothing else.
pub fn assert_failure(reply: &Reply, code: &str) -> CasDoc {
    assert_eq!(reply.status, StatusCode::OK);
    let doc = CasDoc::parse(&reply.body);
    assert_eq!(doc.count("cas:serviceResponse"), 1, "{}", reply.body);
    assert_eq!(doc.count("cas:authenticationFailure"), 1, "{}", reply.body);
    assert_eq!(doc.count("cas:authenticationSuccess"), 0, "{}", reply.body);
    assert_eq!(doc.count("cas:user"), 0, "{}", reply.body);
    assert_eq!(doc.failure_code().as_deref(), Some(code), "{}", reply.body);
    doc
}

/// Asserts an XML answer is a success; returns it.
pub fn assert_success(reply: &Reply) -> CasDoc {
    assert_eq!(reply.status, StatusCode::OK);
    let doc = CasDoc::parse(&reply.body);
    assert_eq!(doc.count("cas:authenticationSuccess"), 1, "{}", reply.body);
    assert_eq!(doc.count("cas:authenticationFailure"), 0, "{}", reply.body);
    doc
}

/// A TLS identity for a loopback callback.
pub struct Identity {
    pub chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    pub key: rustls::pki_types::PrivateKeyDer<'static>,
    /// The PEM of the authority that signed it (the certificate itself when self-signed).
    pub authority_pem: String,
}

/// A self-signed certificate for 127.0.0.1: no client trusts it.
pub fn self_signed() -> Identity {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    Identity {
        chain: vec![certified.cert.der().clone()],
        key: rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into()),
        authority_pem: certified.cert.pem(),
    }
}

/// A certificate for 127.0.0.1 signed by a new test authority, with that authority's PEM.
pub fn from_test_authority() -> Identity {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Autorité de test Préau");
    ca_params.key_usages =
        vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let authority = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();

    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let mut leaf_params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    leaf_params.is_ca = rcgen::IsCa::NoCa;
    leaf_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = leaf_params.signed_by(&leaf_key, &authority).unwrap();
    Identity {
        chain: vec![leaf.der().clone(), authority.der().clone()],
        key: rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        authority_pem: authority.pem(),
    }
}

/// A proxy callback served over TLS on a loopback port: it answers every request with
/// `status` and records each request line it read.
pub struct Callback {
    pub url: String,
    /// TCP connections accepted (TLS handshakes begun).
    pub connections: Arc<std::sync::atomic::AtomicUsize>,
    pub requests: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Callback {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Callback {
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

pub async fn callback(port: u16, identity: Identity, status: u16) -> Callback {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(identity.chain, identity.key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = requests.clone();
    let accepted = connections.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else { return };
            accepted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let acceptor = acceptor.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                let Ok(mut stream) = acceptor.accept(socket).await else { return };
                let mut head = Vec::new();
                let mut buffer = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head);
                let line = text.lines().next().unwrap_or("").to_owned();
                seen.lock().unwrap().push(line);
                let reply = format!(
                    "HTTP/1.1 {status} Statut\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    Callback { url: format!("https://127.0.0.1:{port}/pgt"), connections, requests, task }
}
