//! The hostile inputs of `SECURITY.md` §8 that reach the messaging, each refused or made inert,
//! and each refusal leaving every messaging table as it was: scripts in bodies and subjects,
//! bidi, path and reserved tricks in file names, oversized bodies and files, HTML passed off
//! as an image, other people's messages, drafts and files, a forged sender, a pupil's mass
//! sending, and cross-site or token-less requests.

mod common;
mod messages_support;

use axum::http::{StatusCode, header};
use messages_support::*;

const CLASS_6A_PARENTS: &str = "class_parents:class-6a";

/// Thomas writes to the parents of 6A; returns the message id.
async fn a_message_to_paul(app: &MailApp, thomas: &str) -> String {
    let sent =
        app.send_message(thomas, &[CLASS_6A_PARENTS], "Conseil de classe", "Jeudi.", &[]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    message_id(sent.location())
}

/// Attaches a file to a new draft of `cookie`; returns the reply.
async fn attach(app: &MailApp, cookie: &str, file: &File<'_>) -> Reply {
    let (_, csrf, key) = app.open_compose(cookie, "").await;
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("cle", key.as_str()),
        ("sujet", "Pièce"),
        ("joindre", "1"),
    ];
    app.post_compose(cookie, &fields, Some(file)).await
}

#[tokio::test]
async fn scripts_in_bodies_and_subjects_are_rendered_inert() {
    let app = mail_app().await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let paul = app.login_as(ids::PAUL, "paul.martin").await;
    let body = concat!(
        "<p>Bonjour</p><img src=x onerror=alert(1)>",
        "<svg><script>alert(2)</script></svg>",
        "<a href=\"javascript:alert(3)\">lien piégé</a>",
        "<iframe srcdoc=\"<script>alert(4)</script>\"></iframe>",
        "<p style=\"background:url(javascript:alert(5))\">stylé</p>",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(6)>\"></noscript>",
        "<a href=\"https://example.org/\" onclick=\"alert(7)\">bon lien</a>",
    );
    let subject = "\"><script>alert(8)</script> {{7*7}} ${7*7}";
    let (_, csrf, key) = app.open_compose(&thomas, "").await;
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("cle", key.as_str()),
        ("dest", CLASS_6A_PARENTS),
        ("sujet", subject),
        ("corps", body),
        ("format", "html"),
        ("envoyer", "1"),
    ];
    let sent = app.post_compose(&thomas, &fields, None).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let id = message_id(sent.location());

    let page = app.get(&format!("/messagerie/messages/{id}"), Some(&paul)).await;
    let shown = between(&page.body, "<div class=\"corps-message\">", "</div>");
    for forbidden in
        ["<script", "onerror", "onclick", "javascript:", "<iframe", "<img", "<svg", "style="]
    {
        assert!(!shown.contains(forbidden), "{forbidden} in {shown}");
    }
    assert!(shown.contains("Bonjour") && shown.contains("lien piégé") && shown.contains("stylé"));
    assert!(shown.contains("href=\"https://example.org/\""));
    assert!(
        page.body.contains("&#34;&#62;&#60;script&#62;alert(8)&#60;/script&#62; {{7*7}} ${7*7}")
    );
    assert!(!page.body.contains("<script>alert(8)"));
    assert!(!page.body.contains(" 49 "));
    let inbox = app.get("/messagerie/dossiers/reception", Some(&paul)).await;
    assert!(!inbox.body.contains("<script>alert"));
    assert!(inbox.body.contains("&#60;script&#62;alert(8)"));
    // The page's only scripts are files of the site.
    assert_eq!(
        page.body.matches("<script").count(),
        page.body.matches("<script src=\"/static/mail-").count()
    );
    let csp = page.headers.get(header::CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
}

#[tokio::test]
async fn file_names_lose_paths_bidi_controls_reserved_names_and_length() {
    let app = mail_app().await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let long = format!("{}.txt", "a".repeat(996));
    let names = [
        "devoir\u{202E}fdp.txt",
        "../../etc/passwd.txt",
        "..\\..\\win.ini.txt",
        "%2e%2e%2fsecret.txt",
        "/abs/path/notes.txt",
        "CON.txt",
        "ré\u{200B}sumé.txt",
        long.as_str(),
    ];
    for name in names {
        let file = File { name, bytes: b"du texte\n", content_type: "text/plain" };
        let reply = attach(&app, &thomas, &file).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{name}: {}", reply.body);
    }

    let stored = app.rows("SELECT display_name, storage_key FROM attachments").await;
    assert_eq!(stored.len(), names.len());
    for row in &stored {
        let shown = row[0].clone().unwrap();
        let key = row[1].clone().unwrap();
        assert!(!shown.contains(['/', '\\', '\u{202E}', '\u{200B}']), "{shown}");
        assert!(!shown.starts_with('.') && shown.ends_with(".txt"), "{shown}");
        assert!(shown.chars().count() <= 120, "{shown}");
        assert!(!shown.eq_ignore_ascii_case("CON.txt"), "{shown}");
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'), "{key}");
    }
    for file in app.stored_files() {
        assert!(file.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'), "{file}");
    }

    // The download names the file safely, whatever its name.
    let bidi = app.rows("SELECT id FROM attachments WHERE display_name LIKE 'devoir%'").await;
    let id = bidi[0][0].clone().unwrap();
    let download = app.get(&format!("/messagerie/pieces-jointes/{id}"), Some(&thomas)).await;
    assert_eq!(download.status, StatusCode::OK);
    let disposition = download.headers.get(header::CONTENT_DISPOSITION).unwrap().to_str().unwrap();
    assert!(disposition.starts_with("attachment;") && disposition.contains("filename*=UTF-8''"));
    assert!(!disposition.contains(['\u{202E}', '/', '\r', '\n']));
}

#[tokio::test]
async fn oversized_bodies_and_files_are_refused_and_nothing_is_kept() {
    let app = mail_app().await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let (_, csrf, key) = app.open_compose(&thomas, "").await;
    let before = app.snapshot().await;

    // A body over its cap.
    let long_body = "x".repeat(domain::communication::MAX_BODY_BYTES + 1);
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("cle", key.as_str()),
        ("dest", CLASS_6A_PARENTS),
        ("sujet", "Long"),
        ("corps", long_body.as_str()),
        ("envoyer", "1"),
    ];
    let reply = app.post_compose(&thomas, &fields, None).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply.body.contains("trop volumineux"));

    // A body under its cap that grows past the stored cap once escaped (each `<` of a plain
    // text is `&lt;`), sent and saved: the form again, the text kept, nothing stored.
    let brackets = "<".repeat(domain::communication::MAX_BODY_BYTES / 2);
    for button in ["envoyer", "enregistrer"] {
        let fields = [
            ("csrf_token", csrf.as_str()),
            ("cle", key.as_str()),
            ("dest", CLASS_6A_PARENTS),
            ("sujet", "Chevrons"),
            ("corps", brackets.as_str()),
            (button, "1"),
        ];
        let reply = app.post_compose(&thomas, &fields, None).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{button}");
        assert!(reply.body.contains("trop long"), "{button}: {}", &reply.body[..200]);
        let kept = "&#60;".repeat(1000);
        assert!(reply.body.contains(&format!(">{kept}")), "{button}: the text is kept");
    }

    // A whole request over the route's limit, however it is cut.
    let huge = vec![b'a'; web_limit() + 1024];
    let file = File { name: "enorme.txt", bytes: &huge, content_type: "text/plain" };
    let reply = attach(&app, &thomas, &file).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);

    // A file just over the attachment cap, in a request under the limit: the form again.
    let over = vec![b'a'; domain::communication::MAX_ATTACHMENT_BYTES + 10];
    let file = File { name: "gros.txt", bytes: &over, content_type: "text/plain" };
    let reply = attach(&app, &thomas, &file).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("dépasse la taille permise"), "{}", reply.body);

    // A subject of 5 Mo.
    let subject = "s".repeat(5 * 1024 * 1024);
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("cle", key.as_str()),
        ("sujet", subject.as_str()),
        ("envoyer", "1"),
    ];
    let reply = app.post_compose(&thomas, &fields, None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    assert_eq!(app.snapshot().await, before);
    assert!(app.rows("SELECT id FROM attachments").await.is_empty());
    assert!(app.stored_files().is_empty());
}

fn web_limit() -> usize {
    domain::communication::MAX_ATTACHMENT_BYTES + 1024 * 1024
}

#[tokio::test]
async fn html_or_svg_passed_off_as_an_image_is_refused() {
    let app = mail_app().await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let before = app.snapshot().await;
    let html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>";
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"></svg>";
    let png_named_pdf: &[u8] =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

    for (name, bytes) in [
        ("photo.jpg", &html[..]),
        ("dessin.png", &svg[..]),
        ("page.html", &html[..]),
        ("scan.pdf", png_named_pdf),
    ] {
        let file = File { name, bytes, content_type: "image/jpeg" };
        let reply = attach(&app, &thomas, &file).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(reply.body.contains("non accepté"), "{name}: {}", reply.body);
    }

    assert!(app.rows("SELECT id FROM attachments").await.is_empty());
    assert!(app.stored_files().is_empty());
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn other_people_s_messages_drafts_and_files_are_not_found() {
    let app = mail_app().await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let sami = app.login_as(ids::SAMI, "sami.petit").await;
    let file = File { name: "notes.txt", bytes: b"confidentiel\n", content_type: "text/plain" };
    let attached = attach(&app, &thomas, &file).await;
    let draft = draft_id(attached.location());
    let piece = app.rows("SELECT id FROM attachments").await[0][0].clone().unwrap();
    let id = a_message_to_paul(&app, &thomas).await;
    let csrf = app.csrf(&sami).await;
    let before = app.snapshot().await;
    let entries = app
        .rows(
            "SELECT owner_id, folder, CAST(unread AS TEXT) FROM mailbox_entries ORDER BY owner_id",
        )
        .await;

    let not_found = [
        app.get(&format!("/messagerie/messages/{id}"), Some(&sami)).await,
        app.get(&format!("/messagerie/pieces-jointes/{piece}"), Some(&sami)).await,
        app.get(&format!("/messagerie/ecrire?reponse={id}"), Some(&sami)).await,
        app.get(&format!("/messagerie/ecrire?transfert={id}"), Some(&sami)).await,
        app.get(&format!("/messagerie/ecrire?brouillon={draft}"), Some(&sami)).await,
        app.post(
            &format!("/messagerie/messages/{id}/actions"),
            Some(&sami),
            &[("csrf_token", &csrf), ("action", "non-lu")],
        )
        .await,
        app.post(
            &format!("/messagerie/messages/{id}/actions"),
            Some(&sami),
            &[("csrf_token", &csrf), ("action", "corbeille")],
        )
        .await,
        app.post(
            &format!("/messagerie/messages/{id}/signaler"),
            Some(&sami),
            &[("csrf_token", &csrf), ("raison", "x")],
        )
        .await,
        app.post(
            &format!("/messagerie/messages/{id}/rappeler"),
            Some(&sami),
            &[("csrf_token", &csrf)],
        )
        .await,
        app.post(
            &format!("/messagerie/brouillons/{draft}"),
            Some(&sami),
            &[("csrf_token", &csrf), ("sujet", "à moi")],
        )
        .await,
        app.post(
            &format!("/messagerie/brouillons/{draft}/supprimer"),
            Some(&sami),
            &[("csrf_token", &csrf)],
        )
        .await,
        app.get("/messagerie/pieces-jointes/..%2F..%2Fetc%2Fpasswd", Some(&sami)).await,
    ];
    for (n, reply) in not_found.iter().enumerate() {
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "request {n}");
        assert!(reply.body.contains("Page introuvable"));
    }
    // A bulk action naming the message changes nothing either.
    let bulk = app
        .post(
            "/messagerie/actions",
            Some(&sami),
            &[("csrf_token", &csrf), ("ids", &id), ("action", "corbeille")],
        )
        .await;
    assert_eq!(bulk.status, StatusCode::SEE_OTHER);
    assert!(bulk.location().ends_with("fait=inchange"), "no notice of a move that did not happen");
    // Nor does sending someone else's file, or replying into a thread one is not part of.
    let (_, compose_csrf, key) = app.open_compose(&sami, "").await;
    let fields = [
        ("csrf_token", compose_csrf.as_str()),
        ("cle", key.as_str()),
        ("dest", "p:t-sophie"),
        ("sujet", "Fichier"),
        ("corps", "Voici."),
        ("piece", piece.as_str()),
        ("mode", "reply"),
        ("parent", id.as_str()),
        ("envoyer", "1"),
    ];
    let stolen = app.post_compose(&sami, &fields, None).await;
    assert_eq!(stolen.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", stolen.body);

    assert_eq!(app.snapshot().await, before);
    assert_eq!(
        app.rows(
            "SELECT owner_id, folder, CAST(unread AS TEXT) FROM mailbox_entries ORDER BY owner_id"
        )
        .await,
        entries
    );
}

#[tokio::test]
async fn a_forged_sender_is_ignored() {
    let app = mail_app().await;
    let paul = app.login_as(ids::PAUL, "paul.martin").await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;

    let sent = app
        .send_message(
            &paul,
            &["p:t-thomas"],
            "Absence d'Alice",
            "Alice sera absente demain.",
            &[
                ("from", ids::HELENE),
                ("sender", ids::HELENE),
                ("sender_id", ids::HELENE),
                ("expediteur", ids::HELENE),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let senders = app.rows("SELECT sender_id FROM messages").await;
    assert_eq!(senders, vec![vec![Some(ids::PAUL.to_owned())]]);
    let inbox = app.get("/messagerie/dossiers/reception", Some(&thomas)).await;
    assert!(inbox.body.contains("<bdi>Paul Martin</bdi>") && !inbox.body.contains("Hélène"));
}

#[tokio::test]
async fn a_pupil_cannot_write_to_a_school_nor_send_without_limit() {
    let app = mail_app().await;
    let alice = app.login_as(ids::ALICE, "alice.martin").await;
    let before = app.snapshot().await;

    for group in [
        "school_pupils:school-1",
        "school_parents:school-1",
        "class_parents:class-6b",
        "p:r-rachel",
    ] {
        let refused = app.send_message(&alice, &[group], "Coucou", "Bonjour à tous", &[]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{group}");
        assert!(refused.body.contains("role=\"alert\""));
        assert!(refused.body.contains(">Bonjour à tous</textarea>"), "the input is kept");
    }
    assert_eq!(app.snapshot().await, before);

    // Classmates, at most the hourly quota.
    let caps = domain::communication::send_caps(domain::profile::Profile::Pupil);
    for n in 0..caps.per_hour {
        let sent =
            app.send_message(&alice, &["p:p-bruno"], &format!("Message {n}"), "Salut", &[]).await;
        assert_eq!(sent.status, StatusCode::SEE_OTHER, "message {n}: {}", sent.body);
    }
    let before = app.snapshot().await;
    let limited = app.send_message(&alice, &["p:p-bruno"], "Encore un", "Salut", &[]).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 =
        limited.headers.get(header::RETRY_AFTER).unwrap().to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 3600);
    assert!(limited.body.contains("réessayez dans"));
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn cross_site_and_token_less_requests_change_nothing() {
    let app = mail_app().await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let paul = app.login_as(ids::PAUL, "paul.martin").await;
    let id = a_message_to_paul(&app, &thomas).await;
    let (_, csrf, key) = app.open_compose(&thomas, "").await;
    let before = app.snapshot().await;
    let send = |token: &str| {
        multipart(
            &[
                ("csrf_token", token),
                ("cle", &key),
                ("dest", CLASS_6A_PARENTS),
                ("sujet", "Forgé"),
                ("corps", "x"),
                ("envoyer", "1"),
            ],
            None,
        )
    };

    let cross = app
        .post_multipart(
            "/messagerie/ecrire",
            &thomas,
            &[("sec-fetch-site", "cross-site")],
            send(&csrf),
        )
        .await;
    let foreign = app
        .post_multipart(
            "/messagerie/ecrire",
            &thomas,
            &[("sec-fetch-site", "same-site")],
            send(&csrf),
        )
        .await;
    let origin = app
        .post_multipart(
            "/messagerie/ecrire",
            &thomas,
            &[("origin", "https://evil.tld"), ("sec-fetch-site", "cross-site")],
            send(&csrf),
        )
        .await;
    let no_token = app
        .post_compose(
            &thomas,
            &[("cle", &key), ("dest", CLASS_6A_PARENTS), ("sujet", "Forgé"), ("envoyer", "1")],
            None,
        )
        .await;
    let wrong = app.post_multipart("/messagerie/ecrire", &thomas, &[], send(&"x".repeat(43))).await;
    let paul_csrf = app.csrf(&paul).await;
    let action = app
        .post(
            &format!("/messagerie/messages/{id}/actions"),
            Some(&paul),
            &[("action", "corbeille")],
        )
        .await;
    let bulk = app
        .post(
            "/messagerie/actions",
            Some(&paul),
            &[("csrf_token", "faux"), ("ids", &id), ("action", "corbeille")],
        )
        .await;
    let folder = app.post("/messagerie/dossiers", Some(&paul), &[("nom", "Sans jeton")]).await;
    let draft =
        app.post("/messagerie/brouillons/nouveau", Some(&paul), &[("sujet", "Sans jeton")]).await;
    let trash =
        app.post("/messagerie/corbeille/vider", Some(&paul), &[("csrf_token", &csrf)]).await;

    for (name, reply) in [
        ("cross", &cross),
        ("same-site", &foreign),
        ("origin", &origin),
        ("no token", &no_token),
        ("wrong", &wrong),
        ("action", &action),
        ("bulk", &bulk),
        ("folder", &folder),
        ("draft", &draft),
        ("trash", &trash),
    ] {
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{name}");
    }
    assert_eq!(app.snapshot().await, before);
    assert!(!paul_csrf.is_empty());
    // A state change never rides on a GET.
    let get = app.get(&format!("/messagerie/messages/{id}/rappeler"), Some(&thomas)).await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_subject_is_capped_in_characters_whatever_the_script() {
    let app = mail_app().await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let accented = "é".repeat(300);
    let too_long = "é".repeat(301);
    for (subject, status) in [
        (accented.as_str(), StatusCode::SEE_OTHER),
        (too_long.as_str(), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (_, csrf, key) = app.open_compose(&thomas, "").await;
        let fields = [
            ("csrf_token", csrf.as_str()),
            ("cle", key.as_str()),
            ("dest", "p:r-paul"),
            ("sujet", subject),
            ("corps", "Bonjour."),
            ("envoyer", "1"),
        ];
        let reply = app.post_compose(&thomas, &fields, None).await;
        assert_eq!(reply.status, status, "{} characters", subject.chars().count());
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            assert!(reply.body.contains("300 caractères au plus"));
            assert!(reply.body.contains(subject), "the input is kept");
        }
    }
    assert_eq!(app.rows("SELECT id FROM messages").await.len(), 1);
}

#[tokio::test]
async fn twenty_parallel_submissions_of_one_key_send_one_message_and_none_is_refused_for_load() {
    let app = mail_app().await;
    let thomas = app.login_as(ids::THOMAS, "thomas.bernard").await;
    let (_, csrf, key) = app.open_compose(&thomas, "").await;
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("cle", key.as_str()),
        ("dest", "class_parents:class-6a"),
        ("sujet", "Double clic"),
        ("corps", "Une seule fois."),
        ("envoyer", "1"),
    ];
    let replies =
        futures_util::future::join_all((0..20).map(|_| app.post_compose(&thomas, &fields, None)))
            .await;

    let mut locations = std::collections::BTreeSet::new();
    for reply in &replies {
        match reply.status {
            StatusCode::SEE_OTHER => {
                locations.insert(reply.location().to_owned());
            }
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert_eq!(locations.len(), 1, "every completed answer names the one message");
    assert_eq!(app.rows("SELECT id FROM messages").await.len(), 1);
}
