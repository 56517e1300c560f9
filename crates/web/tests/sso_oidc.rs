//! The OpenID Connect provider through its HTTP endpoints, against every attack of
//! `SECURITY.md` §8 item 25 (RFC 9700): redirect URIs that differ by a slash, a parameter, a
//! case or a path refused without a redirect; PKCE required and `plain` refused; a code used
//! twice refused and what it produced revoked; `state` carried untouched; `response_type=token`
//! refused; tokens forged with `alg: none` or HS256 keyed with the public key refused; `iss` in
//! every authorization response (mix-up); refresh rotation with family revocation and
//! lifetimes; client authentication; the registry's schools and second factor; key rotation;
//! `prompt`, `max_age` and the login detour; logout.

mod common;

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{App, PASSWORD, PRE_COOKIE, PRE_TOKEN, Reply, SESSION, app, encode, ids};
use domain::profile::Profile;
use domain::sso::{Attribute, Principal, Protocol, UrlMatch};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use store::sso::admin::NewService;

const ISSUER: &str = "http://127.0.0.1:8080";
const CLIENT: &str = "cahier-de-textes";
const SECRET: &str = "un-secret-de-client-assez-long-0123456789";
const REDIRECT: &str = "https://rp.example.fr/callback";
const AFTER_LOGOUT: &str = "https://rp.example.fr/au-revoir";
const VERIFIER: &str = "verificateur-pkce-de-test-assez-long-0123456789-abcdefghij";

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn client(client_id: &str, secret: Option<&str>) -> NewService {
    NewService {
        name: format!("Application {client_id}"),
        protocol: Protocol::Oidc,
        school_id: None,
        principal: Principal::Opaque,
        attributes: vec![
            Attribute::LastName,
            Attribute::FirstName,
            Attribute::BirthDate,
            Attribute::Email,
            Attribute::Schools,
            Attribute::Categories,
        ],
        require_second_factor: false,
        allow_proxy: false,
        client_id: Some(client_id.to_owned()),
        client_secret_hash: secret.map(|s| hex::encode(Sha256::digest(s.as_bytes()))),
        urls: vec![(UrlMatch::Exact, format!("https://rp.example.fr/{client_id}/callback"))],
        logout_urls: Vec::new(),
        schools: Vec::new(),
        profiles: vec![Profile::Pupil, Profile::Relative, Profile::Teacher, Profile::Staff],
    }
}

/// The fixture, the main confidential client, and Alice logged in (her session cookie).
async fn setup() -> (App, String) {
    let app = app().await;
    let mut main = client(CLIENT, Some(SECRET));
    main.urls = vec![(UrlMatch::Exact, REDIRECT.to_owned())];
    main.logout_urls = vec![AFTER_LOGOUT.to_owned()];
    app.store.register_service(None, &main).await.unwrap();
    let cookie = app.login_as(ids::ALICE, "alice.martin").await;
    (app, cookie)
}

/// An authorization URL: the defaults of a well-behaved client, with `changes` applied (a
/// `None` value removes the parameter).
fn authorize_url(changes: &[(&str, Option<&str>)]) -> String {
    let challenge = challenge(VERIFIER);
    let mut params: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", CLIENT),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile email"),
        ("state", "etat-du-client"),
        ("nonce", "nonce-du-client"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (name, value) in changes {
        params.retain(|(key, _)| key != name);
        if let Some(value) = value {
            params.push(((*name).to_owned(), (*value).to_owned()));
        }
    }
    let query: Vec<String> =
        params.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    format!("/oidc/authorize?{}", query.join("&"))
}

/// The query parameters of a redirect's target.
fn query_of(location: &str) -> HashMap<String, String> {
    let query = location.split_once('?').map_or("", |(_, q)| q);
    serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap().into_iter().collect()
}

/// Follows an authorization URL with a session: the code it gives (asserting a redirect to the
/// registered URI with `iss`).
async fn code_for(app: &App, cookie: &str, url: &str) -> String {
    let reply = app.get(url, Some(cookie)).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
    assert!(reply.location().starts_with(&format!("{REDIRECT}?")), "{}", reply.location());
    let params = query_of(reply.location());
    assert_eq!(params.get("iss").map(String::as_str), Some(ISSUER));
    params.get("code").cloned().unwrap_or_else(|| panic!("no code: {}", reply.location()))
}

/// A back-channel POST (no browser headers), with optional HTTP Basic credentials.
async fn back_channel(
    app: &App,
    path: &str,
    basic: Option<(&str, &str)>,
    fields: &[(&str, &str)],
) -> (StatusCode, Value, Reply) {
    let mut request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .header(header::ORIGIN, "https://rp.example.fr");
    if let Some((id, secret)) = basic {
        let credentials = STANDARD.encode(format!("{}:{}", encode(id), encode(secret)));
        request = request.header(header::AUTHORIZATION, format!("Basic {credentials}"));
    }
    let reply = app.send(request.body(Body::from(common::form_body(fields))).unwrap()).await;
    let value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    (reply.status, value, reply)
}

async fn exchange(app: &App, code: &str, verifier: &str) -> (StatusCode, Value) {
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ];
    let (status, value, reply) =
        back_channel(app, "/oidc/token", Some((CLIENT, SECRET)), &fields).await;
    if status == StatusCode::OK {
        assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    }
    (status, value)
}

async fn refresh(app: &App, refresh_token: &str) -> (StatusCode, Value) {
    let fields = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    let (status, value, _) =
        back_channel(app, "/oidc/token", Some((CLIENT, SECRET)), &fields).await;
    (status, value)
}

/// Tokens for Alice through the whole flow.
async fn tokens(app: &App, cookie: &str) -> Value {
    let code = code_for(app, cookie, &authorize_url(&[])).await;
    let (status, tokens) = exchange(app, &code, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens
}

async fn userinfo(app: &App, authorization: Option<String>) -> Reply {
    let mut request = Request::get("/oidc/userinfo");
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

async fn userinfo_status(app: &App, access_token: &str) -> StatusCode {
    userinfo(app, Some(format!("Bearer {access_token}"))).await.status
}

async fn jwks(app: &App) -> Vec<Value> {
    let reply = app.get("/oidc/jwks", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let value: Value = serde_json::from_str(&reply.body).unwrap();
    value["keys"].as_array().unwrap().clone()
}

fn header_of(token: &str) -> Value {
    let part = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn claims_of(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Verifies a token against the published JWKS with an independent implementation
/// (`jsonwebtoken`), the key chosen by `kid`.
fn verify_with_jwks(token: &str, keys: &[Value], audience: &str) -> Option<Value> {
    let kid = header_of(token)["kid"].as_str()?.to_owned();
    let key = keys.iter().find(|key| key["kid"] == kid.as_str())?;
    let decoding =
        jsonwebtoken::DecodingKey::from_rsa_components(key["n"].as_str()?, key["e"].as_str()?)
            .ok()?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[ISSUER]);
    jsonwebtoken::decode::<Value>(token, &decoding, &validation).ok().map(|data| data.claims)
}

fn assert_refused_page(reply: &Reply, what: &str) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{what}: {}", reply.body);
    assert!(reply.headers.get(header::LOCATION).is_none(), "{what}: no redirect");
    assert!(reply.body.contains("lang=\"fr\""), "{what}: a French page");
    assert!(!reply.body.contains("code="), "{what}");
}

fn assert_error_redirect(reply: &Reply, error: &str, what: &str) {
    assert_eq!(reply.status, StatusCode::FOUND, "{what}: {}", reply.body);
    assert!(reply.location().starts_with(&format!("{REDIRECT}?")), "{what}: {}", reply.location());
    let params = query_of(reply.location());
    assert_eq!(params.get("error").map(String::as_str), Some(error), "{what}");
    assert!(!params.contains_key("code"), "{what}: no code");
    assert_eq!(params.get("iss").map(String::as_str), Some(ISSUER), "{what}: iss (RFC 9207)");
}

#[tokio::test]
async fn discovery_lists_only_what_is_supported() {
    let app = app().await;
    let reply = app.get("/.well-known/openid-configuration", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let document: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(document["issuer"], ISSUER);
    assert_eq!(document["authorization_endpoint"], format!("{ISSUER}/oidc/authorize"));
    assert_eq!(document["response_types_supported"], json!(["code"]));
    assert_eq!(document["grant_types_supported"], json!(["authorization_code", "refresh_token"]));
    assert_eq!(document["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        document["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(document["authorization_response_iss_parameter_supported"], true);
    assert_eq!(document["id_token_signing_alg_values_supported"], json!(["RS256"]));
    assert_eq!(document["end_session_endpoint"], format!("{ISSUER}/oidc/logout"));
    assert_eq!(document["revocation_endpoint"], format!("{ISSUER}/oidc/revoke"));
    for scope in ["openid", "profile", "email"] {
        assert!(document["scopes_supported"].as_array().unwrap().contains(&json!(scope)));
    }

    let keys = jwks(&app).await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kty"], "RSA");
    assert_eq!(keys[0]["alg"], "RS256");
    assert_eq!(keys[0]["use"], "sig");
    assert!(keys[0].get("d").is_none(), "no private part");
    assert_eq!(jwks(&app).await, keys, "the key is kept");
}

#[tokio::test]
async fn the_code_flow_gives_tokens_an_independent_library_verifies() {
    let (app, cookie) = setup().await;
    let tokens = tokens(&app, &cookie).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "openid profile email");
    assert!(tokens["expires_in"].as_i64().unwrap() > 0);
    let keys = jwks(&app).await;

    let id_token = tokens["id_token"].as_str().unwrap();
    let claims = verify_with_jwks(id_token, &keys, CLIENT).expect("the ID token verifies");
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], CLIENT);
    assert_eq!(claims["nonce"], "nonce-du-client");
    assert_eq!(claims["amr"], json!(["pwd"]));
    let sub = claims["sub"].as_str().unwrap();
    assert_eq!(sub.len(), 32, "an opaque identifier");
    assert!(sub.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(sub, ids::ALICE);
    assert!(claims["sid"].as_str().is_some_and(|sid| !sid.is_empty()));
    assert!(claims["auth_time"].as_i64().is_some());
    assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());
    assert_eq!(claims["family_name"], "Martin");
    assert_eq!(claims["given_name"], "Alice");
    assert_eq!(claims["birthdate"], "2013-03-07");
    assert_eq!(claims["categories"], json!(["National_1"]));
    assert!(claims.get("profil").is_none(), "not released by the registry");
    assert_eq!(header_of(id_token)["typ"], "JWT");

    let access_token = tokens["access_token"].as_str().unwrap();
    assert_eq!(header_of(access_token)["typ"], "at+jwt");
    let access = verify_with_jwks(access_token, &keys, CLIENT).expect("the access token verifies");
    assert_eq!(access["sub"], sub);
    assert_eq!(access["client_id"], CLIENT);
    assert!(access["jti"].as_str().is_some());

    let reply = userinfo(&app, Some(format!("Bearer {access_token}"))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    let info: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(info["sub"], sub);
    assert_eq!(info["family_name"], "Martin");
    let post = Request::post("/oidc/userinfo")
        .header(header::AUTHORIZATION, format!("bearer {access_token}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(post).await.status, StatusCode::OK, "POST and any case of the scheme");

    // Only what the scopes ask for.
    let code = code_for(&app, &cookie, &authorize_url(&[("scope", Some("openid"))])).await;
    let (_, narrow) = exchange(&app, &code, VERIFIER).await;
    let claims = claims_of(narrow["id_token"].as_str().unwrap());
    assert!(claims.get("family_name").is_none(), "{claims}");
    assert_eq!(claims["sub"], sub, "the same opaque identifier");
}

#[tokio::test]
async fn redirect_uri_variants_are_refused_without_a_redirect() {
    let (app, cookie) = setup().await;
    for variant in [
        "https://rp.example.fr/callback/",
        "https://rp.example.fr/callback?x=1",
        "https://rp.example.fr/Callback",
        "https://RP.example.fr/callback",
        "https://rp.example.fr/callback/more",
        "https://rp.example.fr/callbackx",
        "http://rp.example.fr/callback",
        "https://rp.example.fr.evil.tld/callback",
        "https://rp.example.fr@evil.tld/callback",
        "https://evil.tld/callback",
        "https://rp.example.fr/%63allback",
        "https://rp.example.fr:443/callback",
        "//rp.example.fr/callback",
    ] {
        let reply =
            app.get(&authorize_url(&[("redirect_uri", Some(variant))]), Some(&cookie)).await;
        assert_refused_page(&reply, variant);
    }
    let missing = app.get(&authorize_url(&[("redirect_uri", None)]), Some(&cookie)).await;
    assert_refused_page(&missing, "no redirect_uri");
    let twice = format!("{}&redirect_uri={}", authorize_url(&[]), encode(REDIRECT));
    assert_refused_page(&app.get(&twice, Some(&cookie)).await, "redirect_uri twice");
    let unknown = app.get(&authorize_url(&[("client_id", Some("inconnu"))]), Some(&cookie)).await;
    assert_refused_page(&unknown, "unknown client");
    let evil = authorize_url(&[("redirect_uri", Some("https://evil.tld/"))]);
    assert_refused_page(&app.get(&evil, None).await, "checked before the login");

    // A disabled application is unknown.
    app.store
        .fixture_execute("UPDATE sso_services SET enabled = 0 WHERE client_id = $1", &[CLIENT])
        .await
        .unwrap();
    assert_refused_page(&app.get(&authorize_url(&[]), Some(&cookie)).await, "disabled");
    let codes = app.store.fixture_count("SELECT COUNT(*) FROM oidc_codes", &[]).await.unwrap();
    assert_eq!(codes, 0, "no code was ever issued");
}

#[tokio::test]
async fn pkce_is_required_and_plain_is_refused() {
    let (app, cookie) = setup().await;
    let plain = [("code_challenge_method", Some("plain")), ("code_challenge", Some(VERIFIER))];
    for (what, changes) in [
        ("no challenge", vec![("code_challenge", None), ("code_challenge_method", None)]),
        ("no method", vec![("code_challenge_method", None)]),
        ("plain", plain.to_vec()),
        ("lower-case method", vec![("code_challenge_method", Some("s256"))]),
        ("malformed challenge", vec![("code_challenge", Some("trop-court"))]),
    ] {
        let reply = app.get(&authorize_url(&changes), Some(&cookie)).await;
        assert_error_redirect(&reply, "invalid_request", what);
        assert_eq!(query_of(reply.location())["state"], "etat-du-client", "{what}");
    }

    // The token endpoint wants the verifier, and the right one.
    let code = code_for(&app, &cookie, &authorize_url(&[])).await;
    let fields =
        [("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)];
    let (status, error, _) =
        back_channel(&app, "/oidc/token", Some((CLIENT, SECRET)), &fields).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let wrong = "un-autre-verificateur-pkce-assez-long-0123456789-abcdefghij";
    let (status, error) = exchange(&app, &code, wrong).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    let (status, _) = exchange(&app, &code, VERIFIER).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a code tried with a wrong verifier is burned");
}

#[tokio::test]
async fn only_the_code_response_type_is_served() {
    let (app, cookie) = setup().await;
    for response_type in ["token", "id_token token", "code id_token", "id_token", "code token"] {
        let reply =
            app.get(&authorize_url(&[("response_type", Some(response_type))]), Some(&cookie)).await;
        assert_error_redirect(&reply, "unsupported_response_type", response_type);
        assert!(!reply.location().contains('#'), "nothing in a fragment");
    }
    let reply = app.get(&authorize_url(&[("response_type", None)]), Some(&cookie)).await;
    assert_error_redirect(&reply, "invalid_request", "no response_type");
    let reply = app.get(&authorize_url(&[("scope", Some("profile email"))]), Some(&cookie)).await;
    assert_error_redirect(&reply, "invalid_scope", "no openid scope");
    let reply =
        app.get(&authorize_url(&[("response_mode", Some("fragment"))]), Some(&cookie)).await;
    assert_error_redirect(&reply, "invalid_request", "fragment response mode");
    let reply = app.get(&authorize_url(&[("request", Some("eyJ.e30."))]), Some(&cookie)).await;
    assert_error_redirect(&reply, "request_not_supported", "request object");
    let twice = format!("{}&scope=openid", authorize_url(&[]));
    assert_error_redirect(&app.get(&twice, Some(&cookie)).await, "invalid_request", "repeated");

    for grant_type in ["password", "client_credentials", "implicit", "urn:x"] {
        let fields =
            [("grant_type", grant_type), ("username", "alice.martin"), ("password", PASSWORD)];
        let (status, error, _) =
            back_channel(&app, "/oidc/token", Some((CLIENT, SECRET)), &fields).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{grant_type}");
        assert_eq!(error["error"], "unsupported_grant_type", "{grant_type}");
    }
}

#[tokio::test]
async fn a_reused_code_is_refused_and_revokes_what_it_gave() {
    let (app, cookie) = setup().await;
    let code = code_for(&app, &cookie, &authorize_url(&[])).await;
    let (status, first) = exchange(&app, &code, VERIFIER).await;
    assert_eq!(status, StatusCode::OK);
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(userinfo_status(&app, access).await, StatusCode::OK);

    let (status, error) = exchange(&app, &code, VERIFIER).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    assert_eq!(userinfo_status(&app, access).await, StatusCode::UNAUTHORIZED);
    let (status, error) = refresh(&app, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
}

#[tokio::test]
async fn state_comes_back_untouched_and_a_replayed_code_fails() {
    let (app, cookie) = setup().await;
    let odd = "a b&c=d/é?%2F+~\"<x>";
    let reply = app.get(&authorize_url(&[("state", Some(odd))]), Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let params = query_of(reply.location());
    assert_eq!(params["state"], odd);
    let code = params["code"].clone();
    let reply = app.get(&authorize_url(&[("state", None)]), Some(&cookie)).await;
    assert!(!query_of(reply.location()).contains_key("state"), "no state, none sent back");

    // The code is redeemed by its client; the same code injected into another session with
    // another state (a replay) finds it used.
    assert_eq!(exchange(&app, &code, VERIFIER).await.0, StatusCode::OK);
    let (status, error) = exchange(&app, &code, VERIFIER).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
}

#[tokio::test]
async fn every_authorization_response_names_the_issuer() {
    let (app, cookie) = setup().await;
    let discovery: Value =
        serde_json::from_str(&app.get("/.well-known/openid-configuration", None).await.body)
            .unwrap();
    let reply = app.get(&authorize_url(&[]), Some(&cookie)).await;
    assert_eq!(query_of(reply.location())["iss"], discovery["issuer"].as_str().unwrap());
    let reply = app.get(&authorize_url(&[("response_type", Some("token"))]), Some(&cookie)).await;
    assert_eq!(query_of(reply.location())["iss"], discovery["issuer"].as_str().unwrap());
    let reply = app.get(&authorize_url(&[("prompt", Some("none"))]), None).await;
    assert_error_redirect(&reply, "login_required", "prompt=none without a session");
}

/// The public key of the JWKS as DER (SubjectPublicKeyInfo) and PEM: what an attacker keys
/// HS256 with.
fn public_key_forms(key: &Value) -> Vec<Vec<u8>> {
    use aws_lc_rs::encoding::AsDer;
    let n = URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(key["e"].as_str().unwrap()).unwrap();
    let components = aws_lc_rs::rsa::PublicKeyComponents { n: n.as_slice(), e: e.as_slice() };
    let der = components.as_der().unwrap().as_ref().to_vec();
    let body = STANDARD.encode(&der);
    let lines: Vec<&str> =
        body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    let pem =
        format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"));
    vec![der, pem.into_bytes(), key.to_string().into_bytes(), n]
}

#[tokio::test]
async fn forged_and_stale_tokens_are_refused_at_userinfo() {
    let (app, cookie) = setup().await;
    let tokens = tokens(&app, &cookie).await;
    let access = tokens["access_token"].as_str().unwrap();
    let claims = claims_of(access);
    let key = jwks(&app).await.remove(0);
    let kid = key["kid"].as_str().unwrap();

    let mut forged = Vec::new();
    // alg: none, with and without a signature part.
    for alg in ["none", "None", "NONE"] {
        let header = json!({ "alg": alg, "typ": "at+jwt", "kid": kid });
        let unsigned = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        forged.push(format!("{unsigned}."));
        forged.push(unsigned);
    }
    // HS256 keyed with the RSA public key, in every form it is published or written.
    for secret in public_key_forms(&key) {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(kid.to_owned());
        header.typ = Some("at+jwt".to_owned());
        let key = jsonwebtoken::EncodingKey::from_secret(&secret).unwrap();
        forged.push(jsonwebtoken::encode(&header, &claims, &key).unwrap());
    }
    // A signature that does not match, claims changed under a valid signature.
    let parts: Vec<&str> = access.split('.').collect();
    let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    signature[10] ^= 1;
    forged.push(format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(signature)));
    let mut other = claims.clone();
    other["sub"] = json!("0123456789abcdef0123456789abcdef");
    forged.push(format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(other.to_string()), parts[2]));
    // The ID token is no access token.
    forged.push(tokens["id_token"].as_str().unwrap().to_owned());
    forged.push("pas-un-jwt".to_owned());
    forged.push("a.b.c".to_owned());

    for token in &forged {
        let reply = userinfo(&app, Some(format!("Bearer {token}"))).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{token}");
        let challenge = reply.headers[header::WWW_AUTHENTICATE].to_str().unwrap();
        assert!(challenge.contains("invalid_token"), "{challenge}");
    }
    let reply = userinfo(&app, None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.headers.contains_key(header::WWW_AUTHENTICATE));

    // Signed by the provider's key but expired; and one whose jti was never issued.
    let signing = app.store.oidc_signing_key(&Default::default()).await.unwrap();
    let mut expired = claims.clone();
    expired["exp"] = json!(store::now_unix() - 5);
    let expired = signing.sign("at+jwt", &expired).unwrap();
    assert_eq!(userinfo_status(&app, &expired).await, StatusCode::UNAUTHORIZED);
    let mut unknown = claims.clone();
    unknown["jti"] = json!("jamais-delivre");
    let unknown = signing.sign("at+jwt", &unknown).unwrap();
    assert_eq!(userinfo_status(&app, &unknown).await, StatusCode::UNAUTHORIZED);

    // Revoked through RFC 7009.
    assert_eq!(userinfo_status(&app, access).await, StatusCode::OK, "the real one passes");
    let (status, _, _) =
        back_channel(&app, "/oidc/revoke", Some((CLIENT, SECRET)), &[("token", access)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(userinfo_status(&app, access).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_replay_revokes_the_family() {
    let (app, cookie) = setup().await;
    let first = tokens(&app, &cookie).await;
    let rt1 = first["refresh_token"].as_str().unwrap();
    let (status, second) = refresh(&app, rt1).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let rt2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(rt1, rt2, "a new refresh token each time");
    let id = claims_of(second["id_token"].as_str().unwrap());
    assert_eq!(id["sub"], claims_of(first["id_token"].as_str().unwrap())["sub"]);
    assert!(id.get("nonce").is_none());
    let access2 = second["access_token"].as_str().unwrap();
    assert_eq!(userinfo_status(&app, access2).await, StatusCode::OK);

    // Fewer scopes may be asked for, never more.
    let fields =
        [("grant_type", "refresh_token"), ("refresh_token", rt2), ("scope", "openid address")];
    let (status, error, _) =
        back_channel(&app, "/oidc/token", Some((CLIENT, SECRET)), &fields).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_scope")));

    // The first token again: refused, and the whole family with it.
    let (status, error) = refresh(&app, rt1).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    assert_eq!(refresh(&app, rt2).await.0, StatusCode::BAD_REQUEST, "the family is revoked");
    assert_eq!(userinfo_status(&app, access2).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        userinfo_status(&app, first["access_token"].as_str().unwrap()).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn refresh_tokens_end_at_their_absolute_and_idle_limits() {
    let (app, cookie) = setup().await;
    let idle = tokens(&app, &cookie).await;
    app.store
        .fixture_execute("UPDATE oidc_refresh_tokens SET expires_at = 1 WHERE used_at IS NULL", &[])
        .await
        .unwrap();
    let (status, error) = refresh(&app, idle["refresh_token"].as_str().unwrap()).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));

    let absolute = tokens(&app, &cookie).await;
    let rt = absolute["refresh_token"].as_str().unwrap();
    let (status, next) = refresh(&app, rt).await;
    assert_eq!(status, StatusCode::OK);
    app.store.fixture_execute("UPDATE oidc_grants SET expires_at = 1", &[]).await.unwrap();
    let (status, _) = refresh(&app, next["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "past the grant's absolute end");
    assert_eq!(
        userinfo_status(&app, next["access_token"].as_str().unwrap()).await,
        StatusCode::UNAUTHORIZED
    );

    // A person who is frozen loses their grants' use at once.
    let fresh = tokens(&app, &cookie).await;
    app.store
        .fixture_execute("UPDATE accounts SET frozen = 1 WHERE person_id = $1", &[ids::ALICE])
        .await
        .unwrap();
    assert_eq!(
        userinfo_status(&app, fresh["access_token"].as_str().unwrap()).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh(&app, fresh["refresh_token"].as_str().unwrap()).await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn clients_authenticate_and_codes_stay_with_their_client() {
    let (app, cookie) = setup().await;
    app.store.register_service(None, &client("autre-appli", Some("autre-secret"))).await.unwrap();
    app.store.register_service(None, &client("appli-publique", None)).await.unwrap();
    let code = code_for(&app, &cookie, &authorize_url(&[])).await;
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];

    let (status, error, reply) =
        back_channel(&app, "/oidc/token", Some((CLIENT, "mauvais-secret")), &fields).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    assert!(reply.headers.contains_key(header::WWW_AUTHENTICATE));
    let (status, _, _) = back_channel(&app, "/oidc/token", None, &fields).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no client at all");
    let mut without_secret = fields.to_vec();
    without_secret.push(("client_id", CLIENT));
    let (status, _, _) = back_channel(&app, "/oidc/token", None, &without_secret).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a confidential client without its secret");
    let mut both = without_secret.clone();
    both.push(("client_secret", SECRET));
    let (status, error, _) = back_channel(&app, "/oidc/token", Some((CLIENT, SECRET)), &both).await;
    assert_eq!(
        (status, error["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );

    // Another application presents the code: refused, and the code is burned.
    let (status, error, _) =
        back_channel(&app, "/oidc/token", Some(("autre-appli", "autre-secret")), &fields).await;
    assert_eq!((status, error["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    let (status, _, _) =
        back_channel(&app, "/oidc/token", Some((CLIENT, SECRET)), &both[..4]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the code was burned");

    // client_secret_post works; a public client uses none, with PKCE.
    let code = code_for(&app, &cookie, &authorize_url(&[])).await;
    let mut post = fields.to_vec();
    post[1] = ("code", code.as_str());
    post.push(("client_id", CLIENT));
    post.push(("client_secret", SECRET));
    let (status, tokens, _) = back_channel(&app, "/oidc/token", None, &post).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");

    let public_redirect = "https://rp.example.fr/appli-publique/callback";
    let url = authorize_url(&[
        ("client_id", Some("appli-publique")),
        ("redirect_uri", Some(public_redirect)),
    ]);
    let reply = app.get(&url, Some(&cookie)).await;
    let code = query_of(reply.location())["code"].clone();
    let public = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", public_redirect),
        ("code_verifier", VERIFIER),
        ("client_id", "appli-publique"),
    ];
    let (status, tokens, _) = back_channel(&app, "/oidc/token", None, &public).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (status, _, _) =
        back_channel(&app, "/oidc/token", Some(("appli-publique", "invente")), &public[..4]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a public client has no secret to present");
}

#[tokio::test]
async fn the_registry_s_schools_and_second_factor_are_honoured() {
    let (app, cookie) = setup().await;
    let mut second_school = client("appli-college-2", None);
    second_school.school_id = Some(ids::SCHOOL_2.to_owned());
    second_school.schools = vec![ids::SCHOOL_2.to_owned()];
    app.store.register_service(None, &second_school).await.unwrap();
    let redirect = "https://rp.example.fr/appli-college-2/callback";
    let url =
        authorize_url(&[("client_id", Some("appli-college-2")), ("redirect_uri", Some(redirect))]);
    let reply = app.get(&url, Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert!(reply.location().starts_with(redirect));
    let params = query_of(reply.location());
    assert_eq!(params["error"], "access_denied", "Alice is in collège 1");
    assert!(!params.contains_key("code"));
    let david = app.login_as(ids::DAVID, "david.martin").await;
    let reply = app.get(&url, Some(&david)).await;
    assert!(query_of(reply.location()).contains_key("code"), "David is in collège 2");

    let mut strict = client("appli-sensible", Some(SECRET));
    strict.require_second_factor = true;
    app.store.register_service(None, &strict).await.unwrap();
    let redirect = "https://rp.example.fr/appli-sensible/callback";
    let url =
        authorize_url(&[("client_id", Some("appli-sensible")), ("redirect_uri", Some(redirect))]);
    let reply = app.get(&url, Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let detour = reply.location().to_owned();
    assert!(
        detour.starts_with("/connexion/second-facteur?next=/oidc/authorize/resume"),
        "{detour}"
    );
    assert!(!detour.contains("code="));
    let prompt_none = app.get(&format!("{url}&prompt=none"), Some(&cookie)).await;
    assert_eq!(query_of(prompt_none.location())["error"], "interaction_required");
    let codes = app
        .store
        .fixture_count(
            "SELECT COUNT(*) FROM oidc_codes WHERE service_id IN \
        (SELECT id FROM sso_services WHERE client_id = $1)",
            &["appli-sensible"],
        )
        .await
        .unwrap();
    assert_eq!(codes, 0, "never a code without the second factor");

    // The session passes its second factor: the kept request is answered.
    app.store
        .fixture_execute(
            "UPDATE sessions SET second_factor_at = created_at WHERE person_id = $1",
            &[ids::ALICE],
        )
        .await
        .unwrap();
    let next = query_of(&detour)["next"].clone();
    let reply = app.get(&next, Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.body);
    let params = query_of(reply.location());
    assert!(reply.location().starts_with(redirect));
    assert_eq!(params["state"], "etat-du-client");
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", params["code"].as_str()),
        ("redirect_uri", redirect),
        ("code_verifier", VERIFIER),
    ];
    let (status, tokens, _) =
        back_channel(&app, "/oidc/token", Some(("appli-sensible", SECRET)), &fields).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(claims_of(tokens["id_token"].as_str().unwrap())["amr"], json!(["pwd", "otp"]));
    assert_eq!(app.get(&next, Some(&cookie)).await.status, StatusCode::BAD_REQUEST, "used once");
}

/// Logs in through the form with a `next`, as a browser does: the new session cookie and the
/// page's answer (a redirect, or a page that refreshes to `next`).
async fn login_with_next(app: &App, next: &str) -> (String, Reply) {
    let fields = [
        ("csrf_token", PRE_TOKEN),
        ("login", "alice.martin"),
        ("password", PASSWORD),
        ("next", next),
    ];
    let reply = app.post("/connexion", Some(PRE_COOKIE), &fields).await;
    let cookie = reply.cookie(SESSION).expect("a session cookie");
    (cookie, reply)
}

#[tokio::test]
async fn the_login_detour_keeps_the_request_and_prompt_login_forces_a_new_login() {
    let (app, cookie) = setup().await;

    // Not logged in: the login page, then the request is answered.
    let reply = app.get(&authorize_url(&[]), None).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let login = reply.location().to_owned();
    assert!(login.starts_with("/connexion?next=/oidc/authorize/resume"), "{login}");
    let next = query_of(&login)["next"].clone();
    let (new_cookie, _) = login_with_next(&app, &next).await;
    let code = code_for(&app, &new_cookie, &next).await;
    assert_eq!(exchange(&app, &code, VERIFIER).await.0, StatusCode::OK);
    drop(cookie);

    // prompt=login with a live session: a new login is required, the old session is not enough.
    let cookie = new_cookie;
    let reply = app.get(&authorize_url(&[("prompt", Some("login"))]), Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let next = query_of(reply.location())["next"].clone();
    let again = app.get(&next, Some(&cookie)).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "the same session does not answer it");
    assert!(again.location().starts_with("/connexion?next="));
    let (fresh, _) = login_with_next(&app, &next).await;
    let code = code_for(&app, &fresh, &next).await;
    let (_, tokens) = exchange(&app, &code, VERIFIER).await;
    let auth_time = claims_of(tokens["id_token"].as_str().unwrap())["auth_time"].as_i64().unwrap();
    assert!(auth_time >= store::now_unix() - 5);

    // max_age: a login older than asked for sends to the login page; a recent one does not.
    app.store
        .fixture_execute("UPDATE sessions SET created_at = created_at - 600", &[])
        .await
        .unwrap();
    let reply = app.get(&authorize_url(&[("max_age", Some("60"))]), Some(&fresh)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.location());
    let reply = app.get(&authorize_url(&[("max_age", Some("3600"))]), Some(&fresh)).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    let reply = app.get(&authorize_url(&[("max_age", Some("-1"))]), Some(&fresh)).await;
    assert_error_redirect(&reply, "invalid_request", "negative max_age");
    let reply = app
        .get(&authorize_url(&[("prompt", Some("none")), ("max_age", Some("60"))]), Some(&fresh))
        .await;
    assert_error_redirect(&reply, "login_required", "prompt=none with an old login");

    let expired = app.get("/oidc/authorize/resume?request=inconnue", Some(&fresh)).await;
    assert_eq!(expired.status, StatusCode::BAD_REQUEST);
    assert!(expired.headers.get(header::LOCATION).is_none());
}

#[tokio::test]
async fn logout_asks_then_ends_the_session_and_its_refresh_tokens() {
    let (app, cookie) = setup().await;
    let tokens = tokens(&app, &cookie).await;
    let hint = tokens["id_token"].as_str().unwrap();
    let url = format!(
        "/oidc/logout?id_token_hint={}&post_logout_redirect_uri={}&state=apres",
        encode(hint),
        encode(AFTER_LOGOUT)
    );

    let page = app.get(&url, Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("action=\"/oidc/logout\""));
    assert!(page.body.contains("Application cahier-de-textes"));
    assert_eq!(
        app.get("/accueil", Some(&cookie)).await.status,
        StatusCode::OK,
        "the GET changed nothing"
    );

    for (what, bad) in [
        (
            "unregistered",
            format!(
                "/oidc/logout?id_token_hint={}&post_logout_redirect_uri={}",
                encode(hint),
                encode("https://evil.tld/")
            ),
        ),
        (
            "no hint",
            format!(
                "/oidc/logout?post_logout_redirect_uri={}&client_id={CLIENT}",
                encode(AFTER_LOGOUT)
            ),
        ),
        (
            "forged hint",
            format!(
                "/oidc/logout?id_token_hint={}.x&post_logout_redirect_uri={}",
                encode(hint),
                encode(AFTER_LOGOUT)
            ),
        ),
    ] {
        let reply = app.get(&bad, Some(&cookie)).await;
        assert_refused_page(&reply, what);
    }

    let csrf = common::hidden_token(&page.body);
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("client_id", CLIENT),
        ("post_logout_redirect_uri", AFTER_LOGOUT),
        ("state", "apres"),
    ];
    let wrong = [("csrf_token", "faux"), ("client_id", CLIENT)];
    assert_eq!(app.post("/oidc/logout", Some(&cookie), &wrong).await.status, StatusCode::FORBIDDEN);
    let done = app.post("/oidc/logout", Some(&cookie), &fields).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let target = format!("{AFTER_LOGOUT}?state=apres");
    assert!(done.body.contains(&format!("content=\"0; url={target}\"")), "{}", done.body);
    assert_eq!(
        app.get("/accueil", Some(&cookie)).await.status,
        StatusCode::SEE_OTHER,
        "logged out"
    );
    let (status, _) = refresh(&app, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the session's refresh tokens are revoked");

    // Without a session there is nothing to confirm: straight back to the application.
    let reply = app.get(&url, None).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), target);
}

#[tokio::test]
async fn tokens_signed_by_a_previous_key_still_verify_after_a_rotation() {
    let (app, cookie) = setup().await;
    let before = tokens(&app, &cookie).await;
    let old_kid = header_of(before["id_token"].as_str().unwrap())["kid"].clone();

    let new_kid = app.store.oidc_rotate_key(&Default::default()).await.unwrap();
    assert_ne!(json!(new_kid), old_kid);
    let after = tokens(&app, &cookie).await;
    assert_eq!(header_of(after["id_token"].as_str().unwrap())["kid"], json!(new_kid));

    let keys = jwks(&app).await;
    assert_eq!(keys.len(), 2, "the previous key is still published");
    assert_eq!(keys[0]["kid"], json!(new_kid), "the signing key first");
    for tokens in [&before, &after] {
        for name in ["id_token", "access_token"] {
            let token = tokens[name].as_str().unwrap();
            assert!(verify_with_jwks(token, &keys, CLIENT).is_some(), "{name}");
        }
    }
    let old_access = before["access_token"].as_str().unwrap();
    assert_eq!(userinfo_status(&app, old_access).await, StatusCode::OK);

    // Once everything the old key signed has expired, it is retired.
    app.store
        .fixture_execute(
            "UPDATE oidc_keys SET publish_until = 1 WHERE superseded_at IS NOT NULL",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(jwks(&app).await.len(), 1);
    assert_eq!(userinfo_status(&app, old_access).await, StatusCode::UNAUTHORIZED);
}
