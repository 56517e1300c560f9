//! The web tests' harness: the router in process over a fresh database holding the fixture
//! département, requests sent with `oneshot` (no sockets), and helpers to log in. An
//! administrator logs in through the real flow, second factor included: the helpers give them
//! a factor with the known [`TOTP_SECRET`] and type its current code.
#![allow(dead_code, unreachable_pub, unused_imports)]

use std::sync::OnceLock;

use argon2::PasswordHasher;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;
use web::WebConfig;

pub use store::fixtures::{code_for, ids};

/// The password every logged-in fixture person uses.
pub const PASSWORD: &str = "Cheval-Batterie-Agrafe-42";
/// The TOTP secret (base32 of 20 bytes) of the second factor the helpers give people.
pub const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
/// The length of a TOTP step, in seconds.
pub const STEP: i64 = 30;
/// A pre-login form token, sent both as cookie and as hidden field.
pub const PRE_TOKEN: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";
pub const PRE_COOKIE: &str = "__Host-preau_csrf=abcdefghijklmnopqrstuvwxyz0123456789ABCD";
pub const SESSION: &str = "__Host-preau_session";

pub struct App {
    pub router: Router,
    pub store: store::testing::TestStore,
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The `name=value` of a cookie this reply sets.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(|v| v.split(';').next().unwrap_or("").to_owned())
    }
}

fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        argon2::Argon2::default().hash_password(PASSWORD.as_bytes()).unwrap().to_string()
    })
}

/// The TOTP code of a base32 secret at a Unix instant (RFC 6238: HMAC-SHA1, 6 digits, 30 s).
pub fn totp_code(secret: &str, at: i64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    let totp = totp_rs::Builder::new().with_secret(secret).build().unwrap();
    totp.generate(u64::try_from(at).unwrap()).to_string()
}

/// The stored hash of a session cookie (`name=value`).
pub fn session_hash(cookie: &str) -> String {
    use sha2::Digest;
    let value = cookie.split_once('=').map_or(cookie, |(_, value)| value);
    hex::encode(sha2::Sha256::digest(value.as_bytes()))
}

pub fn config() -> WebConfig {
    WebConfig { max_concurrent_hashes: 2, ..WebConfig::default() }
}

pub async fn app() -> App {
    app_with(config()).await
}

pub async fn app_with(config: WebConfig) -> App {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    let router = web::router(store.store.clone(), config);
    App { router, store }
}

/// Percent-encodes a form value.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

impl App {
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Reply { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut request = Request::get(path);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    pub async fn post(&self, path: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Reply {
        let mut request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .header(header::ORIGIN, "http://127.0.0.1:8080");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(form_body(fields))).unwrap()).await
    }

    /// Gives the person the known password (activated account).
    pub async fn set_password(&self, person_id: &str) {
        self.store.change_password(person_id, password_hash(), None).await.unwrap();
    }

    /// Tries to log in with the pre-login token.
    pub async fn try_login(&self, login: &str, password: &str) -> Reply {
        let fields = [("csrf_token", PRE_TOKEN), ("login", login), ("password", password)];
        self.post("/connexion", Some(PRE_COOKIE), &fields).await
    }

    /// Sets the known password and logs in: returns the session cookie (`name=value`). A
    /// person who must pass a second factor (administrators) is given one with [`TOTP_SECRET`]
    /// if they have none, and types its code.
    pub async fn login_as(&self, person_id: &str, login: &str) -> String {
        self.set_password(person_id).await;
        let reply = self.try_login(login, PASSWORD).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let cookie = reply.cookie(SESSION).expect("a session cookie");
        if !reply.location().starts_with("/connexion/second-facteur") {
            return cookie;
        }
        self.enrol_second_factor(person_id, &session_hash(&cookie)).await;
        self.pass_second_factor(person_id, &cookie).await
    }

    /// Gives the person a confirmed second factor with [`TOTP_SECRET`] (as a confirmed
    /// enrolment would, without recovery codes), unless they have one; `keep` is the session
    /// kept (the others end, as at a real enrolment).
    pub async fn enrol_second_factor(&self, person_id: &str, keep: &str) {
        if self.store.second_factor(person_id).await.unwrap().is_some() {
            return;
        }
        let now = store::now_unix();
        self.store.start_enrolment(person_id, TOTP_SECRET, now).await.unwrap();
        let confirmation = store::second_factor::Confirmation {
            person_id,
            secret: TOTP_SECRET,
            step: 0,
            recovery_hashes: &[],
            keep_session: keep,
            now,
        };
        self.store.confirm_enrolment(&confirmation).await.unwrap().expect("enrolled");
    }

    /// The code of the person's factor ([`TOTP_SECRET`]) for the earliest step the server
    /// still accepts (one step back at most, after the last used one), if the window has one.
    pub async fn next_code(&self, person_id: &str) -> Option<String> {
        let factor = self.store.second_factor(person_id).await.unwrap().expect("a factor");
        let current = store::now_unix().div_euclid(STEP);
        let step = (current - 1).max(factor.last_step + 1);
        (step <= current + 1).then(|| totp_code(TOTP_SECRET, step * STEP))
    }

    /// Passes the second factor of a waiting session (its cookie) through the form, with the
    /// next code the server accepts: returns the whole session's cookie. When this person
    /// logged in so often that the window has no code left, the session is completed in the
    /// store instead, as the form would.
    pub async fn pass_second_factor(&self, person_id: &str, cookie: &str) -> String {
        let page = self.get("/connexion/second-facteur?next=/accueil", Some(cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let csrf = hidden_token(&page.body);
        // A step may end between the code and its check: one more try then.
        for _ in 0..2 {
            let Some(code) = self.next_code(person_id).await else { break };
            let fields = [("csrf_token", csrf.as_str()), ("code", &code), ("next", "/accueil")];
            let reply = self.post("/connexion/second-facteur", Some(cookie), &fields).await;
            if reply.status == StatusCode::SEE_OTHER {
                return reply.cookie(SESSION).expect("the whole session's cookie");
            }
        }
        let id = format!("{SESSION}=t{}", store::new_id().replace('-', ""));
        let now = store::now_unix();
        let completed = self
            .store
            .complete_second_factor(
                &session_hash(cookie),
                &session_hash(&id),
                &csrf,
                now,
                now + 3600,
            )
            .await
            .unwrap();
        assert!(completed, "the waiting session is completed");
        id
    }

    /// The session's form token, read from the settings page.
    pub async fn csrf(&self, cookie: &str) -> String {
        let page = self.get("/parametres", Some(cookie)).await;
        assert_eq!(page.status, StatusCode::OK);
        hidden_token(&page.body)
    }
}

/// The value of the first `csrf_token` hidden field of a page.
pub fn hidden_token(body: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = body.find(marker).expect("a csrf field") + marker.len();
    body[start..].split('"').next().unwrap().to_owned()
}
