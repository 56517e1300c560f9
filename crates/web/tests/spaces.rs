//! The personal space over HTTP: each profile's home page, a parent's child switcher, the
//! directory search rules, the reading mode, a parent resetting their child's password, staff
//! issuing new codes, and names rendered escaped.

mod common;

use axum::http::StatusCode;
use common::*;

const NEW_PASSWORD: &str = "Tromblon-Girafe-Velours-9";

#[tokio::test]
async fn a_pupil_sees_school_class_groups_teachers_and_principal() {
    let app = app().await;
    let cookie = app.login_as(ids::ALICE, "alice.martin").await;

    let home = app.get("/accueil", Some(&cookie)).await;

    assert_eq!(home.status, StatusCode::OK);
    for expected in [
        "Collège Jean Moulin",
        "<dd>6A</dd>",
        "<dd>LATIN</dd>",
        "<bdi>Thomas Bernard</bdi> : Mathématiques",
        "<bdi>Sophie Lambert</bdi> : Latin",
        "Professeur principal",
    ] {
        assert!(home.body.contains(expected), "{expected}");
    }
    assert!(!home.body.contains("Camille Claudel"));
    assert!(!home.body.contains("Hugo Moreau"));
}

#[tokio::test]
async fn a_parent_switches_between_children_in_two_collèges() {
    let app = app().await;
    let cookie = app.login_as(ids::PAUL, "paul.martin").await;

    let first = app.get("/accueil", Some(&cookie)).await;
    assert!(
        first.body.contains("Collège Jean Moulin")
            && first.body.contains("Collège Camille Claudel")
    );
    assert!(
        first
            .body
            .contains(&format!("href=\"/accueil?enfant={}\" aria-current=\"page\"", ids::ALICE))
    );

    let david = app.get(&format!("/accueil?enfant={}", ids::DAVID), Some(&cookie)).await;
    assert_eq!(david.status, StatusCode::OK);
    assert!(
        david
            .body
            .contains(&format!("href=\"/accueil?enfant={}\" aria-current=\"page\"", ids::DAVID))
    );
    assert!(david.body.contains("<dd>5A</dd>") && david.body.contains("Hugo Moreau"));
    assert!(!david.body.contains("Sophie Lambert"));

    for other in [ids::BRUNO, ids::CHLOE, ids::THOMAS, "inconnu"] {
        let reply = app.get(&format!("/accueil?enfant={other}"), Some(&cookie)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{other}");
    }
}

#[tokio::test]
async fn a_second_guardian_sees_only_their_own_child() {
    let app = app().await;
    let cookie = app.login_as(ids::QUITTERIE, "quitterie.martin").await;

    let home = app.get("/accueil", Some(&cookie)).await;
    assert!(home.body.contains("Alice Martin") && !home.body.contains("David Martin"));
    let david = app.get(&format!("/accueil?enfant={}", ids::DAVID), Some(&cookie)).await;
    assert_eq!(david.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_teacher_sees_every_school_and_class_on_one_page() {
    let app = app().await;
    let cookie = app.login_as(ids::THOMAS, "thomas.bernard").await;

    let home = app.get("/accueil", Some(&cookie)).await;

    for expected in [
        "Collège Jean Moulin",
        "Collège Camille Claudel",
        "Classe 6A : Mathématiques",
        "Classe 5A : Mathématiques",
    ] {
        assert!(home.body.contains(expected), "{expected}");
    }
    assert!(!home.body.contains("Classe 6B"));
}

#[tokio::test]
async fn a_head_sees_their_school_figures_and_nothing_of_the_other() {
    let app = app().await;
    app.set_password(ids::ALICE).await;
    let cookie = app.login_as(ids::HELENE, "helene.roux").await;

    let home = app.get("/accueil", Some(&cookie)).await;

    assert!(home.body.contains("Collège Jean Moulin") && home.body.contains("4 élèves, 2 classes"));
    assert!(home.body.contains("<th scope=\"row\">6A</th><td>2</td><td>1</td>"));
    assert!(home.body.contains("<th scope=\"row\">6B</th><td>2</td><td>0</td>"));
    assert!(!home.body.contains("Camille Claudel") && !home.body.contains(">5A<"));
}

#[tokio::test]
async fn departement_people_see_the_collèges_of_their_scope() {
    let app = app().await;
    let agnes = app.login_as(ids::AGNES, "agnes.vidal").await;
    let olivier = app.login_as(ids::OLIVIER, "olivier.faure").await;

    let all = app.get("/accueil", Some(&agnes)).await;
    assert!(
        all.body.contains("Collège Jean Moulin") && all.body.contains("Collège Camille Claudel")
    );
    let scoped = app.get("/accueil", Some(&olivier)).await;
    assert!(
        scoped.body.contains("Collège Camille Claudel")
            && scoped.body.contains("1 élève, 1 classe.")
    );
    assert!(!scoped.body.contains("Jean Moulin"));
}

async fn search(app: &App, cookie: &str, q: &str) -> String {
    let reply = app.get(&format!("/annuaire?q={}", encode(q)), Some(cookie)).await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.body
}

#[tokio::test]
async fn a_pupil_finds_classmates_but_not_another_class_nor_its_parents() {
    let app = app().await;
    let cookie = app.login_as(ids::ALICE, "alice.martin").await;

    assert!(
        search(&app, &cookie, "bruno")
            .await
            .contains("<bdi>Durand Bruno</bdi> <span class=\"badge\">Élève</span>")
    );
    assert!(search(&app, &cookie, "bernard").await.contains("Enseignant"));
    assert!(search(&app, &cookie, "chlo").await.contains("Aucune personne trouvée"));
    assert!(search(&app, &cookie, "sami").await.contains("Aucune personne trouvée"));
    assert!(search(&app, &cookie, "rachel").await.contains("Aucune personne trouvée"));
    assert!(search(&app, &cookie, "roux").await.contains("Aucune personne trouvée"));
}

#[tokio::test]
async fn a_parent_finds_the_direction_but_not_a_pupil_of_another_class() {
    let app = app().await;
    let cookie = app.login_as(ids::RACHEL, "rachel.durand").await;

    assert!(search(&app, &cookie, "roux").await.contains("<bdi>Roux Hélène</bdi>"));
    assert!(search(&app, &cookie, "paul").await.contains("Parent"));
    assert!(search(&app, &cookie, "chlo").await.contains("Aucune personne trouvée"));
    assert!(search(&app, &cookie, "alice").await.contains("Aucune personne trouvée"));
    assert!(search(&app, &cookie, "blanc").await.contains("Aucune personne trouvée"));
}

#[tokio::test]
async fn a_teacher_in_two_collèges_finds_people_of_both() {
    let app = app().await;
    let cookie = app.login_as(ids::THOMAS, "thomas.bernard").await;

    assert!(search(&app, &cookie, "david").await.contains("Martin David"));
    assert!(search(&app, &cookie, "chlo").await.contains("Petit Chloé"));
    assert!(search(&app, &cookie, "vidal").await.contains("Vidal Agnès"));
    assert!(search(&app, &cookie, "nina").await.contains("Aucune personne trouvée"));
    assert!(search(&app, &cookie, "a").await.contains("au moins deux caractères"));
}

#[tokio::test]
async fn the_reading_mode_is_stored_and_changes_the_page() {
    let app = app().await;
    let cookie = app.login_as(ids::ALICE, "alice.martin").await;
    assert!(app.get("/accueil", Some(&cookie)).await.body.contains("<body>"));
    let token = app.csrf(&cookie).await;

    let saved = app
        .post("/parametres", Some(&cookie), &[("csrf_token", &token), ("reading_mode", "1")])
        .await;
    assert_eq!(saved.location(), "/parametres?enregistre=1");

    let page = app.get("/accueil", Some(&cookie)).await;
    assert!(page.body.contains("<body class=\"lecture\">"));
    let settings = app.get("/parametres?enregistre=1", Some(&cookie)).await;
    assert!(settings.body.contains("value=\"1\" checked"));

    app.post("/parametres", Some(&cookie), &[("csrf_token", &token)]).await;
    assert!(app.get("/accueil", Some(&cookie)).await.body.contains("<body>"));
}

#[tokio::test]
async fn a_parent_resets_their_own_childs_password_only() {
    let app = app().await;
    let child_session = app.login_as(ids::DAVID, "david.martin").await;
    let cookie = app.login_as(ids::PAUL, "paul.martin").await;
    let token = app.csrf(&cookie).await;
    let fields = [
        ("csrf_token", token.as_str()),
        ("password", NEW_PASSWORD),
        ("password_confirm", NEW_PASSWORD),
    ];

    let form = app.get(&format!("/enfants/{}/mot-de-passe", ids::DAVID), Some(&cookie)).await;
    assert_eq!(form.status, StatusCode::OK);
    let done =
        app.post(&format!("/enfants/{}/mot-de-passe", ids::DAVID), Some(&cookie), &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    assert_eq!(app.try_login("david.martin", NEW_PASSWORD).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/accueil", Some(&child_session)).await.status, StatusCode::SEE_OTHER);
    let audits = app
        .store
        .fixture_count("SELECT COUNT(*) FROM audit_log WHERE action = 'child_password_reset' AND actor_id = $1 AND target_id = $2", &[ids::PAUL, ids::DAVID])
        .await
        .unwrap();
    assert_eq!(audits, 1);

    for other in [ids::BRUNO, ids::CHLOE] {
        let path = format!("/enfants/{other}/mot-de-passe");
        assert_eq!(app.get(&path, Some(&cookie)).await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.post(&path, Some(&cookie), &fields).await.status, StatusCode::NOT_FOUND);
    }
    let nina = app.login_as(ids::NINA, "nina.petit").await;
    let nina_token = app.csrf(&nina).await;
    let nina_fields = [
        ("csrf_token", nina_token.as_str()),
        ("password", NEW_PASSWORD),
        ("password_confirm", NEW_PASSWORD),
    ];
    let path = format!("/enfants/{}/mot-de-passe", ids::CHLOE);
    assert_eq!(app.post(&path, Some(&nina), &nina_fields).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn school_staff_issue_new_codes_only_in_their_school() {
    let app = app().await;
    app.set_password(ids::ALICE).await;
    let cookie = app.login_as(ids::HELENE, "helene.roux").await;
    let token = app.csrf(&cookie).await;
    let listed = search(&app, &cookie, "alice").await;
    assert!(listed.contains(&format!("href=\"/personnes/{}/nouveau-code\"", ids::ALICE)));

    let issued = app
        .post(
            &format!("/personnes/{}/nouveau-code", ids::ALICE),
            Some(&cookie),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(issued.status, StatusCode::OK);
    let target = app.store.activation_target("alice.martin").await.unwrap().unwrap();
    let code = target.code.unwrap();
    assert!(issued.body.contains(&domain::activation::format_code(&code)));
    assert!(target.code_alive);
    assert_eq!(app.try_login("alice.martin", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    let audits = app
        .store
        .fixture_count("SELECT COUNT(*) FROM audit_log WHERE action = 'activation_code_issued' AND target_id = $1", &[ids::ALICE])
        .await
        .unwrap();
    assert_eq!(audits, 1);

    let other_school = app
        .post(
            &format!("/personnes/{}/nouveau-code", ids::DAVID),
            Some(&cookie),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(other_school.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.store.activation_target("david.martin").await.unwrap().unwrap().code,
        Some(code_for("david.martin"))
    );

    let teacher = app.login_as(ids::SOPHIE, "sophie.lambert").await;
    let teacher_token = app.csrf(&teacher).await;
    let refused = app
        .post(
            &format!("/personnes/{}/nouveau-code", ids::CHLOE),
            Some(&teacher),
            &[("csrf_token", &teacher_token)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/personnes/{}/nouveau-code", ids::CHLOE), Some(&teacher)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_hostile_surname_is_rendered_escaped() {
    let app = app().await;
    let cookie = app.login_as(ids::XAVIER, "xavier.x").await;

    let home = app.get("/accueil", Some(&cookie)).await;
    assert!(!home.body.contains("\"><script>"));
    assert!(
        home.body.contains("<bdi>Xavier &#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;</bdi>")
    );

    let teacher = app.login_as(ids::SOPHIE, "sophie.lambert").await;
    let found = search(&app, &teacher, "xavier").await;
    assert!(!found.contains("<script>"));
    assert!(found.contains("&#60;script&#62;"));
}

#[tokio::test]
async fn hostile_ids_in_paths_and_queries_are_not_found_never_a_500() {
    let app = app().await;
    let cookie = app.login_as(ids::HELENE, "helene.roux").await;

    for path in [
        "/enfants/%00/mot-de-passe",
        "/enfants/a%FFb/mot-de-passe",
        "/personnes/x'%20OR%201=1/nouveau-code",
        "/personnes/%E2%80%AE/nouveau-code",
    ] {
        assert_eq!(app.get(path, Some(&cookie)).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    let parent = app.login_as(ids::PAUL, "paul.martin").await;
    let long = format!("/accueil?enfant={}", "a".repeat(500));
    assert_eq!(app.get(&long, Some(&parent)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/accueil?enfant=a%00", Some(&parent)).await.status, StatusCode::OK);
    assert_eq!(app.get("/annuaire?q=ma%00rt", Some(&parent)).await.status, StatusCode::OK);
}
