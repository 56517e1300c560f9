//! The agreement PDF: every name (accents and apostrophes, Vietnamese, Arabic, an emoji) and
//! every mandatory heading of the national model read back with `pdftotext` (poppler-utils,
//! installed by scripts/test.sh: the test fails without it), identical bytes for identical
//! inputs, and no panic on hostile content.

use std::io::Write;
use std::process::{Command, Stdio};

use domain::internship::agreement::{GuardianDetails, HealthPlan};
use domain::internship::{AgreementContent, DayHours, WeekHours};
use formats::agreement_pdf::{SignatureLine, render_draft, render_frozen, render_signed};

const NAMES: [&str; 4] =
    ["Zoé L'Hôte-Éluard", "Nguyễn Thị Minh Khai", "فاطمة الزهراء بن علي", "Léo 🎒"];

fn day(start_h: u16, end_h: u16, break_minutes: u16) -> Option<DayHours> {
    Some(DayHours { start: start_h * 60, end: end_h * 60, break_minutes })
}

fn content(pupil: &str) -> AgreementContent {
    AgreementContent {
        pupil_id: "p-1".into(),
        pupil_name: pupil.into(),
        pupil_birth_date: "2011-03-14".into(),
        pupil_class: "3A".into(),
        pupil_address: "12 rue des Écoles, 86000 Poitiers".into(),
        pupil_email: "eleve@example.org".into(),
        health_plan: HealthPlan::KitFromFamily,
        guardians: vec![
            GuardianDetails {
                person_id: "g-1".into(),
                name: "Inès Benali".into(),
                email: "ines@example.org".into(),
                phone: "05 49 00 00 01".into(),
                address: String::new(),
            },
            GuardianDetails {
                person_id: "g-2".into(),
                name: "Trần Văn Hùng".into(),
                email: "hung@example.org".into(),
                phone: String::new(),
                address: String::new(),
            },
        ],
        school_id: "s-1".into(),
        school_uai: "0860001A".into(),
        school_name: "Collège Jules-Ferry".into(),
        school_address: "1 place de la République, 86000 Poitiers".into(),
        school_email: "ce.0860001a@example.org".into(),
        head_name: "Hélène Marchand".into(),
        head_role: "Principale".into(),
        delegation_date: "2024-09-24".into(),
        referent_teacher_name: "Sophie Lemaire".into(),
        referent_teacher_email: "sophie@example.org".into(),
        school_extra_article: "Le carnet de liaison accompagne l'élève.".into(),
        host_name: "Boulangerie du Marché".into(),
        host_siret: "73282932000074".into(),
        host_address: "3 rue du Marché, 86000 Poitiers".into(),
        host_activity: "Boulangerie-pâtisserie".into(),
        representative_name: "Hugues Morel".into(),
        representative_role: "Gérant".into(),
        tutor_name: "Gaëlle Fournier".into(),
        tutor_role: "Cheffe boulangère".into(),
        host_insurer: "Mutuelle des artisans".into(),
        planned_activities: "Découvrir le fournil, la vente et l'hygiène.".into(),
        meals: "Repas tiré du sac.".into(),
        offer_title: "Découverte de la boulangerie".into(),
        iso_week: "2026-W05".into(),
        first_day: "2026-01-26".into(),
        last_day: "2026-01-30".into(),
        hours: WeekHours {
            days: [
                day(9, 17, 60),
                day(9, 17, 60),
                day(9, 12, 0),
                day(9, 17, 60),
                day(9, 16, 60),
                None,
            ],
        },
        ..AgreementContent::default()
    }
}

/// The text of a PDF as `pdftotext` reads it, with the bidirectional marks it adds removed.
fn pdftotext(pdf: &[u8]) -> String {
    let mut child = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("pdftotext (poppler-utils) must be installed: scripts/test.sh installs it");
    child.stdin.take().unwrap().write_all(pdf).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "pdftotext failed");
    String::from_utf8(output.stdout)
        .unwrap()
        .chars()
        .filter(|c| !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}'))
        .collect()
}

/// Lines joined with spaces, so that a text wrapped over two lines is still found.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_name_and_every_mandatory_heading_reads_back() {
    let headings = [
        "CONVENTION DE STAGE D'OBSERVATION",
        "MENE2407449C",
        "Vu le code du travail",
        "Vu le code de l'éducation",
        "Vu la délibération du conseil d'administration",
        "TITRE I",
        "Article 1 — Objet de la convention",
        "Article 2 — Annexes",
        "Article 3 — Organisation de la séquence",
        "Article 4 — Statut de l'élève",
        "Article 5 — Activités de l'élève et sécurité",
        "D. 4153-15 à D. 4153-37",
        "Article 6 — Assurances",
        "Article 7 — Accident",
        "Article 8 — Protection contre les violences sexistes et sexuelles",
        "Article 9 — Durée de la séquence",
        "cinq jours",
        "Article 10 — Disposition particulière au collège",
        "ANNEXE A — ANNEXE PÉDAGOGIQUE",
        "Projet d'accueil individualisé (PAI)",
        "Horaires journaliers",
        "Lundi",
        "Samedi",
        "35 heures par semaine et 7 heures par jour",
        "14 heures consécutives",
        "deux jours consécutifs",
        "4 h 30",
        "Objectifs de la séquence",
        "Activités prévues",
        "Compétences visées",
        "Modalités d'évaluation",
        "ANNEXE B — ANNEXE FINANCIÈRE",
        "Hébergement",
        "Restauration",
        "Transport",
        "Assurance",
        "Vu et pris connaissance",
        "Le chef d'établissement",
        "Le représentant de l'organisme d'accueil",
        "Le tuteur",
        "Le professeur référent",
        "L'élève",
        "Le second représentant légal",
    ];
    for name in NAMES {
        let pdf = render_frozen(&content(name), "0194c1d2-aaaa-7bbb-8ccc-123456789abc", 3)
            .expect("rendered");
        assert!(pdf.starts_with(b"%PDF-"));
        let text = flat(&pdftotext(&pdf));
        assert!(text.contains(name), "{name} not found in:\n{text}");
        for heading in headings {
            assert!(text.contains(heading), "{heading:?} not found for {name}");
        }
        for party in ["Hélène Marchand", "Hugues Morel", "Gaëlle Fournier", "Trần Văn Hùng"]
        {
            assert!(text.contains(party), "{party} not found");
        }
        assert!(text.contains("lundi 26 janvier 2026"), "dates in French");
        assert!(!text.contains("Journal des signatures"), "no log in the frozen document");
    }
}

#[test]
fn the_same_inputs_give_the_same_bytes() {
    for name in NAMES {
        let a = render_frozen(&content(name), "agreement-1", 1).unwrap();
        let b = render_frozen(&content(name), "agreement-1", 1).unwrap();
        assert_eq!(a, b, "{name}");
        let other_version = render_frozen(&content(name), "agreement-1", 2).unwrap();
        assert_ne!(a, other_version);
    }
    let changed = AgreementContent { tutor_name: "Autre tuteur".into(), ..content(NAMES[0]) };
    assert_ne!(
        render_frozen(&content(NAMES[0]), "a", 1).unwrap(),
        render_frozen(&changed, "a", 1).unwrap()
    );
}

#[test]
fn the_signed_document_adds_the_signature_log() {
    let lines = vec![
        SignatureLine {
            role_label: "Le chef d'établissement (ou son délégué)".into(),
            signer_name: "Hélène Marchand".into(),
            method_label: "Session ENT authentifiée".into(),
            signed_at_local: "02/02/2026 à 09:15 (Europe/Paris)".into(),
            ip: "192.0.2.10".into(),
            document_sha256: "ab".repeat(32),
        },
        SignatureLine {
            role_label: "L'élève".into(),
            signer_name: NAMES[2].into(),
            method_label: "Session ENT authentifiée".into(),
            signed_at_local: "03/02/2026 à 18:40 (Europe/Paris)".into(),
            ip: "2001:db8::1".into(),
            document_sha256: "ab".repeat(32),
        },
    ];
    let signed = render_signed(&content(NAMES[2]), "a-1", 1, &lines).unwrap();
    assert_eq!(signed, render_signed(&content(NAMES[2]), "a-1", 1, &lines).unwrap());
    let text = flat(&pdftotext(&signed));
    assert!(text.contains("JOURNAL DES SIGNATURES"));
    for needle in ["02/02/2026 à 09:15 (Europe/Paris)", "192.0.2.10", "2001:db8::1", NAMES[2]] {
        assert!(text.contains(needle), "{needle}");
    }
    assert!(text.replace(' ', "").contains(&"ab".repeat(32)), "the hash, maybe wrapped");

    let draft = flat(&pdftotext(&render_draft(&content(NAMES[0]), "a-1", 1).unwrap()));
    assert!(draft.contains("PROJET NON FIGÉ"));
}

#[test]
fn hostile_content_never_panics_and_long_texts_break_pages() {
    let long_word = "x".repeat(5_000);
    let controls: String = (0u8..32).map(char::from).collect();
    let hostile = [
        "\u{202E}evil\u{202C} \u{2066}iso\u{2069} \u{200F}rlm".to_owned(),
        controls,
        long_word.clone(),
        "🎒👩‍👩‍👧‍👦🏳️‍🌈 \u{E000}\u{10FFFD} \u{FFFF} \u{0301}\u{0301}".to_owned(),
        "Ω ק ש ע ف ـ ﷽ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 中文 日本語 한국어 ไทย".to_owned(),
        "Les mots courts et les mots longs se suivent. ".repeat(600),
        "\n\n\n\t\r\u{0}\u{7F}\u{85}\u{2028}\u{2029}".to_owned(),
    ];
    for text in &hostile {
        let mut c = content(text);
        c.planned_activities = text.repeat(3);
        c.school_extra_article = text.clone();
        c.host_address = text.clone();
        c.tutor_name = text.clone();
        c.guardians[0].name = text.clone();
        c.delegation_date = text.clone();
        c.first_day = "2026-13-45".into();
        c.hours =
            WeekHours { days: [Some(DayHours { start: 1_500, end: 10, break_minutes: 999 }); 6] };
        let lines = vec![SignatureLine {
            signer_name: text.clone(),
            ip: text.clone(),
            ..SignatureLine::default()
        }];
        let pdf = render_signed(&c, text, i64::MAX, &lines).expect("rendered");
        assert!(pdf.starts_with(b"%PDF-"));
        let read = pdftotext(&pdf);
        assert!(read.contains("Article 9"));
    }

    let mut huge = content(NAMES[0]);
    huge.planned_activities = format!("{long_word} {}", "activité ".repeat(20_000));
    let pdf = render_frozen(&huge, "a", 1).unwrap();
    let pages = pdftotext(&pdf).matches('\u{c}').count();
    assert!(pages > 10, "a long text breaks across pages ({pages})");
}
