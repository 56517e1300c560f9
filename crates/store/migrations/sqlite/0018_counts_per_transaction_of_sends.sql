-- A transaction of sends adds each of its mailboxes' counts once, for all its sends together
-- (`Store::write_send_batch`), instead of the trigger adding one entry at a time: some ninety
-- entries a send, in mailboxes that the other sends of the transaction reach too (a class and
-- its families written to by several of its teachers at once), where the trigger cost about
-- a third of the send's writes. The trigger still counts every other insert, whoever makes
-- it: it stands aside only while a row of `mailbox_counting` says 0, which a transaction of
-- sends sets at its start and sets back to 1 with its own counts, before its commit. Nothing
-- else ever sees it at 0 (one transaction writes at a time, and one that fails rolls it back
-- with the rest).
CREATE TABLE mailbox_counting (
    by_triggers BIGINT NOT NULL
);
INSERT INTO mailbox_counting (by_triggers) VALUES (1);

DROP TRIGGER mailbox_counts_entry_added;
CREATE TRIGGER mailbox_counts_entry_added AFTER INSERT ON mailbox_entries
WHEN NOT EXISTS (SELECT 1 FROM mailbox_counting WHERE by_triggers = 0) BEGIN
    INSERT INTO mailbox_counts (owner_id, folder, total, unread)
    SELECT NEW.owner_id, NEW.folder, 0, 0 WHERE NOT EXISTS (
        SELECT 1 FROM mailbox_counts WHERE owner_id = NEW.owner_id AND folder = NEW.folder);
    UPDATE mailbox_counts SET total = total + 1, unread = unread + NEW.unread
    WHERE owner_id = NEW.owner_id AND folder = NEW.folder;
END;
