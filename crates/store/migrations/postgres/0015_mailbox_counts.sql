-- Each person's folders counted as the mailbox changes, so that a folder list or an unread
-- badge reads a few rows instead of counting a mailbox of thousands of messages: one row per
-- owner and folder ('inbox', 'sent', 'trash' or an own folder's id) with its messages and the
-- unread ones among them. The partial index of unread entries, which served those counts,
-- goes.
--
-- Transactions run side by side here: if every send updated its recipients' rows of counts,
-- two sends to one class would wait for each other from that update to their commit. So the
-- triggers only add rows of changes (`mailbox_count_changes`, written by everyone, locked by
-- no one), once per statement over its changed rows, grouped by owner and folder; a reader
-- adds an owner's changes to their counts, and the server folds the changes into the counts
-- in the background (`Store::fold_mailbox_counts`), which a reader never waits for.
CREATE TABLE mailbox_counts (
    owner_id TEXT NOT NULL,
    folder TEXT NOT NULL,
    total BIGINT NOT NULL,
    unread BIGINT NOT NULL,
    PRIMARY KEY (owner_id, folder)
);
CREATE TABLE mailbox_count_changes (
    owner_id TEXT NOT NULL,
    folder TEXT NOT NULL,
    total BIGINT NOT NULL,
    unread BIGINT NOT NULL
);
CREATE INDEX mailbox_count_changes_owner ON mailbox_count_changes (owner_id);

INSERT INTO mailbox_counts (owner_id, folder, total, unread)
SELECT owner_id, folder, COUNT(*), SUM(unread) FROM mailbox_entries GROUP BY owner_id, folder;

CREATE FUNCTION mailbox_counts_entries_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO mailbox_count_changes (owner_id, folder, total, unread)
    SELECT owner_id, folder, COUNT(*), SUM(unread) FROM added GROUP BY owner_id, folder;
    RETURN NULL;
END
$$;
CREATE FUNCTION mailbox_counts_entries_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO mailbox_count_changes (owner_id, folder, total, unread)
    SELECT owner_id, folder, -COUNT(*), -SUM(unread) FROM removed GROUP BY owner_id, folder;
    RETURN NULL;
END
$$;
CREATE FUNCTION mailbox_counts_entries_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO mailbox_count_changes (owner_id, folder, total, unread)
    SELECT owner_id, folder, SUM(total), SUM(unread) FROM (
        SELECT owner_id, folder, 1 AS total, unread FROM after_change
        UNION ALL SELECT owner_id, folder, -1, -unread FROM before_change) d
    GROUP BY owner_id, folder HAVING SUM(total) <> 0 OR SUM(unread) <> 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER mailbox_counts_entries_added AFTER INSERT ON mailbox_entries
REFERENCING NEW TABLE AS added
FOR EACH STATEMENT EXECUTE FUNCTION mailbox_counts_entries_added();
CREATE TRIGGER mailbox_counts_entries_removed AFTER DELETE ON mailbox_entries
REFERENCING OLD TABLE AS removed
FOR EACH STATEMENT EXECUTE FUNCTION mailbox_counts_entries_removed();
CREATE TRIGGER mailbox_counts_entries_changed AFTER UPDATE ON mailbox_entries
REFERENCING OLD TABLE AS before_change NEW TABLE AS after_change
FOR EACH STATEMENT EXECUTE FUNCTION mailbox_counts_entries_changed();

-- A person or an own folder that goes leaves its counts at zero (its entries went first, and
-- counted down): rows of zeros count nothing, and readers list only the folders that exist.
-- Deleting them here would race with a fold that has taken a change of theirs and not yet
-- written it.

DROP INDEX mailbox_entries_unread;

-- Who received a message is read by message only. Préau deactivates people and never deletes
-- them; a person deleted by hand costs one pass over the table, not an index kept by every
-- send (one leaf per recipient).
DROP INDEX message_recipients_person;
