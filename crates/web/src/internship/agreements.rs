//! The agreements' pages. `/conventions` lists the agreements the viewer is a party to (as a
//! pupil, a guardian, the referent teacher, an administrator of the school, a member of the
//! host); `/conventions/{id}` shows one as a page (its content, its state, who signed, and the
//! buttons the viewer may use); the host's and the school's forms (`agreements/forms.rs`);
//! signing with the session (`/conventions/{id}/signer`), the links sent again, signatures on
//! paper with their scan and the school's list with the head's signing of a selection
//! (`agreements/school.rs`); the single-use links of the parties without an account
//! (`agreements/links.rs`). Who may see or do what is decided by the store's SQL; what is not
//! the viewer's answers 404. When the last signature lands, the agreement is sealed
//! (`verify::seal_completed`).

mod forms;
mod links;
mod school;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::internship::{AgreementState, SignatoryRole, WeekHours, agreement::WEEKDAYS_FR};
use store::StoreError;
use store::internship::agreements::{AgreementRecord, Standing, freeze_problems};
use store::internship::signatures::SignContext;

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::AppError;
use crate::form::{Fields, PathId};
use crate::security::{client_ip, peer_of};
use crate::session::Viewer;
use crate::templates::{Chrome, render};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/conventions", get(list))
        .route("/conventions/{id}", get(detail))
        .route("/conventions/{id}/signer", post(sign))
        .route("/conventions/{id}/liens", post(resend_links))
        .merge(forms::routes())
        .merge(school::routes())
        .merge(links::routes())
}

/// One line of a list of agreements.
pub(crate) struct SummaryLine {
    pub(crate) id: String,
    pub(crate) pupil: String,
    pub(crate) class: String,
    pub(crate) school: String,
    pub(crate) host: String,
    pub(crate) dates: String,
    pub(crate) state: &'static str,
    pub(crate) missing: String,
}

#[derive(Template)]
#[template(path = "internship_agreement_list.html")]
struct ListPage {
    chrome: Chrome,
    lines: Vec<SummaryLine>,
    /// The school lists the viewer administers: (href, school name).
    school_lists: Vec<(String, String)>,
}

/// A label and a value of the agreement.
pub(crate) struct Row {
    pub(crate) label: &'static str,
    pub(crate) value: String,
}

/// A part of the agreement's content.
pub(crate) struct Section {
    pub(crate) id: &'static str,
    pub(crate) title: &'static str,
    pub(crate) rows: Vec<Row>,
}

/// A signature as the page shows it.
pub(crate) struct SignatureLine {
    pub(crate) role: &'static str,
    pub(crate) signer: String,
    pub(crate) method: &'static str,
    pub(crate) when: String,
}

/// A role, by its code and its French label.
pub(crate) struct RoleChoice {
    pub(crate) code: &'static str,
    pub(crate) label: &'static str,
}

#[derive(Template)]
#[template(path = "internship_agreement_detail.html")]
struct DetailPage {
    chrome: Chrome,
    csrf: String,
    id: String,
    state: &'static str,
    version: i64,
    sections: Vec<Section>,
    hours: Vec<Row>,
    activities: Vec<String>,
    extra_article: Vec<String>,
    signatures: Vec<SignatureLine>,
    missing: Vec<&'static str>,
    /// The frozen document's SHA-256, while signing.
    sha256: String,
    sign_roles: Vec<RoleChoice>,
    paper_roles: Vec<RoleChoice>,
    can_edit_host: bool,
    can_edit_school: bool,
    can_resend: bool,
    /// The school's list, for an administrator.
    school_list: Option<String>,
    has_document: bool,
    /// What still keeps the school from validating (for the host and the school).
    problems: Vec<String>,
    notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "internship_agreement_refused.html")]
struct RefusedPage {
    chrome: Chrome,
    message: String,
    back: String,
}

/// A refusal as a French page: `status` with the message and a way back.
fn refused_page(
    viewer: &Viewer,
    status: StatusCode,
    message: String,
    back: &str,
) -> Result<Response, AppError> {
    let page = RefusedPage {
        chrome: viewer_chrome("Action impossible", viewer),
        message,
        back: back.to_owned(),
    };
    Ok((status, Html(render(&page)?)).into_response())
}

/// The answer to a store refusal: a French page with 409 for a conflict, the usual pages
/// otherwise.
fn refused(viewer: &Viewer, error: StoreError, back: &str) -> Result<Response, AppError> {
    match error {
        StoreError::Conflict(message) => refused_page(viewer, StatusCode::CONFLICT, message, back),
        other => Err(other.into()),
    }
}

/// The client's address and browser, as a signature records them.
fn sign_context(
    state: &AppState,
    headers: &HeaderMap,
    extensions: &axum::http::Extensions,
) -> SignContext {
    let ip = client_ip(headers, peer_of(extensions), &state.config.trusted_proxies);
    let user_agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    SignContext { ip: ip.to_string(), user_agent, now: store::now_unix() }
}

/// Has a completed agreement sealed; a failure is logged (the signatures stay: the seal can
/// be made again from them).
async fn seal(state: &AppState, agreement_id: &str) {
    if let Err(error) = super::verify::seal_completed(state, agreement_id).await {
        tracing::error!(agreement.id = %agreement_id, ?error, "agreement not sealed");
    }
}

/// `YYYY-MM-DD` as « lundi 2 mars 2026 », or as is when it is not a date.
pub(crate) fn civil_date(text: &str) -> String {
    match text.parse::<jiff::civil::Date>() {
        Ok(date) => crate::timetable::french_date(date),
        Err(_) => text.to_owned(),
    }
}

/// « du lundi 2 mars 2026 au vendredi 6 mars 2026 ».
pub(crate) fn dates_label(first: &str, last: &str) -> String {
    format!("du {} au {}", civil_date(first), civil_date(last))
}

/// The French labels of missing roles, joined.
pub(crate) fn roles_text(roles: &[SignatoryRole]) -> String {
    roles.iter().map(|role| role.label_fr()).collect::<Vec<_>>().join(", ")
}

/// « 9 h 00 – 17 h 00 (pause 60 min) » per day, « — » for a day off.
pub(crate) fn hours_rows(hours: &WeekHours) -> Vec<Row> {
    hours
        .days
        .iter()
        .zip(WEEKDAYS_FR)
        .map(|(day, name)| Row {
            label: name,
            value: match day {
                Some(day) => format!(
                    "{} – {} (pause de {} min)",
                    clock(day.start),
                    clock(day.end),
                    day.break_minutes
                ),
                None => "—".to_owned(),
            },
        })
        .collect()
}

fn clock(minutes: u16) -> String {
    format!("{} h {:02}", minutes / 60, minutes % 60)
}

fn method_label(method: &str) -> &'static str {
    match method {
        "session" => "en ligne, connecté à Préau",
        "link" => "en ligne, par lien et code reçu par e-mail",
        "paper" => "sur papier (scan joint)",
        _ => "autre",
    }
}

fn health_plan_label(plan: domain::internship::agreement::HealthPlan) -> &'static str {
    use domain::internship::agreement::HealthPlan;
    match plan {
        HealthPlan::None => "Aucun",
        HealthPlan::KitFromFamily => "PAI : trousse d'urgence fournie par la famille",
        HealthPlan::KitFromSchool => "PAI : trousse d'urgence fournie par le collège",
    }
}

fn row(label: &'static str, value: &str) -> Row {
    Row { label, value: if value.trim().is_empty() { "—".to_owned() } else { value.to_owned() } }
}

/// The content of an agreement as sections of labelled values.
fn sections(record: &AgreementRecord) -> Vec<Section> {
    let c = &record.content;
    let mut pupil = vec![
        row("Nom", &c.pupil_name),
        row("Date de naissance", &civil_date(&c.pupil_birth_date)),
        row("Classe", &c.pupil_class),
        row("Adresse", &c.pupil_address),
        row("Téléphone", &c.pupil_phone),
        row("Projet d'accueil individualisé", health_plan_label(c.health_plan)),
    ];
    for (i, guardian) in c.guardians.iter().enumerate() {
        let (name, contact) = if i == 0 {
            ("Représentant légal", "Coordonnées du représentant légal")
        } else {
            ("Second représentant légal", "Coordonnées du second représentant légal")
        };
        pupil.push(row(name, &guardian.name));
        let details = [&guardian.email, &guardian.phone, &guardian.address]
            .into_iter()
            .filter(|v| !v.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(" · ");
        pupil.push(row(contact, &details));
    }
    let school = vec![
        row("Collège", &c.school_name),
        row("UAI", &c.school_uai),
        row("Adresse", &c.school_address),
        row("E-mail", &c.school_email),
        row("Téléphone", &c.school_phone),
        row("Chef d'établissement", &c.head_name),
        row("Délibération du conseil d'administration", &civil_date(&c.delegation_date)),
        row("Professeur référent", &c.referent_teacher_name),
        row("E-mail du professeur référent", &c.referent_teacher_email),
    ];
    let host = vec![
        row("Organisme d'accueil", &c.host_name),
        row("SIRET", &c.host_siret),
        row("Adresse", &c.host_address),
        row("Activité", &c.host_activity),
        row("Représentant", &c.representative_name),
        row("Fonction du représentant", &c.representative_role),
        row("E-mail du représentant", &c.representative_email),
        row("Téléphone du représentant", &c.representative_phone),
        row("Tuteur", &c.tutor_name),
        row("Fonction du tuteur", &c.tutor_role),
        row("E-mail du tuteur", &c.tutor_email),
        row("Téléphone du tuteur", &c.tutor_phone),
        row("Assureur", &c.host_insurer),
    ];
    let internship = vec![
        row("Offre", &c.offer_title),
        row("Dates", &dates_label(&c.first_day, &c.last_day)),
        row(
            "Lieu du stage",
            if c.internship_address.is_empty() { &c.host_address } else { &c.internship_address },
        ),
        row("Restauration", &c.meals),
    ];
    vec![
        Section { id: "eleve", title: "L'élève et ses représentants légaux", rows: pupil },
        Section { id: "college", title: "Le collège", rows: school },
        Section { id: "organisme", title: "L'organisme d'accueil", rows: host },
        Section { id: "stage", title: "Le stage", rows: internship },
    ]
}

fn role_choices(roles: impl IntoIterator<Item = SignatoryRole>) -> Vec<RoleChoice> {
    roles
        .into_iter()
        .map(|role| RoleChoice { code: role.as_str(), label: role.label_fr() })
        .collect()
}

async fn list(State(state): State<AppState>, viewer: Viewer) -> Result<Response, AppError> {
    let summaries = state.store.agreements_for_viewer(viewer.id()).await?;

    let lines = summaries
        .into_iter()
        .map(|s| SummaryLine {
            missing: roles_text(&s.missing),
            dates: dates_label(&s.first_day, &s.last_day),
            id: s.id,
            pupil: s.pupil_name,
            class: s.pupil_class,
            school: s.school_name,
            host: s.host_name,
            state: s.state.label_fr(),
        })
        .collect();
    let school_lists = viewer
        .facts
        .administered
        .iter()
        .map(|school| {
            let href =
                format!("/etablissement/{}/conventions", crate::error::percent_encode(&school.uai));
            (href, school.name.clone())
        })
        .collect();
    let html = render(&ListPage {
        chrome: viewer_chrome("Conventions de stage", &viewer),
        lines,
        school_lists,
    })?;
    Ok(Html(html).into_response())
}

fn notice_of(uri: &Uri) -> Option<&'static str> {
    match Fields::query(uri).get("fait") {
        "signe" => Some("Votre signature est enregistrée."),
        "complete" => Some("La convention est signée par tous : elle est scellée."),
        "organisme" => Some("La partie de l'organisme d'accueil est enregistrée."),
        "college" => Some("La partie du collège est enregistrée."),
        "figee" => Some(
            "La convention est validée et figée : les signatures sont ouvertes et les liens de \
             signature envoyés.",
        ),
        "liens" => Some("Les liens de signature ont été envoyés de nouveau."),
        "papier" => Some("La signature sur papier est enregistrée."),
        _ => None,
    }
}

async fn detail(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    uri: Uri,
) -> Result<Response, AppError> {
    let (record, standing) =
        state.store.agreement_page(viewer.id(), &id).await?.ok_or(AppError::NotFound)?;

    let zone = state.store.school_zone(&record.school_id).await?;
    let html = render(&detail_page(&viewer, &record, &standing, &zone, notice_of(&uri)))?;
    Ok(Html(html).into_response())
}

fn detail_page(
    viewer: &Viewer,
    record: &AgreementRecord,
    standing: &Standing,
    zone: &str,
    notice: Option<&'static str>,
) -> DetailPage {
    let signing = record.state == AgreementState::Signing;
    let missing = if signing { record.missing_roles() } else { Vec::new() };
    let sign_roles = if signing {
        role_choices(standing.session_roles().into_iter().filter(|r| missing.contains(r)))
    } else {
        Vec::new()
    };
    let paper_roles = if signing && standing.school_admin {
        role_choices(missing.iter().copied().filter(|role| *role != SignatoryRole::Head))
    } else {
        Vec::new()
    };
    let editable = !matches!(record.state, AgreementState::Cancelled);
    let before_signing =
        matches!(record.state, AgreementState::HostPending | AgreementState::SchoolPending);
    let problems = if before_signing && (standing.school_admin || standing.host_member) {
        freeze_problems(&record.content)
    } else {
        Vec::new()
    };
    let school_list = standing.school_admin.then(|| {
        format!(
            "/etablissement/{}/conventions",
            crate::error::percent_encode(&record.content.school_uai)
        )
    });

    DetailPage {
        chrome: viewer_chrome(
            &format!("Convention de stage de {}", record.content.pupil_name),
            viewer,
        ),
        csrf: viewer.csrf_token.clone(),
        id: record.id.clone(),
        state: record.state.label_fr(),
        version: record.version,
        sections: sections(record),
        hours: hours_rows(&record.content.hours),
        activities: record.content.planned_activities.lines().map(str::to_owned).collect(),
        extra_article: record.content.school_extra_article.lines().map(str::to_owned).collect(),
        signatures: record
            .signatures
            .iter()
            .map(|s| SignatureLine {
                role: s.role.label_fr(),
                signer: s.signer_name.clone(),
                method: method_label(&s.method),
                when: crate::timetable::french_datetime_of(s.signed_at, zone),
            })
            .collect(),
        missing: missing.iter().map(|role| role.label_fr()).collect(),
        sha256: record.document_sha256.clone().unwrap_or_default(),
        sign_roles,
        paper_roles,
        can_edit_host: standing.host_member && editable,
        can_edit_school: standing.school_admin
            && editable
            && record.state != AgreementState::HostPending,
        can_resend: standing.school_admin && signing,
        school_list,
        has_document: record.document_sha256.is_some(),
        problems,
        notice,
    }
}

async fn sign(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let back = format!("/conventions/{id}");
    let (_, standing) =
        state.store.agreement_page(viewer.id(), &id).await?.ok_or(AppError::NotFound)?;
    let role = SignatoryRole::parse(fields.get("role"))
        .ok_or(AppError::BadRequest("Le rôle de signature n'est pas reconnu."))?;
    if !standing.session_roles().contains(&role) {
        let message = format!(
            "Vous ne pouvez pas signer cette convention en tant que « {} ».",
            role.label_fr()
        );
        return refused_page(&viewer, StatusCode::FORBIDDEN, message, &back);
    }

    let context = sign_context(&state, &headers, &extensions);
    let signed = match state
        .store
        .sign_with_session(viewer.id(), &id, role, fields.get("sha256"), &context)
        .await
    {
        Ok(signed) => signed,
        Err(error) => return refused(&viewer, error, &back),
    };
    tracing::info!(person.id = %viewer.id(), agreement.id = %id, role = role.as_str(), "signed");
    if signed.completed {
        seal(&state, &id).await;
        return Ok(Redirect::to(&format!("{back}?fait=complete")).into_response());
    }
    Ok(Redirect::to(&format!("{back}?fait=signe")).into_response())
}

async fn resend_links(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(id): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let back = format!("/conventions/{id}");

    let now = store::now_unix();
    match state.store.resend_sign_links(viewer.id(), &id, &state.config.base_url, now).await {
        Ok(sent) => {
            tracing::info!(agreement.id = %id, sent, "signing links sent again");
            Ok(Redirect::to(&format!("{back}?fait=liens")).into_response())
        }
        Err(error) => refused(&viewer, error, &back),
    }
}
