//! The OpenID Connect provider's state in the store: signing keys drawn on first use, rotated by
//! age or on demand, published until what they signed has expired, then retired; JWTs verified
//! only with the published key's own algorithm; codes single use and bound to their
//! application, redirect URI and PKCE challenge, a reused code revoking its grant; refresh
//! tokens rotated, a replay revoking the family, absolute and idle limits; access tokens
//! revocable by `jti`; logout and housekeeping.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::profile::Profile;
use domain::sso::{Attribute, Principal, Protocol, UrlMatch};
use serde_json::{Value, json};
use store::fixtures::ids;
use store::sso::admin::NewService;
use store::sso::oidc::{
    CodeExchange, GrantRefusal, JwtExpectation, NewCode, OidcPolicy, pkce_challenge, token_hash,
};

const REDIRECT: &str = "https://rp.example.fr/callback";
const VERIFIER: &str = "verificateur-pkce-de-test-assez-long-0123456789-abcdefghij";
const ISSUER: &str = "https://ent.example.fr";

struct Setup {
    store: store::testing::TestStore,
    service: String,
    other: String,
    session: String,
}

fn client(client_id: &str, school: Option<&str>) -> NewService {
    NewService {
        name: client_id.to_owned(),
        protocol: Protocol::Oidc,
        school_id: None,
        principal: Principal::Opaque,
        attributes: vec![Attribute::LastName],
        require_second_factor: false,
        allow_proxy: false,
        client_id: Some(client_id.to_owned()),
        client_secret_hash: None,
        urls: vec![(UrlMatch::Exact, REDIRECT.to_owned())],
        logout_urls: Vec::new(),
        schools: school.map(|s| vec![s.to_owned()]).unwrap_or_default(),
        profiles: vec![Profile::Pupil, Profile::Teacher],
    }
}

async fn setup() -> Setup {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store.change_password(ids::ALICE, "$argon2id$unused", None).await.unwrap();
    let service = store.register_service(None, &client("appli", None)).await.unwrap();
    let other = store.register_service(None, &client("autre", None)).await.unwrap();
    let session = token_hash("session-d-alice");
    let now = store::now_unix();
    store.create_session(&session, ids::ALICE, "csrf", now, now + 3600).await.unwrap();
    Setup { store, service, other, session }
}

impl Setup {
    async fn code(&self) -> String {
        let challenge = pkce_challenge(VERIFIER);
        let code = NewCode {
            service_id: &self.service,
            person_id: ids::ALICE,
            session_hash: &self.session,
            redirect_uri: REDIRECT,
            code_challenge: &challenge,
            scope: "openid profile",
            nonce: Some("n-0S6"),
            auth_time: store::now_unix(),
            second_factor: false,
        };
        self.store.oidc_issue_code(&code, &OidcPolicy::default()).await.unwrap()
    }

    async fn exchange(
        &self,
        code: &str,
        service: &str,
        verifier: &str,
    ) -> Result<store::sso::oidc::Issued, GrantRefusal> {
        let exchange = CodeExchange {
            code,
            service_id: service,
            redirect_uri: REDIRECT,
            code_verifier: verifier,
        };
        self.store.oidc_exchange_code(&exchange, &OidcPolicy::default()).await.unwrap()
    }

    async fn refresh(&self, token: &str) -> Result<store::sso::oidc::Issued, GrantRefusal> {
        self.store.oidc_refresh(token, &self.service, &OidcPolicy::default()).await.unwrap()
    }

    async fn live(&self, jti: &str) -> bool {
        self.store.oidc_access_grant(jti).await.unwrap().is_some()
    }
}

fn expectation(audience: Option<&str>) -> JwtExpectation<'_> {
    JwtExpectation { issuer: ISSUER, typ: "at+jwt", audience, check_expiry: true }
}

fn claims(exp_in: i64) -> Value {
    json!({ "iss": ISSUER, "sub": "abc", "aud": "appli", "exp": store::now_unix() + exp_in })
}

#[tokio::test]
async fn the_signing_key_is_drawn_once_and_rotated_by_age_or_on_demand() {
    let setup = setup().await;
    let store = &setup.store;
    let policy = OidcPolicy::default();
    assert!(store.oidc_public_keys().await.unwrap().is_empty());
    let first = store.oidc_signing_key(&policy).await.unwrap();
    assert_eq!(store.oidc_signing_key(&policy).await.unwrap().kid, first.kid, "kept");
    let keys = store.oidc_public_keys().await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kid"], first.kid.as_str());
    assert!(keys[0].get("d").is_none() && keys[0].get("p").is_none(), "public only");
    let stored: i64 = store
        .fixture_count(
            "SELECT COUNT(*) FROM oidc_keys WHERE private_key LIKE '-----BEGIN PRIVATE KEY-----%'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(stored, 1, "the private key is stored as PKCS#8");

    let old_token = first.sign("at+jwt", &claims(600)).unwrap();

    // Older than the configured age: a new key signs, the old one stays published.
    store
        .fixture_execute("UPDATE oidc_keys SET created_at = created_at - 91 * 24 * 3600", &[])
        .await
        .unwrap();
    let second = store.oidc_signing_key(&policy).await.unwrap();
    assert_ne!(second.kid, first.kid);
    let keys = store.oidc_public_keys().await.unwrap();
    let kids: Vec<&str> = keys.iter().filter_map(|k| k["kid"].as_str()).collect();
    assert_eq!(kids, vec![second.kid.as_str(), first.kid.as_str()]);
    assert!(
        store.oidc_verify_jwt(&old_token, &expectation(Some("appli"))).await.unwrap().is_some()
    );

    // A shorter configured age rotates sooner; a forced rotation replaces it at once.
    let short = OidcPolicy { key_max_age: std::time::Duration::from_secs(0), ..policy };
    let third = store.oidc_signing_key(&short).await.unwrap();
    assert_ne!(third.kid, second.kid);
    let forced = store.oidc_rotate_key(&policy).await.unwrap();
    assert_eq!(store.oidc_signing_key(&policy).await.unwrap().kid, forced);
    let audited = store
        .fixture_count("SELECT COUNT(*) FROM audit_log WHERE action = 'oidc_key_rotated'", &[])
        .await
        .unwrap();
    assert_eq!(audited, 4);

    // Retired once everything it signed has expired: no longer published, no longer accepted.
    let publish_until: i64 = store
        .fixture_count("SELECT MIN(publish_until) FROM oidc_keys WHERE kid = $1", &[&first.kid])
        .await
        .unwrap();
    assert!(publish_until >= store::now_unix() + policy.access_token_secs());
    store
        .fixture_execute("UPDATE oidc_keys SET publish_until = 1 WHERE kid = $1", &[&first.kid])
        .await
        .unwrap();
    assert!(
        store.oidc_verify_jwt(&old_token, &expectation(Some("appli"))).await.unwrap().is_none()
    );
    assert_eq!(store.oidc_sweep().await.unwrap().keys, 1);
    assert_eq!(store.oidc_public_keys().await.unwrap().len(), 3);
}

#[tokio::test]
async fn only_genuine_tokens_verify() {
    let setup = setup().await;
    let store = &setup.store;
    let key = store.oidc_signing_key(&OidcPolicy::default()).await.unwrap();
    let good = key.sign("at+jwt", &claims(600)).unwrap();
    assert!(store.oidc_verify_jwt(&good, &expectation(Some("appli"))).await.unwrap().is_some());
    assert!(store.oidc_verify_jwt(&good, &expectation(None)).await.unwrap().is_some());

    let jwk = store.oidc_public_keys().await.unwrap().remove(0);
    let header = |alg: &str| {
        URL_SAFE_NO_PAD.encode(json!({ "alg": alg, "typ": "at+jwt", "kid": key.kid }).to_string())
    };
    let payload = URL_SAFE_NO_PAD.encode(claims(600).to_string());
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let mut hs256 = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs256.kid = Some(key.kid.clone());
    hs256.typ = Some("at+jwt".to_owned());
    let confused = jsonwebtoken::encode(
        &hs256,
        &claims(600),
        &jsonwebtoken::EncodingKey::from_secret(jwk.to_string().as_bytes()).unwrap(),
    )
    .unwrap();
    let confused_n = jsonwebtoken::encode(
        &hs256,
        &claims(600),
        &jsonwebtoken::EncodingKey::from_secret(&n).unwrap(),
    )
    .unwrap();
    let mut wrong_kid = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    wrong_kid.kid = Some("inconnu".to_owned());
    let signature = good.rsplit('.').next().unwrap();

    for (what, token, expect) in [
        ("alg none", format!("{}.{payload}.", header("none")), expectation(None)),
        ("alg none, no dot", format!("{}.{payload}", header("none")), expectation(None)),
        ("RS256 header on HS256", confused.clone(), expectation(None)),
        ("HS256 keyed with n", confused_n, expectation(None)),
        (
            "another key's id",
            format!(
                "{}.{payload}.{signature}",
                URL_SAFE_NO_PAD.encode(serde_json::to_string(&wrong_kid).unwrap())
            ),
            expectation(None),
        ),
        (
            "changed claims",
            format!(
                "{}.{}.{signature}",
                header("RS256"),
                URL_SAFE_NO_PAD.encode(claims(9999).to_string())
            ),
            expectation(None),
        ),
        ("wrong audience", good.clone(), expectation(Some("autre"))),
        ("wrong typ", good.clone(), JwtExpectation { typ: "JWT", ..expectation(None) }),
        (
            "wrong issuer",
            good.clone(),
            JwtExpectation { issuer: "https://evil.tld", ..expectation(None) },
        ),
        ("expired", key.sign("at+jwt", &claims(-1)).unwrap(), expectation(None)),
        ("oversized", format!("{good}{}", "A".repeat(10_000)), expectation(None)),
        ("empty", String::new(), expectation(None)),
    ] {
        assert!(store.oidc_verify_jwt(&token, &expect).await.unwrap().is_none(), "{what}");
    }
    let expired = key.sign("JWT", &claims(-100)).unwrap();
    let hint = JwtExpectation { typ: "JWT", check_expiry: false, ..expectation(None) };
    assert!(store.oidc_verify_jwt(&expired, &hint).await.unwrap().is_some(), "a logout hint");
}

#[tokio::test]
async fn a_code_is_used_once_by_its_application_with_its_verifier() {
    let setup = setup().await;
    let code = setup.code().await;
    let stored = setup
        .store
        .fixture_count(
            "SELECT COUNT(*) FROM oidc_codes WHERE code_hash = $1",
            &[&token_hash(&code)],
        )
        .await
        .unwrap();
    assert_eq!(stored, 1, "only the hash is stored");

    let issued = setup.exchange(&code, &setup.service, VERIFIER).await.unwrap();
    assert_eq!(issued.nonce.as_deref(), Some("n-0S6"));
    assert_eq!(issued.grant.person_id, ids::ALICE);
    assert_eq!(issued.grant.scope, "openid profile");
    assert!(setup.live(&issued.access_jti).await);

    // A second use is refused and revokes what the first gave.
    assert_eq!(
        setup.exchange(&code, &setup.service, VERIFIER).await.err(),
        Some(GrantRefusal::Replayed)
    );
    assert!(!setup.live(&issued.access_jti).await);
    assert!(setup.refresh(&issued.refresh_token).await.is_err());

    // Each binding, and the code is taken by the failed attempt.
    for (what, service, verifier) in [
        ("another application", setup.other.as_str(), VERIFIER),
        (
            "another verifier",
            setup.service.as_str(),
            "un-autre-verificateur-assez-long-0123456789-abcdef",
        ),
    ] {
        let code = setup.code().await;
        assert_eq!(
            setup.exchange(&code, service, verifier).await.err(),
            Some(GrantRefusal::Invalid),
            "{what}"
        );
        assert!(setup.exchange(&code, &setup.service, VERIFIER).await.is_err(), "{what}: burned");
    }
    let code = setup.code().await;
    let exchange = CodeExchange {
        code: &code,
        service_id: &setup.service,
        redirect_uri: "https://rp.example.fr/callback/",
        code_verifier: VERIFIER,
    };
    let refused = setup.store.oidc_exchange_code(&exchange, &OidcPolicy::default()).await.unwrap();
    assert_eq!(refused.err(), Some(GrantRefusal::Invalid), "another redirect URI");

    let code = setup.code().await;
    setup
        .store
        .fixture_execute("UPDATE oidc_codes SET expires_at = 1 WHERE used_at IS NULL", &[])
        .await
        .unwrap();
    assert_eq!(
        setup.exchange(&code, &setup.service, VERIFIER).await.err(),
        Some(GrantRefusal::Invalid),
        "expired"
    );
    assert_eq!(
        setup.exchange("inconnu", &setup.service, VERIFIER).await.err(),
        Some(GrantRefusal::Invalid)
    );

    // A person the registry no longer lets in gets nothing.
    let scoped = setup
        .store
        .register_service(None, &client("college-2", Some(ids::SCHOOL_2)))
        .await
        .unwrap();
    let challenge = pkce_challenge(VERIFIER);
    let code = NewCode {
        service_id: &scoped,
        person_id: ids::ALICE,
        session_hash: &setup.session,
        redirect_uri: REDIRECT,
        code_challenge: &challenge,
        scope: "openid",
        nonce: None,
        auth_time: store::now_unix(),
        second_factor: false,
    };
    let code = setup.store.oidc_issue_code(&code, &OidcPolicy::default()).await.unwrap();
    assert_eq!(setup.exchange(&code, &scoped, VERIFIER).await.err(), Some(GrantRefusal::Invalid));
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_replay_revokes_the_family() {
    let setup = setup().await;
    let first = setup.exchange(&setup.code().await, &setup.service, VERIFIER).await.unwrap();
    let second = setup.refresh(&first.refresh_token).await.unwrap();
    assert_eq!(second.grant.id, first.grant.id, "the same family");
    assert_ne!(second.refresh_token, first.refresh_token);
    assert!(second.nonce.is_none());
    let third = setup.refresh(&second.refresh_token).await.unwrap();
    assert!(setup.live(&first.access_jti).await && setup.live(&third.access_jti).await);

    assert_eq!(setup.refresh(&first.refresh_token).await.err(), Some(GrantRefusal::Replayed));
    assert!(setup.refresh(&third.refresh_token).await.is_err(), "the family is revoked");
    assert!(!setup.live(&third.access_jti).await);

    // Presented by another application: the token has leaked, its family is revoked.
    let other = setup.exchange(&setup.code().await, &setup.service, VERIFIER).await.unwrap();
    let stolen =
        setup.store.oidc_refresh(&other.refresh_token, &setup.other, &OidcPolicy::default()).await;
    assert_eq!(stolen.unwrap().err(), Some(GrantRefusal::Replayed));
    assert!(setup.refresh(&other.refresh_token).await.is_err());

    // Limits: idle, then absolute.
    let idle = setup.exchange(&setup.code().await, &setup.service, VERIFIER).await.unwrap();
    setup
        .store
        .fixture_execute(
            "UPDATE oidc_refresh_tokens SET expires_at = 1 WHERE token_hash = $1",
            &[&token_hash(&idle.refresh_token)],
        )
        .await
        .unwrap();
    assert_eq!(setup.refresh(&idle.refresh_token).await.err(), Some(GrantRefusal::Invalid));
    let absolute = setup.exchange(&setup.code().await, &setup.service, VERIFIER).await.unwrap();
    assert!(absolute.grant.expires_at >= store::now_unix() + 29 * 24 * 3600);
    setup
        .store
        .fixture_execute(
            "UPDATE oidc_grants SET expires_at = 1 WHERE id = $1",
            &[&absolute.grant.id],
        )
        .await
        .unwrap();
    assert_eq!(setup.refresh(&absolute.refresh_token).await.err(), Some(GrantRefusal::Invalid));
    assert!(!setup.live(&absolute.access_jti).await);

    // A refresh token never outlives its grant.
    let short = OidcPolicy {
        refresh_absolute: std::time::Duration::from_secs(60),
        ..OidcPolicy::default()
    };
    let code = setup.code().await;
    let exchange = CodeExchange {
        code: &code,
        service_id: &setup.service,
        redirect_uri: REDIRECT,
        code_verifier: VERIFIER,
    };
    let issued = setup.store.oidc_exchange_code(&exchange, &short).await.unwrap().unwrap();
    let until = setup
        .store
        .fixture_count(
            "SELECT expires_at FROM oidc_refresh_tokens WHERE token_hash = $1",
            &[&token_hash(&issued.refresh_token)],
        )
        .await
        .unwrap();
    assert!(until <= issued.grant.expires_at);
}

#[tokio::test]
async fn access_tokens_are_revocable_and_follow_the_account() {
    let setup = setup().await;
    let issued = setup.exchange(&setup.code().await, &setup.service, VERIFIER).await.unwrap();
    let grant = setup.store.oidc_access_grant(&issued.access_jti).await.unwrap().unwrap();
    assert_eq!(
        (grant.service_id.as_str(), grant.person_id.as_str()),
        (setup.service.as_str(), ids::ALICE)
    );

    assert!(
        !setup.store.oidc_revoke_access_token(&issued.access_jti, &setup.other).await.unwrap(),
        "not the other application's"
    );
    assert!(setup.live(&issued.access_jti).await);
    assert!(
        setup.store.oidc_revoke_access_token(&issued.access_jti, &setup.service).await.unwrap()
    );
    assert!(!setup.live(&issued.access_jti).await);
    assert!(setup.refresh(&issued.refresh_token).await.is_ok(), "the grant itself lives on");

    let next = setup.exchange(&setup.code().await, &setup.service, VERIFIER).await.unwrap();
    assert!(
        !setup.store.oidc_revoke_refresh_token(&next.refresh_token, &setup.other).await.unwrap()
    );
    assert!(
        setup.store.oidc_revoke_refresh_token(&next.refresh_token, &setup.service).await.unwrap()
    );
    assert!(!setup.live(&next.access_jti).await, "revoking a refresh token revokes its grant");

    let frozen = setup.exchange(&setup.code().await, &setup.service, VERIFIER).await.unwrap();
    setup
        .store
        .fixture_execute("UPDATE accounts SET frozen = 1 WHERE person_id = $1", &[ids::ALICE])
        .await
        .unwrap();
    assert!(!setup.live(&frozen.access_jti).await);
    assert!(setup.refresh(&frozen.refresh_token).await.is_err());
    setup
        .store
        .fixture_execute("UPDATE accounts SET frozen = 0 WHERE person_id = $1", &[ids::ALICE])
        .await
        .unwrap();
    setup
        .store
        .fixture_execute("UPDATE sso_services SET enabled = 0 WHERE id = $1", &[&setup.service])
        .await
        .unwrap();
    let disabled = setup.store.oidc_access_grant(&frozen.access_jti).await.unwrap();
    assert!(disabled.is_none(), "a disabled application's tokens are dead");
}

#[tokio::test]
async fn logout_revokes_the_session_s_grants_and_housekeeping_sweeps() {
    let setup = setup().await;
    let mine = setup.exchange(&setup.code().await, &setup.service, VERIFIER).await.unwrap();
    let other_session = token_hash("autre-session");
    let now = store::now_unix();
    setup.store.create_session(&other_session, ids::ALICE, "csrf", now, now + 3600).await.unwrap();
    let challenge = pkce_challenge(VERIFIER);
    let code = NewCode {
        service_id: &setup.service,
        person_id: ids::ALICE,
        session_hash: &other_session,
        redirect_uri: REDIRECT,
        code_challenge: &challenge,
        scope: "openid",
        nonce: None,
        auth_time: now,
        second_factor: true,
    };
    let code = setup.store.oidc_issue_code(&code, &OidcPolicy::default()).await.unwrap();
    let theirs = setup.exchange(&code, &setup.service, VERIFIER).await.unwrap();
    assert!(theirs.grant.second_factor);
    let pending = setup.code().await;

    assert_eq!(setup.store.oidc_end_session(&setup.session).await.unwrap(), 1);
    assert!(!setup.live(&mine.access_jti).await);
    assert!(setup.refresh(&mine.refresh_token).await.is_err());
    assert!(setup.live(&theirs.access_jti).await, "another session's grant lives on");
    assert!(setup.exchange(&pending, &setup.service, VERIFIER).await.is_err(), "its codes too");
    assert_eq!(setup.store.oidc_revoke_person(ids::ALICE).await.unwrap(), 1);
    assert!(!setup.live(&theirs.access_jti).await);

    // Waiting requests: kept, found by their token, forgotten once answered or expired.
    let policy = OidcPolicy::default();
    let token = setup.store.oidc_save_request(&setup.service, "{}", None, &policy).await.unwrap();
    let found = setup.store.oidc_pending_request(&token).await.unwrap().unwrap();
    assert_eq!(
        (found.service_id.as_str(), found.parameters.as_str()),
        (setup.service.as_str(), "{}")
    );
    assert!(found.session_hash.is_none());
    setup.store.oidc_finish_request(&token).await.unwrap();
    assert!(setup.store.oidc_pending_request(&token).await.unwrap().is_none());
    let stale = setup
        .store
        .oidc_save_request(&setup.service, "{}", Some(&setup.session), &policy)
        .await
        .unwrap();
    setup.store.fixture_execute("UPDATE oidc_requests SET expires_at = 1", &[]).await.unwrap();
    assert!(setup.store.oidc_pending_request(&stale).await.unwrap().is_none());

    // Housekeeping: what has expired goes, what lives stays.
    setup.store.fixture_execute("UPDATE oidc_codes SET expires_at = 1", &[]).await.unwrap();
    setup.store.fixture_execute("UPDATE oidc_access_tokens SET expires_at = 1", &[]).await.unwrap();
    let sweep = setup.store.oidc_sweep().await.unwrap();
    assert_eq!(sweep.requests, 1);
    assert_eq!(sweep.codes, 2, "the used codes, kept no longer than their life");
    assert_eq!(sweep.access_tokens, 2);
    assert_eq!(sweep.grants, 0, "revoked grants are kept a day");
    setup
        .store
        .fixture_execute("UPDATE oidc_grants SET revoked_at = 1 WHERE revoked_at IS NOT NULL", &[])
        .await
        .unwrap();
    assert_eq!(setup.store.oidc_sweep().await.unwrap().grants, 2);
    for table in
        ["oidc_grants", "oidc_refresh_tokens", "oidc_access_tokens", "oidc_codes", "oidc_requests"]
    {
        let sql: &'static str = match table {
            "oidc_grants" => "SELECT COUNT(*) FROM oidc_grants",
            "oidc_refresh_tokens" => "SELECT COUNT(*) FROM oidc_refresh_tokens",
            "oidc_access_tokens" => "SELECT COUNT(*) FROM oidc_access_tokens",
            "oidc_codes" => "SELECT COUNT(*) FROM oidc_codes",
            _ => "SELECT COUNT(*) FROM oidc_requests",
        };
        assert_eq!(setup.store.fixture_count(sql, &[]).await.unwrap(), 0, "{table}");
    }
}
