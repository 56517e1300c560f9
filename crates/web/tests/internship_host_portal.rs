//! The hosts' pages and the département's desk for hosts and partners, through the router:
//! self-registration (valid, wrong SIRET key, SIRET already registered, weak password,
//! oversized and bidi fields), the host's space (pending notice, details edited by the
//! manager, a colleague invited by e-mail), offers written through the form and moved
//! between states (allowed and refused moves, hours that break the limits for minors), another
//! host's offer answering 404, a suspended host's people locked out, and the département's
//! list, decisions, merge and partner tokens (administrators only).

mod common;

use axum::http::StatusCode;
use common::{App, PASSWORD, PRE_COOKIE, PRE_TOKEN, app, hidden_token};
use store::fixtures::ids as base;
use store::fixtures::internship::{ids, weeks};

async fn internship_app() -> App {
    let app = app().await;
    app.store.load_internship_fixture().await.unwrap();
    app.store.ensure_gazetteer().await.unwrap();
    app
}

const REGISTRATION: [(&str, &str); 14] = [
    ("nom_organisme", "Menuiserie Lévêque"),
    ("siret", "120 027 016 00019"),
    ("type", "company"),
    ("rue", "4 rue des Artisans"),
    ("code_postal", "86000"),
    ("commune", "Poitiers"),
    ("contact_nom", "Lou Lévêque"),
    ("contact_courriel", "contact@menuiserie.example"),
    ("representant_nom", "Lou Lévêque"),
    ("representant_fonction", "Gérante"),
    ("nom", "Lévêque"),
    ("prenom", "Lou"),
    ("courriel", "lou@menuiserie.example"),
    ("mot_de_passe", PASSWORD),
];

async fn register(app: &App, changes: &[(&str, &str)]) -> common::Reply {
    let mut fields: Vec<(&str, &str)> = vec![("csrf_token", PRE_TOKEN)];
    for (name, value) in REGISTRATION {
        let value = changes.iter().find(|(n, _)| *n == name).map_or(value, |(_, v)| *v);
        fields.push((name, value));
    }
    let password = fields.iter().find(|(n, _)| *n == "mot_de_passe").map(|(_, v)| *v).unwrap();
    let confirm = changes
        .iter()
        .find(|(n, _)| *n == "mot_de_passe_confirmation")
        .map_or(password, |(_, v)| *v);
    fields.push(("mot_de_passe_confirmation", confirm));
    app.post("/stages/organismes/inscription", Some(PRE_COOKIE), &fields).await
}

async fn count(app: &App, table: &str) -> usize {
    match table {
        "hosts" => {
            let all = store::internship::hosts::HostFilter::default();
            app.store.departement_hosts(base::AGNES, &all, 1000).await.unwrap().len()
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn a_host_registers_and_logs_in_to_its_pending_space() {
    let app = internship_app().await;
    let form = app.get("/stages/organismes/inscription", None).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"siret\""));

    let reply = register(&app, &[]).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("lou.leveque"), "{}", reply.body);
    let login = app.try_login("lou.leveque", PASSWORD).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let cookie = login.cookie(common::SESSION).unwrap();
    let home = app.get("/organisme", Some(&cookie)).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("après vérification"), "{}", home.body);
    assert!(home.body.contains("Menuiserie Lévêque"));
}

#[tokio::test]
async fn registrations_with_bad_fields_are_refused_on_the_form() {
    let app = internship_app().await;
    let before = count(&app, "hosts").await;

    let bad_key = register(&app, &[("siret", "120 027 016 00018")]).await;
    assert_eq!(bad_key.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_key.body.contains("clé de contrôle"));

    let weak =
        register(&app, &[("mot_de_passe", "azerty"), ("mot_de_passe_confirmation", "azerty")])
            .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains("erreur-mot_de_passe"));

    let different =
        register(&app, &[("mot_de_passe_confirmation", "Autre-Chose-Tout-A-Fait-9")]).await;
    assert_eq!(different.status, StatusCode::UNPROCESSABLE_ENTITY);

    let long_name = "M".repeat(151);
    let long = register(&app, &[("nom_organisme", &long_name)]).await;
    assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(long.body.contains("trop long"));

    let huge = "x".repeat(5000);
    let oversized = register(&app, &[("rue", &huge)]).await;
    assert_eq!(oversized.status, StatusCode::BAD_REQUEST);

    let bidi = register(&app, &[("prenom", "Lou\u{202E}")]).await;
    assert_eq!(bidi.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bidi.body.contains("direction de texte"));

    let no_token =
        app.post("/stages/organismes/inscription", None, &[("siret", "12002701600019")]).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&app, "hosts").await, before);
}

#[tokio::test]
async fn a_siret_registered_twice_gets_a_clear_message() {
    let app = internship_app().await;
    let bakery = register(&app, &[("siret", ids::BAKERY_SIRET)]).await;
    assert_eq!(bakery.status, StatusCode::CONFLICT);
    assert!(bakery.body.contains("déjà inscrit avec ce numéro SIRET"));
    assert!(app.try_login("lou.leveque", PASSWORD).await.cookie(common::SESSION).is_none());
}

#[tokio::test]
async fn a_manager_edits_the_details_and_invites_a_colleague() {
    let app = internship_app().await;
    let cookie = app.login_as(ids::HUGUES, ids::HUGUES).await;
    let csrf = app.csrf(&cookie).await;

    let edit = app.get("/organisme/coordonnees", Some(&cookie)).await;
    assert_eq!(edit.status, StatusCode::OK);
    let mut fields: Vec<(&str, &str)> = vec![("csrf_token", &csrf)];
    fields.extend(REGISTRATION.iter().take(10).copied());
    fields.retain(|(name, _)| *name != "nom_organisme");
    fields.push(("nom_organisme", "Boulangerie Éluard"));
    let saved = app.post("/organisme/coordonnees", Some(&cookie), &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let host = app.store.host_of_member(ids::HUGUES).await.unwrap().unwrap();
    assert_eq!(host.name, "Boulangerie Éluard");
    assert_eq!(host.siret, ids::BAKERY_SIRET, "the SIRET typed is ignored");

    let invite = [
        ("csrf_token", csrf.as_str()),
        ("nom", "Farine"),
        ("prenom", "Jeanne"),
        ("courriel", "jeanne@example.org"),
    ];
    let sent = app.post("/organisme/membres", Some(&cookie), &invite).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let home = app.get("/organisme?fait=invitation", Some(&cookie)).await;
    assert!(home.body.contains("jeanne.farine"));
    assert!(home.body.contains("En attente d'activation"));

    let bad = [("csrf_token", csrf.as_str()), ("nom", ""), ("prenom", "J"), ("courriel", "x")];
    let refused = app.post("/organisme/membres", Some(&cookie), &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// A new one-time form token per call, as a new form page would give.
fn fresh_once() -> &'static str {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Box::leak(format!("jeton-{n}").into_boxed_str())
}

fn offer_fields<'a>(csrf: &'a str, week: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("csrf_token", csrf),
        ("titre", "Découvrir le fournil"),
        ("description", "Pétrir et cuire."),
        ("secteur", ids::SECTOR_FOOD),
        ("rue", "12 rue Carnot"),
        ("code_postal", "86000"),
        ("commune", "Poitiers"),
        ("semaines", week),
        ("places_semaine", "2"),
        ("places_total", "4"),
        ("tuteur_nom", "Hugues Meunier"),
        ("tuteur_fonction", "Boulanger"),
        ("tuteur_courriel", "tuteur@example.org"),
        ("reservation", "none"),
        ("jeton", fresh_once()),
    ];
    for (start, end, pause) in [("debut_0", "fin_0", "pause_0"), ("debut_1", "fin_1", "pause_1")] {
        fields.extend([(start, "09:00"), (end, "16:00"), (pause, "60")]);
    }
    fields
}

#[tokio::test]
async fn offers_are_written_and_moved_through_the_form() {
    let app = internship_app().await;
    let cookie = app.login_as(ids::HUGUES, ids::HUGUES).await;
    let csrf = app.csrf(&cookie).await;
    let week = weeks()[0].to_string();

    let form = app.get("/organisme/offres/nouvelle", Some(&cookie)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Agroalimentaire"));

    let created = app.post("/organisme/offres", Some(&cookie), &offer_fields(&csrf, &week)).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let id = created
        .location()
        .trim_start_matches("/organisme/offres/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let offer = app.store.host_offer(ids::HUGUES, &id).await.unwrap().unwrap();
    assert_eq!(offer.state, domain::internship::OfferState::Draft);
    assert_eq!(offer.input.weeks, vec![weeks()[0]]);

    let state = |value: &'static str| {
        let csrf = csrf.clone();
        let cookie = cookie.clone();
        let path = format!("/organisme/offres/{id}/etat");
        let app = &app;
        async move { app.post(&path, Some(&cookie), &[("csrf_token", &csrf), ("etat", value)]).await }
    };
    assert_eq!(state("unpublished").await.status, StatusCode::CONFLICT);
    assert_eq!(state("published").await.status, StatusCode::SEE_OTHER);
    assert_eq!(state("draft").await.status, StatusCode::CONFLICT);
    assert_eq!(state("archived").await.status, StatusCode::SEE_OTHER);
    assert_eq!(state("published").await.status, StatusCode::CONFLICT);
    assert_eq!(state("nonsense").await.status, StatusCode::BAD_REQUEST);

    let list = app.get("/organisme/offres", Some(&cookie)).await;
    assert!(list.body.contains("Archivée"));
}

#[tokio::test]
async fn hours_breaking_the_limits_for_minors_are_refused_with_the_reasons() {
    let app = internship_app().await;
    let cookie = app.login_as(ids::HUGUES, ids::HUGUES).await;
    let csrf = app.csrf(&cookie).await;
    let week = weeks()[0].to_string();
    let mut fields = offer_fields(&csrf, &week);
    fields.retain(|(name, _)| !name.ends_with("_0") && *name != "places_total");
    fields.extend([("debut_0", "05:00"), ("fin_0", "21:00"), ("pause_0", "10")]);
    fields.extend([("autres_semaines", "2027-W99"), ("places_total", "1")]);

    let refused = app.post("/organisme/offres", Some(&cookie), &fields).await;

    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("7 heures"), "{}", refused.body);
    assert!(refused.body.contains("travail de nuit"));
    assert!(refused.body.contains("2027-W99"));
    assert!(refused.body.contains("inférieur aux places"));
    assert!(app.store.host_offers(ids::HUGUES).await.unwrap().is_empty());
}

#[tokio::test]
async fn another_hosts_offer_is_404_and_a_suspended_host_is_locked_out() {
    let app = internship_app().await;
    let hugues = app.login_as(ids::HUGUES, ids::HUGUES).await;
    let csrf = app.csrf(&hugues).await;
    let week = weeks()[0].to_string();
    let created = app.post("/organisme/offres", Some(&hugues), &offer_fields(&csrf, &week)).await;
    let path = created.location().split('?').next().unwrap().to_owned();

    let gaelle = app.login_as(ids::GAELLE, ids::GAELLE).await;
    let gaelle_csrf = app.csrf(&gaelle).await;
    assert_eq!(app.get(&path, Some(&gaelle)).await.status, StatusCode::NOT_FOUND);
    let stolen = app.post(&path, Some(&gaelle), &offer_fields(&gaelle_csrf, &week)).await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND);
    let publish = [("csrf_token", gaelle_csrf.as_str()), ("etat", "published")];
    let moved = app.post(&format!("{path}/etat"), Some(&gaelle), &publish).await;
    assert_eq!(moved.status, StatusCode::NOT_FOUND);
    let zoe = app.login_as(ids::ZOE, ids::ZOE).await;
    assert_eq!(app.get("/organisme", Some(&zoe)).await.status, StatusCode::NOT_FOUND);

    app.store
        .departement_set_host_status(
            base::AGNES,
            ids::HOST_BAKERY,
            store::internship::hosts::HostAction::Suspend,
            store::now_unix(),
        )
        .await
        .unwrap();
    assert_eq!(app.get("/organisme", Some(&hugues)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&path, Some(&hugues)).await.status, StatusCode::NOT_FOUND);
    let again = app.post("/organisme/offres", Some(&hugues), &offer_fields(&csrf, &week)).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_departement_verifies_suspends_and_merges_hosts() {
    let app = internship_app().await;
    let hugues = app.login_as(ids::HUGUES, ids::HUGUES).await;
    assert_eq!(
        app.get("/departement/stages/organismes", Some(&hugues)).await.status,
        StatusCode::NOT_FOUND
    );
    let helene = app.login_as(base::HELENE, "helene.roux").await;
    assert_eq!(
        app.get("/departement/stages/organismes", Some(&helene)).await.status,
        StatusCode::NOT_FOUND
    );

    let agnes = app.login_as(base::AGNES, "agnes.vidal").await;
    let csrf = app.csrf(&agnes).await;
    let list = app.get("/departement/stages/organismes?statut=pending", Some(&agnes)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Garage du Clain"));
    assert!(!list.body.contains("Boulangerie"));
    let search = app.get("/departement/stages/organismes?q=732829", Some(&agnes)).await;
    assert!(search.body.contains("Boulangerie"));

    let garage = format!("/departement/stages/organismes/{}", ids::HOST_GARAGE);
    let view = app.get(&garage, Some(&agnes)).await;
    assert!(view.body.contains("value=\"verify\""), "{}", view.body);
    let verify = [("csrf_token", csrf.as_str()), ("decision", "verify")];
    let done = app.post(&format!("{garage}/decision"), Some(&agnes), &verify).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let again = app.post(&format!("{garage}/decision"), Some(&agnes), &verify).await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    let merge = [("csrf_token", csrf.as_str()), ("siret_cible", ids::BAKERY_SIRET)];
    let merged = app.post(&format!("{garage}/fusion"), Some(&agnes), &merge).await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER, "{}", merged.body);
    let membership = app.store.host_membership(ids::GAELLE).await.unwrap().unwrap();
    assert_eq!(membership.host_id, ids::HOST_BAKERY);
    let unknown = [("csrf_token", csrf.as_str()), ("siret_cible", "120 027 016 00019")];
    let bakery = format!("/departement/stages/organismes/{}", ids::HOST_BAKERY);
    let refused = app.post(&format!("{bakery}/fusion"), Some(&agnes), &unknown).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);

    let create: Vec<(&str, &str)> = [("csrf_token", csrf.as_str())]
        .into_iter()
        .chain(REGISTRATION.iter().take(13).copied())
        .collect();
    let created = app.post("/departement/stages/organismes", Some(&agnes), &create).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(created.body.contains("Code d'activation"));
    assert!(created.body.contains("lou.leveque"));
}

#[tokio::test]
async fn a_partner_token_is_shown_once_and_can_be_deactivated() {
    let app = internship_app().await;
    let agnes = app.login_as(base::AGNES, "agnes.vidal").await;
    let csrf = app.csrf(&agnes).await;

    let created = app
        .post(
            "/departement/stages/partenaires",
            Some(&agnes),
            &[("csrf_token", &csrf), ("nom", "Stages 86"), ("jeton", "partenaire-1")],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let again = app
        .post(
            "/departement/stages/partenaires",
            Some(&agnes),
            &[("csrf_token", &csrf), ("nom", "Stages 86"), ("jeton", "partenaire-1")],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "a double submit creates one partner");
    let partners =
        app.store.fixture_count("SELECT COUNT(*) FROM internship_partners", &[]).await.unwrap();
    assert_eq!(partners, 1);
    let marker = "Bearer ";
    let start = created.body.find(marker).unwrap() + marker.len();
    let token: String = created.body[start..].chars().take_while(char::is_ascii_hexdigit).collect();
    assert_eq!(token.len(), 64);
    let partner = app.store.partner_by_token(&token, store::now_unix()).await.unwrap().unwrap();

    let list = app.get("/departement/stages/partenaires", Some(&agnes)).await;
    assert!(list.body.contains("Stages 86"));
    assert!(!list.body.contains(&token));
    let path = format!("/departement/stages/partenaires/{}/desactiver", partner.id);
    let off = app.post(&path, Some(&agnes), &[("csrf_token", &csrf)]).await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    assert!(app.store.partner_by_token(&token, store::now_unix()).await.unwrap().is_none());

    let empty = app
        .post(
            "/departement/stages/partenaires",
            Some(&agnes),
            &[("csrf_token", &csrf), ("nom", " "), ("jeton", "partenaire-2")],
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let _ = hidden_token;
}

/// A double submit of the new offer form (the same one-time token twice) creates one offer,
/// and the second answer leads to it; a form without its token is refused.
#[tokio::test]
async fn a_double_submitted_offer_is_created_once() {
    let app = internship_app().await;
    let cookie = app.login_as(ids::HUGUES, ids::HUGUES).await;
    let csrf = app.csrf(&cookie).await;
    let week = weeks()[0].to_string();
    let fields = offer_fields(&csrf, &week);

    let first = app.post("/organisme/offres", Some(&cookie), &fields).await;
    let second = app.post("/organisme/offres", Some(&cookie), &fields).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    assert_eq!(second.status, StatusCode::SEE_OTHER, "{}", second.body);
    assert_eq!(first.location(), second.location());
    let offers = app
        .store
        .fixture_count(
            "SELECT COUNT(*) FROM internship_offers WHERE host_id = $1",
            &[ids::HOST_BAKERY],
        )
        .await
        .unwrap();
    assert_eq!(offers, 1);

    let without: Vec<_> = fields.iter().copied().filter(|(name, _)| *name != "jeton").collect();
    let refused = app.post("/organisme/offres", Some(&cookie), &without).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
}
