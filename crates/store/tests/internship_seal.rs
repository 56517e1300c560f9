//! The seal of a signed agreement: a round trip verifies (authentic, complete, known); any
//! single altered byte, in the document or in the seal, fails; a seal from another key, a
//! truncated file, random bytes and a malformed seal fail without panicking; an agreement with
//! a missing signature is refused for sealing and a log without every required role reads as
//! incomplete; a changed agreement is no longer known.

use domain::internship::agreement::GuardianDetails;
use domain::internship::{AgreementContent, SignatoryRole};
use store::fixtures::ids;
use store::fixtures::internship::ids as iids;

async fn fixture() -> store::testing::TestStore {
    let store = store::testing::store().await;
    store.load_fixture().await.unwrap();
    store.load_internship_fixture().await.unwrap();
    store
}

fn content(guardians: usize) -> AgreementContent {
    AgreementContent {
        pupil_id: iids::ZOE.into(),
        pupil_name: "Zoé L'Hôte-Éluard".into(),
        school_id: ids::SCHOOL_1.into(),
        school_name: "Collège 1".into(),
        head_name: "Hélène".into(),
        guardians: (0..guardians)
            .map(|i| GuardianDetails { name: format!("Parent {i}"), ..GuardianDetails::default() })
            .collect(),
        ..AgreementContent::default()
    }
}

fn every_role(guardians: usize) -> Vec<SignatoryRole> {
    SignatoryRole::ALL
        .into_iter()
        .filter(|role| *role != SignatoryRole::Guardian2 || guardians >= 2)
        .collect()
}

async fn sealed(store: &store::Store, guardians: usize) -> (String, Vec<u8>) {
    let id =
        store.fixture_signed_agreement(&content(guardians), &every_role(guardians)).await.unwrap();
    let bytes = store.seal_agreement(&id).await.unwrap();
    (id, bytes)
}

#[tokio::test]
async fn a_sealed_agreement_verifies_and_sealing_again_gives_the_same_bytes() {
    let store = fixture().await;
    let (id, bytes) = sealed(&store, 2).await;

    let verdict = store.verify_agreement_pdf(&bytes).await.unwrap();
    assert!(verdict.authentic && verdict.complete && verdict.known, "{verdict:?}");
    let seal = verdict.seal.expect("details");
    assert_eq!(seal.agreement_id, id);
    assert_eq!(seal.signatures.len(), 7);
    assert!(seal.signatures.iter().all(|s| s.on_frozen_document));
    assert!(seal.signatures[0].signed_at_local.contains("(Europe/Paris)"));

    assert_eq!(store.seal_agreement(&id).await.unwrap(), bytes, "Ed25519 is deterministic");
    let text = String::from_utf8_lossy(&bytes);
    let seal_line = text.rsplit("%%EOF").next().unwrap();
    assert!(seal_line.trim_start().starts_with("%PREAU-SEAL "), "after the last %%EOF");
}

#[tokio::test]
async fn any_altered_byte_fails() {
    let store = fixture().await;
    let (_, bytes) = sealed(&store, 1).await;
    let seal_start = bytes.windows(12).rposition(|w| w == b"%PREAU-SEAL ").unwrap();

    let mut positions: Vec<usize> = (0..bytes.len()).step_by(bytes.len() / 150 + 1).collect();
    positions.extend(seal_start.saturating_sub(3)..bytes.len());
    for position in positions {
        for flip in [0x01u8, 0x80] {
            let mut altered = bytes.clone();
            altered[position] ^= flip;
            let verdict = store.verify_agreement_pdf(&altered).await.unwrap();
            assert!(
                !verdict.authentic,
                "byte {position} (seal at {seal_start}) xor {flip:#x} still verifies"
            );
        }
    }

    let mut longer = bytes.clone();
    longer.push(b'\n');
    assert!(!store.verify_agreement_pdf(&longer).await.unwrap().authentic, "a byte appended");
    let mut prefixed = b" ".to_vec();
    prefixed.extend_from_slice(&bytes);
    assert!(!store.verify_agreement_pdf(&prefixed).await.unwrap().authentic, "a byte prepended");
}

#[tokio::test]
async fn garbage_truncation_and_foreign_seals_fail_without_panicking() {
    let store = fixture().await;
    let (id, bytes) = sealed(&store, 1).await;

    for cut in [0, 1, 100, bytes.len() / 2, bytes.len() - 40, bytes.len() - 1] {
        let verdict = store.verify_agreement_pdf(&bytes[..cut]).await.unwrap();
        assert!(!verdict.authentic && !verdict.complete && !verdict.known, "cut at {cut}");
        assert!(!verdict.explanations.is_empty());
    }
    let mut noise = 0x2545_F491_4F6C_DD1Du64;
    for length in [0usize, 1, 13, 4096, 70_000] {
        let random: Vec<u8> = (0..length)
            .map(|_| {
                noise ^= noise << 13;
                noise ^= noise >> 7;
                noise ^= noise << 17;
                noise as u8
            })
            .collect();
        assert!(!store.verify_agreement_pdf(&random).await.unwrap().authentic);
    }
    for line in [
        "%PREAU-SEAL \n",
        "%PREAU-SEAL !!!.???\n",
        "%PREAU-SEAL e30.e30\n",
        "%PREAU-SEAL bm90IGpzb24.AAAA\n",
        "%PREAU-SEAL e30\n",
    ] {
        let mut forged = b"%PDF-1.7\n%%EOF\n".to_vec();
        forged.extend_from_slice(line.as_bytes());
        let verdict = store.verify_agreement_pdf(&forged).await.unwrap();
        assert!(!verdict.authentic && verdict.seal.is_none(), "{line}");
    }

    // The same agreement sealed by another database's key (another département).
    let other = fixture().await;
    let foreign_id = other.fixture_signed_agreement(&content(1), &every_role(1)).await.unwrap();
    let foreign = other.seal_agreement(&foreign_id).await.unwrap();
    let verdict = store.verify_agreement_pdf(&foreign).await.unwrap();
    assert!(!verdict.authentic && !verdict.known && verdict.seal.is_none(), "{verdict:?}");
    assert!(verdict.explanations[0].contains("clé du Département"), "{verdict:?}");
    assert!(store.verify_agreement_pdf(&bytes).await.unwrap().authentic, "{id} still fine");
}

#[tokio::test]
async fn a_missing_signature_is_never_sealed_nor_complete() {
    let store = fixture().await;
    let roles: Vec<SignatoryRole> =
        every_role(2).into_iter().filter(|role| *role != SignatoryRole::Guardian2).collect();
    let id = store.fixture_signed_agreement(&content(2), &roles).await.unwrap();
    let refused = store.seal_agreement(&id).await;
    assert!(matches!(refused, Err(store::StoreError::Conflict(_))), "{refused:?}");

    // A one-guardian agreement needs no second guardian.
    let (_, bytes) = sealed(&store, 1).await;
    let verdict = store.verify_agreement_pdf(&bytes).await.unwrap();
    assert!(verdict.complete, "{verdict:?}");
}

#[tokio::test]
async fn an_incomplete_log_reads_as_incomplete() {
    let store = fixture().await;
    let roles: Vec<SignatoryRole> =
        every_role(2).into_iter().filter(|role| *role != SignatoryRole::Guardian2).collect();
    let id = store.fixture_signed_agreement(&content(2), &roles).await.unwrap();
    let bytes = store.fixture_seal_unchecked(&id).await.unwrap();

    let verdict = store.verify_agreement_pdf(&bytes).await.unwrap();
    assert!(verdict.authentic && verdict.known && !verdict.complete, "{verdict:?}");
    let reason = verdict.explanations.iter().find(|line| line.contains("incomplète")).unwrap();
    assert!(reason.contains("Le second représentant légal"), "{reason}");
}

#[tokio::test]
async fn a_changed_agreement_is_no_longer_known() {
    let store = fixture().await;
    let (id, bytes) = sealed(&store, 1).await;
    store.fixture_forget_seal(&id).await.unwrap();
    let verdict = store.verify_agreement_pdf(&bytes).await.unwrap();
    assert!(verdict.authentic && !verdict.known, "{verdict:?}");
    assert!(verdict.explanations.iter().any(|line| line.contains("Aucune convention")));
}
