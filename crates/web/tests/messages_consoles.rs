//! The messaging side of the school console: the communication rules editor (a head switches a
//! rule off and the directory follows; another school's head gets 404; the defaults come back)
//! and the reported messages (a parent reports, the head recalls, freezes the sender and
//! recalls their last day's messages, marks the report handled), and the département's desk for
//! the reports of people who belong to no collège.

mod common;
mod messages_support;

use axum::http::StatusCode;
use messages_support::*;

const RULES_1: &str = "/etablissement/0860001A/regles";
const REPORTS_1: &str = "/etablissement/0860001A/signalements";

#[tokio::test]
async fn a_head_switches_a_rule_off_and_the_directory_follows() {
    let app = mail_app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let marc = app.login_as(ids::MARC, "marc.blanc").await;
    let paul = app.login_as(ids::PAUL, "paul.martin").await;

    let console = app.get("/etablissement/0860001A", Some(&helene)).await;
    assert!(console.body.contains(&format!("href=\"{RULES_1}\"")));
    assert!(console.body.contains(&format!("href=\"{REPORTS_1}\"")));
    let page = app.get(RULES_1, Some(&helene)).await;
    assert_eq!(page.status, StatusCode::OK);
    for rule in domain::communication::Rule::ALL {
        assert!(page.body.contains(rule.label_fr()), "{}", rule.code());
    }
    assert!(page.body.contains("<span class=\"badge\">défaut</span>"));
    assert!(app.get("/annuaire?q=rachel", Some(&paul)).await.body.contains("Rachel"));

    // Another school's head: 404, and nothing changes.
    let marc_csrf = app.csrf(&marc).await;
    assert_eq!(app.get(RULES_1, Some(&marc)).await.status, StatusCode::NOT_FOUND);
    let refused = app.post(RULES_1, Some(&marc), &[("csrf_token", &marc_csrf)]).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let reset =
        app.post(&format!("{RULES_1}/defaut"), Some(&marc), &[("csrf_token", &marc_csrf)]).await;
    assert_eq!(reset.status, StatusCode::NOT_FOUND);
    assert!(app.rows("SELECT rule FROM communication_rules").await.is_empty());

    // Every rule as it is but the parents' one to other parents.
    let csrf = app.csrf(&helene).await;
    let mut fields = vec![("csrf_token", csrf.as_str())];
    for rule in domain::communication::Rule::ALL {
        if rule.default_allowed() && rule != domain::communication::Rule::ParentToClassParents {
            fields.push(("regle", rule.code()));
        }
    }
    let saved = app.post(RULES_1, Some(&helene), &fields).await;
    assert_eq!(saved.location(), format!("{RULES_1}?fait=enregistre"));
    let rows = app.rows("SELECT rule, CAST(allowed AS TEXT) FROM communication_rules").await;
    assert_eq!(rows, vec![vec![Some("parent_to_class_parents".to_owned()), Some("0".to_owned())]]);
    let page = app.get(&format!("{RULES_1}?fait=enregistre"), Some(&helene)).await;
    assert!(page.body.contains("<span class=\"badge\">modifiée</span>"));
    assert!(!page.body.contains("id=\"regle-parent_to_class_parents\" name=\"regle\" value=\"parent_to_class_parents\" checked"));

    let directory = app.get("/annuaire?q=rachel", Some(&paul)).await;
    assert!(!directory.body.contains("Rachel"), "{}", directory.body);
    let (_, compose_csrf, key) = app.open_compose(&paul, "").await;
    let search = app
        .post_compose(
            &paul,
            &[("csrf_token", &compose_csrf), ("cle", &key), ("q", "durand"), ("chercher", "1")],
            None,
        )
        .await;
    let proposals = app.get(search.location(), Some(&paul)).await;
    assert!(!proposals.body.contains("Rachel"));
    let refused = app.send_message(&paul, &["p:r-rachel"], "Covoiturage", "Bonjour", &[]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);

    let back =
        app.post(&format!("{RULES_1}/defaut"), Some(&helene), &[("csrf_token", &csrf)]).await;
    assert_eq!(back.location(), format!("{RULES_1}?fait=defaut"));
    assert!(app.rows("SELECT rule FROM communication_rules").await.is_empty());
    assert!(app.get("/annuaire?q=rachel", Some(&paul)).await.body.contains("Rachel"));
}

#[tokio::test]
async fn a_reported_message_is_recalled_and_its_sender_frozen_by_the_head() {
    let app = mail_app().await;
    let sophie = app.login_as(ids::SOPHIE, "sophie.lambert").await;
    let sami = app.login_as(ids::SAMI, "sami.petit").await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let marc = app.login_as(ids::MARC, "marc.blanc").await;

    let first = app
        .send_message(
            &sophie,
            &["class_parents:class-6b"],
            "Message déplacé",
            "Contenu déplacé",
            &[],
        )
        .await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let first = message_id(first.location());
    let second =
        app.send_message(&sophie, &["class_parents:class-6b"], "Autre message", "Autre", &[]).await;
    let second = message_id(second.location());

    // Sami reports the first message.
    let sami_csrf = app.csrf(&sami).await;
    let page = app.get(&format!("/messagerie/messages/{first}"), Some(&sami)).await;
    assert!(page.body.contains("Signaler ce message"));
    let reported = app
        .post(
            &format!("/messagerie/messages/{first}/signaler"),
            Some(&sami),
            &[("csrf_token", &sami_csrf), ("raison", "Propos déplacés")],
        )
        .await;
    assert_eq!(reported.status, StatusCode::SEE_OTHER);
    assert!(
        app.get(reported.location(), Some(&sami)).await.body.contains("signalé aux responsables")
    );

    // The head sees it; another school's head does not.
    let reports = app.get(REPORTS_1, Some(&helene)).await;
    assert_eq!(reports.status, StatusCode::OK);
    assert!(reports.body.contains("<bdi>Message déplacé</bdi>"));
    assert!(reports.body.contains("<bdi>Propos déplacés</bdi>"));
    assert!(
        reports.body.contains("<bdi>Sami Petit</bdi>")
            && reports.body.contains("<bdi>Sophie Lambert</bdi>")
    );
    assert_eq!(app.get(REPORTS_1, Some(&marc)).await.status, StatusCode::NOT_FOUND);
    let report = app.rows("SELECT id FROM message_reports").await[0][0].clone().unwrap();
    let marc_csrf = app.csrf(&marc).await;
    let before = app.snapshot().await;
    for action in ["rappeler", "geler", "traiter"] {
        let refused = app
            .post(
                &format!("{REPORTS_1}/{report}/{action}"),
                Some(&marc),
                &[("csrf_token", &marc_csrf), ("confirmer", "1")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{action}");
    }
    assert_eq!(app.snapshot().await, before);

    // Recall: the message leaves Sami's mailbox; Sophie keeps her copy, marked recalled.
    let csrf = app.csrf(&helene).await;
    let recalled = app
        .post(&format!("{REPORTS_1}/{report}/rappeler"), Some(&helene), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(recalled.location(), format!("{REPORTS_1}?fait=rappele"));
    assert_eq!(
        app.get(&format!("/messagerie/messages/{first}"), Some(&sami)).await.status,
        StatusCode::NOT_FOUND
    );
    let copy = app.get(&format!("/messagerie/messages/{first}"), Some(&sophie)).await;
    assert!(copy.body.contains("Ce message a été rappelé"));

    // Freezing needs the confirmation box, then freezes and recalls the rest of the day.
    let unconfirmed = app
        .post(&format!("{REPORTS_1}/{report}/geler"), Some(&helene), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get(&format!("/messagerie/messages/{second}"), Some(&sami)).await.status,
        StatusCode::OK
    );
    // Sami's open page hears the kill switch take an unread message away.
    app.send_message(&sophie, &["class_parents:class-6b"], "Troisième", "Encore", &[]).await;
    let request = axum::http::Request::get("/messagerie/evenements")
        .header(axum::http::header::COOKIE, &sami)
        .body(axum::body::Body::empty())
        .unwrap();
    let mut events =
        tower::ServiceExt::oneshot(app.router.clone(), request).await.unwrap().into_body();
    assert_eq!(next_event(&mut events).await, "event: unread\ndata: 1\n\n");
    let frozen = app
        .post(
            &format!("{REPORTS_1}/{report}/geler"),
            Some(&helene),
            &[("csrf_token", &csrf), ("confirmer", "1")],
        )
        .await;
    assert_eq!(frozen.location(), format!("{REPORTS_1}?fait=gele"));
    assert_eq!(next_event(&mut events).await, "event: unread\ndata: 0\n\n");
    assert_eq!(
        app.get(&format!("/messagerie/messages/{second}"), Some(&sami)).await.status,
        StatusCode::NOT_FOUND
    );
    let ended = app.get("/messagerie/dossiers/reception", Some(&sophie)).await;
    assert!(ended.location().starts_with("/connexion"), "the frozen account's session ended");

    let handled = app
        .post(&format!("{REPORTS_1}/{report}/traiter"), Some(&helene), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(handled.location(), format!("{REPORTS_1}?fait=traite"));
    let page = app.get(REPORTS_1, Some(&helene)).await;
    assert!(page.body.contains("Aucun signalement à traiter."));
    assert!(page.body.contains("Traités"));
}

#[tokio::test]
async fn reports_of_people_of_no_collège_reach_the_département_console() {
    let app = mail_app().await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let agnes = app.login_as(ids::AGNES, "agnes.vidal").await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;

    let sent = app.send_message(&thomas, &["p:d-agnes"], "Pour le département", "Texte", &[]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let message = message_id(sent.location());
    let csrf = app.csrf(&agnes).await;
    let reported = app
        .post(
            &format!("/messagerie/messages/{message}/signaler"),
            Some(&agnes),
            &[("csrf_token", &csrf), ("raison", "Hors sujet")],
        )
        .await;
    assert_eq!(reported.status, StatusCode::SEE_OTHER);

    let desk = app.get("/departement/signalements", Some(&agnes)).await;
    assert_eq!(desk.status, StatusCode::OK);
    assert!(desk.body.contains("<bdi>Pour le département</bdi>"));
    assert!(app.get("/departement", Some(&agnes)).await.body.contains("/departement/signalements"));
    assert_eq!(
        app.get("/departement/signalements", Some(&helene)).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(!app.get(REPORTS_1, Some(&helene)).await.body.contains("Pour le département"));

    let report = app.rows("SELECT id FROM message_reports").await[0][0].clone().unwrap();
    let helene_csrf = app.csrf(&helene).await;
    let before = app.snapshot().await;
    let refused = app
        .post(
            &format!("/departement/signalements/{report}/rappeler"),
            Some(&helene),
            &[("csrf_token", &helene_csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(app.snapshot().await, before);

    let recalled = app
        .post(
            &format!("/departement/signalements/{report}/rappeler"),
            Some(&agnes),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(recalled.location(), "/departement/signalements?fait=rappele");
    assert_eq!(
        app.get(&format!("/messagerie/messages/{message}"), Some(&agnes)).await.status,
        StatusCode::NOT_FOUND
    );
}
