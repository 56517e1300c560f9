//! The OpenID Connect provider's state: its signing keys (RS256, generated on first use, rotated
//! by age, published until what they signed has expired), the authorization requests that wait
//! for a login, single-use authorization codes bound to an application, a redirect URI and a
//! PKCE challenge, grants with their rotated refresh tokens (a token used twice revokes its whole
//! family; so does a code used twice), and access tokens known by their `jti` so that they can
//! be revoked. Codes and tokens are stored only as their SHA-256.
//!
//! JWTs are signed here with the private key (aws-lc-rs, from its PKCS#8) and verified with
//! `jsonwebtoken` against the published public keys, the algorithm being the key's own, never
//! the token header's. What goes into a token (claims) and the HTTP side are the web crate's.

use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::directory::membership_clock;
use crate::sso::service_allows_sql;
use crate::{Backend, Store, StoreError, StoreResult, now_unix};

/// The signing algorithm of ID tokens and access tokens (the one OpenID Connect requires every
/// relying party to support).
pub const SIGNING_ALG: &str = "RS256";

/// The longest token or code looked up; anything longer is refused before any lookup.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// How long the provider's codes, tokens and keys live. The defaults are the strict profile of
/// RFC 9700: a code lives one minute, an access token ten, a refresh token family thirty days
/// at most and two weeks without use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OidcPolicy {
    /// An authorization code, from its issue to its exchange.
    pub code_ttl: Duration,
    /// An access token (and an ID token).
    pub access_token_ttl: Duration,
    /// A refresh token that is not used (each use issues the next one).
    pub refresh_idle: Duration,
    /// A grant (the family of refresh tokens of one code exchange), whatever its use.
    pub refresh_absolute: Duration,
    /// An authorization request waiting for the person to log in.
    pub request_ttl: Duration,
    /// The age past which the signing key is replaced by a new one.
    pub key_max_age: Duration,
}

impl Default for OidcPolicy {
    fn default() -> OidcPolicy {
        OidcPolicy {
            code_ttl: Duration::from_secs(60),
            access_token_ttl: Duration::from_secs(10 * 60),
            refresh_idle: Duration::from_secs(14 * 24 * 3600),
            refresh_absolute: Duration::from_secs(30 * 24 * 3600),
            request_ttl: Duration::from_secs(15 * 60),
            key_max_age: Duration::from_secs(90 * 24 * 3600),
        }
    }
}

/// Seconds of a duration, for arithmetic on Unix seconds.
fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

impl OidcPolicy {
    /// An access token's (and an ID token's) life, in seconds.
    pub fn access_token_secs(&self) -> i64 {
        secs(self.access_token_ttl)
    }
}

/// How long a superseded key stays published after the last token it signed expires, in
/// seconds: the leeway of relying parties' clocks.
const PUBLISH_MARGIN: i64 = 5 * 60;

/// How long a revoked grant is kept, in seconds: a replay of its code or refresh tokens meanwhile
/// is still recognised as one.
const REVOKED_KEPT: i64 = 24 * 3600;

/// The key that signs now. Its private half never leaves this type (and `Debug` omits it).
pub struct SigningKey {
    pub kid: String,
    pkcs8: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A compact JWS (RS256) of these claims, with this `typ` (`JWT` for an ID token, `at+jwt`
    /// for an access token, RFC 9068) and the key's `kid` in its header.
    ///
    /// # Errors
    /// A stored key that does not parse (`StoreError::Corrupt`).
    pub fn sign(&self, typ: &str, claims: &Value) -> StoreResult<String> {
        let header = json!({ "alg": SIGNING_ALG, "typ": typ, "kid": self.kid });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let pair = RsaKeyPair::from_pkcs8(&self.pkcs8)
            .map_err(|_| StoreError::Corrupt("signing key does not parse".to_owned()))?;
        let mut signature = vec![0; pair.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        pair.sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut signature)
            .map_err(|_| StoreError::Corrupt("signing failed".to_owned()))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// What a JWT presented to the provider must be.
#[derive(Debug, Clone)]
pub struct JwtExpectation<'a> {
    /// The issuer (the site's base URL).
    pub issuer: &'a str,
    /// The header's `typ`, compared without case and without an `application/` prefix.
    pub typ: &'a str,
    /// The audience it must name, if one is required.
    pub audience: Option<&'a str>,
    /// Whether an expired token is refused (an `id_token_hint` may have expired).
    pub check_expiry: bool,
}

/// An authorization request that waits for the person to log in (or to pass their second
/// factor) before it is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRequest {
    pub service_id: String,
    /// The checked parameters, as the web layer wrote them (JSON).
    pub parameters: String,
    /// The session that was there when the request started, if any: a forced login
    /// (`prompt=login`, `max_age`) is answered only by a session opened after `started_at`,
    /// other than this one.
    pub session_hash: Option<String>,
    pub started_at: i64,
}

/// An authorization code to issue.
#[derive(Debug, Clone)]
pub struct NewCode<'a> {
    pub service_id: &'a str,
    pub person_id: &'a str,
    pub session_hash: &'a str,
    /// The exact redirect URI of the request: the exchange must name it again.
    pub redirect_uri: &'a str,
    /// The PKCE S256 challenge.
    pub code_challenge: &'a str,
    /// The granted scopes, space-separated.
    pub scope: &'a str,
    pub nonce: Option<&'a str>,
    /// When the person presented their password for the session.
    pub auth_time: i64,
    /// Whether the session passed a second factor.
    pub second_factor: bool,
}

/// A code exchange at the token endpoint, for an authenticated client.
#[derive(Debug, Clone)]
pub struct CodeExchange<'a> {
    pub code: &'a str,
    /// The application the client authenticated as.
    pub service_id: &'a str,
    pub redirect_uri: &'a str,
    pub code_verifier: &'a str,
}

/// A grant: what one code exchange started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: String,
    pub service_id: String,
    pub person_id: String,
    pub session_hash: String,
    /// Space-separated.
    pub scope: String,
    pub auth_time: i64,
    pub second_factor: bool,
    /// The grant's absolute end.
    pub expires_at: i64,
}

/// What a successful exchange or refresh issues: the new refresh token (its value, to hand
/// over once) and the `jti` of the access token to sign.
#[derive(Debug, Clone)]
pub struct Issued {
    pub grant: Grant,
    /// The nonce of the authorization request (code exchange only).
    pub nonce: Option<String>,
    pub refresh_token: String,
    pub access_jti: String,
    /// When the access token expires.
    pub access_expires_at: i64,
}

/// Why a code or a refresh token gives nothing (the client is told `invalid_grant` either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantRefusal {
    /// Unknown, expired, revoked, or bound to something else than what was presented.
    Invalid,
    /// Used before: what it produced has been revoked.
    Replayed,
}

/// The grant behind a live access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGrant {
    pub grant_id: String,
    pub service_id: String,
    pub person_id: String,
    pub scope: String,
}

/// What a sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OidcSweep {
    pub requests: u64,
    pub codes: u64,
    pub grants: u64,
    pub access_tokens: u64,
    pub keys: u64,
}

/// A new random token (256 bits, URL-safe base64, 43 characters): codes, refresh tokens and
/// resume tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a code or token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The PKCE S256 challenge of a verifier (RFC 7636): `BASE64URL(SHA256(verifier))`.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The `sid` of a session in an application's ID tokens: derived from the session's stored hash
/// and the application, so that it names the session to that application without being usable
/// as its cookie, and two applications cannot join their opaque identifiers through it.
pub fn session_sid(session_hash: &str, service_id: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(b"preau-oidc-sid\0");
    digest.update(session_hash.as_bytes());
    digest.update(b"\0");
    digest.update(service_id.as_bytes());
    hex::encode(&digest.finalize()[..16])
}

/// A PKCS#8 DER key as PEM text, as it is stored.
fn pem_of(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    pem
}

/// The DER inside a stored PEM key.
fn der_of(pem: &str) -> StoreResult<Vec<u8>> {
    let body: String =
        pem.lines().filter(|line| !line.starts_with("-----")).map(str::trim).collect();
    STANDARD.decode(body).map_err(|_| StoreError::Corrupt("signing key is not PEM".to_owned()))
}

/// A big-endian unsigned integer without its leading zero bytes, URL-safe base64 (a JWK's `n`
/// and `e`).
fn jwk_integer(bytes: &[u8]) -> String {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len().saturating_sub(1));
    URL_SAFE_NO_PAD.encode(&bytes[first..])
}

/// A new RSA key: its PKCS#8 (PEM) and its public JWK, whose `kid` is its RFC 7638 thumbprint.
// FIXME(#6): the private key is stored in the database as plain PKCS#8: a key-encryption key
// from the configuration (or an HSM) would keep a copy of the database from yielding it.
fn generate_rsa_key() -> StoreResult<(String, String, Value)> {
    let failed = |_| StoreError::Corrupt("RSA key generation failed".to_owned());
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(failed)?;
    let pkcs8 = pair.as_der().map_err(failed)?;
    let public = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
    let n = jwk_integer(&public.n);
    let e = jwk_integer(&public.e);
    // RFC 7638: the required members, in lexicographic order, without spaces.
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
    let jwk = json!({ "kty": "RSA", "use": "sig", "alg": SIGNING_ALG, "kid": kid, "n": n, "e": e });
    Ok((kid, pem_of(pkcs8.as_ref()), jwk))
}

/// Whether a JWT header's `typ` is the expected one (RFC 9068 §4 allows `application/at+jwt`).
fn typ_matches(sent: Option<&str>, expected: &str) -> bool {
    let Some(sent) = sent else { return false };
    let sent = sent.to_ascii_lowercase();
    let sent = sent.strip_prefix("application/").unwrap_or(&sent);
    sent == expected.to_ascii_lowercase()
}

impl Store {
    /// The key that signs now. The first call draws one; a key older than
    /// `policy.key_max_age` is replaced first (see [`Store::oidc_rotate_key`]).
    ///
    /// # Errors
    /// Database errors, or a key that cannot be generated or read.
    pub async fn oidc_signing_key(&self, policy: &OidcPolicy) -> StoreResult<SigningKey> {
        let now = now_unix();
        if let Some(key) = self.active_key(now.saturating_sub(secs(policy.key_max_age))).await? {
            return Ok(key);
        }
        self.rotate_key(policy, false).await?;
        self.active_key(i64::MIN)
            .await?
            .ok_or_else(|| StoreError::Corrupt("no signing key after rotation".to_owned()))
    }

    /// The newest key that is not superseded, if it was created after `born_after`.
    async fn active_key(&self, born_after: i64) -> StoreResult<Option<SigningKey>> {
        let row = sqlx::query(
            "SELECT kid, private_key FROM oidc_keys WHERE superseded_at IS NULL \
             AND created_at > $1 ORDER BY created_at DESC, kid LIMIT 1",
        )
        .bind(born_after)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let pem: String = row.try_get("private_key")?;
        Ok(Some(SigningKey { kid: row.try_get("kid")?, pkcs8: der_of(&pem)? }))
    }

    /// Replaces the signing key now, whatever its age: a new key signs from now on; the
    /// previous ones stay published until every token they signed has expired. Returns the new
    /// key's `kid`. For the administrator's command, after a suspected leak or on a schedule.
    ///
    /// # Errors
    /// Database errors, or a key that cannot be generated.
    pub async fn oidc_rotate_key(&self, policy: &OidcPolicy) -> StoreResult<String> {
        self.rotate_key(policy, true).await
    }

    async fn rotate_key(&self, policy: &OidcPolicy, forced: bool) -> StoreResult<String> {
        // Drawing an RSA key takes a while: off the async workers, and before any lock.
        let (kid, pem, jwk) = tokio::task::spawn_blocking(generate_rsa_key)
            .await
            .map_err(|_| StoreError::Corrupt("key generation task failed".to_owned()))??;
        let now = now_unix();
        let mut tx = self.begin_write().await?;
        if self.backend() == Backend::Postgres {
            // Instances that find the key too old at the same moment rotate it once.
            sqlx::query("SELECT pg_advisory_xact_lock(8008)").execute(&mut *tx).await?;
        }
        if !forced {
            let fresh: Option<String> = sqlx::query_scalar(
                "SELECT kid FROM oidc_keys WHERE superseded_at IS NULL AND created_at > $1 \
                 ORDER BY created_at DESC LIMIT 1",
            )
            .bind(now.saturating_sub(secs(policy.key_max_age)))
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(fresh) = fresh {
                tx.rollback().await?;
                return Ok(fresh);
            }
        }
        // What the superseded keys signed lives one access token's life at most.
        let publish_until =
            now.saturating_add(policy.access_token_secs()).saturating_add(PUBLISH_MARGIN);
        sqlx::query(
            "UPDATE oidc_keys SET superseded_at = $1, publish_until = $2 \
             WHERE superseded_at IS NULL",
        )
        .bind(now)
        .bind(publish_until)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO oidc_keys (kid, alg, private_key, public_jwk, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&kid)
        .bind(SIGNING_ALG)
        .bind(&pem)
        .bind(jwk.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        crate::accounts::audit_in(&mut tx, "", "oidc_key_rotated", &kid, "").await?;
        tx.commit().await?;
        tracing::info!(key.kid = %kid, forced, "new OpenID Connect signing key");
        Ok(kid)
    }

    /// The public keys to publish (the JWKS): the signing key and the superseded keys whose
    /// tokens may still be presented, newest first.
    pub async fn oidc_public_keys(&self) -> StoreResult<Vec<Value>> {
        let rows = sqlx::query(
            "SELECT public_jwk FROM oidc_keys WHERE publish_until IS NULL OR publish_until > $1 \
             ORDER BY CASE WHEN superseded_at IS NULL THEN 0 ELSE 1 END, created_at DESC, kid",
        )
        .bind(now_unix())
        .fetch_all(self.pool())
        .await?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in rows {
            let text: String = row.try_get("public_jwk")?;
            let jwk: Value = serde_json::from_str(&text)
                .map_err(|_| StoreError::Corrupt("stored JWK is not JSON".to_owned()))?;
            keys.push(jwk);
        }
        Ok(keys)
    }

    /// The claims of a JWT this provider signed, when its signature verifies against a
    /// published key (with that key's algorithm: `alg: none`, HMAC keyed with the public key or
    /// any other header trick fails), and its `typ`, issuer, audience and expiry are as
    /// expected. `None` for anything else.
    pub async fn oidc_verify_jwt(
        &self,
        token: &str,
        expect: &JwtExpectation<'_>,
    ) -> StoreResult<Option<Value>> {
        if token.len() > MAX_TOKEN_LEN {
            return Ok(None);
        }
        let Ok(header) = jsonwebtoken::decode_header(token) else { return Ok(None) };
        if !typ_matches(header.typ.as_deref(), expect.typ) {
            return Ok(None);
        }
        let Some(kid) = header.kid.as_deref() else { return Ok(None) };
        let row = sqlx::query(
            "SELECT alg, public_jwk FROM oidc_keys WHERE kid = $1 \
             AND (publish_until IS NULL OR publish_until > $2)",
        )
        .bind(kid)
        .bind(now_unix())
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let alg: String = row.try_get("alg")?;
        if alg != SIGNING_ALG {
            return Ok(None);
        }
        let text: String = row.try_get("public_jwk")?;
        let jwk: Value = serde_json::from_str(&text)
            .map_err(|_| StoreError::Corrupt("stored JWK is not JSON".to_owned()))?;
        let (Some(n), Some(e)) = (jwk["n"].as_str(), jwk["e"].as_str()) else {
            return Err(StoreError::Corrupt("stored JWK has no n or e".to_owned()));
        };
        let key = jsonwebtoken::DecodingKey::from_rsa_components(n, e)
            .map_err(|_| StoreError::Corrupt("stored JWK does not parse".to_owned()))?;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.leeway = 0;
        validation.validate_exp = expect.check_expiry;
        validation.set_issuer(&[expect.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        match expect.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        Ok(jsonwebtoken::decode::<Value>(token, &key, &validation).ok().map(|data| data.claims))
    }

    /// Keeps an authorization request while the person logs in; returns the token of its
    /// resume URL (only its hash is stored).
    ///
    /// # Errors
    /// Database errors.
    pub async fn oidc_save_request(
        &self,
        service_id: &str,
        parameters: &str,
        session_hash: Option<&str>,
        policy: &OidcPolicy,
    ) -> StoreResult<String> {
        let token = random_token();
        let now = now_unix();
        let _place = self.write_place().await;
        sqlx::query(
            "INSERT INTO oidc_requests (token_hash, service_id, parameters, session_hash, \
             started_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash(&token))
        .bind(service_id)
        .bind(parameters)
        .bind(session_hash.map(str::to_owned))
        .bind(now)
        .bind(now.saturating_add(secs(policy.request_ttl)))
        .execute(self.pool())
        .await?;
        Ok(token)
    }

    /// A waiting authorization request by the token of its resume URL, unless expired.
    pub async fn oidc_pending_request(&self, token: &str) -> StoreResult<Option<PendingRequest>> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT service_id, parameters, session_hash, started_at \
             FROM oidc_requests WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash(token))
        .bind(now_unix())
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(PendingRequest {
            service_id: row.try_get("service_id")?,
            parameters: row.try_get("parameters")?,
            session_hash: row.try_get("session_hash")?,
            started_at: row.try_get("started_at")?,
        }))
    }

    /// Forgets a waiting authorization request once it is answered (a code or an error).
    pub async fn oidc_finish_request(&self, token: &str) -> StoreResult<()> {
        let _place = self.write_place().await;
        sqlx::query("DELETE FROM oidc_requests WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Issues an authorization code; returns its value (only its hash is stored).
    ///
    /// # Errors
    /// Database errors (a session that ended meanwhile fails its foreign key).
    pub async fn oidc_issue_code(
        &self,
        code: &NewCode<'_>,
        policy: &OidcPolicy,
    ) -> StoreResult<String> {
        let value = random_token();
        let now = now_unix();
        let _place = self.write_place().await;
        sqlx::query(
            "INSERT INTO oidc_codes (code_hash, service_id, person_id, session_hash, \
             redirect_uri, code_challenge, scope, nonce, auth_time, second_factor, created_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(token_hash(&value))
        .bind(code.service_id)
        .bind(code.person_id)
        .bind(code.session_hash)
        .bind(code.redirect_uri)
        .bind(code.code_challenge)
        .bind(code.scope)
        .bind(code.nonce.map(str::to_owned))
        .bind(code.auth_time)
        .bind(i64::from(code.second_factor))
        .bind(now)
        .bind(now.saturating_add(secs(policy.code_ttl)))
        .execute(self.pool())
        .await?;
        Ok(value)
    }

    /// Exchanges a code for a new grant, its first refresh token and an access token `jti`.
    /// The code is taken by this attempt whatever its outcome; a code taken before revokes the
    /// grant it produced (RFC 9700 §4.5). The code must be unexpired, issued to this
    /// application for this exact redirect URI, its S256 challenge must match the verifier,
    /// and the person must still be allowed to use the application.
    ///
    /// # Errors
    /// Database errors; refusals are the inner `Err`.
    pub async fn oidc_exchange_code(
        &self,
        exchange: &CodeExchange<'_>,
        policy: &OidcPolicy,
    ) -> StoreResult<Result<Issued, GrantRefusal>> {
        if exchange.code.is_empty() || exchange.code.len() > MAX_TOKEN_LEN {
            return Ok(Err(GrantRefusal::Invalid));
        }
        let code_hash = token_hash(exchange.code);
        let now = now_unix();
        let mut tx = self.begin_write().await?;
        let taken = sqlx::query(
            "UPDATE oidc_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL",
        )
        .bind(&code_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if taken == 0 {
            let revoked = sqlx::query(
                "UPDATE oidc_grants SET revoked_at = $2 WHERE code_hash = $1 \
                 AND revoked_at IS NULL",
            )
            .bind(&code_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let used: Option<i64> =
                sqlx::query_scalar("SELECT 1 FROM oidc_codes WHERE code_hash = $1")
                    .bind(&code_hash)
                    .fetch_optional(&mut *tx)
                    .await?;
            tx.commit().await?;
            if revoked > 0 || used.is_some() {
                tracing::warn!(revoked, "authorization code presented twice");
                return Ok(Err(GrantRefusal::Replayed));
            }
            return Ok(Err(GrantRefusal::Invalid));
        }

        let row = sqlx::query(
            "SELECT service_id, person_id, session_hash, redirect_uri, code_challenge, scope, \
             nonce, auth_time, second_factor, expires_at FROM oidc_codes WHERE code_hash = $1",
        )
        .bind(&code_hash)
        .fetch_one(&mut *tx)
        .await?;
        let service_id: String = row.try_get("service_id")?;
        let person_id: String = row.try_get("person_id")?;
        let redirect_uri: String = row.try_get("redirect_uri")?;
        let challenge: String = row.try_get("code_challenge")?;
        let expires_at: i64 = row.try_get("expires_at")?;
        let bound = expires_at > now
            && service_id == exchange.service_id
            && redirect_uri == exchange.redirect_uri
            && pkce_challenge(exchange.code_verifier) == challenge;
        if !bound || !allowed_in(&mut tx, &service_id, &person_id).await? {
            // The code stays taken: a code that was tried with the wrong verifier, client or
            // redirect URI may have leaked.
            tx.commit().await?;
            tracing::info!(service.id = %exchange.service_id, "authorization code refused");
            return Ok(Err(GrantRefusal::Invalid));
        }

        let grant = Grant {
            id: crate::new_id(),
            service_id,
            person_id,
            session_hash: row.try_get("session_hash")?,
            scope: row.try_get("scope")?,
            auth_time: row.try_get("auth_time")?,
            second_factor: row.try_get::<i64, _>("second_factor")? != 0,
            expires_at: now.saturating_add(secs(policy.refresh_absolute)),
        };
        sqlx::query(
            "INSERT INTO oidc_grants (id, code_hash, service_id, person_id, session_hash, scope, \
             auth_time, second_factor, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&grant.id)
        .bind(&code_hash)
        .bind(&grant.service_id)
        .bind(&grant.person_id)
        .bind(&grant.session_hash)
        .bind(&grant.scope)
        .bind(grant.auth_time)
        .bind(i64::from(grant.second_factor))
        .bind(now)
        .bind(grant.expires_at)
        .execute(&mut *tx)
        .await?;
        let issued = issue_tokens(&mut tx, grant, row.try_get("nonce")?, now, policy).await?;
        tx.commit().await?;
        Ok(Ok(issued))
    }

    /// Exchanges a refresh token for the next one and a new access token `jti` (rotation). A
    /// refresh token used before revokes its whole grant (RFC 9700 §4.14.2), and so does one
    /// presented by another application; an expired or revoked grant, or a person no longer
    /// allowed to use the application, gives nothing.
    ///
    /// # Errors
    /// Database errors; refusals are the inner `Err`.
    pub async fn oidc_refresh(
        &self,
        refresh_token: &str,
        service_id: &str,
        policy: &OidcPolicy,
    ) -> StoreResult<Result<Issued, GrantRefusal>> {
        if refresh_token.is_empty() || refresh_token.len() > MAX_TOKEN_LEN {
            return Ok(Err(GrantRefusal::Invalid));
        }
        let hash = token_hash(refresh_token);
        let now = now_unix();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT r.expires_at AS token_expires_at, r.used_at, g.id, g.service_id, \
             g.person_id, g.session_hash, g.scope, g.auth_time, g.second_factor, g.expires_at, \
             g.revoked_at FROM oidc_refresh_tokens r JOIN oidc_grants g ON g.id = r.grant_id \
             WHERE r.token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(Err(GrantRefusal::Invalid)) };
        let grant = Grant {
            id: row.try_get("id")?,
            service_id: row.try_get("service_id")?,
            person_id: row.try_get("person_id")?,
            session_hash: row.try_get("session_hash")?,
            scope: row.try_get("scope")?,
            auth_time: row.try_get("auth_time")?,
            second_factor: row.try_get::<i64, _>("second_factor")? != 0,
            expires_at: row.try_get("expires_at")?,
        };
        let revoked_at: Option<i64> = row.try_get("revoked_at")?;
        let used_at: Option<i64> = row.try_get("used_at")?;
        let token_expires_at: i64 = row.try_get("token_expires_at")?;

        if used_at.is_some() || grant.service_id != service_id {
            revoke_grant_in(&mut tx, &grant.id, now).await?;
            tx.commit().await?;
            tracing::warn!(grant.id = %grant.id, "refresh token replayed: its grant is revoked");
            return Ok(Err(GrantRefusal::Replayed));
        }
        if revoked_at.is_some() || grant.expires_at <= now || token_expires_at <= now {
            return Ok(Err(GrantRefusal::Invalid));
        }
        if !allowed_in(&mut tx, &grant.service_id, &grant.person_id).await? {
            revoke_grant_in(&mut tx, &grant.id, now).await?;
            tx.commit().await?;
            return Ok(Err(GrantRefusal::Invalid));
        }
        let taken = sqlx::query(
            "UPDATE oidc_refresh_tokens SET used_at = $2 WHERE token_hash = $1 \
             AND used_at IS NULL",
        )
        .bind(&hash)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if taken == 0 {
            revoke_grant_in(&mut tx, &grant.id, now).await?;
            tx.commit().await?;
            return Ok(Err(GrantRefusal::Replayed));
        }
        let issued = issue_tokens(&mut tx, grant, None, now, policy).await?;
        tx.commit().await?;
        Ok(Ok(issued))
    }

    /// The grant behind an access token's `jti`, while the token, its grant, the person's
    /// account and their right to use the application all hold.
    pub async fn oidc_access_grant(&self, jti: &str) -> StoreResult<Option<AccessGrant>> {
        if jti.is_empty() || jti.len() > 128 {
            return Ok(None);
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT g.id, g.service_id, g.person_id, g.scope FROM oidc_access_tokens t \
             JOIN oidc_grants g ON g.id = t.grant_id \
             JOIN sso_services s ON s.id = g.service_id \
             JOIN people p ON p.id = g.person_id \
             JOIN accounts a ON a.person_id = g.person_id \
             WHERE t.jti = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 \
             AND g.revoked_at IS NULL AND g.expires_at > $2 \
             AND a.frozen = 0 AND a.activated_at IS NOT NULL AND {}",
            service_allows_sql("$3")
        )))
        .bind(jti)
        .bind(now_unix())
        .bind(membership_clock())
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(AccessGrant {
            grant_id: row.try_get("id")?,
            service_id: row.try_get("service_id")?,
            person_id: row.try_get("person_id")?,
            scope: row.try_get("scope")?,
        }))
    }

    /// Revokes the grant of a refresh token (RFC 7009), when the token belongs to this
    /// application; whether something was revoked.
    pub async fn oidc_revoke_refresh_token(
        &self,
        refresh_token: &str,
        service_id: &str,
    ) -> StoreResult<bool> {
        if refresh_token.is_empty() || refresh_token.len() > MAX_TOKEN_LEN {
            return Ok(false);
        }
        let _place = self.write_place().await;
        let done = sqlx::query(
            "UPDATE oidc_grants SET revoked_at = $3 WHERE revoked_at IS NULL AND service_id = $2 \
             AND id = (SELECT grant_id FROM oidc_refresh_tokens WHERE token_hash = $1)",
        )
        .bind(token_hash(refresh_token))
        .bind(service_id)
        .bind(now_unix())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Revokes one access token by its `jti`, when it belongs to this application.
    pub async fn oidc_revoke_access_token(&self, jti: &str, service_id: &str) -> StoreResult<bool> {
        let _place = self.write_place().await;
        let done = sqlx::query(
            "UPDATE oidc_access_tokens SET revoked_at = $3 WHERE jti = $1 AND revoked_at IS NULL \
             AND grant_id IN (SELECT id FROM oidc_grants WHERE service_id = $2)",
        )
        .bind(jti)
        .bind(service_id)
        .bind(now_unix())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Revokes every grant a browser session started (its logout), and its unused codes;
    /// returns how many grants were revoked.
    pub async fn oidc_end_session(&self, session_hash: &str) -> StoreResult<u64> {
        let now = now_unix();
        let mut tx = self.begin_write().await?;
        let grants = sqlx::query(
            "UPDATE oidc_grants SET revoked_at = $2 WHERE session_hash = $1 \
             AND revoked_at IS NULL",
        )
        .bind(session_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM oidc_codes WHERE session_hash = $1 AND used_at IS NULL")
            .bind(session_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(grants)
    }

    /// Revokes every grant of a person (a changed password, a frozen account); returns how
    /// many.
    pub async fn oidc_revoke_person(&self, person_id: &str) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let revoked = revoke_person_grants_in(&mut tx, person_id, now_unix()).await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// Removes what can no longer be used: expired requests, codes past their life (a used
    /// code stays as long as its grant, through the grant's `code_hash`), grants past their
    /// absolute end, revoked for a day or whose every token has expired (with their refresh
    /// tokens), expired access tokens, and superseded keys no longer published.
    pub async fn oidc_sweep(&self) -> StoreResult<OidcSweep> {
        let now = now_unix();
        let mut tx = self.begin_write().await?;
        let expired = |table: &str| {
            sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE expires_at <= $1"))
        };
        let requests = sqlx::query(expired("oidc_requests")).bind(now).execute(&mut *tx).await?;
        let codes = sqlx::query(expired("oidc_codes")).bind(now).execute(&mut *tx).await?;
        let access_tokens =
            sqlx::query(expired("oidc_access_tokens")).bind(now).execute(&mut *tx).await?;
        let grants = sqlx::query(
            "DELETE FROM oidc_grants WHERE expires_at <= $1 OR revoked_at <= $2 \
             OR (NOT EXISTS (SELECT 1 FROM oidc_refresh_tokens r \
                 WHERE r.grant_id = oidc_grants.id AND r.used_at IS NULL AND r.expires_at > $1) \
             AND NOT EXISTS (SELECT 1 FROM oidc_access_tokens t \
                 WHERE t.grant_id = oidc_grants.id))",
        )
        .bind(now)
        .bind(now.saturating_sub(REVOKED_KEPT))
        .execute(&mut *tx)
        .await?;
        let keys = sqlx::query("DELETE FROM oidc_keys WHERE publish_until <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let sweep = OidcSweep {
            requests: requests.rows_affected(),
            codes: codes.rows_affected(),
            grants: grants.rows_affected(),
            access_tokens: access_tokens.rows_affected(),
            keys: keys.rows_affected(),
        };
        tx.commit().await?;
        Ok(sweep)
    }
}

/// Whether the person may still use the application: enabled, allowed by the registry, their
/// account activated and not frozen.
async fn allowed_in(
    tx: &mut crate::WriteTransaction,
    service_id: &str,
    person_id: &str,
) -> StoreResult<bool> {
    let allowed: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT 1 FROM sso_services s JOIN people p ON p.id = $2 \
         JOIN accounts a ON a.person_id = p.id \
         WHERE s.id = $1 AND a.frozen = 0 AND a.activated_at IS NOT NULL AND {}",
        service_allows_sql("$3")
    )))
    .bind(service_id)
    .bind(person_id)
    .bind(membership_clock())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(allowed.is_some())
}

async fn revoke_grant_in(
    tx: &mut crate::WriteTransaction,
    grant_id: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query("UPDATE oidc_grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
        .bind(grant_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Adds a refresh token and an access token `jti` to a grant.
async fn issue_tokens(
    tx: &mut crate::WriteTransaction,
    grant: Grant,
    nonce: Option<String>,
    now: i64,
    policy: &OidcPolicy,
) -> StoreResult<Issued> {
    let refresh_token = random_token();
    let refresh_expires = now.saturating_add(secs(policy.refresh_idle)).min(grant.expires_at);
    sqlx::query(
        "INSERT INTO oidc_refresh_tokens (token_hash, grant_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash(&refresh_token))
    .bind(&grant.id)
    .bind(now)
    .bind(refresh_expires)
    .execute(&mut **tx)
    .await?;
    let access_jti = random_token();
    let access_expires_at = now.saturating_add(policy.access_token_secs());
    sqlx::query("INSERT INTO oidc_access_tokens (jti, grant_id, expires_at) VALUES ($1, $2, $3)")
        .bind(&access_jti)
        .bind(&grant.id)
        .bind(access_expires_at)
        .execute(&mut **tx)
        .await?;
    Ok(Issued { grant, nonce, refresh_token, access_jti, access_expires_at })
}

/// Revokes every grant of a person inside the transaction of the act that calls for it (a
/// changed password, a new activation code, a frozen account); returns how many.
pub(crate) async fn revoke_person_grants_in(
    conn: &mut sqlx::AnyConnection,
    person_id: &str,
    now: i64,
) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE oidc_grants SET revoked_at = $2 WHERE person_id = $1 AND revoked_at IS NULL",
    )
    .bind(person_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_has_a_different_sid_for_each_application() {
        let one = session_sid("hash-of-the-session", "service-1");
        assert_eq!(one, session_sid("hash-of-the-session", "service-1"), "stable");
        assert_ne!(one, session_sid("hash-of-the-session", "service-2"));
        assert_ne!(one, session_sid("hash-of-another-session", "service-1"));
        assert!(!one.contains("hash-of-the-session"));
    }

    #[test]
    fn the_pkce_challenge_is_rfc_7636_s256() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn typ_is_compared_as_rfc_9068_says() {
        assert!(typ_matches(Some("at+jwt"), "at+jwt"));
        assert!(typ_matches(Some("application/AT+JWT"), "at+jwt"));
        assert!(!typ_matches(Some("JWT"), "at+jwt"));
        assert!(!typ_matches(None, "at+jwt"));
    }

    #[test]
    fn integers_lose_their_leading_zeros_only() {
        assert_eq!(jwk_integer(&[0, 1, 0, 1]), "AQAB");
        assert_eq!(jwk_integer(&[1, 0, 1]), "AQAB");
    }

    #[test]
    fn a_pem_key_reads_back_to_its_der() {
        let der: Vec<u8> = (0..200u8).collect();
        assert_eq!(der_of(&pem_of(&der)).unwrap(), der);
    }
}
