//! The school and département consoles over HTTP: who may open them (everyone else gets 404),
//! the activation codes of a school or class as CSV and as printable letters, freezing and
//! unfreezing accounts, creating a département agent who then activates and sees their scope,
//! the AAF import runs, the navigation and the CSRF refusals of every new form.

mod common;

use axum::http::{StatusCode, header};
use common::*;

const NEW_PASSWORD: &str = "Tromblon-Girafe-Velours-9";

fn console(uai: &str) -> String {
    format!("/etablissement/{uai}")
}

fn header_of(reply: &Reply, name: header::HeaderName) -> &str {
    reply.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

async fn audits(app: &App, action: &'static str, target: &str) -> i64 {
    let sql = match action {
        "account_frozen" => {
            "SELECT COUNT(*) FROM audit_log WHERE action = 'account_frozen' AND target_id = $1"
        }
        "account_unfrozen" => {
            "SELECT COUNT(*) FROM audit_log WHERE action = 'account_unfrozen' AND target_id = $1"
        }
        _ => {
            "SELECT COUNT(*) FROM audit_log WHERE action = 'departement_person_created' \
             AND target_id = $1"
        }
    };
    app.store.fixture_count(sql, &[target]).await.unwrap()
}

#[tokio::test]
async fn a_school_admin_gets_404_on_another_schools_console_codes_and_letters() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let marc = app.login_as(ids::MARC, "marc.blanc").await;

    for (cookie, own, other) in [(&helene, ids::UAI_1, ids::UAI_2), (&marc, ids::UAI_2, ids::UAI_1)]
    {
        let page = app.get(&console(own), Some(cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{own}");
        for suffix in ["", "/codes.csv", "/lettres", "/codes.csv?classe=5A", "/lettres?classe=6A"] {
            let path = format!("{}{suffix}", console(other));
            let reply = app.get(&path, Some(cookie)).await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
            assert!(!reply.body.contains("Collège"), "{path}");
        }
    }
    let wrong_class = format!("{}/codes.csv?classe=5A", console(ids::UAI_1));
    assert_eq!(app.get(&wrong_class, Some(&helene)).await.status, StatusCode::NOT_FOUND);
    let unknown = app.get(&console("0000000Z"), Some(&helene)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_school_console_shows_figures_classes_pupils_and_guardians_without_codes() {
    let app = app().await;
    app.set_password(ids::ALICE).await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;

    let page = app.get(&console(ids::UAI_1), Some(&helene)).await;

    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("4 élèves, 2 classes, 1 compte d'élève activé."));
    assert!(
        page.body
            .contains("<th scope=\"row\"><a href=\"#classe-1\">6A</a></th><td>2</td><td>1</td>")
    );
    assert!(page.body.contains("Classe 6B") && page.body.contains("<caption>"));
    assert!(page.body.contains("<bdi>Martin Alice</bdi></th>\n<td>Élève</td>\n<td>Activé</td>"));
    assert!(
        page.body.contains("<bdi>Durand Rachel</bdi></th>\n<td>Responsable de Bruno Durand</td>")
    );
    assert!(page.body.contains("<bdi>Lambert Sophie</bdi>"));
    assert!(!page.body.contains("Nina"), "a contact without legal responsibility is not listed");
    // Class names are matched with their markup: a bare "5A" also turns up, about once in a
    // hundred runs, inside the page's random form token.
    assert!(!page.body.contains("David") && !page.body.contains(">5A<"));
    assert!(!page.body.contains("Classe 5A"));
    assert!(!page.body.contains(&domain::activation::format_code(&code_for("bruno.durand"))));
    assert!(!page.body.contains(&code_for("bruno.durand")));
    assert!(page.body.contains("/etablissement/0860001A/codes.csv?classe=6A"));
    assert!(page.body.contains("/etablissement/0860001A/lettres?classe=6B"));
    assert!(page.body.contains(&format!("action=\"/personnes/{}/gel\"", ids::BRUNO)));
    assert!(page.body.contains(&format!("href=\"/personnes/{}/nouveau-code\"", ids::SAMI)));
    assert!(!page.body.contains(&format!("action=\"/personnes/{}/gel\"", ids::HELENE)));
    // Paul (a child in each collège) and Thomas (teaching in both) are the département's.
    for shared in [ids::PAUL, ids::THOMAS] {
        assert!(!page.body.contains(&format!("/personnes/{shared}/gel")), "{shared}");
        assert!(!page.body.contains(&format!("/personnes/{shared}/nouveau-code")), "{shared}");
    }
    assert!(page.body.contains("Géré par le département (plusieurs collèges)"));
    let agnes = app.login_as(ids::AGNES, "agnes.vidal").await;
    let as_departement = app.get(&console(ids::UAI_1), Some(&agnes)).await;
    assert!(as_departement.body.contains(&format!("/personnes/{}/gel", ids::PAUL)));
}

#[tokio::test]
async fn teachers_parents_and_pupils_get_404_on_every_console() {
    let app = app().await;
    for (id, login) in
        [(ids::SOPHIE, "sophie.lambert"), (ids::PAUL, "paul.martin"), (ids::ALICE, "alice.martin")]
    {
        let cookie = app.login_as(id, login).await;
        let token = app.csrf(&cookie).await;
        for path in [
            console(ids::UAI_1),
            format!("{}/codes.csv", console(ids::UAI_1)),
            format!("{}/lettres?classe=6A", console(ids::UAI_1)),
            "/departement".to_owned(),
            "/departement/imports".to_owned(),
        ] {
            assert_eq!(
                app.get(&path, Some(&cookie)).await.status,
                StatusCode::NOT_FOUND,
                "{login} {path}"
            );
        }
        let create = app
            .post(
                "/departement/personnes",
                Some(&cookie),
                &[
                    ("csrf_token", &token),
                    ("last_name", "Intrus"),
                    ("first_name", "Jean"),
                    ("profile", "agent"),
                    ("scope", "all"),
                ],
            )
            .await;
        assert_eq!(create.status, StatusCode::NOT_FOUND, "{login}");
        let freeze = app
            .post(
                &format!("/personnes/{}/gel", ids::CHLOE),
                Some(&cookie),
                &[("csrf_token", &token), ("gel", "1"), ("retour", "/accueil")],
            )
            .await;
        assert_eq!(freeze.status, StatusCode::NOT_FOUND, "{login}");
        let page = app.get("/accueil", Some(&cookie)).await;
        assert!(
            !page.body.contains("/etablissement/") && !page.body.contains("href=\"/departement\"")
        );
    }
    let people = app
        .store
        .fixture_count("SELECT COUNT(*) FROM people WHERE last_name = 'Intrus'", &[])
        .await
        .unwrap();
    assert_eq!(people, 0);
    let frozen = app
        .store
        .fixture_count("SELECT frozen FROM accounts WHERE person_id = $1", &[ids::CHLOE])
        .await
        .unwrap();
    assert_eq!(frozen, 0);
}

#[tokio::test]
async fn the_csv_of_a_class_holds_exactly_its_pupils_and_their_legal_guardians() {
    let app = app().await;
    app.store
        .fixture_execute(
            "UPDATE people SET last_name = $1 WHERE id = $2",
            &["=HYPERLINK(\"http://evil.tld\";\"clic\")", ids::BRUNO],
        )
        .await
        .unwrap();
    let helene = app.login_as(ids::HELENE, "helene.roux").await;

    let csv = app.get(&format!("{}/codes.csv?classe=6A", console(ids::UAI_1)), Some(&helene)).await;

    assert_eq!(csv.status, StatusCode::OK);
    assert!(header_of(&csv, header::CONTENT_TYPE).starts_with("text/csv"));
    let disposition = header_of(&csv, header::CONTENT_DISPOSITION);
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains("filename*=UTF-8''codes-0860001A-6A.csv"), "{disposition}");
    let lines: Vec<&str> = csv.body.trim_end().lines().collect();
    assert_eq!(lines.len(), 6, "{}", csv.body);
    for login in
        ["alice.martin", "bruno.durand", "paul.martin", "quitterie.martin", "rachel.durand"]
    {
        let found = lines.iter().filter(|line| line.contains(&format!(";{login};"))).count();
        assert_eq!(found, 1, "{login}");
    }
    assert!(csv.body.contains("\"'=HYPERLINK(\"\"http://evil.tld\"\";\"\"clic\"\")\""));
    assert!(!csv.body.contains(";=HYPERLINK") && !csv.body.contains(";\"=HYPERLINK"));
    assert!(csv.body.contains(&domain::activation::format_code(&code_for("rachel.durand"))));
    for absent in ["chloe.petit", "sami.petit", "nina.petit", "david.martin", "thomas.bernard"] {
        assert!(!csv.body.contains(absent), "{absent}");
    }

    let school = app.get(&format!("{}/codes.csv", console(ids::UAI_1)), Some(&helene)).await;
    assert!(school.body.contains("sami.petit") && school.body.contains("thomas.bernard"));
    assert!(!school.body.contains("nina.petit") && !school.body.contains("hugo.moreau"));
    assert!(header_of(&school, header::CONTENT_DISPOSITION).contains("codes-0860001A.csv"));
}

#[tokio::test]
async fn letters_escape_a_hostile_name_and_skip_activated_accounts() {
    let app = app().await;
    app.set_password(ids::ALICE).await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;

    let hostile =
        app.get(&format!("{}/lettres?classe=6B", console(ids::UAI_1)), Some(&helene)).await;
    assert_eq!(hostile.status, StatusCode::OK);
    assert!(!hostile.body.contains("<script>"));
    assert!(hostile.body.contains("&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;"));
    assert!(hostile.body.contains(&domain::activation::format_code(&code_for("xavier.x"))));
    let csp = header_of(&hostile, header::CONTENT_SECURITY_POLICY);
    assert!(csp.contains("style-src 'sha256-") && csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("script-src"));

    let class = app.get(&format!("{}/lettres?classe=6A", console(ids::UAI_1)), Some(&helene)).await;
    assert!(
        class.body.contains("bruno.durand")
            && class.body.contains("responsable de <bdi>Alice Martin</bdi>")
    );
    assert!(!class.body.contains("alice.martin"), "Alice's account is activated");
    assert_eq!(class.body.matches("<section class=\"lettre\"").count(), 4);
    assert!(class.body.contains("http://127.0.0.1:8080/activation"));
}

#[tokio::test]
async fn freezing_kills_the_open_session_and_refuses_login_until_unfrozen() {
    let app = app().await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let token = app.csrf(&helene).await;
    assert_eq!(app.get("/accueil", Some(&alice)).await.status, StatusCode::OK);

    let frozen = app
        .post(
            &format!("/personnes/{}/gel", ids::ALICE),
            Some(&helene),
            &[("csrf_token", &token), ("gel", "1"), ("retour", "/etablissement/0860001A")],
        )
        .await;

    assert_eq!(frozen.status, StatusCode::SEE_OTHER);
    assert_eq!(frozen.location(), "/etablissement/0860001A?compte=gele");
    assert_eq!(app.get("/accueil", Some(&alice)).await.status, StatusCode::SEE_OTHER);
    let sessions = app
        .store
        .fixture_count("SELECT COUNT(*) FROM sessions WHERE person_id = $1", &[ids::ALICE])
        .await
        .unwrap();
    assert_eq!(sessions, 0);
    let refused = app.try_login("alice.martin", PASSWORD).await;
    let unknown = app.try_login("personne.inconnue", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.body, unknown.body);
    assert_eq!(audits(&app, "account_frozen", ids::ALICE).await, 1);
    let page = app.get(frozen.location(), Some(&helene)).await;
    assert!(page.body.contains("Le compte est gelé"));
    assert!(page.body.contains("<bdi>Martin Alice</bdi></th>\n<td>Élève</td>\n<td>Gelé</td>"));

    let unfrozen = app
        .post(
            &format!("/personnes/{}/gel", ids::ALICE),
            Some(&helene),
            &[("csrf_token", &token), ("gel", "0"), ("retour", "/etablissement/0860001A")],
        )
        .await;
    assert_eq!(unfrozen.status, StatusCode::SEE_OTHER);
    assert_eq!(app.try_login("alice.martin", PASSWORD).await.status, StatusCode::SEE_OTHER);
    assert_eq!(audits(&app, "account_unfrozen", ids::ALICE).await, 1);
}

#[tokio::test]
async fn a_school_admin_cannot_freeze_someone_of_another_school_nor_themselves() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let token = app.csrf(&helene).await;

    for (target, status) in
        [(ids::DAVID, StatusCode::NOT_FOUND), (ids::HELENE, StatusCode::BAD_REQUEST)]
    {
        let reply = app
            .post(
                &format!("/personnes/{target}/gel"),
                Some(&helene),
                &[("csrf_token", &token), ("gel", "1"), ("retour", "/accueil")],
            )
            .await;
        assert_eq!(reply.status, status, "{target}");
    }
    let frozen = app
        .store
        .fixture_count("SELECT COUNT(*) FROM accounts WHERE frozen = 1", &[])
        .await
        .unwrap();
    assert_eq!(frozen, 0);
}

fn agent_form<'a>(
    token: &'a str,
    scope: &'a str,
    schools: &'a [&'a str],
) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("csrf_token", token),
        ("jeton", "0193a1f0-form-0001"),
        ("last_name", "Lefèvre"),
        ("first_name", "Jeanne"),
        ("email", "jeanne.lefevre@departement.example"),
        ("profile", "agent"),
        ("scope", scope),
    ];
    for school in schools {
        fields.push(("schools", school));
    }
    fields
}

#[tokio::test]
async fn sending_the_creation_form_twice_creates_one_person_and_shows_them_again() {
    let app = app().await;
    let agnes = app.login_as(ids::AGNES, "agnes.vidal").await;
    let token = app.csrf(&agnes).await;
    let form = agent_form(&token, "whole", &[]);

    let first = app.post("/departement/personnes", Some(&agnes), &form).await;
    let again = app.post("/departement/personnes", Some(&agnes), &form).await;

    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert!(again.body.contains("<dd class=\"code\">jeanne.lefevre</dd>"));
    let code_of = |body: &str| {
        let marker = "Code d'activation</dt><dd class=\"code\">";
        let start = body.find(marker).expect("the code is shown") + marker.len();
        body[start..].split('<').next().unwrap().to_owned()
    };
    assert_eq!(code_of(&first.body), code_of(&again.body));
    let people = app
        .store
        .fixture_count("SELECT COUNT(*) FROM people WHERE last_name = 'Lefèvre'", &[])
        .await
        .unwrap();
    assert_eq!(people, 1);
    assert!(app.store.activation_target("jeanne.lefevre2").await.unwrap().is_none());

    let mut other_form = form.clone();
    other_form[1] = ("jeton", "0193a1f0-form-0002");
    let second_person = app.post("/departement/personnes", Some(&agnes), &other_form).await;
    assert!(second_person.body.contains("<dd class=\"code\">jeanne.lefevre2</dd>"));
    let without_token: Vec<_> = form.iter().filter(|(name, _)| *name != "jeton").copied().collect();
    let missing = app.post("/departement/personnes", Some(&agnes), &without_token).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn only_a_departement_admin_creates_an_agent_who_activates_and_sees_their_scope() {
    let app = app().await;
    for (id, login) in [(ids::OLIVIER, "olivier.faure"), (ids::HELENE, "helene.roux")] {
        let cookie = app.login_as(id, login).await;
        let token = app.csrf(&cookie).await;
        let refused = app
            .post(
                "/departement/personnes",
                Some(&cookie),
                &agent_form(&token, "schools", &[ids::UAI_2]),
            )
            .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{login}");
        assert_eq!(app.get("/departement", Some(&cookie)).await.status, StatusCode::NOT_FOUND);
    }
    let agnes = app.login_as(ids::AGNES, "agnes.vidal").await;
    let token = app.csrf(&agnes).await;

    let created = app
        .post("/departement/personnes", Some(&agnes), &agent_form(&token, "schools", &[ids::UAI_2]))
        .await;

    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(created.body.contains("<dd class=\"code\">jeanne.lefevre</dd>"));
    let marker = "Code d'activation</dt><dd class=\"code\">";
    let start = created.body.find(marker).expect("the code is shown") + marker.len();
    let code = created.body[start..].split('<').next().unwrap().to_owned();
    assert_eq!(code.len(), 14, "{code}");
    let person_id: String =
        app.store.activation_target("jeanne.lefevre").await.unwrap().unwrap().person_id;
    assert_eq!(audits(&app, "departement_person_created", &person_id).await, 1);
    let console_page = app.get("/departement", Some(&agnes)).await;
    assert!(console_page.body.contains("<bdi>Lefèvre Jeanne</bdi>"));
    assert!(
        console_page
            .body
            .contains("Agent du département (jeanne.lefevre) : Collège Camille Claudel")
    );
    assert!(!console_page.body.contains(&code), "the code is shown only once");

    let activated = app
        .post(
            "/activation",
            Some(PRE_COOKIE),
            &[
                ("csrf_token", PRE_TOKEN),
                ("login", "jeanne.lefevre"),
                ("code", &code),
                ("birth_date", ""),
                ("password", NEW_PASSWORD),
                ("password_confirm", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(activated.status, StatusCode::SEE_OTHER, "{}", activated.body);
    let login = app.try_login("jeanne.lefevre", NEW_PASSWORD).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let jeanne = login.cookie(SESSION).unwrap();
    let home = app.get("/accueil", Some(&jeanne)).await;
    assert!(home.body.contains("Collège Camille Claudel") && !home.body.contains("Jean Moulin"));
    assert_eq!(app.get("/departement", Some(&jeanne)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_wrong_creation_form_shows_errors_tied_to_their_fields() {
    let app = app().await;
    let agnes = app.login_as(ids::AGNES, "agnes.vidal").await;
    let token = app.csrf(&agnes).await;

    let reply = app
        .post(
            "/departement/personnes",
            Some(&agnes),
            &[
                ("csrf_token", &token),
                ("last_name", " "),
                ("first_name", "Jeanne"),
                ("email", "pas une adresse"),
                ("profile", "agent"),
                ("scope", "schools"),
            ],
        )
        .await;

    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("aria-invalid=\"true\" aria-describedby=\"erreur-nom\""));
    assert!(reply.body.contains("id=\"erreur-nom\""));
    assert!(reply.body.contains("aria-describedby=\"erreur-courriel\""));
    assert!(reply.body.contains("<fieldset aria-describedby=\"erreur-perimetre\">"));
    assert!(reply.body.contains("value=\"Jeanne\""));
    let people = app
        .store
        .fixture_count("SELECT COUNT(*) FROM people WHERE first_name = 'Jeanne'", &[])
        .await
        .unwrap();
    assert_eq!(people, 0);
}

#[tokio::test]
async fn a_departement_admin_freezes_an_official_and_sees_every_collège() {
    let app = app().await;
    let olivier = app.login_as(ids::OLIVIER, "olivier.faure").await;
    let agnes = app.login_as(ids::AGNES, "agnes.vidal").await;
    let token = app.csrf(&agnes).await;

    let page = app.get("/departement", Some(&agnes)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<a href=\"/etablissement/0860001A\">Collège Jean Moulin</a>"));
    assert!(page.body.contains("<a href=\"/etablissement/0860002B\">Collège Camille Claudel</a>"));
    assert!(page.body.contains("Élu (olivier.faure) : Collège Camille Claudel"));
    assert!(page.body.contains(
        "Agent du département (agnes.vidal) : tout le département, administrateur du département"
    ));
    assert_eq!(app.get(&console(ids::UAI_2), Some(&agnes)).await.status, StatusCode::OK);

    let frozen = app
        .post(
            &format!("/personnes/{}/gel", ids::OLIVIER),
            Some(&agnes),
            &[("csrf_token", &token), ("gel", "1"), ("retour", "/departement")],
        )
        .await;
    assert_eq!(frozen.location(), "/departement?compte=gele");
    assert_eq!(app.get("/accueil", Some(&olivier)).await.status, StatusCode::SEE_OTHER);
    assert_eq!(audits(&app, "account_frozen", ids::OLIVIER).await, 1);
}

/// A pupil file with one good-looking record whose surname is 300 characters long.
fn bad_pupil_file() -> String {
    let long = "A".repeat(300);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ficAlimMENESR>\n<addRequest>\n\
         <operationalAttributes><attr name=\"categoriePersonne\"><value>Eleve</value></attr></operationalAttributes>\n\
         <identifier><id>9000001</id></identifier>\n<attributes>\n\
         <attr name=\"ENTPersonJointure\"><value>9000001</value></attr>\n\
         <attr name=\"sn\"><value>{long}</value></attr>\n\
         <attr name=\"givenName\"><value>Zoé</value></attr>\n\
         <attr name=\"ENTPersonDateNaissance\"><value>01/02/2013</value></attr>\n\
         </attributes>\n</addRequest>\n</ficAlimMENESR>\n"
    )
}

#[tokio::test]
async fn the_import_runs_page_lists_a_run_with_its_rejections() {
    let app = app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = "ENT_Complet_20250901_Eleve_0000.xml";
    std::fs::write(dir.path().join(file), bad_pupil_file()).unwrap();
    let report = app
        .store
        .import_aaf(&[dir.path().to_path_buf()], &Default::default(), &store::import::NoProgress)
        .await
        .unwrap();
    assert!(!report.rejections.is_empty(), "{}", report.to_french_text());
    let agnes = app.login_as(ids::AGNES, "agnes.vidal").await;

    let page = app.get("/departement/imports", Some(&agnes)).await;

    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Import du "));
    assert!(page.body.contains("<caption>Enregistrements rejetés"));
    assert!(page.body.contains(&format!("<tr><td>{file}</td><td>")));
    assert!(page.body.contains("<td>9000001</td>"));
    assert!(page.body.contains("<th scope=\"row\">Élèves</th>"));
    let rejected = report.counts["pupil"].rejected;
    assert!(rejected >= 1);
    assert!(page.body.contains(&format!("{} enregistrements rejetés", report.rejections.len())));
    assert!(!page.body.contains("Imports plus anciens"));
    assert!(
        page.body.contains("<a href=\"/departement/imports\">")
            || page.body.contains("/departement\">Revenir")
    );
}

#[tokio::test]
async fn every_new_form_refuses_a_missing_or_wrong_token() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let agnes = app.login_as(ids::AGNES, "agnes.vidal").await;

    for token in ["", "mauvais-jeton-mauvais-jeton-mauvais-jeton"] {
        let freeze = app
            .post(
                &format!("/personnes/{}/gel", ids::ALICE),
                Some(&helene),
                &[("csrf_token", token), ("gel", "1"), ("retour", "/accueil")],
            )
            .await;
        assert_eq!(freeze.status, StatusCode::FORBIDDEN);
        let create =
            app.post("/departement/personnes", Some(&agnes), &agent_form(token, "all", &[])).await;
        assert_eq!(create.status, StatusCode::FORBIDDEN);
    }
    let frozen = app
        .store
        .fixture_count("SELECT COUNT(*) FROM accounts WHERE frozen = 1", &[])
        .await
        .unwrap();
    let created = app
        .store
        .fixture_count("SELECT COUNT(*) FROM people WHERE last_name = 'Lefèvre'", &[])
        .await
        .unwrap();
    assert_eq!((frozen, created), (0, 0));
}

#[tokio::test]
async fn the_header_and_home_link_to_the_consoles_a_person_may_use() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let agnes = app.login_as(ids::AGNES, "agnes.vidal").await;
    let olivier = app.login_as(ids::OLIVIER, "olivier.faure").await;

    let head = app.get("/accueil", Some(&helene)).await;
    assert!(
        head.body.contains("<li><a href=\"/etablissement/0860001A\">Mon établissement</a></li>")
    );
    assert!(head.body.contains("<a href=\"/etablissement/0860001A\">Console de l'établissement"));
    assert!(!head.body.contains("href=\"/departement\""));

    let admin = app.get("/accueil", Some(&agnes)).await;
    assert!(admin.body.contains("<li><a href=\"/departement\">Département</a></li>"));
    assert!(admin.body.contains("<a href=\"/etablissement/0860002B\">Console de l'établissement"));

    let official = app.get("/accueil", Some(&olivier)).await;
    assert!(official.body.contains("Collège Camille Claudel"));
    assert!(
        !official.body.contains("/etablissement/")
            && !official.body.contains("href=\"/departement\"")
    );
}

#[tokio::test]
async fn console_pages_hold_no_inline_script_or_style() {
    let app = app().await;
    let agnes = app.login_as(ids::AGNES, "agnes.vidal").await;
    for path in ["/departement", "/departement/imports", "/etablissement/0860001A"] {
        let page = app.get(path, Some(&agnes)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        // The only scripts are files of the site (the mailbox script); none inline.
        let scripts = page.body.matches("<script").count();
        assert_eq!(scripts, page.body.matches("<script src=\"/static/mail-").count(), "{path}");
        assert!(!page.body.contains("style="), "{path}");
        assert!(!page.body.contains("<style"), "{path}");
        let csp = header_of(&page, header::CONTENT_SECURITY_POLICY);
        assert!(csp.contains("style-src 'self'"), "{path}");
    }
}
