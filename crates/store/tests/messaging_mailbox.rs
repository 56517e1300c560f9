//! A mailbox on the fixture département: others' messages, folders, drafts and attachments are
//! out of reach (not found, nothing changed); folders are created, filled, deleted; the trash
//! is emptied and restored from; unread counts follow; drafts are saved, updated, deleted and
//! consumed by the send; the reply forms; the full-text search ignores accents and finds
//! prefixes in one's own mailbox only; a folder of 10,000 messages pages correctly; a message or a
//! person deleted takes their mailbox entries along, and their id leaves the recipients of
//! messages (triggers and housekeeping, not keys), even the entries a send racing the deletion
//! wrote;
//! counts broken behind the triggers' back are counted again from the entries.

mod messaging_support;

use domain::communication::Recipient;
use messaging_support::{
    count, count_for, execute, fixture, request, send, send_ok, snapshot, texts,
};
use store::StoreError;
use store::fixtures::ids;
use store::messaging::{ComposeMode, DraftInput, Folder, NewAttachment, PAGE_SIZE};

fn not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::NotFound))
}

fn upload() -> NewAttachment {
    NewAttachment {
        display_name: "photo.png".to_owned(),
        content_type: "image/png".to_owned(),
        size_bytes: 10,
        sha256: "0f".repeat(32),
        storage_key: store::new_id(),
    }
}

fn draft_input(tokens: &[&str], subject: &str) -> DraftInput {
    DraftInput {
        id: None,
        subject: subject.to_owned(),
        body_html: "<p>Brouillon</p>".to_owned(),
        recipients: tokens.iter().filter_map(|t| Recipient::parse(t)).collect(),
        mode: ComposeMode::New,
        parent_id: None,
        idempotency_key: store::new_id(),
    }
}

#[tokio::test]
async fn nobody_reads_moves_marks_or_downloads_what_is_not_in_their_mailbox() {
    let store = fixture().await;
    let file = store.create_attachment(ids::THOMAS, &upload()).await.unwrap();
    let mut with_file = request(ids::THOMAS, &["p:p-alice"], "Privé", "Pour Alice seulement.");
    with_file.attachment_ids = vec![file.id.clone()];
    let (message_id, _) = send_ok(&store, &with_file).await;
    let folder = store.create_folder(ids::ALICE, "Classe").await.unwrap();
    let draft = store.save_draft(ids::ALICE, &draft_input(&["p:p-bruno"], "Secret")).await.unwrap();
    let ids_list = vec![message_id.clone()];
    let before = snapshot(&store).await;

    for intruder in [ids::BRUNO, ids::CHLOE, ids::PAUL, ids::HELENE, ids::AGNES] {
        assert!(not_found(store.open_message(intruder, &message_id).await), "{intruder}");
        assert_eq!(store.set_unread(intruder, &ids_list, false).await.unwrap(), 0);
        for to in [Folder::Trash, Folder::Inbox, Folder::Sent] {
            assert_eq!(store.move_messages(intruder, &ids_list, &to).await.unwrap(), 0);
        }
        assert!(not_found(
            store.move_messages(intruder, &ids_list, &Folder::Custom(folder.clone())).await
        ));
        assert!(not_found(store.mailbox(intruder, &Folder::Custom(folder.clone()), 1).await));
        assert!(not_found(store.rename_folder(intruder, &folder, "À moi").await));
        assert!(not_found(store.delete_folder(intruder, &folder).await));
        assert!(not_found(store.attachment_for(intruder, &file.id).await));
        assert!(not_found(store.report_message(intruder, &message_id, "x").await));
        assert!(not_found(store.compose_from(intruder, ComposeMode::Reply, &message_id).await));
        assert!(not_found(store.draft(intruder, &draft).await));
        assert!(not_found(store.delete_draft(intruder, &draft).await));
        assert!(not_found(store.attach_to_draft(intruder, &draft, &file.id).await));
        assert!(not_found(store.detach_from_draft(intruder, &draft, &file.id).await));
        let mut hijack = draft_input(&[], "Volé");
        hijack.id = Some(draft.clone());
        assert!(not_found(store.save_draft(intruder, &hijack).await));
        let mut reply = draft_input(&[], "Re: Privé");
        reply.mode = ComposeMode::Reply;
        reply.parent_id = Some(message_id.clone());
        assert!(not_found(store.save_draft(intruder, &reply).await));
        assert_eq!(store.empty_trash(intruder).await.unwrap(), 0);
        let found = store.search_mailbox(intruder, "alice", 1).await.unwrap();
        assert!(found.messages.iter().all(|m| m.id != message_id));
    }
    assert!(not_found(store.attach_to_draft(ids::ALICE, &draft, &file.id).await));
    assert_eq!(snapshot(&store).await, before);
    assert!(store.mailbox(ids::ALICE, &Folder::Inbox, 1).await.unwrap().messages[0].unread);
}

#[tokio::test]
async fn opening_marks_read_and_the_counts_follow() {
    let store = fixture().await;
    let first = send(&store, ids::THOMAS, &["p:p-alice"], "Un").await;
    let second = send(&store, ids::THOMAS, &["p:p-alice"], "Deux").await;
    send(&store, ids::ALICE, &["p:t-thomas"], "Trois").await;
    assert_eq!(store.unread_count(ids::ALICE).await.unwrap(), 2);

    let view = store.open_message(ids::ALICE, &first).await.unwrap();

    assert!(!view.origin_sent);
    assert!(!view.can_recall);
    assert_eq!(view.folder, Folder::Inbox);
    assert_eq!(view.recipients, [("p:p-alice".to_owned(), "Alice Martin".to_owned())]);
    assert_eq!(store.unread_count(ids::ALICE).await.unwrap(), 1);
    assert_eq!(
        store.set_unread(ids::ALICE, &[first.clone(), second.clone()], true).await.unwrap(),
        1
    );
    assert_eq!(store.unread_count(ids::ALICE).await.unwrap(), 2);
    assert_eq!(
        store
            .set_unread(ids::ALICE, &[first.clone(), second.clone(), "x y".into()], false)
            .await
            .unwrap(),
        2
    );
    assert_eq!(store.unread_count(ids::ALICE).await.unwrap(), 0);
    let folders = store.folders(ids::ALICE).await.unwrap();
    let summary: Vec<(Folder, i64, i64)> =
        folders.iter().map(|f| (f.folder.clone(), f.unread, f.total)).collect();
    assert_eq!(
        summary,
        [
            (Folder::Inbox, 0, 2),
            (Folder::Sent, 0, 1),
            (Folder::Drafts, 0, 0),
            (Folder::Trash, 0, 0)
        ]
    );
    assert_eq!(folders[0].name, "Boîte de réception");
    let own = store.open_message(ids::ALICE, &second).await.unwrap();
    assert_eq!(own.sender.id, ids::THOMAS);
}

/// The counts kept per owner and folder (with their changes not yet folded), and the same
/// counted from the entries; folders emptied keep a row of zeros, which counts nothing.
async fn kept_and_counted(store: &store::Store) -> (Vec<String>, Vec<String>) {
    let kept = texts(
        store,
        "SELECT owner_id || ' ' || folder || ' ' || CAST(SUM(total) AS TEXT) || ' ' || \
         CAST(SUM(unread) AS TEXT) FROM (SELECT * FROM mailbox_counts \
           UNION ALL SELECT * FROM mailbox_count_changes) c \
         GROUP BY owner_id, folder HAVING SUM(total) <> 0 OR SUM(unread) <> 0 ORDER BY 1",
    )
    .await;
    let counted = texts(
        store,
        "SELECT owner_id || ' ' || folder || ' ' || CAST(COUNT(*) AS TEXT) || ' ' || \
         CAST(SUM(unread) AS TEXT) FROM mailbox_entries GROUP BY owner_id, folder ORDER BY 1",
    )
    .await;
    (kept, counted)
}

#[tokio::test]
async fn the_kept_counts_follow_every_change_of_the_mailboxes() {
    let store = fixture().await;
    let check = |step: &'static str| {
        let store = &store;
        async move {
            let (kept, counted) = kept_and_counted(store).await;
            assert_eq!(kept, counted, "after: {step}");
        }
    };
    let class = ["class_pupils:class-6a", "class_parents:class-6a"];
    let first = send(&store, ids::THOMAS, &class, "Un").await;
    let second = send(&store, ids::THOMAS, &class, "Deux").await;
    let reply = send(&store, ids::ALICE, &["p:t-thomas"], "Trois").await;
    check("three sends").await;

    store.open_message(ids::ALICE, &first).await.unwrap();
    store.set_unread(ids::BRUNO, &[first.clone(), second.clone()], false).await.unwrap();
    store.set_unread(ids::BRUNO, std::slice::from_ref(&second), true).await.unwrap();
    check("reading and marking").await;

    let folder = store.create_folder(ids::ALICE, "Sorties").await.unwrap();
    let custom = Folder::Custom(folder.clone());
    store.move_messages(ids::ALICE, &[first.clone(), second.clone()], &custom).await.unwrap();
    store.move_messages(ids::ALICE, std::slice::from_ref(&reply), &Folder::Trash).await.unwrap();
    check("moves").await;
    let folders = store.folders(ids::ALICE).await.unwrap();
    let own = folders.iter().find(|f| f.folder == custom).unwrap();
    assert_eq!((own.unread, own.total), (1, 2));
    assert_eq!(store.unread_count(ids::ALICE).await.unwrap(), 1);

    store.delete_folder(ids::ALICE, &folder).await.unwrap();
    store.move_messages(ids::ALICE, std::slice::from_ref(&reply), &Folder::Sent).await.unwrap();
    store.move_messages(ids::BRUNO, std::slice::from_ref(&first), &Folder::Trash).await.unwrap();
    store.empty_trash(ids::BRUNO).await.unwrap();
    check("a folder deleted, a message back, the trash emptied").await;

    store.fold_mailbox_counts().await.unwrap();
    check("a fold").await;
    assert_eq!(count(&store, "SELECT COUNT(*) FROM mailbox_count_changes").await, 0);
    store.recall_message(ids::THOMAS, &second).await.unwrap();
    check("a recall").await;
    assert_eq!(store.mailbox(ids::BRUNO, &Folder::Inbox, 1).await.unwrap().total, 0);

    // Changes made by hand, or by another instance, are counted all the same.
    let other = store.another_instance().await;
    execute(&other, "UPDATE mailbox_entries SET unread = 1 WHERE owner_id = $1", &[ids::ALICE])
        .await;
    execute(&other, "DELETE FROM mailbox_entries WHERE owner_id = $1", &[ids::THOMAS]).await;
    let replace = if store.backend() == store::Backend::Sqlite {
        "INSERT OR REPLACE INTO mailbox_entries (owner_id, message_id, origin, folder, unread, \
         created_at) SELECT owner_id, message_id, origin, 'trash', 0, created_at \
         FROM mailbox_entries WHERE owner_id = $1"
    } else {
        "INSERT INTO mailbox_entries (owner_id, message_id, origin, folder, unread, created_at) \
         SELECT owner_id, message_id, origin, 'trash', 0, created_at FROM mailbox_entries \
         WHERE owner_id = $1 ON CONFLICT (owner_id, message_id) \
         DO UPDATE SET folder = excluded.folder, unread = excluded.unread"
    };
    let replaced = "SELECT COUNT(*) FROM mailbox_entries WHERE owner_id = $1";
    assert!(count_for(&store, replaced, ids::ALICE).await > 0);
    execute(&other, replace, &[ids::ALICE]).await;
    check("changes by hand").await;
    other.fold_mailbox_counts().await.unwrap();
    check("a fold by another instance").await;
    other.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_into_a_folder_being_deleted_leaves_nothing_in_a_folder_that_is_gone_nor_counted() {
    let store = fixture().await;
    let message = send(&store, ids::THOMAS, &["p:p-alice"], "Un").await;
    let stray = "SELECT COUNT(*) FROM mailbox_entries e \
         WHERE e.folder NOT IN ('inbox', 'sent', 'trash') \
         AND NOT EXISTS (SELECT 1 FROM mail_folders f WHERE f.id = e.folder)";

    // Another instance folds the counts all along (PostgreSQL; nothing to fold on SQLite).
    let other = store.another_instance().await;
    let folding = {
        let other = other.clone();
        tokio::spawn(async move {
            loop {
                other.fold_mailbox_counts().await.unwrap();
                tokio::task::yield_now().await;
            }
        })
    };
    for round in 0..24 {
        let folder = store.create_folder(ids::ALICE, &format!("Dossier {round}")).await.unwrap();
        store.set_unread(ids::ALICE, std::slice::from_ref(&message), true).await.unwrap();
        let (mover, deleter) = (store.store.clone(), store.store.clone());
        let chosen = vec![message.clone()];
        let to = Folder::Custom(folder.clone());
        let moving =
            tokio::spawn(async move { mover.move_messages(ids::ALICE, &chosen, &to).await });
        let deleting =
            tokio::spawn(async move { deleter.delete_folder(ids::ALICE, &folder).await });

        match moving.await.unwrap() {
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(other) => panic!("round {round}: {other:?}"),
        }
        deleting.await.unwrap().unwrap();
        assert_eq!(count(&store, stray).await, 0, "round {round}");
    }
    folding.abort();
    other.close().await;
    let (kept, counted) = kept_and_counted(&store).await;
    assert_eq!(kept, counted);
    assert_eq!(store.unread_count(ids::ALICE).await.unwrap(), 1);
    assert_eq!(store.mailbox(ids::ALICE, &Folder::Inbox, 1).await.unwrap().total, 1);
}

#[tokio::test]
async fn own_folders_the_trash_and_restoring_put_messages_back_where_they_came_from() {
    let store = fixture().await;
    let received = send(&store, ids::THOMAS, &["p:p-alice"], "Reçu").await;
    let other = send(&store, ids::THOMAS, &["p:p-alice"], "Autre").await;
    let sent = send(&store, ids::ALICE, &["p:t-thomas"], "Envoyé").await;

    let folder = store.create_folder(ids::ALICE, "  Maths\u{0} ").await.unwrap();
    assert!(matches!(store.create_folder(ids::ALICE, "Maths").await, Err(StoreError::Conflict(_))));
    assert!(matches!(store.create_folder(ids::ALICE, " \t").await, Err(StoreError::Conflict(_))));
    assert!(matches!(
        store.create_folder(ids::ALICE, &"x".repeat(61)).await,
        Err(StoreError::Conflict(_))
    ));
    store.create_folder(ids::BRUNO, "Maths").await.unwrap();
    let art = store.create_folder(ids::ALICE, "Arts").await.unwrap();
    assert!(matches!(
        store.rename_folder(ids::ALICE, &art, "Maths").await,
        Err(StoreError::Conflict(_))
    ));
    store.rename_folder(ids::ALICE, &art, "Arts plastiques").await.unwrap();
    let custom = Folder::Custom(folder.clone());

    let both = vec![received.clone(), sent.clone()];
    assert_eq!(store.move_messages(ids::ALICE, &both, &custom).await.unwrap(), 2);
    assert_eq!(store.move_messages(ids::ALICE, &both, &custom).await.unwrap(), 0);
    assert!(not_found(store.move_messages(ids::ALICE, &both, &Folder::Drafts).await));
    let page = store.mailbox(ids::ALICE, &custom, 1).await.unwrap();
    assert_eq!(page.total, 2);
    assert!(page.messages.iter().all(|m| m.folder == custom));
    assert_eq!(store.unread_count(ids::ALICE).await.unwrap(), 2, "own folders count");
    let names: Vec<String> =
        store.folders(ids::ALICE).await.unwrap().into_iter().skip(4).map(|f| f.name).collect();
    assert_eq!(names, ["Arts plastiques", "Maths"]);

    store.delete_folder(ids::ALICE, &folder).await.unwrap();
    assert_eq!(store.mailbox(ids::ALICE, &Folder::Inbox, 1).await.unwrap().total, 2);
    assert_eq!(store.mailbox(ids::ALICE, &Folder::Sent, 1).await.unwrap().total, 1);
    assert!(not_found(store.mailbox(ids::ALICE, &custom, 1).await));

    let all = vec![received.clone(), sent.clone(), other.clone()];
    assert_eq!(store.move_messages(ids::ALICE, &all, &Folder::Trash).await.unwrap(), 3);
    assert_eq!(store.unread_count(ids::ALICE).await.unwrap(), 0, "the trash does not count");
    assert_eq!(store.mailbox(ids::ALICE, &Folder::Trash, 1).await.unwrap().total, 3);
    assert_eq!(
        store
            .move_messages(ids::ALICE, &[received.clone(), sent.clone()], &Folder::Inbox)
            .await
            .unwrap(),
        2
    );
    assert_eq!(store.mailbox(ids::ALICE, &Folder::Inbox, 1).await.unwrap().total, 1);
    assert_eq!(store.mailbox(ids::ALICE, &Folder::Sent, 1).await.unwrap().total, 1);

    assert_eq!(store.empty_trash(ids::ALICE).await.unwrap(), 1);
    assert!(not_found(store.open_message(ids::ALICE, &other).await));
    assert_eq!(store.mailbox(ids::ALICE, &Folder::Trash, 1).await.unwrap().total, 0);
    assert!(store.open_message(ids::THOMAS, &other).await.is_ok(), "the sender keeps it");
}

#[tokio::test]
async fn drafts_are_saved_updated_listed_deleted_and_consumed_by_the_send() {
    let store = fixture().await;
    let file = store.create_attachment(ids::THOMAS, &upload()).await.unwrap();
    let mut input = draft_input(&["p:p-alice", "class_parents:class-6a"], "Sortie");

    let id = store.save_draft(ids::THOMAS, &input).await.unwrap();
    input.id = Some(id.clone());
    input.subject = "Sortie au zoo".to_owned();
    input.body_html = "<p>Départ à <b>8 h</b>.</p>".to_owned();
    assert_eq!(store.save_draft(ids::THOMAS, &input).await.unwrap(), id);
    store.attach_to_draft(ids::THOMAS, &id, &file.id).await.unwrap();
    store.attach_to_draft(ids::THOMAS, &id, &file.id).await.unwrap();
    let other = store.save_draft(ids::THOMAS, &draft_input(&[], "Autre")).await.unwrap();

    let draft = store.draft(ids::THOMAS, &id).await.unwrap();
    assert_eq!(draft.subject, "Sortie au zoo");
    assert_eq!(draft.recipients.len(), 2);
    assert_eq!(
        draft.recipient_labels,
        [
            ("p:p-alice".to_owned(), "Alice Martin".to_owned()),
            ("class_parents:class-6a".to_owned(), "Parents de 6A".to_owned())
        ]
    );
    assert_eq!(draft.attachments, std::slice::from_ref(&file));
    assert_eq!(draft.idempotency_key, input.idempotency_key);
    let listed = store.drafts(ids::THOMAS, 1).await.unwrap();
    assert_eq!(listed.len(), 2);
    let page = store.mailbox(ids::THOMAS, &Folder::Drafts, 1).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(store.mailbox(ids::THOMAS, &Folder::Drafts, 3).await.unwrap(), page);
    let zoo = page.messages.iter().find(|m| m.id == id).unwrap();
    assert_eq!(zoo.snippet, "Départ à 8 h.");
    assert_eq!(zoo.recipients, "Alice Martin, Parents de 6A");
    assert!(zoo.has_attachments);
    let drafts_folder = store.folders(ids::THOMAS).await.unwrap();
    assert_eq!(drafts_folder[2].total, 2);

    store.detach_from_draft(ids::THOMAS, &id, &file.id).await.unwrap();
    assert!(store.draft(ids::THOMAS, &id).await.unwrap().attachments.is_empty());
    store.attach_to_draft(ids::THOMAS, &id, &file.id).await.unwrap();
    store.delete_draft(ids::THOMAS, &other).await.unwrap();
    assert!(not_found(store.draft(ids::THOMAS, &other).await));

    let mut send =
        request(ids::THOMAS, &["p:p-alice", "class_parents:class-6a"], "Sortie au zoo", "x");
    send.idempotency_key = draft.idempotency_key.clone();
    send.draft_id = Some(id.clone());
    send.attachment_ids = vec![file.id.clone()];
    let (message_id, _) = send_ok(&store, &send).await;
    assert!(not_found(store.draft(ids::THOMAS, &id).await));
    assert_eq!(store.folders(ids::THOMAS).await.unwrap()[2].total, 0);
    assert_eq!(store.attachment_for(ids::QUITTERIE, &file.id).await.unwrap().id, file.id);
    assert_eq!(
        count_for(
            &store,
            "SELECT COUNT(*) FROM mailbox_entries WHERE message_id = $1",
            &message_id
        )
        .await,
        5
    );

    let labels = store
        .recipient_labels(
            ids::ALICE,
            &[
                Recipient::Person(ids::SAMI.to_owned()),
                Recipient::Person(ids::BRUNO.to_owned()),
                Recipient::parse("class_parents:missing").unwrap(),
            ],
        )
        .await
        .unwrap();
    let labels: Vec<&str> = labels.iter().map(|(_, label)| label.as_str()).collect();
    assert_eq!(
        labels,
        ["Destinataire inconnu", "Bruno Durand", "Destinataire inconnu"],
        "no name of someone Alice may not write to"
    );

    let mut too_long = draft_input(&[], "x");
    too_long.subject = "é".repeat(301);
    assert!(matches!(store.save_draft(ids::THOMAS, &too_long).await, Err(StoreError::Conflict(_))));
}

#[tokio::test]
async fn replies_and_forwards_start_from_the_message_quoted_and_addressed() {
    let store = fixture().await;
    let file = store.create_attachment(ids::THOMAS, &upload()).await.unwrap();
    let mut original =
        request(ids::THOMAS, &["p:p-alice", "p:p-bruno", "p:r-paul", "p:r-sami"], "Sortie", "x");
    original.body_html = "<p>Rendez-vous <b>devant</b> le collège.</p>".to_owned();
    original.attachment_ids = vec![file.id.clone()];
    let (message_id, _) = send_ok(&store, &original).await;

    let reply = store.compose_from(ids::ALICE, ComposeMode::Reply, &message_id).await.unwrap();
    let all = store.compose_from(ids::ALICE, ComposeMode::ReplyAll, &message_id).await.unwrap();
    let forward = store.compose_from(ids::ALICE, ComposeMode::Forward, &message_id).await.unwrap();
    let own = store.compose_from(ids::THOMAS, ComposeMode::Reply, &message_id).await.unwrap();

    assert_eq!(reply.id, "");
    assert_eq!(reply.subject, "Re: Sortie");
    assert_eq!(reply.recipients, [Recipient::Person(ids::THOMAS.to_owned())]);
    assert_eq!(reply.recipient_labels[0].1, "Thomas Bernard");
    assert!(reply.body_html.contains("<blockquote><p>Le "));
    assert!(reply.body_html.contains("Thomas Bernard a écrit :</p><p>Rendez-vous <b>devant</b>"));
    assert_eq!(reply.parent_id.as_deref(), Some(message_id.as_str()));
    assert!(reply.attachments.is_empty());
    assert_ne!(reply.idempotency_key, all.idempotency_key);
    assert_eq!(
        all.recipients,
        [
            Recipient::Person(ids::THOMAS.to_owned()),
            Recipient::Person(ids::BRUNO.to_owned()),
            Recipient::Person(ids::PAUL.to_owned())
        ],
        "the sender and the other recipients Alice may write to (not Chloé's father)"
    );
    assert_eq!(forward.subject, "Tr: Sortie");
    assert!(forward.recipients.is_empty());
    assert_eq!(forward.attachments, std::slice::from_ref(&file));
    assert!(forward.body_html.contains("De : Thomas Bernard"));
    assert_eq!(own.recipients.len(), 4, "replying to one's own message goes to its recipients");
    assert!(not_found(store.compose_from(ids::ALICE, ComposeMode::New, &message_id).await));

    let mut saved = DraftInput {
        id: None,
        subject: forward.subject.clone(),
        body_html: forward.body_html.clone(),
        recipients: vec![Recipient::Person(ids::BRUNO.to_owned())],
        mode: ComposeMode::Forward,
        parent_id: forward.parent_id.clone(),
        idempotency_key: forward.idempotency_key.clone(),
    };
    let draft = store.save_draft(ids::ALICE, &saved).await.unwrap();
    store.attach_to_draft(ids::ALICE, &draft, &file.id).await.unwrap();
    saved.mode = ComposeMode::New;
    saved.id = Some(draft.clone());
    store.save_draft(ids::ALICE, &saved).await.unwrap();
    let stored = store.draft(ids::ALICE, &draft).await.unwrap();
    assert_eq!(stored.parent_id, None, "a new message has no parent");
}

#[tokio::test]
async fn names_in_quotes_are_escaped() {
    let store = fixture().await;
    let message_id = send(&store, ids::XAVIER, &["p:p-chloe"], "<b>Salut</b>").await;

    let reply = store.compose_from(ids::CHLOE, ComposeMode::Reply, &message_id).await.unwrap();
    let forward = store.compose_from(ids::CHLOE, ComposeMode::Forward, &message_id).await.unwrap();

    assert!(reply.body_html.contains("Xavier &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!reply.body_html.contains("<script>"));
    assert!(forward.body_html.contains("Objet : &lt;b&gt;Salut&lt;/b&gt;"));
    assert_eq!(reply.subject, "Re: <b>Salut</b>", "plain text, escaped by the templates");
}

#[tokio::test]
async fn the_search_ignores_accents_and_case_finds_prefixes_and_stays_in_ones_mailbox() {
    let store = fixture().await;
    let zoo = send_ok(
        &store,
        &request(ids::THOMAS, &["p:p-alice"], "Sortie au zoo", "Nous verrons un Éléphant d'Asie."),
    )
    .await
    .0;
    send_ok(&store, &request(ids::THOMAS, &["p:p-bruno"], "Éléphants", "Pour Bruno.")).await;
    let museum =
        send_ok(&store, &request(ids::THOMAS, &["p:p-alice"], "Musée", "Les dinosaures.")).await.0;
    let trashed =
        send_ok(&store, &request(ids::THOMAS, &["p:p-alice"], "Poubelle", "Un éléphant.")).await.0;
    store.move_messages(ids::ALICE, &[trashed], &Folder::Trash).await.unwrap();

    for query in ["elephant", "ÉLÉPHANT", "élép", "zoo eleph", "  asie ", "bernard elephant"] {
        let found = store.search_mailbox(ids::ALICE, query, 1).await.unwrap();
        assert_eq!(found.total, 1, "{query}");
        assert_eq!(found.messages[0].id, zoo, "{query}");
    }
    let found = store.search_mailbox(ids::ALICE, "dino", 1).await.unwrap();
    assert_eq!(found.messages.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), [museum.as_str()]);
    assert_eq!(store.search_mailbox(ids::ALICE, "dino", 7).await.unwrap(), found);
    let sent = store.search_mailbox(ids::THOMAS, "elephant", 1).await.unwrap();
    assert_eq!(sent.total, 3, "the sender finds their sent copies");
    for query in
        ["", "   ", "\"", "*", "'", "\"*\" OR", "&|!():*", "NEAR(", "-", "éléphant\" OR \"x"]
    {
        let found = store.search_mailbox(ids::ALICE, query, 1).await;
        let found = found.unwrap_or_else(|error| panic!("{query:?}: {error}"));
        assert!(found.total <= 1, "{query:?}");
    }
    assert_eq!(store.search_mailbox(ids::ALICE, "\"*\"", 1).await.unwrap().total, 0);
    assert_eq!(store.search_mailbox(ids::ALICE, "girafe", 1).await.unwrap().total, 0);
    assert_eq!(store.search_mailbox(ids::CHLOE, "elephant", 1).await.unwrap().total, 0);
    assert_eq!(store.search_mailbox(ids::BRUNO, "elephant", 1).await.unwrap().total, 1);
}

#[tokio::test]
async fn a_folder_of_ten_thousand_messages_pages_newest_first() {
    let store = fixture().await;
    let sample = send(&store, ids::THOMAS, &["p:p-alice"], "Modèle").await;
    execute(
        &store,
        "INSERT INTO messages (id, sender_id, thread_id, subject, body_html, body_text, \
         recipients_label, search_text, created_at) \
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) \
         SELECT 'bulk-' || CAST(i AS TEXT), $1, 'bulk-' || CAST(i AS TEXT), \
           'Message ' || CAST(i AS TEXT), '<p>x</p>', 'x', '[]', 'x', 1000000 + i / 2 FROM n",
        &[ids::THOMAS],
    )
    .await;
    execute(
        &store,
        "INSERT INTO mailbox_entries (owner_id, message_id, origin, folder, unread, created_at) \
         SELECT $1, id, 'inbox', 'inbox', 1, created_at FROM messages WHERE id LIKE 'bulk-%'",
        &[ids::ALICE],
    )
    .await;
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM mailbox_entries WHERE owner_id = 'p-alice'").await,
        10_001
    );

    let first = store.mailbox(ids::ALICE, &Folder::Inbox, 1).await.unwrap();
    let middle = store.mailbox(ids::ALICE, &Folder::Inbox, 200).await.unwrap();
    let last = store.mailbox(ids::ALICE, &Folder::Inbox, 401).await.unwrap();
    let beyond = store.mailbox(ids::ALICE, &Folder::Inbox, 402).await.unwrap();

    assert_eq!(first.total, 10_001);
    assert_eq!(first.messages.len(), PAGE_SIZE as usize);
    assert_eq!(first.messages[0].id, sample);
    assert_eq!(first.messages[1].id, "bulk-10000");
    assert_eq!(first.messages[2].id, "bulk-9999");
    assert_eq!(middle.messages.len(), 25);
    assert_eq!(last.messages.len(), 1);
    // A page past the last one (emptied by a move, or typed by hand) is the last one.
    assert_eq!((beyond.page, &beyond.messages), (401, &last.messages));
    assert_eq!(store.mailbox(ids::ALICE, &Folder::Inbox, 100_000).await.unwrap(), last);
    let mut seen = std::collections::BTreeSet::new();
    for page in 1..=401 {
        for message in store.mailbox(ids::ALICE, &Folder::Inbox, page).await.unwrap().messages {
            assert!(seen.insert(message.id), "a message on two pages");
        }
    }
    assert_eq!(seen.len(), 10_001);
    assert_eq!(store.unread_count(ids::ALICE).await.unwrap(), 10_001);
    let folders = store.folders(ids::ALICE).await.unwrap();
    assert_eq!((folders[0].unread, folders[0].total), (10_001, 10_001));

    // The page of a listed folder, with the listing's count, is the same page.
    for page in [1, 200, 401, 402] {
        let listed = store.mailbox_listed(ids::ALICE, &folders[0], page).await.unwrap();
        assert_eq!(listed, store.mailbox(ids::ALICE, &Folder::Inbox, page).await.unwrap());
    }
}

#[tokio::test]
async fn folder_names_are_checked_and_the_cap_holds_under_parallel_creations() {
    let store = fixture().await;
    for reserved in ["Corbeille", "réception", " BROUILLONS ", "Messages envoyés", "envoyes"] {
        assert!(
            matches!(store.create_folder(ids::PAUL, reserved).await, Err(StoreError::Conflict(_))),
            "{reserved}"
        );
    }
    let id = store.create_folder(ids::PAUL, "ligne\nsaut").await.unwrap();
    let names: Vec<String> = store
        .folders(ids::PAUL)
        .await
        .unwrap()
        .into_iter()
        .filter(|f| f.folder == store::messaging::Folder::Custom(id.clone()))
        .map(|f| f.name)
        .collect();
    assert_eq!(names, ["ligne saut"]);

    for n in 1..95 {
        store.create_folder(ids::PAUL, &format!("d{n}")).await.unwrap();
    }
    let mut tasks = Vec::new();
    for n in 0..40 {
        let store = store.store.clone();
        tasks.push(tokio::spawn(
            async move { store.create_folder(ids::PAUL, &format!("p{n}")).await },
        ));
    }
    let mut created = 0;
    for task in tasks {
        if task.await.unwrap().is_ok() {
            created += 1;
        }
    }
    assert_eq!(created, 5);
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM mail_folders WHERE owner_id = 'r-paul'").await,
        store::messaging::MAX_FOLDERS
    );
}

/// The rows of `table` whose `column` is `id`.
async fn rows(store: &store::Store, table: &str, column: &str, id: &str) -> i64 {
    count_for(store, &format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1"), id).await
}

#[tokio::test]
async fn a_deleted_message_or_person_takes_their_mailbox_rows_along() {
    let store = fixture().await;
    let first = send(&store, ids::THOMAS, &["p:p-alice"], "Premier").await;
    let second = send(&store, ids::THOMAS, &["p:p-alice"], "Second").await;
    let third = send(&store, ids::THOMAS, &["p:p-alice", "p:p-bruno"], "Troisième").await;
    let unread_before = store.unread_count(ids::ALICE).await.unwrap();
    assert_eq!(rows(&store, "mailbox_entries", "message_id", &first).await, 2);
    assert_eq!(store.message_recipient_ids(&first).await.unwrap(), [ids::ALICE]);

    execute(&store, "DELETE FROM messages WHERE id = $1", &[&first]).await;

    assert_eq!(rows(&store, "mailbox_entries", "message_id", &first).await, 0);
    assert!(store.message_recipient_ids(&first).await.unwrap().is_empty());
    assert_eq!(store.unread_count(ids::ALICE).await.unwrap(), unread_before - 1);
    assert_eq!(rows(&store, "mailbox_entries", "message_id", &second).await, 2);

    execute(&store, "DELETE FROM people WHERE id = $1", &[ids::ALICE]).await;

    assert_eq!(rows(&store, "mailbox_entries", "owner_id", ids::ALICE).await, 0);
    let sender_copy = rows(&store, "mailbox_entries", "message_id", &second).await;
    assert_eq!(sender_copy, 1, "the sender's copy stays");
    // A send that read Alice before her deletion committed writes her rows after it.
    let late = [ids::ALICE, second.as_str()];
    execute(
        &store,
        "INSERT INTO mailbox_entries (owner_id, message_id, origin, folder, unread, created_at) \
         VALUES ($1, $2, 'inbox', 'inbox', 1, 0)",
        &late,
    )
    .await;

    let done = store.housekeeping(store::now_unix()).await.unwrap();

    assert_eq!(done.removed_people_rows, 3, "the late send's entry, two messages naming her");
    assert_eq!(rows(&store, "mailbox_entries", "owner_id", ids::ALICE).await, 0);
    assert_eq!(rows(&store, "mailbox_entries", "message_id", &second).await, 1);
    assert!(store.message_recipient_ids(&second).await.unwrap().is_empty());
    assert_eq!(store.message_recipient_ids(&third).await.unwrap(), [ids::BRUNO]);
    assert_eq!(rows(&store, "people_removed", "person_id", ids::ALICE).await, 1);
    let next_day = store::now_unix() + 24 * 3600 + 1;
    assert_eq!(store.housekeeping(next_day).await.unwrap().removed_people_rows, 0);
    assert_eq!(rows(&store, "people_removed", "person_id", ids::ALICE).await, 0);
}

#[tokio::test]
async fn recipient_lists_edited_by_hand_are_read_for_what_they_hold_and_stop_nothing() {
    let store = fixture().await;
    let unreadable = send(&store, ids::THOMAS, &["p:p-alice", "p:p-bruno"], "Illisible").await;
    let odd = send(&store, ids::THOMAS, &["p:p-alice"], "Étrange").await;
    let escaped = send(&store, ids::THOMAS, &["p:p-alice", "p:p-bruno"], "Échappé").await;
    for person in [ids::ALICE, ids::BRUNO, ids::THOMAS] {
        let address = format!("{person}@example.org");
        store.set_notify_email(person, Some(&address)).await.unwrap();
    }
    execute(&store, "UPDATE messages SET recipient_ids = 'not json' WHERE id = $1", &[&unreadable])
        .await;
    // Duplicates, the sender, a number, an escaped NUL, an object: only the ids count.
    let odd_list = r#"["p-bruno", "p-bruno", "t-thomas", 1, "\u0000", {"a": "b"}, "p-alice"]"#;
    execute(&store, "UPDATE messages SET recipient_ids = $2 WHERE id = $1", &[&odd, odd_list])
        .await;
    // Bruno's id with its first letter escaped: the same id, in other words.
    let escaped_list = r#"["p-alice", "\u0070-bruno"]"#;
    execute(
        &store,
        "UPDATE messages SET recipient_ids = $2 WHERE id = $1",
        &[&escaped, escaped_list],
    )
    .await;
    assert_eq!(store.message_recipient_ids(&escaped).await.unwrap(), [ids::ALICE, ids::BRUNO]);
    if store.backend() == store::Backend::Sqlite {
        // A blob, and text that is not UTF-8: what SQLite lets a hand edit store.
        let blob = send(&store, ids::THOMAS, &["p:p-alice"], "Blob").await;
        let not_utf8 = send(&store, ids::THOMAS, &["p:p-alice"], "Octets").await;
        execute(
            &store,
            "UPDATE messages SET recipient_ids = CAST('[\"p-alice\"]' AS BLOB) WHERE id = $1",
            &[&blob],
        )
        .await;
        execute(
            &store,
            "UPDATE messages SET recipient_ids = CAST(x'5b22ff225d' AS TEXT) WHERE id = $1",
            &[&not_utf8],
        )
        .await;
        assert_eq!(store.message_recipient_ids(&blob).await.unwrap(), [ids::ALICE]);
        assert!(store.message_recipient_ids(&not_utf8).await.unwrap().is_empty());
        assert!(store.email_targets(&not_utf8).await.unwrap().is_empty());
    }

    assert!(store.message_recipient_ids(&unreadable).await.unwrap().is_empty());
    assert_eq!(
        store.message_recipient_ids(&odd).await.unwrap(),
        [ids::ALICE, ids::BRUNO, ids::THOMAS]
    );
    assert!(store.email_targets(&unreadable).await.unwrap().is_empty());
    let targets = store.email_targets(&odd).await.unwrap();
    let targets: Vec<&str> = targets.iter().map(|t| t.person_id.as_str()).collect();
    assert_eq!(targets, [ids::ALICE, ids::BRUNO], "once each, never the sender");
    let reached = store.recipients_since(ids::THOMAS, 0).await.unwrap();
    assert!(reached.contains(&ids::BRUNO.to_owned()), "{reached:?}");

    // A person deleted by hand leaves the readable lists; the unreadable one stops nothing.
    execute(&store, "DELETE FROM people WHERE id = $1", &[ids::BRUNO]).await;
    let done = store.housekeeping(store::now_unix()).await.unwrap();
    assert_eq!(done.removed_people_rows, 2, "the two readable lists that named him");
    assert_eq!(store.message_recipient_ids(&odd).await.unwrap(), [ids::ALICE, ids::THOMAS]);
    assert_eq!(store.message_recipient_ids(&escaped).await.unwrap(), [ids::ALICE]);
    assert_eq!(
        count_for(
            &store,
            "SELECT COUNT(*) FROM messages WHERE recipient_ids = 'not json' \
         AND id = $1",
            &unreadable
        )
        .await,
        1
    );
    let again = store.housekeeping(store::now_unix()).await.unwrap();
    assert_eq!(again.removed_people_rows, 0, "the lists are read once for him");
}

#[tokio::test]
async fn a_person_back_under_a_deleted_id_keeps_their_mailbox() {
    let store = fixture().await;
    let message = send(&store, ids::THOMAS, &["p:p-bruno"], "Retour").await;
    execute(
        &store,
        "INSERT INTO people_removed (person_id, removed_at) VALUES ($1, 0)",
        &[ids::BRUNO],
    )
    .await;

    let done = store.housekeeping(store::now_unix()).await.unwrap();

    assert_eq!(done.removed_people_rows, 0);
    assert_eq!(rows(&store, "mailbox_entries", "message_id", &message).await, 2);
    assert_eq!(store.message_recipient_ids(&message).await.unwrap(), [ids::BRUNO]);
    assert_eq!(rows(&store, "people_removed", "person_id", ids::BRUNO).await, 0);
}

/// Each folder of `owner`'s mailbox as listed: name, messages, unread ones.
async fn folder_counts(store: &store::Store, owner: &str) -> Vec<(String, i64, i64)> {
    let listed = store.folders(owner).await.unwrap();
    listed.iter().map(|f| (f.name.clone(), f.total, f.unread)).collect()
}

#[tokio::test]
async fn counts_broken_behind_the_triggers_back_are_counted_again_from_the_entries() {
    let store = fixture().await;
    for subject in ["Un", "Deux", "Trois"] {
        send(&store, ids::THOMAS, &["p:p-alice", "p:p-bruno"], subject).await;
    }
    let alices =
        format!("SELECT message_id FROM mailbox_entries WHERE owner_id = '{}'", ids::ALICE);
    let first = texts(&store, &alices).await.remove(0);
    store.set_unread(ids::ALICE, &[first], false).await.unwrap();
    let alice = folder_counts(&store, ids::ALICE).await;
    let bruno = folder_counts(&store, ids::BRUNO).await;
    let thomas = folder_counts(&store, ids::THOMAS).await;
    assert_eq!(store.unread_count(ids::ALICE).await.unwrap(), 2);
    assert_eq!(store.recount_mailboxes().await.unwrap(), 0, "nothing to mend");

    execute(&store, "DELETE FROM mailbox_counts WHERE owner_id = $1", &[ids::ALICE]).await;
    execute(
        &store,
        "UPDATE mailbox_counts SET total = 999, unread = 7 WHERE owner_id = $1",
        &[ids::BRUNO],
    )
    .await;
    execute(
        &store,
        "INSERT INTO mailbox_count_changes (owner_id, folder, total, unread) \
         VALUES ($1, 'sent', 5, 0)",
        &[ids::THOMAS],
    )
    .await;
    assert_eq!(store.unread_count(ids::ALICE).await.unwrap(), 0);

    assert_eq!(store.recount_mailboxes().await.unwrap(), 3);

    assert_eq!(store.unread_count(ids::ALICE).await.unwrap(), 2);
    assert_eq!(folder_counts(&store, ids::ALICE).await, alice);
    assert_eq!(folder_counts(&store, ids::BRUNO).await, bruno);
    assert_eq!(folder_counts(&store, ids::THOMAS).await, thomas);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM mailbox_count_changes").await, 0);
    assert_eq!(store.recount_mailboxes().await.unwrap(), 0);
}
