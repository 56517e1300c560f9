-- Each person's folders counted as the mailbox changes, so that a folder list or an unread
-- badge reads a few rows instead of counting a mailbox of thousands of messages: one row per
-- owner and folder ('inbox', 'sent', 'trash' or an own folder's id) with its messages and the
-- unread ones among them, kept by the triggers below on every change of `mailbox_entries`,
-- whoever makes it. The partial index of unread entries, which served those counts, goes.
-- One transaction writes at a time here, so the triggers update the counts themselves; the
-- table of changes that PostgreSQL's triggers write instead (see there) stays empty, and is
-- read by the same statements.
CREATE TABLE mailbox_counts (
    owner_id TEXT NOT NULL,
    folder TEXT NOT NULL,
    total BIGINT NOT NULL,
    unread BIGINT NOT NULL,
    PRIMARY KEY (owner_id, folder)
) WITHOUT ROWID;

CREATE TABLE mailbox_count_changes (
    owner_id TEXT NOT NULL,
    folder TEXT NOT NULL,
    total BIGINT NOT NULL,
    unread BIGINT NOT NULL
);
CREATE INDEX mailbox_count_changes_owner ON mailbox_count_changes (owner_id);

INSERT INTO mailbox_counts (owner_id, folder, total, unread)
SELECT owner_id, folder, COUNT(*), SUM(unread) FROM mailbox_entries GROUP BY owner_id, folder;

CREATE TRIGGER mailbox_counts_entry_added AFTER INSERT ON mailbox_entries BEGIN
    INSERT INTO mailbox_counts (owner_id, folder, total, unread)
    VALUES (NEW.owner_id, NEW.folder, 1, NEW.unread)
    ON CONFLICT (owner_id, folder) DO UPDATE
    SET total = total + 1, unread = unread + excluded.unread;
END;
CREATE TRIGGER mailbox_counts_entry_removed AFTER DELETE ON mailbox_entries BEGIN
    UPDATE mailbox_counts SET total = total - 1, unread = unread - OLD.unread
    WHERE owner_id = OLD.owner_id AND folder = OLD.folder;
END;
CREATE TRIGGER mailbox_counts_entry_changed AFTER UPDATE OF owner_id, folder, unread
ON mailbox_entries BEGIN
    UPDATE mailbox_counts SET total = total - 1, unread = unread - OLD.unread
    WHERE owner_id = OLD.owner_id AND folder = OLD.folder;
    INSERT INTO mailbox_counts (owner_id, folder, total, unread)
    VALUES (NEW.owner_id, NEW.folder, 1, NEW.unread)
    ON CONFLICT (owner_id, folder) DO UPDATE
    SET total = total + 1, unread = unread + excluded.unread;
END;
-- A person or an own folder that goes leaves its counts at zero (its entries went first, and
-- counted down): rows of zeros count nothing, and readers list only the folders that exist.
-- Deleting them here would race with the changes still on their way.

DROP INDEX mailbox_entries_unread;

-- Who received a message is read by message only. Préau deactivates people and never deletes
-- them; a person deleted by hand costs one pass over the table, not an index kept by every
-- send (one leaf per recipient).
DROP INDEX message_recipients_person;
