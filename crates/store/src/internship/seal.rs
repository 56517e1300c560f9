//! The seal of a signed agreement and its verification.
//!
//! **Keys.** The département's Ed25519 key pairs live in `internship_seal_keys` (PKCS#8 in
//! base64, the raw public key in hex); the first seal creates one. A key's id is the first 16
//! hex digits of the SHA-256 of its public key. Old keys stay, so what they sealed still
//! verifies.
//!
//! **The seal.** A signed agreement's PDF (`formats::agreement_pdf::render_signed`) gets one
//! more line after its last `%%EOF`: `%PREAU-SEAL <payload>.<signature>` and a line feed, where
//! `<payload>` is the base64url (no padding) of a JSON object (`SealPayload`: the key id, the
//! agreement and its version, the SHA-256 of every byte before the seal line, the SHA-256 of the
//! frozen document the parties signed, the roles that had to sign, the signature log and the
//! school's time zone) and `<signature>` the base64url of the Ed25519 signature of
//! `preau-seal-v1\n` followed by the payload's exact bytes. A PDF reader ignores a comment
//! after `%%EOF`; no byte of the document can change without breaking either the hash or the
//! signature, and the strict parsing refuses any other byte after the seal. Nothing in the
//! payload depends on the time of sealing and Ed25519 is deterministic: sealing the same
//! agreement twice with the same key gives the same bytes.
//!
//! **Verification** (`Store::verify_agreement_pdf`) says, with French reasons, whether a file
//! is authentic (a seal signed by a key of the table, over these very bytes), complete (a
//! signature of every required role, each on the frozen document) and known (an agreement of the
//! database was sealed as exactly this file). It never panics, whatever the bytes.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use domain::internship::{AgreementState, SignatoryRole};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::internship::agreements::{AgreementRecord, load_in, required_roles};
use crate::{Store, StoreError, StoreResult, now_unix};

/// What starts the seal line.
pub const SEAL_MARKER: &[u8] = b"%PREAU-SEAL ";

/// What the signature covers before the payload's bytes.
const SIGNING_CONTEXT: &[u8] = b"preau-seal-v1\n";

/// The version of the payload's shape.
const SEAL_FORMAT: u32 = 1;

/// The longest seal line read, in bytes: a seal is a few kilobytes.
const MAX_SEAL_BYTES: usize = 256 * 1024;

/// One signature as the seal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedSignature {
    /// `SignatoryRole` code.
    pub role: String,
    pub name: String,
    /// `session`, `link` or `paper`.
    pub method: String,
    /// Unix seconds.
    pub signed_at: i64,
    pub ip: String,
    pub document_sha256: String,
}

/// Everything the seal signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealPayload {
    pub format: u32,
    pub key_id: String,
    pub agreement_id: String,
    pub version: i64,
    /// The SHA-256 of every byte of the file before the seal line.
    pub pdf_sha256: String,
    /// The SHA-256 of the frozen document the parties signed.
    pub frozen_sha256: String,
    /// The `SignatoryRole` codes that had to sign.
    pub required_roles: Vec<String>,
    pub signatures: Vec<SealedSignature>,
    /// The school's zone, for showing the times.
    pub time_zone: String,
}

/// A signature of the seal, for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    pub role_label: String,
    pub name: String,
    pub method_label: String,
    /// In the school's zone, in French.
    pub signed_at_local: String,
    pub on_frozen_document: bool,
}

/// What a seal whose signature verified says (only what the file itself contains).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealDetails {
    pub key_id: String,
    pub agreement_id: String,
    pub version: i64,
    pub frozen_sha256: String,
    pub signatures: Vec<VerifiedSignature>,
}

/// The verdict on a file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verification {
    /// Sealed by a key of the département, over exactly these bytes.
    pub authentic: bool,
    /// Every party that had to sign did, on the frozen document.
    pub complete: bool,
    /// An agreement of the database was sealed as exactly this file.
    pub known: bool,
    /// The reasons, in French, one sentence each.
    pub explanations: Vec<String>,
    /// The seal's details, when its signature verified.
    pub seal: Option<SealDetails>,
}

/// The French label of a signing method.
pub fn method_label(method: &str) -> &'static str {
    match method {
        "session" => "Session ENT authentifiée",
        "link" => "Lien à usage unique et code reçu par courriel",
        "paper" => {
            "Signature sur papier enregistrée par le collège (scan conservé ; adresse de \
             l'enregistrement)"
        }
        _ => "Méthode inconnue",
    }
}

/// An instant in a zone, in French ("12/05/2025 à 14:03 (Europe/Paris)").
pub fn local_time_fr(unix: i64, time_zone: &str) -> String {
    let (zone, name) = match jiff::tz::TimeZone::get(time_zone) {
        Ok(zone) => (zone, time_zone),
        Err(_) => (jiff::tz::TimeZone::UTC, "UTC"),
    };
    match jiff::Timestamp::from_second(unix) {
        Ok(instant) => {
            let local = instant.to_zoned_datetime(zone);
            format!("{} ({name})", local.strftime("%d/%m/%Y à %H:%M"))
        }
        Err(_) => "date illisible".to_owned(),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn key_id_of(public_key: &[u8]) -> String {
    sha256_hex(public_key)[..16].to_owned()
}

/// The active sealing key, created on first use.
async fn active_key_in(conn: &mut sqlx::AnyConnection) -> StoreResult<(String, Ed25519KeyPair)> {
    let select = "SELECT id, private_pkcs8 FROM internship_seal_keys WHERE active = 1 \
                  ORDER BY created_at, id LIMIT 1";
    let mut row = sqlx::query(select).fetch_optional(&mut *conn).await?;
    if row.is_none() {
        let failed = |_| StoreError::Corrupt("the sealing key could not be generated".to_owned());
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(failed)?;
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
            .map_err(|_| StoreError::Corrupt("the new sealing key is unreadable".to_owned()))?;
        let public = pair.public_key().as_ref().to_vec();
        sqlx::query(
            "INSERT INTO internship_seal_keys (id, private_pkcs8, public_key, active, created_at) \
             VALUES ($1, $2, $3, 1, $4)",
        )
        .bind(key_id_of(&public))
        .bind(STANDARD.encode(pkcs8.as_ref()))
        .bind(hex::encode(&public))
        .bind(now_unix())
        .execute(&mut *conn)
        .await?;
        tracing::info!(key.id = %key_id_of(&public), "internship sealing key created");
        row = sqlx::query(select).fetch_optional(&mut *conn).await?;
    }
    let Some(row) = row else {
        return Err(StoreError::Corrupt("no sealing key".to_owned()));
    };
    let id: String = row.try_get(0)?;
    let pkcs8: String = row.try_get(1)?;
    let der = STANDARD
        .decode(pkcs8.as_bytes())
        .map_err(|_| StoreError::Corrupt(format!("sealing key {id} is not base64")))?;
    let pair = Ed25519KeyPair::from_pkcs8(&der)
        .map_err(|_| StoreError::Corrupt(format!("sealing key {id} is unreadable")))?;
    Ok((id, pair))
}

/// The seal line of a payload.
fn seal_line(payload: &SealPayload, pair: &Ed25519KeyPair) -> StoreResult<Vec<u8>> {
    let json = serde_json::to_vec(payload)
        .map_err(|error| StoreError::Corrupt(format!("seal not serialised: {error}")))?;
    let mut message = SIGNING_CONTEXT.to_vec();
    message.extend_from_slice(&json);
    let signature = pair.sign(&message);

    let mut line = SEAL_MARKER.to_vec();
    line.extend_from_slice(URL_SAFE_NO_PAD.encode(&json).as_bytes());
    line.push(b'.');
    line.extend_from_slice(URL_SAFE_NO_PAD.encode(signature.as_ref()).as_bytes());
    line.push(b'\n');
    Ok(line)
}

/// The document and its seal line, when the file ends with one.
fn split_seal(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut needle = vec![b'\n'];
    needle.extend_from_slice(SEAL_MARKER);
    let start = bytes.windows(needle.len()).rposition(|window| window == needle.as_slice())? + 1;
    Some((&bytes[..start], &bytes[start..]))
}

/// The payload's JSON bytes and the signature, read strictly from a seal line.
fn parse_seal_line(line: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
    let refused = |reason: &str| format!("Le sceau est illisible : {reason}.");
    if line.len() > MAX_SEAL_BYTES {
        return Err(refused("il est trop long"));
    }
    let body = line
        .strip_prefix(SEAL_MARKER)
        .and_then(|rest| rest.strip_suffix(b"\n"))
        .ok_or_else(|| refused("il ne se termine pas par une fin de ligne"))?;
    let dot = body.iter().position(|&b| b == b'.').ok_or_else(|| refused("sa forme est fausse"))?;
    let (payload, signature) = (&body[..dot], &body[dot + 1..]);
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| refused("son contenu n'est pas en base64url"))?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| refused("sa signature n'est pas en base64url"))?;
    Ok((json, signature))
}

impl Store {
    /// Renders the signed agreement (the frozen pages and the signature log) of an agreement in
    /// state `signed`, without any check of who asks: for the sealing path.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Conflict`] when it is not signed by all, or a
    /// database fault.
    pub async fn render_signed_agreement(&self, agreement_id: &str) -> StoreResult<Vec<u8>> {
        self.render_signed_checked(agreement_id, true).await
    }

    async fn render_signed_checked(&self, agreement_id: &str, check: bool) -> StoreResult<Vec<u8>> {
        let mut conn = self.pool().acquire().await?;
        let record = load_in(&mut conn, agreement_id).await?.ok_or(StoreError::NotFound)?;
        if check {
            check_sealable(&record)?;
        }
        let zone = school_zone_in(&mut conn, &record.school_id).await?;

        let lines: Vec<formats::agreement_pdf::SignatureLine> = record
            .signatures
            .iter()
            .map(|signature| formats::agreement_pdf::SignatureLine {
                role_label: signature.role.label_fr().to_owned(),
                signer_name: signature.signer_name.clone(),
                method_label: method_label(&signature.method).to_owned(),
                signed_at_local: local_time_fr(signature.signed_at, &zone),
                ip: signature.ip.clone(),
                document_sha256: signature.document_sha256.clone(),
            })
            .collect();
        formats::agreement_pdf::render_signed(&record.content, &record.id, record.version, &lines)
            .map_err(|reason| StoreError::Corrupt(format!("agreement {agreement_id}: {reason}")))
    }

    /// Renders and seals a signed agreement: the sealed bytes (also recorded as its
    /// `sealed_sha256`).
    ///
    /// # Errors
    /// As [`Store::render_signed_agreement`] and [`Store::seal_pdf`].
    pub async fn seal_agreement(&self, agreement_id: &str) -> StoreResult<Vec<u8>> {
        let pdf = self.render_signed_agreement(agreement_id).await?;
        self.seal_pdf(agreement_id, pdf).await
    }

    /// Appends the département's seal to the PDF of a signed agreement and records the
    /// SHA-256 of the sealed file. The signature log of the seal is read from the database
    /// (the valid signatures of the current version), never from the caller.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`] when the agreement is not signed by
    /// every party or changed meanwhile; a database fault.
    pub async fn seal_pdf(&self, agreement_id: &str, pdf: Vec<u8>) -> StoreResult<Vec<u8>> {
        self.seal_checked(agreement_id, pdf, true).await
    }

    async fn seal_checked(
        &self,
        agreement_id: &str,
        pdf: Vec<u8>,
        check: bool,
    ) -> StoreResult<Vec<u8>> {
        let mut tx = self.begin_write().await?;
        let record = load_in(&mut tx, agreement_id).await?.ok_or(StoreError::NotFound)?;
        if check {
            check_sealable(&record)?;
        }
        let zone = school_zone_in(&mut tx, &record.school_id).await?;
        let (key_id, pair) = active_key_in(&mut tx).await?;

        let mut sealed = pdf;
        if sealed.last() != Some(&b'\n') {
            sealed.push(b'\n');
        }
        let payload = SealPayload {
            format: SEAL_FORMAT,
            key_id,
            agreement_id: record.id.clone(),
            version: record.version,
            pdf_sha256: sha256_hex(&sealed),
            frozen_sha256: record.document_sha256.clone().unwrap_or_default(),
            required_roles: record
                .required_roles()
                .into_iter()
                .map(|role| role.as_str().to_owned())
                .collect(),
            signatures: record
                .signatures
                .iter()
                .map(|signature| SealedSignature {
                    role: signature.role.as_str().to_owned(),
                    name: signature.signer_name.clone(),
                    method: signature.method.clone(),
                    signed_at: signature.signed_at,
                    ip: signature.ip.clone(),
                    document_sha256: signature.document_sha256.clone(),
                })
                .collect(),
            time_zone: zone,
        };
        sealed.extend_from_slice(&seal_line(&payload, &pair)?);
        let sealed_sha256 = sha256_hex(&sealed);

        let updated = sqlx::query(
            "UPDATE internship_agreements SET sealed_sha256 = $3, \
             sealed_at = COALESCE(sealed_at, $4), updated_at = $4 \
             WHERE id = $1 AND version = $2 AND state = 'signed'",
        )
        .bind(&record.id)
        .bind(record.version)
        .bind(&sealed_sha256)
        .bind(now_unix())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(StoreError::Conflict(
                "La convention a changé pendant le scellement.".to_owned(),
            ));
        }
        tx.commit().await?;
        tracing::info!(agreement.id = %record.id, version = record.version, "agreement sealed");
        Ok(sealed)
    }

    /// Records where the sealed file of an agreement is kept, when it is still the sealed
    /// file of record (its SHA-256 is `sealed_sha256`).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the agreement changed since it was sealed; a database
    /// fault.
    pub async fn record_sealed_file(
        &self,
        agreement_id: &str,
        file_key: &str,
        sealed_sha256: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE internship_agreements SET sealed_file_key = $2 \
             WHERE id = $1 AND sealed_sha256 = $3 AND state = 'signed'",
        )
        .bind(agreement_id)
        .bind(file_key)
        .bind(sealed_sha256)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(StoreError::Conflict(
                "La convention a changé depuis son scellement.".to_owned(),
            ));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Whether a file is a sealed agreement of the département, unaltered and signed by every
    /// party, with French reasons. Any bytes are accepted.
    ///
    /// # Errors
    /// Only a database fault; a bad file is a verdict, not an error.
    pub async fn verify_agreement_pdf(&self, bytes: &[u8]) -> StoreResult<Verification> {
        let mut verdict = Verification::default();
        let Some((document, line)) = split_seal(bytes) else {
            verdict.explanations.push(
                "Ce fichier ne porte pas de sceau de Préau : ce n'est pas une convention signée \
                 et scellée par le Département, ou son sceau a été retiré."
                    .to_owned(),
            );
            return Ok(verdict);
        };
        let (json, signature) = match parse_seal_line(line) {
            Ok(parts) => parts,
            Err(reason) => {
                verdict.explanations.push(reason);
                return Ok(verdict);
            }
        };

        let keys = sqlx::query("SELECT id, public_key FROM internship_seal_keys")
            .fetch_all(self.pool())
            .await?;
        let mut message = SIGNING_CONTEXT.to_vec();
        message.extend_from_slice(&json);
        let mut signer = None;
        for row in &keys {
            let id: String = row.try_get(0)?;
            let public: String = row.try_get(1)?;
            let Ok(public) = hex::decode(public) else { continue };
            if UnparsedPublicKey::new(&ED25519, &public).verify(&message, &signature).is_ok() {
                signer = Some(id);
                break;
            }
        }
        let Some(signer) = signer else {
            verdict.explanations.push(
                "Le sceau n'a pas été produit par une clé du Département : le fichier a été \
                 modifié ou ne vient pas de Préau."
                    .to_owned(),
            );
            return Ok(verdict);
        };
        let payload: SealPayload = match serde_json::from_slice(&json) {
            Ok(payload) => payload,
            Err(_) => {
                verdict.explanations.push("Le contenu du sceau est illisible.".to_owned());
                return Ok(verdict);
            }
        };
        if payload.format != SEAL_FORMAT || payload.key_id != signer {
            verdict.explanations.push("Le sceau n'est pas d'une forme connue.".to_owned());
            return Ok(verdict);
        }
        verdict.seal = Some(details_of(&payload));

        if sha256_hex(document) != payload.pdf_sha256 {
            verdict.explanations.push(
                "Le document a été modifié après son scellement : son empreinte ne correspond \
                 plus à celle du sceau."
                    .to_owned(),
            );
            return Ok(verdict);
        }
        verdict.authentic = true;
        verdict.explanations.push(
            "Le sceau du Département est valide et le document n'a pas été modifié depuis."
                .to_owned(),
        );

        let record = self.sealed_record(&payload.agreement_id, &sha256_hex(bytes)).await?;
        verdict.known = record.is_some();
        if verdict.known {
            verdict
                .explanations
                .push("Ce fichier est la convention scellée enregistrée dans Préau.".to_owned());
        } else {
            verdict.explanations.push(
                "Aucune convention de Préau n'est enregistrée avec ce fichier scellé : elle a pu \
                 être modifiée depuis, ce qui annule les signatures."
                    .to_owned(),
            );
        }

        let required: Vec<String> = match &record {
            Some(record) => {
                required_roles(&record.content).iter().map(|r| r.as_str().to_owned()).collect()
            }
            None => payload.required_roles.clone(),
        };
        let missing: Vec<String> = required
            .iter()
            .filter(|role| {
                !payload.signatures.iter().any(|signature| {
                    &signature.role == *role && signature.document_sha256 == payload.frozen_sha256
                })
            })
            .map(|role| role_label(role))
            .collect();
        let frozen_mismatch = record.as_ref().is_some_and(|record| {
            record.document_sha256.as_deref() != Some(payload.frozen_sha256.as_str())
        });
        verdict.complete =
            missing.is_empty() && !frozen_mismatch && !payload.frozen_sha256.is_empty();
        if verdict.complete {
            verdict
                .explanations
                .push("La convention est complète : toutes les parties l'ont signée.".to_owned());
        } else if !missing.is_empty() {
            verdict.explanations.push(format!(
                "La convention est incomplète : il manque la signature de {}.",
                missing.join(", ")
            ));
        } else {
            verdict.explanations.push(
                "La convention est incomplète : les signatures ne portent pas sur le document \
                 figé."
                    .to_owned(),
            );
        }
        Ok(verdict)
    }

    /// The agreement `id` when it is signed and was sealed as a file of this SHA-256.
    async fn sealed_record(
        &self,
        agreement_id: &str,
        sealed_sha256: &str,
    ) -> StoreResult<Option<AgreementRecord>> {
        let mut conn = self.pool().acquire().await?;
        let known = sqlx::query(
            "SELECT id FROM internship_agreements \
             WHERE id = $1 AND sealed_sha256 = $2 AND state = 'signed'",
        )
        .bind(agreement_id)
        .bind(sealed_sha256)
        .fetch_optional(&mut *conn)
        .await?;
        if known.is_none() {
            return Ok(None);
        }
        load_in(&mut conn, agreement_id).await
    }

    /// Seals an agreement whatever its signatures, as a faulty or older Préau could have: for
    /// the tests of verification.
    #[cfg(feature = "testing")]
    pub async fn fixture_seal_unchecked(&self, agreement_id: &str) -> StoreResult<Vec<u8>> {
        let pdf = self.render_signed_checked(agreement_id, false).await?;
        self.seal_checked(agreement_id, pdf, false).await
    }

    /// Puts an agreement in another state (a code of `AgreementState`), for tests.
    #[cfg(feature = "testing")]
    pub async fn fixture_set_agreement_state(
        &self,
        agreement_id: &str,
        state: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE internship_agreements SET state = $2 WHERE id = $1")
            .bind(agreement_id)
            .bind(state)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets the seal of an agreement, as a change of its content does, for tests.
    #[cfg(feature = "testing")]
    pub async fn fixture_forget_seal(&self, agreement_id: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE internship_agreements SET sealed_sha256 = NULL, sealed_file_key = NULL \
             WHERE id = $1",
        )
        .bind(agreement_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A signed agreement with the given content and signatures of the given roles, written
    /// straight into the database (an application of the pupil to a bakery offer), for tests.
    /// Returns its id.
    #[cfg(feature = "testing")]
    pub async fn fixture_signed_agreement(
        &self,
        content: &domain::internship::AgreementContent,
        signed_roles: &[SignatoryRole],
    ) -> StoreResult<String> {
        use crate::fixtures::internship::FixtureOffer;

        let offer = self.fixture_offer(&FixtureOffer::bakery("Boulangerie scellée")).await?;
        let now = now_unix();
        let application_id = crate::new_id();
        let agreement_id = crate::new_id();
        let mut tx = self.begin_write().await?;
        let school_id: String = sqlx::query("SELECT id FROM schools ORDER BY id LIMIT 1")
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let school_id =
            if content.school_id.is_empty() { school_id } else { content.school_id.clone() };
        let taken: i64 = sqlx::query("SELECT COUNT(*) FROM internship_applications")
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        sqlx::query(
            "INSERT INTO internship_applications \
             (id, offer_id, pupil_id, school_id, iso_week, state, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'confirmed', $6, $6)",
        )
        .bind(&application_id)
        .bind(&offer)
        .bind(&content.pupil_id)
        .bind(&school_id)
        .bind(format!("{}-W{:02}", 2031 + taken / 50, taken % 50 + 1))
        .bind(now)
        .execute(&mut *tx)
        .await?;

        let version = 1;
        let frozen = formats::agreement_pdf::render_frozen(content, &agreement_id, version)
            .map_err(StoreError::Corrupt)?;
        let frozen_sha256 = sha256_hex(&frozen);
        let json = serde_json::to_string(content)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;
        sqlx::query(
            "INSERT INTO internship_agreements (id, application_id, school_id, state, content, \
             version, document_sha256, frozen_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $8)",
        )
        .bind(&agreement_id)
        .bind(&application_id)
        .bind(&school_id)
        .bind(AgreementState::Signed.as_str())
        .bind(&json)
        .bind(version)
        .bind(&frozen_sha256)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for (index, role) in signed_roles.iter().enumerate() {
            sqlx::query(
                "INSERT INTO internship_signatures (id, agreement_id, role, version, \
                 document_sha256, signer_name, method, ip, signed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'session', '127.0.0.1', $7)",
            )
            .bind(crate::new_id())
            .bind(&agreement_id)
            .bind(role.as_str())
            .bind(version)
            .bind(&frozen_sha256)
            .bind(format!("Signataire {}", role.label_fr()))
            .bind(now + index as i64)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(agreement_id)
    }
}

/// Only a signed agreement whose every required party signed the frozen document is sealed.
fn check_sealable(record: &AgreementRecord) -> StoreResult<()> {
    if record.state != AgreementState::Signed {
        return Err(StoreError::Conflict(
            "Seule une convention signée par tous peut être scellée.".to_owned(),
        ));
    }
    let frozen = record.document_sha256.as_deref().unwrap_or_default();
    let missing = record.required_roles().into_iter().any(|role| {
        !record
            .signatures
            .iter()
            .any(|signature| signature.role == role && signature.document_sha256 == frozen)
    });
    if missing || frozen.is_empty() {
        return Err(StoreError::Conflict(
            "Une signature manque : la convention ne peut pas être scellée.".to_owned(),
        ));
    }
    Ok(())
}

async fn school_zone_in(conn: &mut sqlx::AnyConnection, school_id: &str) -> StoreResult<String> {
    let zone: Option<String> = sqlx::query("SELECT time_zone FROM schools WHERE id = $1")
        .bind(school_id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| row.try_get(0))
        .transpose()?;
    Ok(zone.unwrap_or_else(|| "Europe/Paris".to_owned()))
}

fn role_label(code: &str) -> String {
    SignatoryRole::parse(code).map_or_else(|| code.to_owned(), |role| role.label_fr().to_owned())
}

fn details_of(payload: &SealPayload) -> SealDetails {
    SealDetails {
        key_id: payload.key_id.clone(),
        agreement_id: payload.agreement_id.clone(),
        version: payload.version,
        frozen_sha256: payload.frozen_sha256.clone(),
        signatures: payload
            .signatures
            .iter()
            .map(|signature| VerifiedSignature {
                role_label: role_label(&signature.role),
                name: signature.name.clone(),
                method_label: method_label(&signature.method).to_owned(),
                signed_at_local: local_time_fr(signature.signed_at, &payload.time_zone),
                on_frozen_document: signature.document_sha256 == payload.frozen_sha256,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seal_line_parses_strictly() {
        assert!(parse_seal_line(b"%PREAU-SEAL e30.AAAA\n").is_ok());
        assert!(parse_seal_line(b"%PREAU-SEAL e30.AAAA").is_err(), "no line feed");
        assert!(parse_seal_line(b"%PREAU-SEAL e30.AAAA\n\n").is_err(), "a byte more");
        assert!(parse_seal_line(b"%PREAU-SEAL e30=.AAAA\n").is_err(), "padding");
        assert!(parse_seal_line(b"%PREAU-SEAL e30\n").is_err(), "no signature");
        assert!(split_seal(b"%PDF-1.7\n%%EOF\n").is_none());
        let (document, line) = split_seal(b"%%EOF\n%PREAU-SEAL x.y\n").unwrap();
        assert_eq!(document, b"%%EOF\n");
        assert_eq!(line, b"%PREAU-SEAL x.y\n");
    }

    #[test]
    fn times_are_shown_in_the_school_zone() {
        assert_eq!(local_time_fr(0, "Europe/Paris"), "01/01/1970 à 01:00 (Europe/Paris)");
        assert_eq!(local_time_fr(0, "Nowhere/Else"), "01/01/1970 à 00:00 (UTC)");
    }
}
