-- A send writes one mailbox entry and one recipient row per person it reaches (about 90 for a
-- class and its families), so each of those rows costs as few trees as it can:
-- - the entries are stored in the order of their message (WITHOUT ROWID, keyed by message
--   then owner): a send's entries go at the end of that tree (message ids grow with time),
--   and the separate index by message, kept by every send, goes. A folder page still reads
--   `mailbox_entries_folder`; one owner's entry is found by the key (message, owner);
-- - the recipients likewise: one tree keyed by message then person, instead of a table and
--   the index of its key;
-- - neither refers to `people` or `messages` by a foreign key, which each of their rows would
--   check (PostgreSQL even locks the person's row for it, and sixteen sends to one class then
--   queue on the same ninety rows): a send writes them in the transaction that reads the
--   people and writes the message, and the triggers below delete them with their message or
--   their person (see there);
-- - the search index of a new message is written by a trigger, one statement less per send.
-- The triggers of counts (0015) go with the old table and are made again on the new one.
CREATE TABLE mailbox_entries_by_message (
    owner_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    origin TEXT NOT NULL,
    folder TEXT NOT NULL,
    unread BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, owner_id)
) WITHOUT ROWID;
INSERT INTO mailbox_entries_by_message (owner_id, message_id, origin, folder, unread, created_at)
SELECT owner_id, message_id, origin, folder, unread, created_at FROM mailbox_entries;
DROP TABLE mailbox_entries;
ALTER TABLE mailbox_entries_by_message RENAME TO mailbox_entries;
CREATE INDEX mailbox_entries_folder ON mailbox_entries (owner_id, folder, created_at);

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

CREATE TABLE message_recipients_by_message (
    message_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    PRIMARY KEY (message_id, person_id)
) WITHOUT ROWID;
INSERT INTO message_recipients_by_message (message_id, person_id)
SELECT message_id, person_id FROM message_recipients;
DROP TABLE message_recipients;
ALTER TABLE message_recipients_by_message RENAME TO message_recipients;

CREATE TRIGGER messages_search_added AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (message_id, search_text) VALUES (NEW.id, NEW.search_text);
END;

CREATE TRIGGER messages_gone AFTER DELETE ON messages BEGIN
    DELETE FROM mailbox_entries WHERE message_id = OLD.id;
    DELETE FROM message_recipients WHERE message_id = OLD.id;
END;
-- Préau deactivates people and never deletes them. A person deleted by hand leaves at once
-- their mailbox (by `mailbox_entries_folder`) and is noted in `people_removed`; their rows of
-- recipients, which no index by person finds (every send would keep it), go at the next
-- housekeeping, all such people in one pass, and so do any rows a send racing the deletion
-- wrote for them (`Store::housekeeping`). The note goes a day later, or as soon as a person
-- with that id exists again.
CREATE TABLE people_removed (
    person_id TEXT PRIMARY KEY,
    removed_at BIGINT NOT NULL
);
CREATE TRIGGER people_gone_mailbox AFTER DELETE ON people BEGIN
    DELETE FROM mailbox_entries WHERE owner_id = OLD.id;
    INSERT INTO people_removed (person_id, removed_at) VALUES (OLD.id, CAST(unixepoch() AS BIGINT))
    ON CONFLICT (person_id) DO UPDATE SET removed_at = excluded.removed_at;
END;
