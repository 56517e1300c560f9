//! Préau's OpenID Connect provider used by a relying-party library nobody here wrote: Authlib
//! from PyPI (`scripts/oidc_rp.py`) against the real `preau serve` binary on a fresh database.
//! Authlib reads the discovery document (and checks it with its metadata rules), builds the
//! authorization URL with PKCE S256, a state and a nonce; a browser session logs in through
//! Préau's login form; the code comes back to the registered redirect URI with `state` and
//! `iss`; Authlib exchanges it with HTTP Basic client authentication, the ID token is verified
//! against the JWKS and checked (`iss`, `aud`, `nonce`, `exp`, `at_hash`) by Authlib's rules,
//! userinfo answers, and the refresh token is used once (a second use is refused).
//!
//! The test command installs Authlib and requests (`scripts/test.sh`); without them the test
//! fails and says so.

mod mail_common;

use std::process::Command;

use argon2::PasswordHasher;
use domain::profile::Profile;
use domain::sso::{Attribute, Principal, Protocol, UrlMatch};
use mail_common::{Server, fixture_db, ids, scripts_dir};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use store::sso::admin::NewService;

const PASSWORD: &str = "Cheval-Batterie-Agrafe-42";
const CLIENT_ID: &str = "cahier-de-textes";
const CLIENT_SECRET: &str = "secret-du-cahier-de-textes-0123456789";
/// Where the application would listen: nothing needs to, the relying party stops at the
/// redirect and reads its Location (a port of this test's range, on the loopback).
const REDIRECT_URI: &str = "http://127.0.0.1:18201/oidc/callback";

/// Runs `scripts/oidc_rp.py` with `python3`, else `/usr/bin/python3`; fails with the reason
/// when neither has Authlib.
fn authlib_round_trip(server: &Server) -> Value {
    let script = scripts_dir().join("oidc_rp.py");
    let args = [
        script.display().to_string(),
        "--server".to_owned(),
        server.base_url(),
        "--client-id".to_owned(),
        CLIENT_ID.to_owned(),
        "--client-secret".to_owned(),
        CLIENT_SECRET.to_owned(),
        "--redirect-uri".to_owned(),
        REDIRECT_URI.to_owned(),
        "--login".to_owned(),
        "alice.martin".to_owned(),
        "--password".to_owned(),
        PASSWORD.to_owned(),
    ];
    let mut missing = Vec::new();
    for python in ["python3", "/usr/bin/python3"] {
        let output = match Command::new(python).args(&args).env_remove("PYTHONPATH").output() {
            Ok(output) => output,
            Err(error) => {
                missing.push(format!("{python}: {error}"));
                continue;
            }
        };
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if output.status.code() == Some(3) {
            missing.push(format!("{python}: {}", stderr.trim()));
            continue;
        }
        assert!(
            output.status.success(),
            "the Authlib round trip failed: {stderr}\nserver log:\n{}",
            server.logs()
        );
        return serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!("{error}: {}", String::from_utf8_lossy(&output.stdout))
        });
    }
    panic!(
        "Python with the PyPI packages authlib and requests is missing: run bash \
         scripts/test.sh, which installs them (or pip install authlib requests) ({})",
        missing.join("; ")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_completes_the_code_flow_with_pkce_and_validates_the_id_token() {
    let db = fixture_db().await;
    let client = NewService {
        name: "Cahier de textes".to_owned(),
        protocol: Protocol::Oidc,
        school_id: None,
        principal: Principal::Opaque,
        attributes: vec![Attribute::LastName, Attribute::FirstName, Attribute::Categories],
        require_second_factor: false,
        allow_proxy: false,
        client_id: Some(CLIENT_ID.to_owned()),
        client_secret_hash: Some(hex::encode(Sha256::digest(CLIENT_SECRET.as_bytes()))),
        urls: vec![(UrlMatch::Exact, REDIRECT_URI.to_owned())],
        logout_urls: Vec::new(),
        schools: Vec::new(),
        profiles: vec![Profile::Pupil, Profile::Relative, Profile::Teacher, Profile::Staff],
    };
    db.store.register_service(Some(ids::AGNES), &client).await.unwrap();
    let hash = argon2::Argon2::default().hash_password(PASSWORD.as_bytes()).unwrap().to_string();
    db.store.change_password(ids::ALICE, &hash, None).await.unwrap();
    let server = Server::start(&db, "oidc-interop", &[]).await;

    let read = authlib_round_trip(&server);
    let issuer = server.base_url();
    assert_eq!(read["issuer"], issuer.as_str(), "{read}");
    assert_eq!(read["iss_in_authorization_response"], issuer.as_str(), "RFC 9207: {read}");
    assert_eq!(read["state_returned"], true, "{read}");
    assert_eq!(read["token_type"], "Bearer", "{read}");

    let header = &read["id_token_header"];
    assert_eq!(header["alg"], "RS256", "{read}");
    assert!(header["kid"].as_str().is_some_and(|kid| !kid.is_empty()), "{read}");
    let claims = &read["id_token_claims"];
    assert_eq!(claims["iss"], issuer.as_str(), "{read}");
    assert_eq!(claims["aud"], CLIENT_ID, "{read}");
    assert!(claims["nonce"].as_str().is_some_and(|nonce| nonce.len() >= 16), "{read}");
    let sub = claims["sub"].as_str().unwrap_or_default();
    assert!(sub.len() == 32 && sub.bytes().all(|b| b.is_ascii_hexdigit()), "opaque: {read}");
    assert_eq!(claims["family_name"], "Martin", "{read}");
    assert_eq!(claims["given_name"], "Alice", "{read}");
    assert_eq!(claims["categories"], json!(["National_1"]), "{read}");
    assert_eq!(claims["amr"], json!(["pwd"]), "{read}");
    assert!(claims.get("birthdate").is_none(), "not released by the registry: {read}");

    // The validation is real: Authlib refused what it had to.
    for control in ["wrong_nonce_refused", "wrong_audience_refused", "altered_signature_refused"] {
        assert_eq!(read["validation_controls"][control], true, "{control}: {read}");
    }

    assert_eq!(read["userinfo"]["sub"], sub, "{read}");
    assert_eq!(read["userinfo"]["family_name"], "Martin", "{read}");
    assert_eq!(read["refreshed"], true, "{read}");
    assert_eq!(read["second_use_of_refresh_token"], "invalid_grant", "{read}");

    // Nothing secret was logged: no code, token or client secret in the server's log.
    let logs = server.logs();
    assert!(!logs.contains(CLIENT_SECRET));
    assert!(!logs.contains(PASSWORD));
    assert!(!logs.contains("eyJ"), "no JWT in the log");
}
