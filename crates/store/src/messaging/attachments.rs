//! The metadata of attachments: recording an upload (the bytes were checked and stored by the
//! caller under an internal key), adding it to a draft or taking it off, and finding it for a
//! download when the viewer may read it: its uploader, or someone with a message carrying it
//! in their mailbox, the message not recalled. Anything else is `NotFound`.

use domain::communication::{MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS};
use sqlx::Row;

use super::{AttachmentRef, NewAttachment, StoredAttachment, clean_line};
use crate::{Store, StoreError, StoreResult, new_id, now_unix};

/// The longest display name kept, in bytes.
const MAX_NAME_BYTES: usize = 255;

/// "`$1` may read attachment `a`": its uploader, or the owner of a mailbox entry of a message
/// carrying it that is not recalled.
pub(crate) const READABLE_BY_1: &str = "(a.owner_id = $1 OR EXISTS (SELECT 1 \
     FROM message_attachments ma JOIN messages m ON m.id = ma.message_id \
     JOIN mailbox_entries e ON e.message_id = ma.message_id AND e.owner_id = $1 \
     WHERE ma.attachment_id = a.id AND m.recalled_at IS NULL))";

/// Whether a storage key is an internal one: 1 to 200 characters of `[A-Za-z0-9._/-]`, no
/// empty, `.` or `..` segment, not absolute.
fn is_storage_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 200
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
        && key.split('/').all(|segment| !matches!(segment, "" | "." | ".."))
}

fn bad_upload() -> StoreError {
    StoreError::Conflict("Ce fichier ne peut pas être joint.".to_owned())
}

impl Store {
    /// Records an uploaded file as the owner's.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] (French) for an empty name, an empty or overlong type, a size
    /// over the cap, or a malformed hash or storage key.
    pub async fn create_attachment(
        &self,
        owner_id: &str,
        meta: &NewAttachment,
    ) -> StoreResult<AttachmentRef> {
        let display_name = clean_line(&meta.display_name);
        let content_type = clean_line(&meta.content_type);
        let size_ok =
            usize::try_from(meta.size_bytes).is_ok_and(|size| size <= MAX_ATTACHMENT_BYTES);
        let hash_ok = meta.sha256.len() == 64 && meta.sha256.bytes().all(|b| b.is_ascii_hexdigit());
        if display_name.is_empty()
            || display_name.len() > MAX_NAME_BYTES
            || content_type.is_empty()
            || content_type.len() > 100
            || !size_ok
            || !hash_ok
            || !is_storage_key(&meta.storage_key)
        {
            return Err(bad_upload());
        }

        let id = new_id();
        sqlx::query(
            "INSERT INTO attachments (id, owner_id, display_name, content_type, size_bytes, \
             sha256, storage_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(owner_id)
        .bind(&display_name)
        .bind(&content_type)
        .bind(meta.size_bytes)
        .bind(meta.sha256.to_ascii_lowercase())
        .bind(&meta.storage_key)
        .bind(now_unix())
        .execute(self.pool())
        .await?;
        Ok(AttachmentRef { id, display_name, content_type, size_bytes: meta.size_bytes })
    }

    /// Adds an attachment to one of the owner's drafts: one they uploaded, or for a forward
    /// one of the forwarded message's. Adding it twice changes nothing.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a draft or an attachment the owner may not use;
    /// [`StoreError::Conflict`] (French) past [`MAX_ATTACHMENTS`].
    pub async fn attach_to_draft(
        &self,
        owner_id: &str,
        draft_id: &str,
        attachment_id: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let usable: Option<String> = sqlx::query_scalar(
            "SELECT a.id FROM drafts d JOIN attachments a ON a.id = $3 \
             WHERE d.id = $2 AND d.owner_id = $1 AND (a.owner_id = $1 \
               OR (d.mode = 'forward' AND EXISTS (SELECT 1 FROM message_attachments ma \
                 JOIN messages m ON m.id = ma.message_id \
                 JOIN mailbox_entries e ON e.message_id = m.id AND e.owner_id = $1 \
                 WHERE ma.message_id = d.parent_id AND ma.attachment_id = a.id \
                 AND m.recalled_at IS NULL)))",
        )
        .bind(owner_id)
        .bind(draft_id)
        .bind(attachment_id)
        .fetch_optional(&mut *tx)
        .await?;
        if usable.is_none() {
            return Err(StoreError::NotFound);
        }
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM draft_attachments WHERE draft_id = $1")
                .bind(draft_id)
                .fetch_one(&mut *tx)
                .await?;

        let inserted = sqlx::query(
            "INSERT INTO draft_attachments (draft_id, attachment_id) VALUES ($1, $2) \
             ON CONFLICT (draft_id, attachment_id) DO NOTHING",
        )
        .bind(draft_id)
        .bind(attachment_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 && usize::try_from(count).unwrap_or(usize::MAX) >= MAX_ATTACHMENTS {
            return Err(StoreError::Conflict(format!(
                "Un message porte au plus {MAX_ATTACHMENTS} pièces jointes."
            )));
        }
        sqlx::query("UPDATE drafts SET updated_at = $2 WHERE id = $1")
            .bind(draft_id)
            .bind(now_unix())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes an attachment off one of the owner's drafts (the file stays theirs).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] unless the draft is the owner's and carries it.
    pub async fn detach_from_draft(
        &self,
        owner_id: &str,
        draft_id: &str,
        attachment_id: &str,
    ) -> StoreResult<()> {
        let deleted = sqlx::query(
            "DELETE FROM draft_attachments WHERE draft_id = $2 AND attachment_id = $3 \
             AND draft_id IN (SELECT id FROM drafts WHERE id = $2 AND owner_id = $1)",
        )
        .bind(owner_id)
        .bind(draft_id)
        .bind(attachment_id)
        .execute(self.pool())
        .await?
        .rows_affected();
        if deleted == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// An attachment with its storage key, when the viewer may read it: its uploader, or the
    /// owner of a mailbox entry of a message carrying it that is not recalled.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] otherwise.
    pub async fn attachment_for(
        &self,
        viewer_id: &str,
        attachment_id: &str,
    ) -> StoreResult<StoredAttachment> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT a.id, a.display_name, a.content_type, a.size_bytes, a.sha256, a.storage_key \
             FROM attachments a WHERE a.id = $2 AND {READABLE_BY_1}"
        )))
        .bind(viewer_id)
        .bind(attachment_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(StoredAttachment {
            id: row.try_get("id")?,
            display_name: row.try_get("display_name")?,
            content_type: row.try_get("content_type")?,
            size_bytes: row.try_get("size_bytes")?,
            sha256: row.try_get("sha256")?,
            storage_key: row.try_get("storage_key")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_keys_are_internal() {
        assert!(is_storage_key("ab/0190-abc"));
        for bad in ["", "/etc/passwd", "a/../b", "a//b", "a b", "..", "a\\b"] {
            assert!(!is_storage_key(bad), "{bad}");
        }
    }
}
