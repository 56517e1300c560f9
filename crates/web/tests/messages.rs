//! The messaging over HTTP, as people use it: a teacher writes to the parents of a class with
//! an attachment, a parent reads it, downloads the file and replies; drafts saved by the form
//! and as one types; own folders, the trash and the bulk actions; the search; a send retried
//! with the same key; the live unread count; the notification address in the settings.

mod common;
mod messages_support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use messages_support::*;
use tower::ServiceExt;

const CLASS_6A_PARENTS: &str = "class_parents:class-6a";

#[tokio::test]
async fn a_teacher_writes_to_a_class_s_parents_who_read_download_and_reply() {
    let app = mail_app().await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let paul = app.login_as(ids::PAUL, "paul.martin").await;

    // The picker proposes the class's parents to the teacher.
    let (_, csrf, key) = app.open_compose(&thomas, "").await;
    let search = app
        .post_compose(
            &thomas,
            &[("csrf_token", &csrf), ("cle", &key), ("q", "6A"), ("chercher", "1")],
            None,
        )
        .await;
    assert_eq!(search.status, StatusCode::SEE_OTHER, "{}", search.body);
    let proposals = app.get(search.location(), Some(&thomas)).await;
    assert!(
        proposals.body.contains(&format!("value=\"{CLASS_6A_PARENTS}\"")),
        "{}",
        proposals.body
    );
    assert!(proposals.body.contains("Parents de 6A"));
    let draft = draft_id(search.location());

    // Attach a file, then send.
    let file = File {
        name: "devoirs.txt",
        bytes: "Exercices 1 à 4, page 12.\n".as_bytes(),
        content_type: "text/plain",
    };
    let attach = app
        .post_compose(
            &thomas,
            &[
                ("csrf_token", &csrf),
                ("brouillon", &draft),
                ("cle", &key),
                ("ajouter", CLASS_6A_PARENTS),
                ("sujet", "Devoirs pour lundi"),
                ("corps", "Bonjour,\n\nvoici les devoirs.\n\nT. Bernard"),
                ("format", "texte"),
                ("joindre", "1"),
            ],
            Some(&file),
        )
        .await;
    assert_eq!(attach.status, StatusCode::SEE_OTHER, "{}", attach.body);
    assert!(attach.location().contains("fait=joint"));
    let form = app.get(attach.location(), Some(&thomas)).await;
    assert!(form.body.contains("<bdi>devoirs.txt</bdi>"), "{}", form.body);
    assert!(form.body.contains("<bdi>Parents de 6A</bdi>"));
    let piece = field_value(&form.body, "piece");
    assert_eq!(field_value(&form.body, "cle"), key);

    let sent = app
        .post_compose(
            &thomas,
            &[
                ("csrf_token", &csrf),
                ("brouillon", &draft),
                ("cle", &key),
                ("mode", "new"),
                ("dest", CLASS_6A_PARENTS),
                ("sujet", "Devoirs pour lundi"),
                ("corps", "Bonjour,\n\nvoici les devoirs.\n\nT. Bernard"),
                ("format", "texte"),
                ("piece", &piece),
                ("envoyer", "1"),
            ],
            None,
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let id = message_id(sent.location());
    let confirmation = app.get(sent.location(), Some(&thomas)).await;
    assert!(confirmation.body.contains("Votre message est envoyé."));
    assert!(app.rows("SELECT id FROM drafts").await.is_empty(), "the draft went with the send");

    // Paul sees it unread, with the teacher's profile next to his name.
    let inbox = app.get("/messagerie/dossiers/reception", Some(&paul)).await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(inbox.body.contains("class=\"non-lu\""));
    assert!(
        inbox.body.contains("<bdi>Thomas Bernard</bdi> <span class=\"badge\">Enseignant</span>"),
        "{}",
        inbox.body
    );
    assert!(inbox.body.contains("<bdi>Devoirs pour lundi</bdi>"));
    assert!(inbox.body.contains("id=\"compteur-messagerie\"><span class=\"nombre\">1</span>"));

    let message = app.get(&format!("/messagerie/messages/{id}"), Some(&paul)).await;
    assert_eq!(message.status, StatusCode::OK);
    assert!(message.body.contains("<p>voici les devoirs.</p>"));
    assert!(message.body.contains("<bdi>Parents de 6A</bdi> <span class=\"badge\">groupe</span>"));
    let attachment_href = format!("/messagerie/pieces-jointes/{piece}");
    assert!(message.body.contains(&attachment_href));
    assert!(message.body.contains("(texte, 27 octets)"), "{}", message.body);
    let inbox = app.get("/messagerie/dossiers/reception", Some(&paul)).await;
    assert!(!inbox.body.contains("class=\"non-lu\""), "opening marks it read");

    let download = app.get(&attachment_href, Some(&paul)).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.body, "Exercices 1 à 4, page 12.\n");
    let header_of = |name| download.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(header_of(header::CONTENT_DISPOSITION).starts_with("attachment"));
    assert!(header_of(header::CONTENT_DISPOSITION).contains("devoirs.txt"));
    assert_eq!(header_of(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(header_of(header::CONTENT_SECURITY_POLICY), "sandbox");
    assert_eq!(header_of(header::CACHE_CONTROL), "private, no-store");

    // Paul replies: the form names the teacher and quotes the message.
    let (reply_form, reply_csrf, reply_key) =
        app.open_compose(&paul, &format!("?reponse={id}")).await;
    assert!(reply_form.body.contains("<bdi>Thomas Bernard</bdi>"), "{}", reply_form.body);
    let subject = field_value(&reply_form.body, "sujet");
    assert!(subject.starts_with("Re"), "{subject}");
    let token = field_value(&reply_form.body, "dest");
    let replied = app
        .post_compose(
            &paul,
            &[
                ("csrf_token", &reply_csrf),
                ("cle", &reply_key),
                ("mode", "reply"),
                ("parent", &id),
                ("dest", &token),
                ("sujet", &subject),
                ("corps", "Merci, c'est noté."),
                ("format", "texte"),
                ("envoyer", "1"),
            ],
            None,
        )
        .await;
    assert_eq!(replied.status, StatusCode::SEE_OTHER, "{}", replied.body);
    let thomas_inbox = app.get("/messagerie/dossiers/reception", Some(&thomas)).await;
    assert!(thomas_inbox.body.contains("<bdi>Paul Martin</bdi>"));
    let reply_id = message_id(replied.location());
    let reply = app.get(&format!("/messagerie/messages/{reply_id}"), Some(&thomas)).await;
    assert!(
        reply.body.contains("Merci, c&#39;est noté.") || reply.body.contains("Merci, c'est noté.")
    );
    assert!(reply.body.contains("Dans la même conversation"));
}

#[tokio::test]
async fn drafts_are_saved_by_the_form_and_as_one_types() {
    let app = mail_app().await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let (_, csrf, key) = app.open_compose(&thomas, "").await;

    let created = app
        .post(
            "/messagerie/brouillons/nouveau",
            Some(&thomas),
            &[
                ("csrf_token", &csrf),
                ("cle", &key),
                ("sujet", "Sortie au musée"),
                ("corps", "<p>Premier <b>jet</b></p>"),
                ("format", "html"),
                ("dest", CLASS_6A_PARENTS),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let id = created.body.split('"').nth(3).expect("a draft id").to_owned();
    assert!(created.body.starts_with("{\"id\":"));

    let updated = app
        .post(
            &format!("/messagerie/brouillons/{id}"),
            Some(&thomas),
            &[
                ("csrf_token", &csrf),
                ("cle", &key),
                ("sujet", "Sortie au musée jeudi"),
                ("corps", "Second jet"),
                ("format", "texte"),
            ],
        )
        .await;
    assert_eq!(updated.status, StatusCode::NO_CONTENT);

    let drafts = app.get("/messagerie/dossiers/brouillons", Some(&thomas)).await;
    assert!(drafts.body.contains("Sortie au musée jeudi"));
    assert!(drafts.body.contains(&format!("/messagerie/ecrire?brouillon={id}")));
    let form = app.get(&format!("/messagerie/ecrire?brouillon={id}"), Some(&thomas)).await;
    assert_eq!(field_value(&form.body, "sujet"), "Sortie au musée jeudi");
    assert_eq!(field_value(&form.body, "cle"), key);
    assert!(form.body.contains(">Second jet</textarea>"));

    // Someone else cannot write into it, nor open it.
    let paul = app.login_as(ids::PAUL, "paul.martin").await;
    let paul_csrf = app.csrf(&paul).await;
    let before = app.snapshot().await;
    let foreign = app
        .post(
            &format!("/messagerie/brouillons/{id}"),
            Some(&paul),
            &[("csrf_token", &paul_csrf), ("sujet", "Piraté")],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&format!("/messagerie/ecrire?brouillon={id}"), Some(&paul)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.snapshot().await, before);

    // The form's own button saves too, and the drafts folder deletes.
    let saved = app
        .post_compose(
            &thomas,
            &[
                ("csrf_token", &csrf),
                ("brouillon", &id),
                ("cle", &key),
                ("sujet", "Sortie annulée"),
                ("corps", "Rien"),
                ("format", "texte"),
                ("enregistrer", "1"),
            ],
            None,
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(draft_id(saved.location()), id);
    let deleted = app
        .post(
            "/messagerie/actions",
            Some(&thomas),
            &[
                ("csrf_token", &csrf),
                ("ids", &id),
                ("action", "supprimer"),
                ("retour", "/messagerie/dossiers/brouillons"),
            ],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(app.rows("SELECT id FROM drafts").await.is_empty());
}

#[tokio::test]
async fn own_folders_the_trash_and_the_bulk_actions() {
    let app = mail_app().await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let paul = app.login_as(ids::PAUL, "paul.martin").await;
    let sent = app
        .send_message(
            &thomas,
            &[CLASS_6A_PARENTS],
            "Réunion parents-professeurs",
            "Mardi à 18 h.",
            &[],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let id = message_id(sent.location());
    let csrf = app.csrf(&paul).await;

    let created = app
        .post("/messagerie/dossiers", Some(&paul), &[("csrf_token", &csrf), ("nom", "École")])
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let folder = created
        .location()
        .trim_start_matches("/messagerie/dossiers/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let duplicate = app
        .post("/messagerie/dossiers", Some(&paul), &[("csrf_token", &csrf), ("nom", "École")])
        .await;
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(duplicate.body.contains("id=\"erreur-dossier\""));

    let unread = app
        .post(
            "/messagerie/actions",
            Some(&paul),
            &[
                ("csrf_token", &csrf),
                ("ids", &id),
                ("action", "lu"),
                ("retour", "/messagerie/dossiers/reception"),
            ],
        )
        .await;
    assert_eq!(unread.location(), "/messagerie/dossiers/reception?fait=lu");
    assert!(
        !app.get("/messagerie/dossiers/reception", Some(&paul))
            .await
            .body
            .contains("class=\"non-lu\"")
    );

    let moved = app
        .post(
            "/messagerie/actions",
            Some(&paul),
            &[
                ("csrf_token", &csrf),
                ("ids", &id),
                ("action", "deplacer"),
                ("dossier", &folder),
                ("retour", "/messagerie/dossiers/reception"),
            ],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);
    assert!(
        !app.get("/messagerie/dossiers/reception", Some(&paul))
            .await
            .body
            .contains("Réunion parents-professeurs")
    );
    let own = app.get(&format!("/messagerie/dossiers/{folder}"), Some(&paul)).await;
    assert!(own.body.contains("Réunion parents-professeurs"));
    assert!(own.body.contains("aria-current=\"page\"><bdi>École</bdi>"));

    let deleted = app
        .post(
            &format!("/messagerie/dossiers/{folder}/supprimer"),
            Some(&paul),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(
        app.get("/messagerie/dossiers/reception", Some(&paul))
            .await
            .body
            .contains("Réunion parents-professeurs")
    );
    assert_eq!(
        app.get(&format!("/messagerie/dossiers/{folder}"), Some(&paul)).await.status,
        StatusCode::NOT_FOUND
    );

    // From the message page: trash, restore, then the trash emptied.
    let trashed = app
        .post(
            &format!("/messagerie/messages/{id}/actions"),
            Some(&paul),
            &[("csrf_token", &csrf), ("action", "corbeille")],
        )
        .await;
    assert_eq!(trashed.status, StatusCode::SEE_OTHER);
    assert!(
        app.get("/messagerie/dossiers/corbeille", Some(&paul))
            .await
            .body
            .contains("Réunion parents-professeurs")
    );
    let restored = app
        .post(
            &format!("/messagerie/messages/{id}/actions"),
            Some(&paul),
            &[("csrf_token", &csrf), ("action", "restaurer")],
        )
        .await;
    assert_eq!(restored.status, StatusCode::SEE_OTHER);
    assert!(
        app.get("/messagerie/dossiers/reception", Some(&paul))
            .await
            .body
            .contains("Réunion parents-professeurs")
    );
    app.post(
        &format!("/messagerie/messages/{id}/actions"),
        Some(&paul),
        &[("csrf_token", &csrf), ("action", "corbeille")],
    )
    .await;
    let emptied =
        app.post("/messagerie/corbeille/vider", Some(&paul), &[("csrf_token", &csrf)]).await;
    assert_eq!(emptied.location(), "/messagerie/dossiers/corbeille?fait=vide");
    assert_eq!(
        app.get(&format!("/messagerie/messages/{id}"), Some(&paul)).await.status,
        StatusCode::NOT_FOUND
    );
    // The teacher's copy stays.
    assert_eq!(
        app.get(&format!("/messagerie/messages/{id}"), Some(&thomas)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_search_finds_words_of_the_subject_and_the_body_without_accents() {
    let app = mail_app().await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let paul = app.login_as(ids::PAUL, "paul.martin").await;
    app.send_message(
        &thomas,
        &[CLASS_6A_PARENTS],
        "Sortie au théâtre",
        "Prévoir un pique-nique.",
        &[],
    )
    .await;
    app.send_message(&thomas, &[CLASS_6A_PARENTS], "Cantine", "Menu de la semaine.", &[]).await;

    let found = app.get("/messagerie/recherche?q=theatre", Some(&paul)).await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(found.body.contains("Sortie au théâtre") && !found.body.contains("<bdi>Cantine</bdi>"));
    assert!(found.body.contains("1 message pour"));
    let prefix = app.get("/messagerie/recherche?q=pique", Some(&paul)).await;
    assert!(prefix.body.contains("Sortie au théâtre"));
    let none = app.get("/messagerie/recherche?q=piscine", Some(&paul)).await;
    assert!(none.body.contains("0 message pour"));
}

#[tokio::test]
async fn a_send_retried_with_its_key_gives_the_first_message_and_another_body_is_refused() {
    let app = mail_app().await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let (_, csrf, key) = app.open_compose(&thomas, "").await;
    let first_fields = [
        ("csrf_token", csrf.as_str()),
        ("cle", key.as_str()),
        ("dest", CLASS_6A_PARENTS),
        ("sujet", "Rappel"),
        ("corps", "Apportez vos cahiers."),
        ("format", "texte"),
        ("envoyer", "1"),
    ];

    let first = app.post_compose(&thomas, &first_fields, None).await;
    let again = app.post_compose(&thomas, &first_fields, None).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(first.location(), again.location());
    let before = app.snapshot().await;

    let mut other_fields = first_fields;
    other_fields[4] = ("corps", "Un autre texte.");
    let other = app.post_compose(&thomas, &other_fields, None).await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(other.body.contains("déjà servi à envoyer un autre message"));
    assert!(other.body.contains(">Un autre texte.</textarea>"), "the input is kept");
    assert_ne!(field_value(&other.body, "cle"), key, "a new send gets a new key");
    assert_eq!(app.snapshot().await, before);
    assert_eq!(app.rows("SELECT id FROM messages").await.len(), 1);

    let mut no_key_fields = first_fields;
    no_key_fields[1] = ("cle", "");
    let no_key = app.post_compose(&thomas, &no_key_fields, None).await;
    assert_eq!(no_key.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.snapshot().await, before);
}

/// The first bytes of a streamed response.
async fn first_event(app: &MailApp, cookie: Option<&str>) -> (StatusCode, String, String) {
    let mut request = Request::get("/messagerie/evenements");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = app.router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut body = response.into_body();
    let text = if status == StatusCode::OK { next_event(&mut body).await } else { String::new() };
    (status, content_type, text)
}

#[tokio::test]
async fn open_pages_hear_their_unread_count() {
    let app = mail_app().await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let paul = app.login_as(ids::PAUL, "paul.martin").await;
    app.send_message(&thomas, &[CLASS_6A_PARENTS], "Un", "1", &[]).await;
    app.send_message(&thomas, &[CLASS_6A_PARENTS], "Deux", "2", &[]).await;

    let (status, content_type, event) = first_event(&app, Some(&paul)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/event-stream"));
    assert_eq!(event, "event: unread\ndata: 2\n\n");

    let (status, _, _) = first_event(&app, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "no session: the browser stops trying");
    let (status, _, _) = first_event(&app, Some("__Host-preau_session=inconnu")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn an_open_page_hears_each_new_message_not_only_the_first_count() {
    let app = mail_app().await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let paul = app.login_as(ids::PAUL, "paul.martin").await;
    app.send_message(&thomas, &[CLASS_6A_PARENTS], "Un", "1", &[]).await;

    let request = Request::get("/messagerie/evenements").header(header::COOKIE, &paul);
    let response = app.router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    assert_eq!(next_event(&mut body).await, "event: unread\ndata: 1\n\n");

    app.send_message(&thomas, &[CLASS_6A_PARENTS], "Deux", "2", &[]).await;
    assert_eq!(next_event(&mut body).await, "event: unread\ndata: 2\n\n");
    app.send_message(&thomas, &[CLASS_6A_PARENTS], "Trois", "3", &[]).await;
    assert_eq!(next_event(&mut body).await, "event: unread\ndata: 3\n\n");
}

#[tokio::test]
async fn the_notification_address_is_kept_in_the_settings() {
    let app = mail_app().await;
    let paul = app.login_as(ids::PAUL, "paul.martin").await;
    let csrf = app.csrf(&paul).await;

    let bad = app
        .post(
            "/parametres/notifications",
            Some(&paul),
            &[("csrf_token", &csrf), ("notify_email", "pas une adresse")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"erreur-courriel\""));
    assert_eq!(app.store.notify_email(ids::PAUL).await.unwrap(), None);

    let good = app
        .post(
            "/parametres/notifications",
            Some(&paul),
            &[("csrf_token", &csrf), ("notify_email", "paul.martin@example.org")],
        )
        .await;
    assert_eq!(good.location(), "/parametres?enregistre=1");
    assert_eq!(
        app.store.notify_email(ids::PAUL).await.unwrap().as_deref(),
        Some("paul.martin@example.org")
    );
    let page = app.get("/parametres", Some(&paul)).await;
    assert!(page.body.contains("value=\"paul.martin@example.org\""));

    let cleared = app
        .post(
            "/parametres/notifications",
            Some(&paul),
            &[("csrf_token", &csrf), ("notify_email", "")],
        )
        .await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER);
    assert_eq!(app.store.notify_email(ids::PAUL).await.unwrap(), None);
}
