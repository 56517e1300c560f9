//! One person's mailbox: the folder list with counts, a folder's pages (25 messages, newest
//! first, read from the `(owner_id, folder, created_at)` index), opening a message (which marks
//! it read), marking, moving to an own folder or the trash and back, emptying the trash, own
//! folders, and the full-text search (FTS5 on SQLite, `to_tsvector` on PostgreSQL). Every query
//! filters on the owner: a message or a folder that is not theirs is `NotFound`.

use std::collections::BTreeMap;

use sqlx::Row;

use super::{
    AttachmentRef, Folder, FolderInfo, MailboxPage, MessageView, PAGE_SIZE, SUMMARY_COLUMNS,
    batch_ids, clean_line, is_id, page_number, page_within, parse_labels, parse_recipient_ids,
    placeholders, recipient_list_bytes, summary,
};
use crate::directory::person_ref;
use crate::{Backend, Store, StoreError, StoreResult, new_id, now_unix};

/// The longest name of an own folder, in characters.
pub const MAX_FOLDER_NAME_CHARS: usize = 60;

/// The most own folders a person may have.
pub const MAX_FOLDERS: i64 = 100;

/// The most words of a search that count.
const MAX_SEARCH_TERMS: usize = 8;

/// The longest word of a search that counts, in characters.
const MAX_TERM_CHARS: usize = 40;

/// How many other messages of a thread an opened message lists.
const THREAD_LIMIT: i64 = 100;

/// The rows that add up to the counts of the mailbox of the owner bound to `$1`: the counts
/// kept per folder and the changes not yet folded into them (migration 0015), as columns
/// `folder`, `total` and `unread`, to be summed per folder.
const COUNTS: &str = "SELECT folder, total, unread FROM mailbox_counts WHERE owner_id = $1 \
     UNION ALL SELECT folder, total, unread FROM mailbox_count_changes WHERE owner_id = $1";

/// `mailbox_entries e` with its message `m` and the message's sender `p`.
const ENTRIES: &str = "mailbox_entries e JOIN messages m ON m.id = e.message_id \
     JOIN people p ON p.id = m.sender_id";

/// A search typed by a person as the words to find: folded like the stored text, split on
/// anything that is not a letter or a digit, at most [`MAX_SEARCH_TERMS`] words.
pub(crate) fn search_terms(query: &str) -> Vec<String> {
    domain::names::fold_for_search(query)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|term| !term.is_empty())
        .map(|term| term.chars().take(MAX_TERM_CHARS).collect())
        .take(MAX_SEARCH_TERMS)
        .collect()
}

/// The FTS5 `MATCH` expression of the words: each a quoted string (the words hold only ASCII
/// letters and digits, so nothing inside can end the quotes), all required, the last one as a
/// prefix.
pub(crate) fn fts5_query(terms: &[String]) -> String {
    let mut parts: Vec<String> = terms.iter().map(|term| format!("\"{term}\"")).collect();
    if let Some(last) = parts.last_mut() {
        last.push('*');
    }
    parts.join(" ")
}

/// The PostgreSQL `to_tsquery('simple', …)` text of the words: each quoted, joined with `&`,
/// the last one as a prefix (`:*`).
pub(crate) fn tsquery(terms: &[String]) -> String {
    let mut parts: Vec<String> = terms.iter().map(|term| format!("'{term}'")).collect();
    if let Some(last) = parts.last_mut() {
        last.push_str(":*");
    }
    parts.join(" & ")
}

impl Store {
    /// One page (from 1) of a folder of `owner_id`'s mailbox, newest first. The drafts folder
    /// lists the drafts.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an own folder that is not the owner's.
    pub async fn mailbox(
        &self,
        owner_id: &str,
        folder: &Folder,
        page: i64,
    ) -> StoreResult<MailboxPage> {
        let page = page_number(page);
        let Some(stored) = folder.stored() else {
            return self.drafts_page(owner_id, page).await;
        };
        if let Folder::Custom(id) = folder {
            self.own_folder_name(owner_id, id).await?;
        }

        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(COALESCE(SUM(total), 0) AS BIGINT) FROM ({COUNTS}) c WHERE folder = $2"
        )))
        .bind(owner_id)
        .bind(stored)
        .fetch_one(self.pool())
        .await?;
        self.entries_page(owner_id, stored, page, total).await
    }

    /// [`Store::mailbox`] for a folder that [`Store::folders`] listed for `owner_id`: its count
    /// is taken from the listing instead of being read again (a folder of thousands of
    /// messages costs one count per page, not two).
    pub async fn mailbox_listed(
        &self,
        owner_id: &str,
        listed: &FolderInfo,
        page: i64,
    ) -> StoreResult<MailboxPage> {
        let page = page_number(page);
        let Some(stored) = listed.folder.stored() else {
            return self.drafts_page(owner_id, page).await;
        };
        self.entries_page(owner_id, stored, page, listed.total).await
    }

    /// The page `page` of the stored folder `stored` of `owner_id`, which holds `total`
    /// entries.
    async fn entries_page(
        &self,
        owner_id: &str,
        stored: &str,
        page: i64,
        total: i64,
    ) -> StoreResult<MailboxPage> {
        let page = page_within(page, total);

        // The page's entries are chosen first, then joined: skipped rows cost no join. On
        // SQLite the folder's index holds the key of the entries (message, owner), so the
        // entries are chosen on the index alone, in its order, and only the page's 25 are read
        // from the table; on PostgreSQL the index scan reads each entry's row anyway (to know
        // whether it is visible), so the page takes its columns there rather than looking up
        // its 25 entries again by key (a page statement a quarter to a third cheaper under
        // load). PostgreSQL's index has no message id for the ties of a second: with
        // statistics it sorts the few entries of each second it reads; a table never analysed
        // yet (autovacuum analyses it as it fills) may have the whole folder sorted. The limit
        // and the offset are written in the statement (numbers, one statement per page
        // number): PostgreSQL plans a statement prepared with them as parameters again at each
        // run, not knowing how few rows it reads.
        let offset = (page - 1).saturating_mul(PAGE_SIZE);
        let chosen = format!(
            "WHERE owner_id = $1 AND folder = $2 \
             ORDER BY created_at DESC, message_id DESC LIMIT {PAGE_SIZE} OFFSET {offset}"
        );
        let entries = match self.backend() {
            Backend::Sqlite => format!(
                "(SELECT message_id FROM mailbox_entries {chosen}) chosen \
                 JOIN mailbox_entries e ON e.owner_id = $1 AND e.message_id = chosen.message_id"
            ),
            Backend::Postgres => format!(
                "(SELECT message_id, unread, folder, created_at FROM mailbox_entries {chosen}) e"
            ),
        };
        let messages = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLUMNS} FROM {entries} \
             JOIN messages m ON m.id = e.message_id JOIN people p ON p.id = m.sender_id \
             ORDER BY e.created_at DESC, e.message_id DESC"
        )))
        .bind(owner_id)
        .bind(stored)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(summary)
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(MailboxPage { messages, total, page, page_size: PAGE_SIZE })
    }

    /// The folders of `owner_id`'s mailbox with their unread and total counts: inbox, sent,
    /// drafts, trash, then the own folders by name.
    ///
    /// The counts are those kept by the triggers of `mailbox_counts` (migration 0015), a row
    /// per folder and its changes not yet folded, so that a mailbox of thousands of messages
    /// costs no count; the drafts are counted and the own folders listed in the same statement.
    pub async fn folders(&self, owner_id: &str) -> StoreResult<Vec<FolderInfo>> {
        let mut counts: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        let mut drafts = 0;
        let mut own: Vec<(String, String)> = Vec::new();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT 'c' AS kind, folder, '' AS name, CAST(SUM(total) AS BIGINT) AS total, \
               CAST(SUM(unread) AS BIGINT) AS unread FROM ({COUNTS}) c GROUP BY folder \
             UNION ALL SELECT 'd', '', '', COUNT(*), CAST(0 AS BIGINT) FROM drafts \
               WHERE owner_id = $1 \
             UNION ALL SELECT 'f', id, name, CAST(0 AS BIGINT), CAST(0 AS BIGINT) \
               FROM mail_folders WHERE owner_id = $1 \
             ORDER BY 1, 3, 2"
        )))
        .bind(owner_id)
        .fetch_all(self.pool())
        .await?;
        for row in &rows {
            let kind: String = row.try_get("kind")?;
            let folder: String = row.try_get("folder")?;
            match kind.as_str() {
                "c" => {
                    counts.insert(folder, (row.try_get("unread")?, row.try_get("total")?));
                }
                "d" => drafts = row.try_get("total")?,
                _ => own.push((folder, row.try_get("name")?)),
            }
        }

        let mut folders = Vec::with_capacity(4 + own.len());
        for folder in [Folder::Inbox, Folder::Sent, Folder::Drafts, Folder::Trash] {
            let (unread, total) = match folder.stored() {
                Some(stored) => counts.get(stored).copied().unwrap_or((0, 0)),
                None => (0, drafts),
            };
            let name = folder.standard_name().unwrap_or_default().to_owned();
            folders.push(FolderInfo { folder, name, unread, total });
        }
        for (id, name) in own {
            let (unread, total) = counts.get(&id).copied().unwrap_or((0, 0));
            folders.push(FolderInfo { folder: Folder::Custom(id), name, unread, total });
        }
        Ok(folders)
    }

    /// Folds the changes of counts that PostgreSQL's triggers wrote (migration 0015) into the
    /// counts, in one transaction; returns how many changes were folded. Readers add the
    /// changes themselves, so this only keeps them few; nothing to do on SQLite, whose triggers
    /// write the counts. Changes committed meanwhile wait for the next fold.
    pub async fn fold_mailbox_counts(&self) -> StoreResult<u64> {
        if self.backend() != Backend::Postgres {
            return Ok(0);
        }
        // PostgreSQL runs a data-modifying `WITH` whether or not the statement reads it.
        let changes: i64 = sqlx::query_scalar(
            "WITH folded AS (DELETE FROM mailbox_count_changes \
               RETURNING owner_id, folder, total, unread), \
             added AS (INSERT INTO mailbox_counts (owner_id, folder, total, unread) \
               SELECT owner_id, folder, SUM(total), SUM(unread) FROM folded \
               GROUP BY owner_id, folder ORDER BY owner_id, folder \
               ON CONFLICT (owner_id, folder) DO UPDATE \
               SET total = mailbox_counts.total + excluded.total, \
                 unread = mailbox_counts.unread + excluded.unread) \
             SELECT CAST(COUNT(*) AS BIGINT) FROM folded",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(u64::try_from(changes).unwrap_or(0))
    }

    /// Counts every mailbox's folders again from its entries, after a change that bypassed the
    /// triggers of counts (a `TRUNCATE`, one table restored from a backup, `INSERT OR REPLACE`
    /// typed in a sqlite3 shell, which does not turn recursive triggers on as Préau's
    /// connections do). One transaction, during which the entries do not change (PostgreSQL:
    /// the tables are locked, readers go on; SQLite: the writer's place). Returns how many
    /// (owner, folder) counts were wrong.
    pub async fn recount_mailboxes(&self) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        if self.backend() == Backend::Postgres {
            // In the order a send and a fold take them: entries, changes, counts.
            for lock in [
                "LOCK TABLE mailbox_entries IN SHARE MODE",
                "LOCK TABLE mailbox_count_changes IN EXCLUSIVE MODE",
                "LOCK TABLE mailbox_counts IN EXCLUSIVE MODE",
            ] {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
        }

        let wrong: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT owner_id, folder FROM ( \
               SELECT owner_id, folder, total, unread FROM mailbox_counts \
               UNION ALL SELECT owner_id, folder, total, unread FROM mailbox_count_changes \
               UNION ALL SELECT owner_id, folder, -COUNT(*), -SUM(unread) FROM mailbox_entries \
                 GROUP BY owner_id, folder) d \
             GROUP BY owner_id, folder HAVING SUM(total) <> 0 OR SUM(unread) <> 0) wrong",
        )
        .fetch_one(&mut *tx)
        .await?;
        for statement in [
            "DELETE FROM mailbox_count_changes",
            "DELETE FROM mailbox_counts",
            "INSERT INTO mailbox_counts (owner_id, folder, total, unread) \
             SELECT owner_id, folder, COUNT(*), SUM(unread) FROM mailbox_entries \
             GROUP BY owner_id, folder",
        ] {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        tx.commit().await?;

        tracing::info!(wrong, "mailbox counts rebuilt");
        Ok(u64::try_from(wrong).unwrap_or(0))
    }

    /// How many unread messages `owner_id` has in the inbox and their own folders (the badge),
    /// as the folder list adds them up.
    pub async fn unread_count(&self, owner_id: &str) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT CAST(COALESCE(SUM(unread), 0) AS BIGINT) FROM ({COUNTS}) c \
             WHERE folder = 'inbox' \
               OR folder IN (SELECT id FROM mail_folders WHERE owner_id = $1)"
        )))
        .bind(owner_id)
        .fetch_one(self.pool())
        .await?)
    }

    /// A message of `owner_id`'s mailbox, with its thread in that mailbox; marks it read.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] unless the owner has the message in their mailbox.
    pub async fn open_message(&self, owner_id: &str, message_id: &str) -> StoreResult<MessageView> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT e.folder, e.origin, e.unread, m.id AS message_id, m.thread_id, m.parent_id, \
             m.subject, m.body_html, m.body_text, m.recipients_label, m.created_at, \
             m.recalled_at, m.sender_id, p.id, p.last_name, p.first_name, p.profile \
             FROM {ENTRIES} WHERE e.owner_id = $1 AND e.message_id = $2"
        )))
        .bind(owner_id)
        .bind(message_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;

        let unread: i64 = row.try_get("unread")?;
        if unread != 0 {
            let _place = self.write_place().await;
            sqlx::query(
                "UPDATE mailbox_entries SET unread = 0 WHERE owner_id = $1 AND message_id = $2",
            )
            .bind(owner_id)
            .bind(message_id)
            .execute(self.pool())
            .await?;
        }

        let thread_id: String = row.try_get("thread_id")?;
        let thread = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLUMNS} FROM {ENTRIES} WHERE e.owner_id = $1 \
             AND m.thread_id = $2 AND m.id <> $3 ORDER BY e.created_at, e.message_id LIMIT $4"
        )))
        .bind(owner_id)
        .bind(&thread_id)
        .bind(message_id)
        .bind(THREAD_LIMIT)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(summary)
        .collect::<StoreResult<Vec<_>>>()?;
        let attachments = self.message_attachments(message_id).await?;

        let sender_id: String = row.try_get("sender_id")?;
        let origin: String = row.try_get("origin")?;
        let folder: String = row.try_get("folder")?;
        let labels: String = row.try_get("recipients_label")?;
        let recalled_at: Option<i64> = row.try_get("recalled_at")?;
        Ok(MessageView {
            id: row.try_get("message_id")?,
            thread_id,
            parent_id: row.try_get("parent_id")?,
            sender: person_ref(&row)?,
            subject: row.try_get("subject")?,
            body_html: row.try_get("body_html")?,
            body_text: row.try_get("body_text")?,
            recipients: parse_labels(&labels),
            attachments,
            created_at: row.try_get("created_at")?,
            folder: Folder::from_stored(&folder),
            origin_sent: origin == "sent",
            can_recall: sender_id == owner_id && recalled_at.is_none(),
            recalled_at,
            thread,
        })
    }

    /// The attachments of a message, in their order. The caller has checked the viewer.
    pub(crate) async fn message_attachments(
        &self,
        message_id: &str,
    ) -> StoreResult<Vec<AttachmentRef>> {
        sqlx::query(
            "SELECT a.id, a.display_name, a.content_type, a.size_bytes \
             FROM message_attachments ma JOIN attachments a ON a.id = ma.attachment_id \
             WHERE ma.message_id = $1 ORDER BY ma.position",
        )
        .bind(message_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| {
            Ok(AttachmentRef {
                id: row.try_get("id")?,
                display_name: row.try_get("display_name")?,
                content_type: row.try_get("content_type")?,
                size_bytes: row.try_get("size_bytes")?,
            })
        })
        .collect()
    }

    /// Marks messages of `owner_id`'s mailbox read or unread; others' messages are left alone.
    /// Returns how many changed.
    pub async fn set_unread(
        &self,
        owner_id: &str,
        message_ids: &[String],
        unread: bool,
    ) -> StoreResult<u64> {
        let ids = batch_ids(message_ids);
        if ids.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "UPDATE mailbox_entries SET unread = $2 WHERE owner_id = $1 AND unread <> $2 \
             AND message_id IN ({})",
            placeholders(3, ids.len())
        );
        let mut query =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(owner_id).bind(i64::from(unread));
        for id in &ids {
            query = query.bind(id);
        }
        Ok(query.execute(self.pool()).await?.rows_affected())
    }

    /// Moves messages of `owner_id`'s mailbox: to the trash; to the inbox or the sent folder,
    /// which puts each back where it came from (its origin); or to an own folder. Others'
    /// messages are left alone. Returns how many moved.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for the drafts folder or an own folder not the owner's.
    pub async fn move_messages(
        &self,
        owner_id: &str,
        message_ids: &[String],
        to: &Folder,
    ) -> StoreResult<u64> {
        let (target, param) = match to {
            Folder::Trash => ("'trash'", None),
            Folder::Inbox | Folder::Sent => ("origin", None),
            Folder::Custom(id) => ("$2", Some(id.as_str())),
            Folder::Drafts => return Err(StoreError::NotFound),
        };
        let ids = batch_ids(message_ids);
        let mut tx = self.begin_write().await?;

        // An own folder is checked in the moving transaction, its row locked on PostgreSQL
        // until the commit: a deletion of the folder waits for the move, then moves these
        // messages back, or goes first, and the move finds no folder (on SQLite, one
        // transaction writes at a time).
        if let Some(id) = param {
            let lock = if self.backend() == Backend::Postgres { " FOR SHARE" } else { "" };
            let found: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT id FROM mail_folders WHERE id = $1 AND owner_id = $2{lock}"
            )))
            .bind(id)
            .bind(owner_id)
            .fetch_optional(&mut *tx)
            .await?;
            if found.is_none() {
                return Err(StoreError::NotFound);
            }
        }
        if ids.is_empty() {
            return Ok(0);
        }

        let first = if param.is_some() { 3 } else { 2 };
        let sql = format!(
            "UPDATE mailbox_entries SET folder = {target} WHERE owner_id = $1 \
             AND folder <> {target} AND message_id IN ({})",
            placeholders(first, ids.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(owner_id);
        if let Some(param) = param {
            query = query.bind(param);
        }
        for id in &ids {
            query = query.bind(id);
        }
        let moved = query.execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(moved)
    }

    /// Deletes every message of `owner_id`'s trash from their mailbox (the others' copies stay).
    /// Returns how many.
    /// A message in nobody's mailbox any more is deleted later by [`Store::housekeeping`].
    pub async fn empty_trash(&self, owner_id: &str) -> StoreResult<u64> {
        Ok(sqlx::query("DELETE FROM mailbox_entries WHERE owner_id = $1 AND folder = 'trash'")
            .bind(owner_id)
            .execute(self.pool())
            .await?
            .rows_affected())
    }

    /// Creates an own folder; returns its id.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (French) for an empty or overlong name, a name already used by
    /// one of the owner's folders, or too many folders.
    pub async fn create_folder(&self, owner_id: &str, name: &str) -> StoreResult<String> {
        let name = folder_name(name)?;

        let id = new_id();
        let mut tx = self.begin_write().await?;
        // The owner's account row, locked, makes parallel creations count one after another
        // (PostgreSQL's snapshot would otherwise let each see the count before the others).
        sqlx::query("UPDATE accounts SET frozen = frozen WHERE person_id = $1")
            .bind(owner_id)
            .execute(&mut *tx)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO mail_folders (id, owner_id, name, created_at) \
             SELECT $1, $2, $3, $4 \
             WHERE (SELECT COUNT(*) FROM mail_folders WHERE owner_id = $2) < $5 \
             ON CONFLICT (owner_id, name) DO NOTHING",
        )
        .bind(&id)
        .bind(owner_id)
        .bind(&name)
        .bind(now_unix())
        .bind(MAX_FOLDERS)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        if inserted == 1 {
            return Ok(id);
        }
        if self.folder_name_taken(owner_id, &name, "").await? {
            Err(duplicate_folder())
        } else {
            Err(StoreError::Conflict(format!("Vous avez déjà {MAX_FOLDERS} dossiers.")))
        }
    }

    /// Renames an own folder.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a folder not the owner's; [`StoreError::Conflict`] for a
    /// bad or duplicate name.
    pub async fn rename_folder(
        &self,
        owner_id: &str,
        folder_id: &str,
        name: &str,
    ) -> StoreResult<()> {
        let name = folder_name(name)?;
        self.own_folder_name(owner_id, folder_id).await?;
        if self.folder_name_taken(owner_id, &name, folder_id).await? {
            return Err(duplicate_folder());
        }

        let result =
            sqlx::query("UPDATE mail_folders SET name = $3 WHERE id = $1 AND owner_id = $2")
                .bind(folder_id)
                .bind(owner_id)
                .bind(&name)
                .execute(self.pool())
                .await;
        match result {
            Ok(done) if done.rows_affected() == 1 => Ok(()),
            Ok(_) => Err(StoreError::NotFound),
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                Err(duplicate_folder())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Deletes an own folder; its messages go back to the inbox or the sent folder (their
    /// origin).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a folder not the owner's.
    pub async fn delete_folder(&self, owner_id: &str, folder_id: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;

        // The folder first: a move into it that holds its row (see `move_messages`) commits
        // before, and its messages are then moved back by the next statement.
        let deleted = sqlx::query("DELETE FROM mail_folders WHERE id = $1 AND owner_id = $2")
            .bind(folder_id)
            .bind(owner_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "UPDATE mailbox_entries SET folder = origin WHERE owner_id = $1 AND folder = $2",
        )
        .bind(owner_id)
        .bind(folder_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One page (from 1) of the messages of `owner_id`'s mailbox (the trash left out) whose
    /// subject, text or sender's name hold every word of `query`, accents and case ignored,
    /// the last word as a prefix; newest first. A query without letters or digits finds
    /// nothing.
    pub async fn search_mailbox(
        &self,
        owner_id: &str,
        query: &str,
        page: i64,
    ) -> StoreResult<MailboxPage> {
        let page = page_number(page);
        let terms = search_terms(query);
        if terms.is_empty() {
            return Ok(MailboxPage { messages: Vec::new(), total: 0, page, page_size: PAGE_SIZE });
        }

        let (matched, expression) = match self.backend() {
            Backend::Sqlite => (
                "e.message_id IN (SELECT message_id FROM messages_fts \
                 WHERE messages_fts MATCH $2)",
                fts5_query(&terms),
            ),
            Backend::Postgres => (
                "to_tsvector('simple', m.search_text) @@ to_tsquery('simple', $2)",
                tsquery(&terms),
            ),
        };
        let filter = format!("e.owner_id = $1 AND e.folder <> 'trash' AND {matched}");
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {ENTRIES} WHERE {filter}"
        )))
        .bind(owner_id)
        .bind(&expression)
        .fetch_one(self.pool())
        .await?;
        let page = page_within(page, total);
        let messages = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLUMNS} FROM {ENTRIES} WHERE {filter} \
             ORDER BY e.created_at DESC, e.message_id DESC LIMIT $3 OFFSET $4"
        )))
        .bind(owner_id)
        .bind(&expression)
        .bind(PAGE_SIZE)
        .bind((page - 1) * PAGE_SIZE)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(summary)
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(MailboxPage { messages, total, page, page_size: PAGE_SIZE })
    }

    /// Everyone a message was delivered to (for the live notifications; no viewer check).
    pub async fn message_recipient_ids(&self, message_id: &str) -> StoreResult<Vec<String>> {
        let list = recipient_list_bytes(self.backend(), "recipient_ids");
        let listed: Option<Vec<u8>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT {list} FROM messages WHERE id = $1"
        )))
        .bind(message_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(listed.as_deref().map(parse_recipient_ids).unwrap_or_default())
    }

    /// The name of an own folder of `owner_id`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it is not theirs.
    pub(crate) async fn own_folder_name(
        &self,
        owner_id: &str,
        folder_id: &str,
    ) -> StoreResult<String> {
        if !is_id(folder_id) {
            return Err(StoreError::NotFound);
        }
        sqlx::query_scalar("SELECT name FROM mail_folders WHERE id = $1 AND owner_id = $2")
            .bind(folder_id)
            .bind(owner_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn folder_name_taken(
        &self,
        owner_id: &str,
        name: &str,
        except_id: &str,
    ) -> StoreResult<bool> {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT id FROM mail_folders WHERE owner_id = $1 AND name = $2 AND id <> $3",
        )
        .bind(owner_id)
        .bind(name)
        .bind(except_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(found.is_some())
    }
}

/// A folder name as stored: cleaned, 1 to [`MAX_FOLDER_NAME_CHARS`] characters.
fn folder_name(name: &str) -> StoreResult<String> {
    let name = clean_line(name);
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_FOLDER_NAME_CHARS {
        return Err(StoreError::Conflict(format!(
            "Le nom d'un dossier compte de 1 à {MAX_FOLDER_NAME_CHARS} caractères."
        )));
    }

    // Not the name of a standard folder, however it is written ("corbeille", "Réception").
    let folded = domain::names::fold_for_search(&name);
    let standard = [Folder::Inbox, Folder::Sent, Folder::Drafts, Folder::Trash];
    let taken = standard.iter().any(|folder| {
        folded == folder.slug()
            || folder.standard_name().is_some_and(|n| folded == domain::names::fold_for_search(n))
    }) || matches!(
        folded.as_str(),
        "boite de reception" | "envoyes" | "inbox" | "trash"
    );
    if taken {
        return Err(StoreError::Conflict(
            "Ce nom est celui d'un dossier de la messagerie ; choisissez-en un autre.".to_owned(),
        ));
    }
    Ok(name)
}

fn duplicate_folder() -> StoreError {
    StoreError::Conflict("Vous avez déjà un dossier de ce nom.".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_are_folded_words_that_cannot_break_the_syntax() {
        let terms = search_terms("  Éléphant\" OR \"x*' & !:* (NEAR) l'école ");
        assert_eq!(terms, ["elephant", "or", "x", "near", "l", "ecole"]);
        assert_eq!(fts5_query(&terms[..2]), "\"elephant\" \"or\"*");
        assert_eq!(tsquery(&terms[..2]), "'elephant' & 'or':*");
        assert!(search_terms(" '\"*&|!() ").is_empty());
        assert_eq!(search_terms(&"mot ".repeat(50)).len(), MAX_SEARCH_TERMS);
    }
}
