//! The messaging side of the school console: `/etablissement/{uai}/regles`, where the school's
//! administrators (and the département's) switch each communication rule on or off or bring
//! them all back to their defaults, and `/etablissement/{uai}/signalements`, where they read the
//! messages reported to the school and recall one, freeze its sender's account and recall
//! everything the sender wrote in the last 24 hours, or mark a report handled;
//! `/departement/signalements` does the same for the département's administrators with the
//! reports of people who belong to no collège. Anyone else
//! gets the ordinary 404: the school comes from `Store::administered_school`, and the store
//! checks the actor again in each query.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::communication::Rule;
use store::directory::SchoolRef;
use store::messaging::ReportView;

use crate::AppState;
use crate::accounts::viewer_chrome;
use crate::error::{AppError, percent_encode};
use crate::form::{Fields, PathId};
use crate::session::Viewer;
use crate::templates::{ReportLine, ReportsPage, RuleLine, RulesPage, render};

/// How far back the kill switch recalls a sender's messages, in seconds.
const FREEZE_RECALL_WINDOW: i64 = 24 * 3600;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/etablissement/{uai}/regles", get(rules).post(save_rules))
        .route("/etablissement/{uai}/regles/defaut", post(reset_rules))
        .route("/etablissement/{uai}/signalements", get(school_reports))
        .route("/etablissement/{uai}/signalements/{id}/{action}", post(act_on_school_report))
        .route("/departement/signalements", get(departement_reports))
        .route("/departement/signalements/{id}/{action}", post(act_on_departement_report))
}

/// Where reports are read: a school's console, or the département's for the reports of people
/// who belong to no collège (its agents and officials).
struct ReportDesk {
    /// The `school_id` the reports carry (`''` for the département).
    school_id: String,
    name: String,
    /// The reports page's address.
    base: String,
    /// The console it belongs to.
    console: String,
}

impl ReportDesk {
    async fn of_school(state: &AppState, viewer: &Viewer, uai: &str) -> Result<Self, AppError> {
        let school = school_of(state, viewer, uai).await?;
        Ok(ReportDesk {
            base: console_href(&school, "signalements"),
            console: format!("/etablissement/{}", percent_encode(&school.uai)),
            school_id: school.id,
            name: school.name,
        })
    }

    /// The département's desk; the store answers 404 to anyone but its administrators.
    fn of_departement() -> Self {
        ReportDesk {
            school_id: String::new(),
            name: "département".to_owned(),
            base: "/departement/signalements".to_owned(),
            console: "/departement".to_owned(),
        }
    }
}

/// The school `uai` when the viewer administers it (or the département), else 404.
async fn school_of(state: &AppState, viewer: &Viewer, uai: &str) -> Result<SchoolRef, AppError> {
    state.store.administered_school(viewer.id(), uai).await?.ok_or(AppError::NotFound)
}

fn console_href(school: &SchoolRef, page: &str) -> String {
    format!("/etablissement/{}/{page}", percent_encode(&school.uai))
}

async fn rules(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(uai): PathId,
    uri: Uri,
) -> Result<Response, AppError> {
    let school = school_of(&state, &viewer, &uai).await?;

    let settings = state.store.school_rules(viewer.id(), &school.id).await?;
    let notice = match Fields::query(&uri).get("fait") {
        "enregistre" => Some("Les règles de communication sont enregistrées."),
        "defaut" => Some("Les règles de communication sont revenues à leurs valeurs par défaut."),
        _ => None,
    };
    let lines = settings
        .iter()
        .map(|s| RuleLine {
            code: s.rule.code(),
            label: s.rule.label_fr(),
            allowed: s.allowed,
            is_default: s.is_default,
            default_allowed: s.rule.default_allowed(),
        })
        .collect();
    let html = render(&RulesPage {
        chrome: viewer_chrome(&format!("Règles de communication, {}", school.name), &viewer),
        csrf: viewer.csrf_token.clone(),
        action: console_href(&school, "regles"),
        console: format!("/etablissement/{}", percent_encode(&school.uai)),
        rules: lines,
        notice,
    })?;
    Ok(Html(html).into_response())
}

async fn save_rules(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(uai): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let school = school_of(&state, &viewer, &uai).await?;
    let ticked = fields.all("regle");
    let allowed: Vec<(Rule, bool)> =
        Rule::ALL.into_iter().map(|rule| (rule, ticked.contains(&rule.code()))).collect();

    state.store.set_school_rules(viewer.id(), &school.id, &allowed).await?;
    tracing::info!(person.id = %viewer.id(), school.id = %school.id, "communication rules saved");
    Ok(Redirect::to(&format!("{}?fait=enregistre", console_href(&school, "regles")))
        .into_response())
}

async fn reset_rules(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(uai): PathId,
    fields: Fields,
) -> Result<Response, AppError> {
    viewer.check_csrf(fields.get("csrf_token"))?;
    let school = school_of(&state, &viewer, &uai).await?;

    state.store.reset_school_rules(viewer.id(), &school.id).await?;
    tracing::info!(person.id = %viewer.id(), school.id = %school.id, "communication rules reset");
    Ok(Redirect::to(&format!("{}?fait=defaut", console_href(&school, "regles"))).into_response())
}

fn report_line(report: &ReportView, clock: &crate::messages::Clock) -> ReportLine {
    ReportLine {
        id: report.id.clone(),
        subject: report.subject.clone(),
        body_text: report.body_text.clone(),
        reason: report.reason.clone(),
        sender: format!("{} {}", report.sender.first_name, report.sender.last_name),
        sender_profile: report.sender.profile.label_fr(),
        reporter: format!("{} {}", report.reporter.first_name, report.reporter.last_name),
        reporter_profile: report.reporter.profile.label_fr(),
        reported_at: clock.full(report.created_at),
        sent_at: clock.full(report.message_created_at),
        recalled: report.recalled_at.map(|at| clock.full(at)),
    }
}

async fn school_reports(
    State(state): State<AppState>,
    viewer: Viewer,
    PathId(uai): PathId,
    uri: Uri,
) -> Result<Response, AppError> {
    let desk = ReportDesk::of_school(&state, &viewer, &uai).await?;
    reports(&state, &viewer, &desk, &uri).await
}

async fn departement_reports(
    State(state): State<AppState>,
    viewer: Viewer,
    uri: Uri,
) -> Result<Response, AppError> {
    reports(&state, &viewer, &ReportDesk::of_departement(), &uri).await
}

async fn reports(
    state: &AppState,
    viewer: &Viewer,
    desk: &ReportDesk,
    uri: &Uri,
) -> Result<Response, AppError> {
    let reports = state.store.reports_for_school(viewer.id(), &desk.school_id).await?;
    let clock = crate::messages::Clock::for_viewer(viewer);
    let notice = match Fields::query(uri).get("fait") {
        "rappele" => Some("Le message est rappelé de toutes les boîtes qu'il avait atteintes."),
        "gele" => Some(
            "Le compte est gelé et les messages envoyés depuis ce compte ces dernières 24 heures \
             sont rappelés.",
        ),
        "traite" => Some("Le signalement est marqué comme traité."),
        _ => None,
    };
    let html = render(&ReportsPage {
        chrome: viewer_chrome(&format!("Signalements, {}", desk.name), viewer),
        csrf: viewer.csrf_token.clone(),
        base: desk.base.clone(),
        console: desk.console.clone(),
        open: reports
            .iter()
            .filter(|r| r.handled_at.is_none())
            .map(|r| report_line(r, &clock))
            .collect(),
        handled: reports
            .iter()
            .filter(|r| r.handled_at.is_some())
            .map(|r| report_line(r, &clock))
            .collect(),
        notice,
    })?;
    Ok(Html(html).into_response())
}

async fn act_on_school_report(
    State(state): State<AppState>,
    viewer: Viewer,
    path: Result<Path<(String, String, String)>, axum::extract::rejection::PathRejection>,
    fields: Fields,
) -> Result<Response, AppError> {
    let Ok(Path((uai, report_id, action))) = path else { return Err(AppError::NotFound) };
    viewer.check_csrf(fields.get("csrf_token"))?;
    let desk = ReportDesk::of_school(&state, &viewer, &uai).await?;
    act_on_report(&state, &viewer, &desk, &report_id, &action, &fields).await
}

async fn act_on_departement_report(
    State(state): State<AppState>,
    viewer: Viewer,
    path: Result<Path<(String, String)>, axum::extract::rejection::PathRejection>,
    fields: Fields,
) -> Result<Response, AppError> {
    let Ok(Path((report_id, action))) = path else { return Err(AppError::NotFound) };
    viewer.check_csrf(fields.get("csrf_token"))?;
    let desk = ReportDesk::of_departement();
    act_on_report(&state, &viewer, &desk, &report_id, &action, &fields).await
}

async fn act_on_report(
    state: &AppState,
    viewer: &Viewer,
    desk: &ReportDesk,
    report_id: &str,
    action: &str,
    fields: &Fields,
) -> Result<Response, AppError> {
    let report = state
        .store
        .reports_for_school(viewer.id(), &desk.school_id)
        .await?
        .into_iter()
        .find(|r| r.id == report_id)
        .ok_or(AppError::NotFound)?;

    let done = match action {
        "rappeler" => {
            let removed = state.store.recall_message(viewer.id(), &report.message_id).await?;
            let mut people = state.store.message_recipient_ids(&report.message_id).await?;
            people.push(report.sender.id.clone());
            state.live.publish(&people);
            tracing::info!(person.id = %viewer.id(), message.id = %report.message_id, removed, "reported message recalled");
            "rappele"
        }
        "geler" => {
            if fields.get("confirmer") != "1" {
                return Err(AppError::BadRequest(
                    "Cochez la case de confirmation pour geler le compte.",
                ));
            }
            if report.sender.id == viewer.id() {
                return Err(AppError::BadRequest("Vous ne pouvez pas geler votre propre compte."));
            }
            let since = store::now_unix() - FREEZE_RECALL_WINDOW;
            let reached = state.store.recipients_since(&report.sender.id, since).await?;
            let recalled =
                state.store.freeze_and_recall(viewer.id(), &report.sender.id, since).await?;
            state.live.publish(&reached);
            tracing::warn!(person.id = %viewer.id(), target.id = %report.sender.id, recalled, "account frozen and messages recalled");
            "gele"
        }
        "traiter" => {
            state.store.mark_report_handled(viewer.id(), &report.id).await?;
            "traite"
        }
        _ => return Err(AppError::NotFound),
    };
    Ok(Redirect::to(&format!("{}?fait={done}", desk.base)).into_response())
}
