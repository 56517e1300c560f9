//! The internship agreement as a PDF (convention de stage d'observation, national model of July
//! 2024 for collège pupils): `render_frozen` writes the document every party signs, with the same
//! bytes for the same content, id and version (no date, no random id), so that its SHA-256 can be
//! recomputed at any time; `render_signed` writes the same pages followed by the signature log.
//! Fonts are embedded and subset (DejaVu Sans, see `agreement_pdf/fonts/LICENSE`), text is shaped
//! and ordered for any script, and a character no font has still extracts as itself.

mod articles;
mod layout;
mod text;

use domain::internship::agreement::{HealthPlan, WEEKDAYS_FR};
use domain::internship::{AgreementContent, SignatoryRole};
use krilla::metadata::Metadata;

use layout::{Flow, Style};
use text::{Fonts, Weight};

/// One signature as the signature log prints it; every text is already in French and the time
/// is in the school's zone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignatureLine {
    pub role_label: String,
    pub signer_name: String,
    pub method_label: String,
    pub signed_at_local: String,
    pub ip: String,
    pub document_sha256: String,
}

/// The frozen agreement: the document the parties sign.
///
/// # Errors
/// A French reason when the PDF cannot be written (it does not happen for any content).
pub fn render_frozen(
    content: &AgreementContent,
    agreement_id: &str,
    version: i64,
) -> Result<Vec<u8>, String> {
    render(content, agreement_id, version, Kind::Frozen)
}

/// The agreement while it is still being completed: the same document, each page marked as a
/// draft that is not yet frozen.
///
/// # Errors
/// A French reason when the PDF cannot be written.
pub fn render_draft(
    content: &AgreementContent,
    agreement_id: &str,
    version: i64,
) -> Result<Vec<u8>, String> {
    render(content, agreement_id, version, Kind::Draft)
}

/// The signed agreement: the frozen pages followed by the signature log.
///
/// # Errors
/// A French reason when the PDF cannot be written.
pub fn render_signed(
    content: &AgreementContent,
    agreement_id: &str,
    version: i64,
    signatures: &[SignatureLine],
) -> Result<Vec<u8>, String> {
    render(content, agreement_id, version, Kind::Signed(signatures))
}

/// Which of the three documents is written.
#[derive(Clone, Copy)]
enum Kind<'s> {
    Draft,
    Frozen,
    Signed(&'s [SignatureLine]),
}

fn render(
    content: &AgreementContent,
    agreement_id: &str,
    version: i64,
    kind: Kind<'_>,
) -> Result<Vec<u8>, String> {
    let fonts = Fonts::load()?;
    let mut flow = Flow::new(&fonts);

    title_and_references(&mut flow, content);
    parties(&mut flow, content);
    title_one(&mut flow, content);
    annex_a(&mut flow, content);
    annex_b(&mut flow, content);
    signature_blocks(&mut flow, content);
    if let Kind::Signed(signatures) = kind {
        signature_log(&mut flow, signatures);
    }

    let metadata = Metadata::new()
        .title("Convention de stage d'observation en milieu professionnel".to_owned())
        .language("fr".to_owned())
        .creator("Préau".to_owned())
        .document_id(format!("preau-convention-{agreement_id}-{version}"));
    let short_id: String = text::clean(agreement_id).chars().take(40).collect();
    let draft =
        if matches!(kind, Kind::Draft) { "PROJET NON FIGÉ, NE PAS SIGNER — " } else { "" };
    flow.finish(metadata, |page, pages| {
        format!(
            "{draft}Convention de stage d'observation n° {short_id} — version {version} — \
             page {page} / {pages}"
        )
    })
}

fn heading_style(size: f32) -> Style {
    Style { weight: Weight::Bold, size, indent: 0.0, centered: true, space_after: 4.0 }
}

fn bullet(flow: &mut Flow<'_>, text: &str) {
    flow.paragraph(&format!("• {text}"), Style { indent: 10.0, space_after: 2.0, ..Style::BODY });
}

fn or_dash(value: &str) -> String {
    if text::clean(value).is_empty() { "—".to_owned() } else { value.to_owned() }
}

/// A civil date `YYYY-MM-DD` in French ("lundi 3 février 2025"); any other text as it is.
fn date_fr(value: &str) -> String {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    const DAYS: [&str; 7] =
        ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];
    match value.trim().parse::<jiff::civil::Date>() {
        Ok(date) => {
            let day = DAYS[usize::from(date.weekday().to_monday_zero_offset().unsigned_abs())];
            let month = MONTHS[usize::from(date.month().unsigned_abs()).saturating_sub(1) % 12];
            let first = if date.day() == 1 { "1er".to_owned() } else { date.day().to_string() };
            format!("{day} {first} {month} {}", date.year())
        }
        Err(_) => or_dash(value),
    }
}

/// Minutes after midnight as "8 h 30".
fn clock(minutes: u16) -> String {
    match (minutes / 60, minutes % 60) {
        (hours, 0) => format!("{hours} h"),
        (hours, rest) => format!("{hours} h {rest:02}"),
    }
}

/// A length in minutes as "6 h 30" or "45 min".
fn length(minutes: u32) -> String {
    match (minutes / 60, minutes % 60) {
        (0, rest) => format!("{rest} min"),
        (hours, 0) => format!("{hours} h"),
        (hours, rest) => format!("{hours} h {rest:02}"),
    }
}

fn title_and_references(flow: &mut Flow<'_>, content: &AgreementContent) {
    flow.paragraph(
        "CONVENTION DE STAGE D'OBSERVATION EN MILIEU PROFESSIONNEL",
        Style { space_after: 2.0, ..heading_style(13.0) },
    );
    flow.paragraph(
        "Séquence d'observation des élèves de collège — modèle national de juillet 2024 \
         (circulaire du 12 juillet 2024, NOR MENE2407449C)",
        Style { weight: Weight::Regular, ..heading_style(9.0) },
    );
    flow.rule();

    for reference in articles::REFERENCES {
        flow.paragraph(reference, Style { space_after: 1.5, ..Style::BODY });
    }
    let delegation = if text::clean(&content.delegation_date).is_empty() {
        "Vu la délibération du conseil d'administration du collège approuvant la convention type \
         et autorisant le chef d'établissement à la signer ;"
            .to_owned()
    } else {
        format!(
            "Vu la délibération du conseil d'administration du collège en date du {} approuvant \
             la convention type et autorisant le chef d'établissement à la signer ;",
            date_fr(&content.delegation_date)
        )
    };
    flow.paragraph(&delegation, Style::BODY);
}

fn parties(flow: &mut Flow<'_>, content: &AgreementContent) {
    flow.heading("Entre les soussignés", 10.5, 4.0);
    flow.paragraph(
        "L'établissement d'enseignement :",
        Style { weight: Weight::Bold, ..Style::BODY },
    );
    flow.field("Collège", &content.school_name);
    flow.field("Code UAI", &content.school_uai);
    flow.field("Adresse", &content.school_address);
    flow.field("Courriel et téléphone", &contact(&content.school_email, &content.school_phone));
    flow.field(
        "Représenté par",
        &format!("{}, {}", or_dash(&content.head_name), or_dash(&content.head_role)),
    );
    flow.space(3.0);

    flow.paragraph("et l'organisme d'accueil :", Style { weight: Weight::Bold, ..Style::BODY });
    flow.field("Organisme", &content.host_name);
    flow.field("SIRET", &content.host_siret);
    flow.field("Siège", &content.host_address);
    flow.field("Activité", &content.host_activity);
    flow.field(
        "Représenté par",
        &format!(
            "{}, {}",
            or_dash(&content.representative_name),
            or_dash(&content.representative_role)
        ),
    );
    flow.field(
        "Courriel et téléphone",
        &contact(&content.representative_email, &content.representative_phone),
    );
    flow.space(3.0);
    flow.paragraph("Il a été convenu ce qui suit.", Style::BODY);
}

fn contact(email: &str, phone: &str) -> String {
    match (text::clean(email).is_empty(), text::clean(phone).is_empty()) {
        (true, true) => "—".to_owned(),
        (false, true) => email.to_owned(),
        (true, false) => phone.to_owned(),
        (false, false) => format!("{email} — {phone}"),
    }
}

fn title_one(flow: &mut Flow<'_>, content: &AgreementContent) {
    flow.space(4.0);
    flow.keep(80.0);
    flow.paragraph("TITRE I — DISPOSITIONS GÉNÉRALES", heading_style(11.0));
    for (heading, paragraphs) in articles::TITLE_ONE {
        flow.heading(heading, 9.5, 3.0);
        for paragraph in paragraphs {
            flow.paragraph(paragraph, Style::BODY);
        }
    }
    if !text::clean(&content.school_extra_article).is_empty() {
        flow.heading("Article 10 — Disposition particulière au collège", 9.5, 3.0);
        flow.paragraph(&content.school_extra_article, Style::BODY);
    }
}

fn annex_a(flow: &mut Flow<'_>, content: &AgreementContent) {
    flow.page_break();
    flow.paragraph("TITRE II — ANNEXES", heading_style(11.0));
    flow.paragraph("ANNEXE A — ANNEXE PÉDAGOGIQUE", heading_style(10.5));

    flow.heading("L'élève", 9.5, 2.0);
    flow.field("Nom et prénom", &content.pupil_name);
    flow.field("Date de naissance", &date_fr(&content.pupil_birth_date));
    flow.field("Classe", &content.pupil_class);
    flow.field("Adresse", &content.pupil_address);
    flow.field("Courriel et téléphone", &contact(&content.pupil_email, &content.pupil_phone));
    let plan = match content.health_plan {
        HealthPlan::None => "Non",
        HealthPlan::KitFromFamily => "Oui — la trousse d'urgence est fournie par la famille",
        HealthPlan::KitFromSchool => "Oui — la trousse d'urgence est fournie par le collège",
    };
    flow.field("Projet d'accueil individualisé (PAI)", plan);

    flow.heading("Représentants légaux", 9.5, 3.0);
    if content.guardians.is_empty() {
        flow.field("Représentant légal", "—");
    }
    for (index, guardian) in content.guardians.iter().enumerate() {
        let label = if content.guardians.len() > 1 {
            format!("Représentant légal {}", index + 1)
        } else {
            "Représentant légal".to_owned()
        };
        flow.field(&label, &guardian.name);
        flow.field("Courriel et téléphone", &contact(&guardian.email, &guardian.phone));
        if !text::clean(&guardian.address).is_empty() {
            flow.field("Adresse", &guardian.address);
        }
    }

    flow.heading("Le collège", 9.5, 3.0);
    flow.field("Chef d'établissement", &content.head_name);
    flow.field("Qualité", &content.head_role);
    flow.field("Collège", &content.school_name);
    // FIXME(#5): the snapshot has no public/private status of the school; the UAI stands for it.
    flow.field("Statut", &format!("Collège, code UAI {}", or_dash(&content.school_uai)));
    flow.field("Adresse postale", &content.school_address);
    flow.field("Courriel", &content.school_email);
    flow.field("Professeur référent", &content.referent_teacher_name);
    flow.field("Contact du professeur référent", &content.referent_teacher_email);

    flow.heading("L'organisme d'accueil", 9.5, 3.0);
    flow.field("Organisme", &content.host_name);
    flow.field("Tuteur", &content.tutor_name);
    flow.field("Fonction du tuteur", &content.tutor_role);
    flow.field("Contact du tuteur", &contact(&content.tutor_email, &content.tutor_phone));

    flow.heading("La séquence d'observation", 9.5, 3.0);
    flow.field("Intitulé", &content.offer_title);
    flow.field(
        "Dates",
        &format!("du {} au {}", date_fr(&content.first_day), date_fr(&content.last_day)),
    );
    let place = if text::clean(&content.internship_address).is_empty() {
        &content.host_address
    } else {
        &content.internship_address
    };
    flow.field("Lieu", place);

    flow.heading("Horaires journaliers", 9.5, 3.0);
    let mut rows = Vec::new();
    for (index, day) in content.hours.days.iter().enumerate() {
        let mut name = WEEKDAYS_FR[index].to_owned();
        if let Some(first) = name.get(..1) {
            name = format!("{}{}", first.to_uppercase(), &name[1..]);
        }
        rows.push(match day {
            Some(day) => vec![
                name,
                clock(day.start),
                clock(day.end),
                length(u32::from(day.break_minutes)),
                length(day.worked_minutes()),
            ],
            None => vec![name, "—".into(), "—".into(), "—".into(), "Pas de présence".into()],
        });
    }
    rows.push(vec![
        "Total de la semaine".to_owned(),
        String::new(),
        String::new(),
        String::new(),
        length(content.hours.worked_minutes()),
    ]);
    flow.table(
        &[3.0, 2.0, 2.0, 2.0, 3.0],
        &["Jour", "Arrivée", "Départ", "Pause", "Durée de présence"],
        &rows,
    );
    flow.paragraph(
        "Rappel des règles applicables aux mineurs :",
        Style { weight: Weight::Bold, ..Style::BODY },
    );
    for reminder in articles::HOURS_REMINDER {
        bullet(flow, reminder);
    }

    flow.heading("Objectifs de la séquence", 9.5, 4.0);
    flow.paragraph(articles::OBJECTIVES, Style::BODY);
    flow.heading("Activités prévues", 9.5, 3.0);
    flow.paragraph(&or_dash(&content.planned_activities), Style::BODY);
    flow.heading("Compétences visées", 9.5, 3.0);
    for skill in articles::SKILLS {
        bullet(flow, skill);
    }
    flow.heading("Modalités d'évaluation", 9.5, 3.0);
    flow.paragraph(articles::EVALUATION, Style::BODY);
}

fn annex_b(flow: &mut Flow<'_>, content: &AgreementContent) {
    flow.space(6.0);
    flow.keep(120.0);
    flow.paragraph("ANNEXE B — ANNEXE FINANCIÈRE", heading_style(10.5));
    for (heading, paragraph) in articles::FINANCIAL {
        flow.heading(heading, 9.5, 2.0);
        flow.paragraph(paragraph, Style::BODY);
        if heading == "Restauration" && !text::clean(&content.meals).is_empty() {
            flow.field("Précisions de l'organisme", &content.meals);
        }
        if heading == "Assurance" && !text::clean(&content.host_insurer).is_empty() {
            flow.field("Assureur de l'organisme", &content.host_insurer);
        }
    }
}

fn signature_blocks(flow: &mut Flow<'_>, content: &AgreementContent) {
    flow.space(6.0);
    flow.keep(140.0);
    flow.paragraph("SIGNATURES", heading_style(10.5));
    flow.paragraph(
        "La convention est signée électroniquement sur Préau par chaque partie après \
         authentification ; le journal des signatures et le sceau du Département sont joints au \
         document signé.",
        Style::BODY,
    );
    flow.heading("Les parties contractantes", 9.5, 2.0);
    flow.signature_boxes(&[
        (SignatoryRole::Head.label_fr().to_owned(), content.head_name.clone()),
        (
            SignatoryRole::HostRepresentative.label_fr().to_owned(),
            content.representative_name.clone(),
        ),
    ]);
    flow.heading("Vu et pris connaissance", 9.5, 2.0);
    let mut boxes = vec![(SignatoryRole::Pupil.label_fr().to_owned(), content.pupil_name.clone())];
    for (index, guardian) in content.guardians.iter().take(2).enumerate() {
        let role = if index == 0 { SignatoryRole::Guardian1 } else { SignatoryRole::Guardian2 };
        boxes.push((role.label_fr().to_owned(), guardian.name.clone()));
    }
    boxes.push((SignatoryRole::Tutor.label_fr().to_owned(), content.tutor_name.clone()));
    boxes.push((
        SignatoryRole::ReferentTeacher.label_fr().to_owned(),
        content.referent_teacher_name.clone(),
    ));
    flow.signature_boxes(&boxes);
}

fn signature_log(flow: &mut Flow<'_>, signatures: &[SignatureLine]) {
    flow.page_break();
    flow.paragraph("JOURNAL DES SIGNATURES", heading_style(12.0));
    flow.paragraph(
        "Chaque partie s'est authentifiée avant de signer. L'empreinte indiquée est le SHA-256 \
         du document figé qu'elle a signé, c'est-à-dire des pages qui précèdent telles qu'elles \
         ont été produites avant l'ajout de ce journal. Le document complet est scellé par le \
         Département ; sa validité se vérifie sur la page « Vérifier une convention » de Préau \
         ou avec la commande preau verify-agreement.",
        Style::BODY,
    );
    if signatures.is_empty() {
        flow.paragraph("Aucune signature.", Style::BODY);
    }
    for signature in signatures {
        flow.heading(&or_dash(&signature.role_label), 9.5, 4.0);
        flow.field("Signataire", &signature.signer_name);
        flow.field("Mode de signature", &signature.method_label);
        flow.field("Date et heure", &signature.signed_at_local);
        flow.field("Adresse IP", &signature.ip);
        flow.field("SHA-256 du document signé", &signature.document_sha256);
    }
}
