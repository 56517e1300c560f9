//! Timetables over HTTP: the heads import an EDT file for each collège through the console and
//! read its report; a pupil, a parent, a teacher of two collèges and a head see their pages
//! (the teacher's merged week with its overlap flagged); nobody sees a timetable that is not
//! theirs (404, no data); a hostile file is refused with a located French reason and changes
//! nothing; a head cancels a lesson and the pupil's day view and home card say « Annulé »; a
//! calendar feed is created, fetched without a session and revoked; every response carries
//! `Server-Timing`. The import form: a UDT export replacing the EDT timetable, another collège's
//! file refused until « Remplacer quand même », a file of the wrong format named so, the 413
//! page naming the limit, and file names shown without bidirectional controls.

mod common;
mod timetable_support;

use axum::http::{StatusCode, header};
use timetable_support::*;

#[tokio::test]
async fn an_edt_file_imported_through_the_console_shows_its_report_and_its_history() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;

    let form = app.get("/etablissement/0860001A/emploi-du-temps", Some(&helene)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("EDT : export ENT déchiffré"));
    let xml = college_1().to_edt_xml();
    let reply =
        upload(&app, &helene, ids::UAI_1, &[("format", "edt")], Some(("edt.xml", xml.as_bytes())))
            .await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("Rapport d'import"), "{}", reply.body);
    assert!(reply.body.contains("21 cours créé(s)"), "{}", reply.body);
    assert!(reply.body.contains("Derniers imports"));
    assert!(reply.body.contains("<bdi>edt.xml</bdi> · Appliqué"), "{}", reply.body);
    assert_eq!(course_count(&app).await, 21);

    // The same file again changes nothing.
    let again =
        upload(&app, &helene, ids::UAI_1, &[("format", "edt")], Some(("edt.xml", xml.as_bytes())))
            .await;
    assert!(again.body.contains("0 cours créé(s), 0 modifié(s), 21 inchangé(s)"), "{}", again.body);
}

#[tokio::test]
async fn a_hostile_or_unreadable_file_is_refused_with_its_place_and_changes_nothing() {
    let app = app().await;
    import_both(&app).await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let before = course_count(&app).await;

    let bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \
                \"&a;&a;&a;&a;&a;&a;\">]>\n<x>&b;</x>";
    for (name, bytes) in [("bombe.xml", bomb.as_bytes()), ("notes.xml", b"bonjour, pas du XML")] {
        let reply =
            upload(&app, &helene, ids::UAI_1, &[("format", "edt")], Some((name, bytes))).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
        assert!(
            reply.body.contains("Fichier refusé, rien n&#39;a été changé")
                || reply.body.contains("Fichier refusé, rien n'a été changé"),
            "{}",
            reply.body
        );
        assert!(reply.body.contains(&format!("{name}, ligne ")), "{}", reply.body);
        assert!(
            reply.body.contains("<summary>") && reply.body.contains("Fichier refusé</summary>")
        );
    }
    assert_eq!(course_count(&app).await, before);

    // An iCalendar file needs its class or teacher; a file over nothing is refused too.
    let reply =
        upload(&app, &helene, ids::UAI_1, &[("format", "ical")], Some(("a.ics", b"x"))).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("choisissez lequel dans la liste"), "{}", reply.body);
    let reply = upload(&app, &helene, ids::UAI_1, &[("format", "edt")], None).await;
    assert!(reply.body.contains("Choisissez le fichier à importer."), "{}", reply.body);
    assert_eq!(course_count(&app).await, before);
}

#[tokio::test]
async fn an_icalendar_file_for_one_class_lands_on_its_pupils_timetable() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let today = paris_today().strftime("%Y%m%d").to_string();
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//FR\r\nBEGIN:VEVENT\r\n\
         UID:musique-1@test\r\nDTSTAMP:20260101T000000Z\r\n\
         DTSTART;TZID=Europe/Paris:{today}T140000\r\nDTEND;TZID=Europe/Paris:{today}T145500\r\n\
         RRULE:FREQ=WEEKLY;COUNT=3\r\nSUMMARY:Éducation musicale\r\nLOCATION:Salle 7\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    );

    let fields = [("format", "ical"), ("cible", "classe:class-6b")];
    let reply = upload(&app, &helene, ids::UAI_1, &fields, Some(("6b.ics", ics.as_bytes()))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("1 cours créé(s)"), "{}", reply.body);

    let chloe = app.login_as(ids::CHLOE, "chloe.petit").await;
    let day = app.get("/emploi-du-temps?vue=jour", Some(&chloe)).await;
    assert!(
        day.body.contains("Éducation musicale") && day.body.contains(">14:00<"),
        "{}",
        day.body
    );
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let day = app.get("/emploi-du-temps?vue=jour", Some(&alice)).await;
    assert!(!day.body.contains("Éducation musicale"));
}

#[tokio::test]
async fn only_a_schools_administrators_may_import_its_timetable() {
    let app = app().await;
    let marc = app.login_as(ids::MARC, "marc.blanc").await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;

    for cookie in [&marc, &thomas] {
        let page = app.get("/etablissement/0860001A/emploi-du-temps", Some(cookie)).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        let xml = college_1().to_edt_xml();
        let reply =
            upload(&app, cookie, ids::UAI_1, &[("format", "edt")], Some(("e.xml", xml.as_bytes())))
                .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(course_count(&app).await, 0);
}

#[tokio::test]
async fn pupils_parents_teachers_and_heads_see_their_timetables() {
    let app = app().await;
    import_both(&app).await;

    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let week = app.get("/emploi-du-temps", Some(&alice)).await;
    assert_eq!(week.status, StatusCode::OK, "{}", week.body);
    assert!(week.body.contains("Semaine du lundi"), "{}", week.body);
    assert!(week.body.contains("Mathématiques") && week.body.contains("Latin"));
    assert!(!week.body.contains("Français"), "6B's French is not Alice's");
    assert!(week.body.contains(">aujourd'hui<"), "today is marked");
    assert!(week.body.contains("Version imprimable"));
    let day = app.get("/emploi-du-temps?vue=jour", Some(&alice)).await;
    assert!(day.body.contains("Jour précédent") && day.body.contains("08:00"), "{}", day.body);
    let print = app.get("/emploi-du-temps?imprimer=1", Some(&alice)).await;
    assert_eq!(print.status, StatusCode::OK);
    assert!(!print.body.contains("Navigation principale") && print.body.contains("Mathématiques"));
    let home = app.get("/accueil", Some(&alice)).await;
    assert!(home.body.contains("Aujourd'hui, ") || home.body.contains("Aujourd&#39;hui, "));
    assert!(home.body.contains("Salle 12"), "{}", home.body);

    let paul = app.login_as(ids::PAUL, "paul.martin").await;
    let first = app.get("/emploi-du-temps", Some(&paul)).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.body.contains("Mes enfants") && first.body.contains("Latin"));
    let david = app.get("/emploi-du-temps?enfant=p-david&vue=jour", Some(&paul)).await;
    assert!(david.body.contains("Histoire-géographie") && !david.body.contains("Latin"));
    let home = app.get("/accueil?enfant=p-david", Some(&paul)).await;
    assert!(home.body.contains("Salle B2"), "{}", home.body);

    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let merged = app.get("/emploi-du-temps", Some(&thomas)).await;
    assert!(
        merged.body.contains("Collège Jean Moulin")
            && merged.body.contains("Collège Camille Claudel")
    );
    assert!(merged.body.contains("Chevauchement : Mathématiques"), "{}", merged.body);

    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let own = app.get("/emploi-du-temps", Some(&helene)).await;
    assert!(own.body.contains("/emploi-du-temps/etablissement/0860001A"));
    let picker = app.get("/emploi-du-temps/etablissement/0860001A", Some(&helene)).await;
    assert_eq!(picker.status, StatusCode::OK);
    let class = links(&picker.body, "/emploi-du-temps/classe/");
    let rooms = links(&picker.body, "/emploi-du-temps/salle/");
    let teachers = links(&picker.body, "/emploi-du-temps/enseignant/");
    assert_eq!((class.len(), rooms.len()), (2, 2), "{}", picker.body);
    assert!(teachers.len() >= 2);
    let six_a = app.get(&class[0], Some(&helene)).await;
    assert!(six_a.body.contains("Emploi du temps : 6A") && six_a.body.contains(">Modifier<"));
    let room = app.get(&rooms[0], Some(&helene)).await;
    assert_eq!(room.status, StatusCode::OK);
}

#[tokio::test]
async fn nobody_sees_a_timetable_that_is_not_theirs() {
    let app = app().await;
    import_both(&app).await;
    let marc = app.login_as(ids::MARC, "marc.blanc").await;
    let picker = app.get("/emploi-du-temps/etablissement/0860002B", Some(&marc)).await;
    let room_b2 = links(&picker.body, "/emploi-du-temps/salle/").remove(0);

    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    for path in [
        "/emploi-du-temps/classe/class-6b",
        "/emploi-du-temps/classe/class-5a",
        "/emploi-du-temps/eleve/p-chloe",
        "/emploi-du-temps/eleve/p-david",
        "/emploi-du-temps/enseignant/t-sophie",
        "/emploi-du-temps/etablissement/0860001A",
        room_b2.as_str(),
    ] {
        let reply = app.get(path, Some(&alice)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!reply.body.contains("Français") && !reply.body.contains("Histoire"), "{path}");
    }
    let rachel = app.login_as(ids::RACHEL, "rachel.durand").await;
    for path in ["/emploi-du-temps?enfant=p-alice", "/emploi-du-temps/eleve/p-alice"] {
        let reply = app.get(path, Some(&rachel)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!reply.body.contains("Mathématiques"));
    }
    let sophie = app.login_as(ids::SOPHIE, "sophie.lambert").await;
    for path in [room_b2.as_str(), "/emploi-du-temps/etablissement/0860002B"] {
        let reply = app.get(path, Some(&sophie)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!reply.body.contains("Salle B2"));
    }
    let anonymous = app.get("/emploi-du-temps", None).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
}

/// The change form of 6A's mathematics lesson of `date`, as the head of collège 1 opens it.
async fn change_form(app: &App, helene: &str, date: jiff::civil::Date) -> (String, Reply) {
    let class = app
        .get(&format!("/emploi-du-temps/classe/class-6a?vue=jour&date={date}"), Some(helene))
        .await;
    let href = links(&class.body, "/etablissement/0860001A/seances/")
        .into_iter()
        .find(|href| href.contains(&date.to_string()))
        .expect("a Modifier link");
    let form = app.get(&href, Some(helene)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    (href, form)
}

#[tokio::test]
async fn a_cancelled_lesson_says_so_on_the_pupils_day_and_home_page() {
    let app = app().await;
    import_both(&app).await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let today = paris_today();
    let (href, form) = change_form(&app, &helene, today).await;
    let csrf = hidden_token(&form.body);

    let fields = [
        ("csrf_token", csrf.as_str()),
        ("jeton", &hidden(&form.body, "jeton")),
        ("date", &today.to_string()),
        ("debut", "11:00"),
        ("fin", "10:00"),
    ];
    let refused = app.post(&href, Some(&helene), &fields).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("L&#39;heure de fin doit venir après")
            || refused.body.contains("L'heure de fin doit venir après")
    );
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("jeton", "t1"),
        ("date", "30/02/2026"),
        ("debut", "10:00"),
        ("fin", "11:00"),
    ];
    let refused = app.post(&href, Some(&helene), &fields).await;
    assert!(refused.body.contains("Date non comprise"), "{}", refused.body);

    let token = hidden(&form.body, "jeton");
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("jeton", token.as_str()),
        ("annule", "1"),
        ("salle", "Labo 3"),
        ("note", "Sortie au musée"),
        ("action", "enregistrer"),
    ];
    let saved = app.post(&href, Some(&helene), &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let without_token = app.post(&href, Some(&helene), &[("annule", "1")]).await;
    assert_eq!(without_token.status, StatusCode::FORBIDDEN);

    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let day = app.get("/emploi-du-temps?vue=jour", Some(&alice)).await;
    assert!(day.body.contains("<span class=\"etiquette\">Annulé</span>"), "{}", day.body);
    assert!(
        day.body.contains("Salle changée : <bdi>Labo 3</bdi>")
            && day.body.contains("Sortie au musée")
    );
    assert!(!day.body.contains(">Modifier<"), "a pupil cannot change a lesson");
    let home = app.get("/accueil", Some(&alice)).await;
    assert!(home.body.contains("<span class=\"etiquette\">Annulé</span>"), "{}", home.body);

    // A change of tomorrow is announced on the home page.
    let tomorrow = today.tomorrow().unwrap();
    let (next, form) = change_form(&app, &helene, tomorrow).await;
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("jeton", &hidden(&form.body, "jeton")),
        ("salle", "Labo 4"),
        ("devoir", "1"),
    ];
    assert_eq!(app.post(&next, Some(&helene), &fields).await.status, StatusCode::SEE_OTHER);
    let home = app.get("/accueil", Some(&alice)).await;
    let upcoming = home.body.split("Changements à venir").nth(1).expect("changes to come");
    assert!(upcoming.contains("Salle changée : <bdi>Labo 4</bdi>"), "{}", home.body);
    assert!(upcoming.contains("Devoir surveillé"));

    // Put back as planned.
    let (href, form) = change_form(&app, &helene, today).await;
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("jeton", &hidden(&form.body, "jeton")),
        ("action", "retablir"),
    ];
    assert_eq!(app.post(&href, Some(&helene), &fields).await.status, StatusCode::SEE_OTHER);
    let day = app.get("/emploi-du-temps?vue=jour", Some(&alice)).await;
    assert!(!day.body.contains("Annulé"), "{}", day.body);

    // The head of the other collège cannot open the form.
    let marc = app.login_as(ids::MARC, "marc.blanc").await;
    assert_eq!(app.get(&href, Some(&marc)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_calendar_feed_is_created_fetched_without_a_session_and_revoked() {
    let app = app().await;
    import_both(&app).await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let csrf = app.csrf(&alice).await;

    let page = app.get("/emploi-du-temps/agendas", Some(&alice)).await;
    assert!(page.body.contains("Aucune adresse pour le moment."));
    let created = app
        .post(
            "/emploi-du-temps/agendas",
            Some(&alice),
            &[("csrf_token", &csrf), ("pour", ids::ALICE), ("nom", "Téléphone")],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(created.body.contains("Google Agenda") && created.body.contains("Thunderbird"));
    let marker = "value=\"http://127.0.0.1:8080/agenda/";
    let start =
        created.body.find(marker).expect("the feed URL") + "value=\"http://127.0.0.1:8080".len();
    let path = created.body[start..].split('"').next().unwrap().to_owned();

    let feed = app.get(&path, None).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert_eq!(feed.headers[header::CONTENT_TYPE], "text/calendar; charset=utf-8");
    assert_eq!(feed.headers[header::CACHE_CONTROL], "private, max-age=300");
    assert!(feed.headers.get(header::SET_COOKIE).is_none());
    assert!(feed.body.contains("BEGIN:VCALENDAR") && feed.body.contains("SUMMARY:Mathématiques"));
    assert!(feed.body.contains("@preau"), "{}", feed.body);
    assert!(!feed.body.contains("Français"));

    // A cancellation reaches the feed: same UID, a higher SEQUENCE, STATUS:CANCELLED.
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let today = paris_today();
    let (href, form) = change_form(&app, &helene, today).await;
    let course = href.split('/').nth(4).unwrap().to_owned();
    let uid = format!("UID:{course}-{}@preau", today.strftime("%Y%m%d"));
    let unfolded = feed.body.replace("\r\n ", "");
    assert!(unfolded.contains(&uid), "{}", feed.body);
    let fields = [
        ("csrf_token", hidden_token(&form.body)),
        ("jeton", hidden(&form.body, "jeton")),
        ("annule", "1".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(app.post(&href, Some(&helene), &fields).await.status, StatusCode::SEE_OTHER);
    let after = app.get(&path, None).await.body.replace("\r\n ", "");
    let event = after.split("BEGIN:VEVENT").find(|e| e.contains(&uid)).expect("the event");
    assert!(event.contains("STATUS:CANCELLED"), "{event}");
    assert!(!event.contains("SEQUENCE:0\r\n"), "{event}");

    let list = app.get("/emploi-du-temps/agendas", Some(&alice)).await;
    assert!(list.body.contains("Téléphone") && !list.body.contains(&path));
    let revoke = links(&list.body, "/emploi-du-temps/agendas/");
    assert!(revoke.is_empty(), "revocation is a form, not a link");
    let action = list.body.split("action=\"/emploi-du-temps/agendas/").nth(1).unwrap();
    let action = format!("/emploi-du-temps/agendas/{}", action.split('"').next().unwrap());
    let chloe = app.login_as(ids::CHLOE, "chloe.petit").await;
    let other = app.post(&action, Some(&chloe), &[("csrf_token", &app.csrf(&chloe).await)]).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "only the owner revokes");
    assert_eq!(app.get(&path, None).await.status, StatusCode::OK);
    let revoked = app.post(&action, Some(&alice), &[("csrf_token", &csrf)]).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);

    let gone = app.get(&path, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(gone.body.is_empty());
    let unknown = app.get("/agenda/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics", None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.body.is_empty());

    // A parent may follow a child, not another pupil.
    let paul = app.login_as(ids::PAUL, "paul.martin").await;
    let csrf = app.csrf(&paul).await;
    let refused = app
        .post(
            "/emploi-du-temps/agendas",
            Some(&paul),
            &[("csrf_token", &csrf), ("pour", ids::CHLOE)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let child = app
        .post(
            "/emploi-du-temps/agendas",
            Some(&paul),
            &[("csrf_token", &csrf), ("pour", ids::DAVID)],
        )
        .await;
    assert_eq!(child.status, StatusCode::OK, "{}", child.body);
}

#[tokio::test]
async fn every_response_carries_its_server_time() {
    let app = app().await;
    for path in ["/connexion", "/healthz", "/emploi-du-temps", "/nulle-part"] {
        let reply = app.get(path, None).await;
        let timing = reply.headers["server-timing"].to_str().unwrap().to_owned();
        let millis = timing.strip_prefix("app;dur=").expect("app;dur=");
        let (_, decimals) = millis.split_once('.').expect("two decimals");
        assert_eq!(decimals.len(), 2, "{timing}");
        assert!(millis.parse::<f64>().unwrap() >= 0.0);
    }
}

#[tokio::test]
async fn the_departement_sets_the_collèges_coordinates() {
    let app = app().await;
    let agnes = app.login_as(ids::AGNES, "agnes.vidal").await;
    let csrf = app.csrf(&agnes).await;

    let page = app.get("/departement/coordonnees", Some(&agnes)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Collège Jean Moulin"));
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("ecole", ids::SCHOOL_1),
        ("latitude", "46,58"),
        ("longitude", "0,34"),
    ];
    let saved = app.post("/departement/coordonnees", Some(&agnes), &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("ecole", ids::SCHOOL_1),
        ("latitude", "146"),
        ("longitude", "0"),
    ];
    let refused = app.post("/departement/coordonnees", Some(&agnes), &fields).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Latitude non comprise"));

    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    assert_eq!(
        app.get("/departement/coordonnees", Some(&helene)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_teacher_opens_the_schools_classes_rooms_and_teachers_but_changes_nothing() {
    let app = app().await;
    import_both(&app).await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;

    let picker = app.get("/emploi-du-temps/etablissement/0860001A", Some(&thomas)).await;
    assert_eq!(picker.status, StatusCode::OK, "{}", picker.body);
    let classes = links(&picker.body, "/emploi-du-temps/classe/");
    assert_eq!(classes, ["/emploi-du-temps/classe/class-6a", "/emploi-du-temps/classe/class-6b"]);
    assert_eq!(links(&picker.body, "/emploi-du-temps/salle/").len(), 2);
    assert!(picker.body.contains("Sophie Lambert"), "{}", picker.body);
    assert!(!picker.body.contains("Alice"), "no pupil is listed");
    assert!(!picker.body.contains("Importer un emploi du temps"));

    let six_b = app.get(&classes[1], Some(&thomas)).await;
    assert!(six_b.body.contains("Français"), "{}", six_b.body);
    assert!(!six_b.body.contains(">Modifier<"), "only administrators change a lesson");
    let own = app.get("/emploi-du-temps", Some(&thomas)).await;
    assert!(!own.body.contains(">Modifier<"));
    assert!(links(&own.body, "/etablissement/").is_empty(), "{}", own.body);
}

#[tokio::test]
async fn a_teachers_day_lists_its_conflicts_and_a_cancelled_lesson_is_none() {
    let app = app().await;
    import_both(&app).await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let day = app.get("/emploi-du-temps?vue=jour", Some(&thomas)).await;
    assert!(day.body.contains("Conflits dans l"), "{}", day.body);
    assert!(day.body.contains("Chevauchement : Mathématiques"), "{}", day.body);

    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let (href, form) = change_form(&app, &helene, paris_today()).await;
    let fields = [
        ("csrf_token", hidden_token(&form.body)),
        ("jeton", hidden(&form.body, "jeton")),
        ("annule", "1".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(app.post(&href, Some(&helene), &fields).await.status, StatusCode::SEE_OTHER);

    let day = app.get("/emploi-du-temps?vue=jour", Some(&thomas)).await;
    assert!(day.body.contains("Annulé"), "{}", day.body);
    assert!(!day.body.contains("Chevauchement"), "{}", day.body);
    let other = app.get("/emploi-du-temps/enseignant/t-thomas?vue=jour", Some(&helene)).await;
    assert!(!other.body.contains("Chevauchement"), "{}", other.body);
}

#[tokio::test]
async fn a_day_without_lessons_says_so_in_words() {
    let app = app().await;
    import_both(&app).await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;

    // Two years ago: before the fixture's school year, within the five years a page shows.
    let before = paris_today().checked_sub(jiff::ToSpan::years(2)).unwrap();
    let day = app.get(&format!("/emploi-du-temps?vue=jour&date={before}"), Some(&alice)).await;
    assert_eq!(day.status, StatusCode::OK);
    assert_eq!(day.body.matches("Pas de cours ce jour.").count(), 1, "{}", day.body);
    assert!(!day.body.contains("Aucun cours cette semaine"));
    let week = app.get(&format!("/emploi-du-temps?vue=semaine&date={before}"), Some(&alice)).await;
    assert!(week.body.contains("Aucun cours cette semaine."), "{}", week.body);
}

#[tokio::test]
async fn the_change_form_shows_its_lesson_wherever_it_was_opened_from_and_lists_teachers() {
    let app = app().await;
    import_both(&app).await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let today = paris_today();
    let (href, _) = change_form(&app, &helene, today).await;
    let bare = href.split('?').next().unwrap().to_owned();

    let form = app.get(&bare, Some(&helene)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("Mathématiques") && form.body.contains("Salle 12"));
    assert!(form.body.contains(">Sophie Lambert</option>"), "{}", form.body);
    assert!(!form.body.contains("Alice"), "pupils are no substitutes");

    // Moved six weeks later, it is still found from the form's own address.
    let later = jiff::civil::Date::strptime("%F", &bare[bare.len() - 10..]).unwrap();
    let later = later.checked_add(jiff::ToSpan::days(42)).unwrap();
    let fields = [
        ("csrf_token", hidden_token(&form.body)),
        ("jeton", hidden(&form.body, "jeton")),
        ("date", later.to_string()),
        ("debut", "15:00".to_owned()),
        ("fin", "15:55".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(app.post(&bare, Some(&helene), &fields).await.status, StatusCode::SEE_OTHER);
    let moved = app.get(&bare, Some(&helene)).await;
    assert!(moved.body.contains("Déplacé du"), "{}", moved.body);
    assert!(moved.body.contains(">15:00<"), "{}", moved.body);
    assert!(moved.body.contains(&format!("value=\"{later}\"")), "the form holds the move");

    // A day the course does not happen is no occurrence.
    let before = today.checked_sub(jiff::ToSpan::days(200)).unwrap();
    let none = app.get(&bare.replace(&today.to_string(), &before.to_string()), Some(&helene)).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_coordinates_form_shows_what_is_saved() {
    let app = app().await;
    let agnes = app.login_as(ids::AGNES, "agnes.vidal").await;
    let csrf = app.csrf(&agnes).await;
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("ecole", ids::SCHOOL_2),
        ("latitude", "46.58"),
        ("longitude", "0,34"),
    ];
    assert_eq!(
        app.post("/departement/coordonnees", Some(&agnes), &fields).await.status,
        StatusCode::SEE_OTHER
    );

    let page = app.get("/departement/coordonnees", Some(&agnes)).await;
    let claudel = page.body.split("Collège Camille Claudel").nth(1).unwrap();
    let claudel = claudel.split("</section>").next().unwrap();
    assert!(claudel.contains("value=\"46,58\"") && claudel.contains("value=\"0,34\""), "{claudel}");
    let moulin = page.body.split("Collège Jean Moulin").nth(1).unwrap();
    assert!(moulin.contains("Aucune coordonnée enregistrée."), "{}", page.body);
}

#[tokio::test]
async fn a_calendar_feed_runs_to_the_end_of_the_school_year() {
    let app = app().await;
    import_both(&app).await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let csrf = app.csrf(&alice).await;
    let created = app
        .post(
            "/emploi-du-temps/agendas",
            Some(&alice),
            &[("csrf_token", &csrf), ("pour", ids::ALICE)],
        )
        .await;
    let marker = "value=\"http://127.0.0.1:8080";
    let start = created.body.find(marker).expect("the feed URL") + marker.len();
    let path = created.body[start..].split('"').next().unwrap().to_owned();

    let feed = app.get(&path, None).await.body.replace("\r\n ", "");
    // The support's year: forty weeks from four weeks before this one, 280 days in all.
    let monday = domain::timetable::monday_of(paris_today());
    let last_day = monday.checked_sub(jiff::ToSpan::days(28)).unwrap();
    let last_day = last_day.checked_add(jiff::ToSpan::days(279)).unwrap();
    let after = last_day.tomorrow().unwrap();
    let dtstart =
        |day: jiff::civil::Date| format!("DTSTART;TZID=Europe/Paris:{}T", day.strftime("%Y%m%d"));
    assert!(feed.contains(&dtstart(last_day)), "the year's last day is in the feed");
    assert!(!feed.contains(&dtstart(after)));
    let four_weeks_ago = paris_today().checked_sub(jiff::ToSpan::days(28)).unwrap();
    assert!(feed.contains(&dtstart(four_weeks_ago)));
}

#[tokio::test]
async fn a_udt_export_replaces_the_timetable_imported_from_edt() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let xml = college_1().to_edt_xml();
    upload(&app, &helene, ids::UAI_1, &[("format", "edt")], Some(("edt.xml", xml.as_bytes())))
        .await;
    let after_edt = course_count(&app).await;

    let zip = college_1().to_udt_zip();
    let reply =
        upload(&app, &helene, ids::UAI_1, &[("format", "udt")], Some(("udt.zip", &zip))).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(
        reply.body.contains(&format!(
            "Cet import remplace l&#39;emploi du temps importé au format EDT (export ENT \
             déchiffré) : ses {after_edt} cours ont été retirés."
        )) || reply.body.contains("Cet import remplace l'emploi du temps importé au format EDT"),
        "{}",
        reply.body
    );
    assert_eq!(course_count(&app).await, after_edt, "one timetable, not both");
    assert!(
        reply.body.contains("remplace tout l&#39;emploi du temps de l&#39;établissement")
            || reply.body.contains("remplace tout l'emploi du temps de l'établissement")
    );
}

/// College 1's file with teachers the directory does not know.
fn strangers_file() -> String {
    college_1()
        .to_edt_xml()
        .replace("t-thomas", "x-1")
        .replace("t-sophie", "x-2")
        .replace("Bernard", "Inconnu")
        .replace("Lambert", "Ailleurs")
}

#[tokio::test]
async fn another_collèges_file_is_refused_until_the_head_confirms_and_sends_it_again() {
    let app = app().await;
    import_both(&app).await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let before = course_count(&app).await;
    let xml = strangers_file();

    let reply = upload(
        &app,
        &helene,
        ids::UAI_1,
        &[("format", "edt")],
        Some(("autre.xml", xml.as_bytes())),
    )
    .await;

    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert!(reply.body.contains("Import refusé"), "{}", reply.body);
    assert!(reply.body.contains("0 des 2 enseignants"), "{}", reply.body);
    assert!(reply.body.contains("Remplacer quand même"), "{}", reply.body);
    assert!(reply.body.contains("choisissez de nouveau le fichier"), "{}", reply.body);
    assert_eq!(course_count(&app).await, before, "nothing written");
    assert!(reply.body.contains("<bdi>autre.xml</bdi> · Fichier refusé"), "{}", reply.body);

    let fields = [("format", "edt"), ("confirmer", "1")];
    let reply =
        upload(&app, &helene, ids::UAI_1, &fields, Some(("autre.xml", xml.as_bytes()))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("Rapport d'import"), "{}", reply.body);

    // A file that names another collège's UAI is refused, confirmed or not, without the box.
    let named = college_1().to_edt_xml().replacen(
        "<ExportEntEdt>",
        &format!("<ExportEntEdt>\n <UAI>{}</UAI>", ids::UAI_2),
        1,
    );
    let before = course_count(&app).await;
    let reply =
        upload(&app, &helene, ids::UAI_1, &fields, Some(("edt.xml", named.as_bytes()))).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert!(reply.body.contains(&format!("UAI {}", ids::UAI_2)), "{}", reply.body);
    assert!(!reply.body.contains("Remplacer quand même"), "{}", reply.body);
    assert_eq!(course_count(&app).await, before);
}

/// A text field of the form.
type Field<'a> = (&'a str, &'a str);

#[tokio::test]
async fn a_file_of_another_format_is_refused_with_the_format_to_choose_and_no_line_zero() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let zip = college_1().to_udt_zip();
    let ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n";
    let xml = college_1().to_edt_xml();
    let ical = [("format", "ical"), ("cible", "classe:class-6b")];
    let cases: [(&[Field<'_>], &str, &[u8], &str); 4] = [
        (
            &[("format", "edt")],
            "udt.zip",
            &zip,
            "ce fichier est une archive ZIP : choisissez le format UDT",
        ),
        (&ical, "udt.zip", &zip, "ce fichier est une archive ZIP : choisissez le format UDT"),
        (&[("format", "udt")], "agenda.ics", ics, "choisissez le format iCalendar"),
        (&ical, "edt.xml", xml.as_bytes(), "choisissez le format EDT"),
    ];

    for (fields, name, bytes, hint) in cases {
        let reply = upload(&app, &helene, ids::UAI_1, fields, Some((name, bytes))).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
        assert!(reply.body.contains(hint), "{hint}: {}", reply.body);
        assert!(reply.body.contains(&format!("{name} : ce fichier est")), "{}", reply.body);
        assert!(!reply.body.contains("ligne 0"), "{}", reply.body);
    }
    assert_eq!(course_count(&app).await, 0);
}

#[tokio::test]
async fn events_outside_the_year_are_a_notice_without_a_line_number() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//FR\r\nBEGIN:VEVENT\r\n\
               UID:vieux@test\r\nDTSTAMP:20010101T000000Z\r\n\
               DTSTART;TZID=Europe/Paris:20010910T080000\r\n\
               DTEND;TZID=Europe/Paris:20010910T090000\r\nSUMMARY:Ancien\r\n\
               END:VEVENT\r\nEND:VCALENDAR\r\n";

    let fields = [("format", "ical"), ("cible", "classe:class-6b")];
    let reply = upload(&app, &helene, ids::UAI_1, &fields, Some(("6b.ics", ics.as_bytes()))).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("1 évènement(s) sans séance"), "{}", reply.body);
    assert!(!reply.body.contains("ligne 0"), "{}", reply.body);
}

#[tokio::test]
async fn a_file_over_the_limit_gets_a_413_that_names_the_limit() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let big = vec![b'x'; 33 * 1024 * 1024];

    let reply =
        upload(&app, &helene, ids::UAI_1, &[("format", "edt")], Some(("gros.xml", &big))).await;

    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply.body.contains("Le fichier dépasse 32 Mo"), "{}", reply.body);
}

#[tokio::test]
async fn file_names_are_shown_without_bidi_controls_and_isolated() {
    let app = app().await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let xml = college_1().to_edt_xml();
    let name = "emploi\u{202E}lmx.exe.xml";

    let reply =
        upload(&app, &helene, ids::UAI_1, &[("format", "edt")], Some((name, xml.as_bytes()))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let again = app.get("/etablissement/0860001A/emploi-du-temps", Some(&helene)).await;

    for body in [&reply.body, &again.body] {
        assert!(!body.contains('\u{202E}'), "{body}");
        assert!(body.contains("<bdi>emploilmx.exe.xml</bdi> · Appliqué"), "{body}");
    }
    assert!(reply.body.contains("Rapport d'import : <bdi>emploilmx.exe.xml</bdi>"));
}

#[tokio::test]
async fn an_invalid_or_far_date_says_so_and_shows_this_week() {
    let app = app().await;
    import_both(&app).await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let far = paris_today().checked_add(jiff::ToSpan::years(6)).unwrap().to_string();

    for typed in ["2026-02-30", "99999-01-01", "abc", "9999-12-31", far.as_str()] {
        let page = app.get(&format!("/emploi-du-temps?date={typed}"), Some(&alice)).await;
        assert_eq!(page.status, StatusCode::OK, "{typed}");
        let notice = format!("Date invalide : « {typed} » ; voici la semaine en cours.");
        assert!(page.body.contains(&notice), "{typed}: {}", page.body);
        assert!(page.body.contains(">aujourd'hui<"), "{typed}: this week is shown");
    }
    let page = app.get("/emploi-du-temps?date=%3Cb%3Ex", Some(&alice)).await;
    assert!(page.body.contains("Date invalide : « &#60;b&#62;x »"), "{}", page.body);
    let fine = app.get(&format!("/emploi-du-temps?date={}", paris_today()), Some(&alice)).await;
    assert!(!fine.body.contains("Date invalide"));
}

#[tokio::test]
async fn bidirectional_controls_never_reverse_a_feeds_label_or_a_note() {
    let app = app().await;
    import_both(&app).await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let csrf = app.csrf(&alice).await;
    let label = "Mon\u{202E}enohp\u{2066}";
    let created = app
        .post(
            "/emploi-du-temps/agendas",
            Some(&alice),
            &[("csrf_token", &csrf), ("pour", ids::ALICE), ("nom", label)],
        )
        .await;
    assert!(created.status.is_success() || created.status.is_redirection(), "{}", created.body);
    let page = app.get("/emploi-du-temps/agendas", Some(&alice)).await;
    assert!(page.body.contains("<strong><bdi>Monenohp</bdi></strong>"), "{}", page.body);
    assert!(!page.body.contains('\u{202E}') && !page.body.contains('\u{2066}'));

    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let (href, form) = change_form(&app, &helene, paris_today()).await;
    let fields = [
        ("csrf_token", hidden_token(&form.body)),
        ("jeton", hidden(&form.body, "jeton")),
        ("salle", "Labo\u{202E} 9".to_owned()),
        ("note", "\u{202E}eésum".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(app.post(&href, Some(&helene), &fields).await.status, StatusCode::SEE_OTHER);
    let day = app.get("/emploi-du-temps?vue=jour", Some(&alice)).await;
    assert!(day.body.contains("Note : <bdi>eésum</bdi>"), "{}", day.body);
    assert!(day.body.contains("Salle changée : <bdi>Labo 9</bdi>"), "{}", day.body);
    assert!(!day.body.contains('\u{202E}'));
}

#[tokio::test]
async fn the_change_form_suggests_the_rooms_in_use_and_forgets_a_typo() {
    let app = app().await;
    import_both(&app).await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let (href, form) = change_form(&app, &helene, paris_today()).await;
    assert!(form.body.contains("list=\"salles-connues\""), "{}", form.body);
    assert!(form.body.contains("<option value=\"Salle 12\">"), "{}", form.body);
    let csrf = hidden_token(&form.body);
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("jeton", &hidden(&form.body, "jeton")),
        ("salle", "Sale 1Z"),
    ];
    assert_eq!(app.post(&href, Some(&helene), &fields).await.status, StatusCode::SEE_OTHER);
    let (_, form) = change_form(&app, &helene, paris_today()).await;
    assert!(form.body.contains("<option value=\"Sale 1Z\">"), "in use by the change");

    let fields = [
        ("csrf_token", csrf.as_str()),
        ("jeton", &hidden(&form.body, "jeton")),
        ("action", "retablir"),
    ];
    assert_eq!(app.post(&href, Some(&helene), &fields).await.status, StatusCode::SEE_OTHER);
    let (_, form) = change_form(&app, &helene, paris_today()).await;
    assert!(!form.body.contains("Sale 1Z"), "the typo is not offered again");
    let picker = app.get("/emploi-du-temps/etablissement/0860001A", Some(&helene)).await;
    assert!(!picker.body.contains("Sale 1Z") && picker.body.contains("<bdi>Salle 12</bdi>"));
}

#[tokio::test]
async fn a_substitute_who_already_teaches_then_is_named_and_saved_only_when_confirmed() {
    let app = app().await;
    import_both(&app).await;
    let helene = app.login_as(ids::HELENE, "helene.roux").await;
    let today = paris_today();
    // Sophie's French lesson of 6B, moved to 08:10 and given to Thomas, who teaches
    // mathematics at 08:00 in both collèges.
    let class = app
        .get(&format!("/emploi-du-temps/classe/class-6b?vue=jour&date={today}"), Some(&helene))
        .await;
    let href = links(&class.body, "/etablissement/0860001A/seances/").remove(0);
    let form = app.get(&href, Some(&helene)).await;
    let csrf = hidden_token(&form.body);
    let token = hidden(&form.body, "jeton");
    let today_text = today.to_string();
    let mut fields = vec![
        ("csrf_token", csrf.as_str()),
        ("jeton", token.as_str()),
        ("date", today_text.as_str()),
        ("debut", "08:10"),
        ("fin", "08:40"),
        ("remplacant", ids::THOMAS),
    ];

    let refused = app.post(&href, Some(&helene), &fields).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(
        refused.body.contains("Thomas Bernard a déjà cours à ce moment-là"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("Collège Jean Moulin, ") && refused.body.contains("08:00–08:55"));
    assert!(refused.body.contains("Collège Camille Claudel, "), "{}", refused.body);
    assert!(refused.body.contains("Confirmer malgré le conflit"));
    let unchanged = app
        .get(&format!("/emploi-du-temps/classe/class-6b?vue=jour&date={today}"), Some(&helene))
        .await;
    assert!(!unchanged.body.contains("Remplacé par"), "nothing saved");

    fields.push(("malgre_conflit", "1"));
    let saved = app.post(&href, Some(&helene), &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let changed = app
        .get(&format!("/emploi-du-temps/classe/class-6b?vue=jour&date={today}"), Some(&helene))
        .await;
    assert!(changed.body.contains("Remplacé par <bdi>Thomas Bernard</bdi>"), "{}", changed.body);
}

#[tokio::test]
async fn a_teacher_in_two_zones_sees_which_zone_each_time_is_in() {
    let app = app().await;
    app.store
        .fixture_execute(
            "UPDATE schools SET time_zone = 'Pacific/Noumea' WHERE id = $1",
            &[ids::SCHOOL_1],
        )
        .await
        .unwrap();
    import_both(&app).await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;

    let week = app.get("/emploi-du-temps", Some(&thomas)).await;
    assert_eq!(week.status, StatusCode::OK, "{}", week.body);
    assert!(
        week.body.contains("« aujourd'hui » est celui de Paris, Europe/Paris"),
        "{}",
        week.body
    );
    assert!(week.body.contains("<span class=\"fuseau\">(heure de Nouméa)</span>"), "{}", week.body);
    assert!(!week.body.contains("(heure de Paris)"), "the page's own zone is not repeated");
}

#[tokio::test]
async fn a_change_made_elsewhere_shows_at_the_next_request() {
    let app = app().await;
    import_both(&app).await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let week = app.get("/emploi-du-temps", Some(&alice)).await;
    assert!(week.body.contains("Latin"), "{}", week.body);

    // Another instance (or a command) renames a subject, then moves Alice out of her class.
    app.store
        .fixture_execute("UPDATE courses SET subject_label = 'Latin et grec'", &[])
        .await
        .unwrap();
    let week = app.get("/emploi-du-temps", Some(&alice)).await;
    assert!(week.body.contains("Latin et grec"), "{}", week.body);

    app.store
        .fixture_execute("DELETE FROM pupil_classes WHERE pupil_id = $1", &[ids::ALICE])
        .await
        .unwrap();
    app.store
        .fixture_execute("DELETE FROM pupil_groups WHERE pupil_id = $1", &[ids::ALICE])
        .await
        .unwrap();
    let week = app.get("/emploi-du-temps", Some(&alice)).await;
    assert!(!week.body.contains("Mathématiques"), "{}", week.body);
}
