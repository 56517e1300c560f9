//! The applications' pages through the router: a pupil opens an offer and applies, the host
//! lists and opens the application (which marks it read) and accepts it, a guardian confirms
//! with consent; names are inside `<bdi>`, pages are French; every POST needs the form token;
//! another pupil's or another host's application answers 404, and a move the state does not
//! allow answers 409 with a French message, never 500.

mod common;

use axum::http::StatusCode;
use common::{App, app, hidden_token};
use store::fixtures::internship::{FixtureOffer, ids, weeks};

async fn internship_app() -> App {
    let app = app().await;
    app.store.load_internship_fixture().await.unwrap();
    app
}

async fn state_of(app: &App, id: &str) -> String {
    for state in domain::internship::ApplicationState::ALL {
        let n = app
            .store
            .fixture_count(
                "SELECT COUNT(*) FROM internship_applications WHERE id = $1 AND state = $2",
                &[id, state.as_str()],
            )
            .await
            .unwrap();
        if n == 1 {
            return state.as_str().to_owned();
        }
    }
    panic!("no application {id}")
}

/// The only application of a pupil.
async fn application_of(app: &App, pupil: &str) -> String {
    let listed = app.store.family_applications(pupil, pupil).await.unwrap();
    assert_eq!(listed.len(), 1);
    listed[0].id.clone()
}

#[tokio::test]
async fn a_pupil_applies_the_host_accepts_and_a_guardian_confirms_with_consent() {
    let app = internship_app().await;
    let offer = app.store.fixture_offer(&FixtureOffer::bakery("Fournil & vente")).await.unwrap();
    let zoe = app.login_as(ids::ZOE, ids::ZOE).await;

    let page = app.get(&format!("/stages/offres/{offer}"), Some(&zoe)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<html lang=\"fr\">"));
    assert!(page.body.contains("Envoyer la candidature"), "{}", page.body);
    assert!(page.body.contains(&weeks()[0].label_fr()), "{}", page.body);
    assert!(page.body.contains("<bdi>Boulangerie"), "{}", page.body);
    let csrf = hidden_token(&page.body);
    let path = format!("/stages/offres/{offer}/candidater");

    let week = weeks()[0].to_string();
    let forged = [("csrf_token", "faux"), ("semaine", week.as_str()), ("motivation", "Oui.")];
    assert_eq!(app.post(&path, Some(&zoe), &forged).await.status, StatusCode::FORBIDDEN);
    let empty = [("csrf_token", csrf.as_str()), ("semaine", week.as_str()), ("motivation", " ")];
    let reply = app.post(&path, Some(&zoe), &empty).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("Écrivez quelques lignes"), "{}", reply.body);
    let motivation = "J'aime pétrir le pain.\r\nEt me lever tôt.";
    let fields =
        [("csrf_token", csrf.as_str()), ("semaine", week.as_str()), ("motivation", motivation)];
    let reply = app.post(&path, Some(&zoe), &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), "/stages/candidatures?fait=envoyee");
    let again = app.post(&path, Some(&zoe), &fields).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("existe déjà"), "{}", again.body);

    let list = app.get("/stages/candidatures?fait=envoyee", Some(&zoe)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Votre candidature est envoyée"), "{}", list.body);
    assert!(
        list.body.contains("<bdi>Fournil &#38; vente</bdi>")
            || list.body.contains("<bdi>Fournil &amp; vente</bdi>"),
        "{}",
        list.body
    );
    assert!(list.body.contains("Envoyée"));
    let id = application_of(&app, ids::ZOE).await;

    // The host's list and detail: name, class, school, motivation; no address.
    let hugues = app.login_as(ids::HUGUES, ids::HUGUES).await;
    let list = app.get("/organisme/candidatures", Some(&hugues)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("<bdi>Zoé L"), "{}", list.body);
    assert!(list.body.contains("3A"));
    assert!(!list.body.contains("chemin des"), "no home address");
    assert_eq!(state_of(&app, &id).await, "submitted", "listing does not read");
    let detail = app.get(&format!("/organisme/candidatures/{id}"), Some(&hugues)).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.body);
    assert!(detail.body.contains("<bdi>Et me lever tôt.</bdi>"), "{}", detail.body);
    assert!(!detail.body.contains("chemin des") && !detail.body.contains("Vouneuil"));
    assert_eq!(state_of(&app, &id).await, "read");
    let host_csrf = hidden_token(&detail.body);
    let accept = format!("/organisme/candidatures/{id}/accepter");
    let reply = app.post(&accept, Some(&hugues), &[("csrf_token", "faux")]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = app.post(&accept, Some(&hugues), &[("csrf_token", &host_csrf)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(state_of(&app, &id).await, "accepted");
    let reply = app
        .post(
            &format!("/organisme/candidatures/{id}/refuser"),
            Some(&hugues),
            &[("csrf_token", &host_csrf)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert!(
        reply.body.contains("n'est pas possible") || reply.body.contains("n&#39;est pas possible"),
        "{}",
        reply.body
    );

    // The pupil alone cannot confirm yet: a guardian's consent is missing.
    let confirm = format!("/stages/candidatures/{id}/confirmer");
    let reply = app.post(&confirm, Some(&zoe), &[("csrf_token", &csrf)]).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(reply.body.contains("accord"), "{}", reply.body);

    // A guardian sees each child, and confirms, which gives consent.
    let yves = app.login_as(ids::YVES, ids::YVES).await;
    let list = app.get("/stages/candidatures", Some(&yves)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("<bdi>Zoé L"), "{}", list.body);
    assert!(list.body.contains("Donner mon accord et confirmer"), "{}", list.body);
    let yves_csrf = hidden_token(&list.body);
    let reply = app.post(&confirm, Some(&yves), &[("csrf_token", "faux")]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = app.post(&confirm, Some(&yves), &[("csrf_token", &yves_csrf)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(state_of(&app, &id).await, "confirmed");
    let consent = app
        .store
        .fixture_count(
            "SELECT COUNT(*) FROM internship_applications WHERE id = $1 AND consent_by = 'r-yves'",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(consent, 1);
    let list = app.get("/stages/candidatures?fait=confirmee", Some(&zoe)).await;
    assert!(list.body.contains("Confirmée"), "{}", list.body);
    assert!(list.body.contains("Voir la convention de stage"), "{}", list.body);
    assert!(list.body.contains("<bdi>Yves L"), "the consent names the guardian: {}", list.body);
}

#[tokio::test]
async fn another_pupils_or_another_hosts_application_is_not_found() {
    let app = internship_app().await;
    let offer = app.store.fixture_offer(&FixtureOffer::bakery("Boulanger")).await.unwrap();
    let now = store::now_unix();
    let week = weeks()[0].to_string();
    let id =
        app.store.submit_application(ids::ZOE, ids::ZOE, &offer, &week, "Oui.", now).await.unwrap();

    let minh = app.login_as(ids::MINH, ids::MINH).await;
    let csrf = app.csrf(&minh).await;
    for action in ["confirmer", "annuler", "accord"] {
        let path = format!("/stages/candidatures/{id}/{action}");
        let reply = app.post(&path, Some(&minh), &[("csrf_token", &csrf)]).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{action}");
    }
    let list = app.get("/stages/candidatures", Some(&minh)).await;
    assert!(!list.body.contains(&id));
    let reply = app.get(&format!("/organisme/candidatures/{id}"), Some(&minh)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // Minh's guardian cannot look at an offer for Zoé.
    let kim = app.login_as(ids::KIM, ids::KIM).await;
    let reply = app.get(&format!("/stages/offres/{offer}?eleve={}", ids::ZOE), Some(&kim)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let kim_csrf = app.csrf(&kim).await;
    let fields = [
        ("csrf_token", kim_csrf.as_str()),
        ("eleve", ids::ZOE),
        ("semaine", week.as_str()),
        ("motivation", "Oui."),
    ];
    let reply = app.post(&format!("/stages/offres/{offer}/candidater"), Some(&kim), &fields).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // Another host's person (the garage, pending) sees nothing of the bakery's applications.
    let gaelle = app.login_as(ids::GAELLE, ids::GAELLE).await;
    let gaelle_csrf = app.csrf(&gaelle).await;
    let reply = app.get(&format!("/organisme/candidatures/{id}"), Some(&gaelle)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    for action in ["accepter", "refuser", "annuler"] {
        let path = format!("/organisme/candidatures/{id}/{action}");
        let reply = app.post(&path, Some(&gaelle), &[("csrf_token", &gaelle_csrf)]).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{action}");
    }
    let list = app.get("/organisme/candidatures", Some(&gaelle)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.body.contains("Zoé"));

    // A pupil is not a host.
    let zoe = app.login_as(ids::ZOE, ids::ZOE).await;
    assert_eq!(app.get("/organisme/candidatures", Some(&zoe)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(state_of(&app, &id).await, "submitted");
}

#[tokio::test]
async fn offers_a_pupil_may_not_apply_to_are_not_found_and_partner_offers_link_out() {
    let app = internship_app().await;
    let mut draft = FixtureOffer::bakery("Brouillon");
    draft.state = "draft".to_owned();
    let draft = app.store.fixture_offer(&draft).await.unwrap();
    let partner =
        app.store.fixture_offer(&FixtureOffer::bakery("Ferme pédagogique")).await.unwrap();
    app.store
        .fixture_execute(
            "INSERT INTO internship_partners (id, name, token_hash, active, created_at) \
             VALUES ('partner-1', 'Plateforme partenaire', 'hash', 1, 1)",
            &[],
        )
        .await
        .unwrap();
    app.store
        .fixture_execute(
            "UPDATE internship_offers SET partner_id = 'partner-1', remote_id = '42', \
             host_id = NULL, employer_name = 'Ferme du Clain', \
             permalink = 'https://partenaire.example.org/offres/42' WHERE id = $1",
            &[&partner],
        )
        .await
        .unwrap();

    let zoe = app.login_as(ids::ZOE, ids::ZOE).await;
    assert_eq!(
        app.get(&format!("/stages/offres/{draft}"), Some(&zoe)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get("/stages/offres/inconnue", Some(&zoe)).await.status, StatusCode::NOT_FOUND);
    let page = app.get(&format!("/stages/offres/{partner}"), Some(&zoe)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("https://partenaire.example.org/offres/42"), "{}", page.body);
    assert!(!page.body.contains("Envoyer la candidature"));
    let csrf = hidden_token(&page.body);
    let week = weeks()[0].to_string();
    let fields =
        [("csrf_token", csrf.as_str()), ("semaine", week.as_str()), ("motivation", "Oui.")];
    let reply =
        app.post(&format!("/stages/offres/{partner}/candidater"), Some(&zoe), &fields).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);

    // A parent whose children are not in 3e is told so.
    let paul = app.login_as(store::fixtures::ids::PAUL, "paul.martin").await;
    let reply = app.get("/stages/candidatures", Some(&paul)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("en 3e"), "{}", reply.body);

    // A teacher is neither a pupil nor a guardian.
    let sophie = app.login_as(store::fixtures::ids::SOPHIE, "sophie.lambert").await;
    let reply = app.get("/stages/candidatures", Some(&sophie)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_guardian_applies_for_a_child_and_gives_consent_before_the_pupil_confirms() {
    let app = internship_app().await;
    let offer = app.store.fixture_offer(&FixtureOffer::bakery("Vendeur")).await.unwrap();
    let karim = app.login_as(ids::KARIM, ids::KARIM).await;
    let page = app.get(&format!("/stages/offres/{offer}"), Some(&karim)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Offre consultée pour <bdi>فاطمة الزهراء بن علي</bdi>"),
        "{}",
        page.body
    );
    let csrf = hidden_token(&page.body);
    let week = weeks()[1].to_string();
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("eleve", ids::FATIMA),
        ("semaine", week.as_str()),
        ("motivation", "أحب الخبز 🥖"),
    ];
    let reply =
        app.post(&format!("/stages/offres/{offer}/candidater"), Some(&karim), &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let id = application_of(&app, ids::FATIMA).await;
    app.store.accept_application(ids::HUGUES, &id, store::now_unix()).await.unwrap();

    let list = app.get("/stages/candidatures", Some(&karim)).await;
    assert!(list.body.contains("Donner mon accord"), "{}", list.body);
    let reply = app
        .post(&format!("/stages/candidatures/{id}/accord"), Some(&karim), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);

    let fatima = app.login_as(ids::FATIMA, ids::FATIMA).await;
    let list = app.get("/stages/candidatures?fait=accord", Some(&fatima)).await;
    assert!(list.body.contains("Confirmer ce stage"), "{}", list.body);
    let fatima_csrf = hidden_token(&list.body);
    let reply = app
        .post(
            &format!("/stages/candidatures/{id}/confirmer"),
            Some(&fatima),
            &[("csrf_token", &fatima_csrf)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(state_of(&app, &id).await, "confirmed");

    // Cancelling twice: the second is a French 409.
    let cancel = format!("/stages/candidatures/{id}/annuler");
    let reply = app.post(&cancel, Some(&fatima), &[("csrf_token", &fatima_csrf)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let reply = app.post(&cancel, Some(&fatima), &[("csrf_token", &fatima_csrf)]).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(reply.body.contains("Annulée par l"), "{}", reply.body);
}

#[tokio::test]
async fn a_parent_applying_for_someone_elses_child_gets_a_404_and_nothing_is_filed() {
    let app = internship_app().await;
    let offer = app.store.fixture_offer(&FixtureOffer::bakery("Fournil")).await.unwrap();
    let kim = app.login_as(ids::KIM, ids::KIM).await;
    let csrf = app.csrf(&kim).await;
    let week = store::fixtures::internship::weeks()[0].to_string();

    let reply = app
        .post(
            &format!("/stages/offres/{offer}/candidater"),
            Some(&kim),
            &[
                ("csrf_token", csrf.as_str()),
                ("eleve", ids::ZOE),
                ("semaine", week.as_str()),
                ("motivation", "Oui."),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    let filed =
        app.store.fixture_count("SELECT COUNT(*) FROM internship_applications", &[]).await.unwrap();
    assert_eq!(filed, 0);
}
