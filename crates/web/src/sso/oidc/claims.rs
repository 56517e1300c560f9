//! What the tokens and userinfo say: the registry's released attributes mapped to standard
//! claims (`family_name`, `given_name`, `birthdate` in ISO form, `email`, `address`) and to
//! Préau's own (`categories`, `profil`, `etablissements`), each only when the registry releases
//! it and the client was granted the scope that carries it; the ID token (with `nonce`,
//! `auth_time`, `amr`, `sid`, `at_hash`) and the access token (a JWT, RFC 9068).

use base64::Engine;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use store::sso::oidc::{Issued, session_sid};
use store::sso::{Released, Service};

use domain::sso::Attribute;

use crate::AppState;
use crate::error::AppError;
use crate::sso::oidc::{issuer, policy};

/// Every claim the provider may issue (the discovery document lists them).
pub(crate) const SUPPORTED: [&str; 20] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "amr",
    "sid",
    "at_hash",
    "family_name",
    "given_name",
    "name",
    "birthdate",
    "preferred_username",
    "email",
    "address",
    "categories",
    "profil",
    "etablissements",
];

/// The scope that carries an attribute's claim.
fn scope_of(attribute: Attribute) -> &'static str {
    match attribute {
        Attribute::Email => "email",
        Attribute::PostalCode => "address",
        _ => "profile",
    }
}

/// A `dd/mm/yyyy` date (the form the registry releases) as `yyyy-mm-dd`.
fn iso_date(released: &str) -> Option<String> {
    let mut parts = released.split('/');
    let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
    let date = jiff::civil::Date::new(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?);
    date.ok().map(|date| date.to_string())
}

/// The claims of the released attributes that the granted scopes carry.
pub(crate) fn scope_claims(released: &Released, scopes: &[&str]) -> Map<String, Value> {
    let mut claims = Map::new();
    for (attribute, values) in &released.attributes {
        if !scopes.contains(&scope_of(*attribute)) {
            continue;
        }
        let first = values.first().cloned().unwrap_or_default();
        match attribute {
            Attribute::Login => {
                claims.insert("preferred_username".into(), first.into());
            }
            Attribute::LastName => {
                claims.insert("family_name".into(), first.into());
            }
            Attribute::FirstName => {
                claims.insert("given_name".into(), first.into());
            }
            Attribute::BirthDate => {
                if let Some(date) = iso_date(&first) {
                    claims.insert("birthdate".into(), date.into());
                }
            }
            Attribute::PostalCode => {
                claims.insert("address".into(), json!({ "postal_code": first }));
            }
            Attribute::Categories => {
                claims.insert("categories".into(), json!(values));
            }
            Attribute::Email => {
                claims.insert("email".into(), first.into());
            }
            Attribute::Profile => {
                claims.insert("profil".into(), first.into());
            }
            Attribute::Schools => {
                claims.insert("etablissements".into(), json!(values));
            }
        }
    }
    if let (Some(Value::String(given)), Some(Value::String(family))) =
        (claims.get("given_name"), claims.get("family_name"))
    {
        let name = format!("{given} {family}");
        claims.insert("name".into(), name.into());
    }
    claims
}

/// The authentication methods of a grant (RFC 8176).
fn amr(second_factor: bool) -> Value {
    if second_factor { json!(["pwd", "otp"]) } else { json!(["pwd"]) }
}

/// `at_hash`: the left half of the SHA-256 of the access token, URL-safe base64.
fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// The token response of a code exchange or a refresh (RFC 6749 §5.1): a signed access token,
/// the next refresh token, and an ID token. `scopes` is what this response grants (a refresh
/// may ask for less than the grant holds).
pub(crate) async fn token_response(
    state: &AppState,
    service: &Service,
    issued: &Issued,
    scopes: &[&str],
) -> Result<Value, AppError> {
    let client_id = service.client_id.clone().unwrap_or_default();
    let grant = &issued.grant;
    let released = state.store.release(service, &grant.person_id).await?;
    let key = state.store.oidc_signing_key(&policy(state)).await?;
    let issuer = issuer(state);
    let now = store::now_unix();
    let scope = scopes.join(" ");

    let access_claims = json!({
        "iss": issuer,
        "sub": released.principal,
        "aud": client_id,
        "client_id": client_id,
        "iat": now,
        "exp": issued.access_expires_at,
        "jti": issued.access_jti,
        "scope": scope,
        "auth_time": grant.auth_time,
        "amr": amr(grant.second_factor),
    });
    let access_token = key.sign("at+jwt", &access_claims)?;

    let mut id_claims = scope_claims(&released, scopes);
    id_claims.insert("iss".into(), issuer.into());
    id_claims.insert("sub".into(), released.principal.clone().into());
    id_claims.insert("aud".into(), client_id.into());
    id_claims.insert("iat".into(), now.into());
    id_claims.insert("exp".into(), issued.access_expires_at.into());
    id_claims.insert("auth_time".into(), grant.auth_time.into());
    id_claims.insert("amr".into(), amr(grant.second_factor));
    id_claims.insert("sid".into(), session_sid(&grant.session_hash, &grant.service_id).into());
    id_claims.insert("at_hash".into(), at_hash(&access_token).into());
    if let Some(nonce) = &issued.nonce {
        id_claims.insert("nonce".into(), nonce.clone().into());
    }
    let id_token = key.sign("JWT", &Value::Object(id_claims))?;

    Ok(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": issued.access_expires_at.saturating_sub(now),
        "refresh_token": issued.refresh_token,
        "id_token": id_token,
        "scope": scope,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn released() -> Released {
        Released {
            principal: "abc".to_owned(),
            attributes: vec![
                (Attribute::LastName, vec!["Martin".to_owned()]),
                (Attribute::FirstName, vec!["Alice".to_owned()]),
                (Attribute::BirthDate, vec!["07/03/2013".to_owned()]),
                (Attribute::Email, vec!["a@example.fr".to_owned()]),
                (Attribute::Schools, vec!["0860001A".to_owned(), "0860002B".to_owned()]),
            ],
        }
    }

    #[test]
    fn claims_follow_the_granted_scopes() {
        let only_openid = scope_claims(&released(), &["openid"]);
        assert!(only_openid.is_empty());
        let profile = scope_claims(&released(), &["openid", "profile"]);
        assert_eq!(profile["family_name"], "Martin");
        assert_eq!(profile["birthdate"], "2013-03-07");
        assert_eq!(profile["name"], "Alice Martin");
        assert_eq!(profile["etablissements"], json!(["0860001A", "0860002B"]));
        assert!(!profile.contains_key("email"));
        let email = scope_claims(&released(), &["openid", "email"]);
        assert_eq!(email["email"], "a@example.fr");
    }

    #[test]
    fn at_hash_is_the_left_half_of_sha_256() {
        // OpenID Connect Core §3.1.3.6, with the example of its appendix A.3.
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
