-- Who a message was sent to is kept with the message, as one JSON array of person ids, instead
-- of one row per recipient: a send to a class and its families wrote some ninety rows and as
-- many index entries for a list that is only ever read whole, by message (reply to all, the
-- e-mail notifications, the live notifications, a recall). Each recipient's mailbox entry is
-- still a row of its own (`mailbox_entries`).
ALTER TABLE messages ADD COLUMN recipient_ids TEXT NOT NULL DEFAULT '[]';
UPDATE messages SET recipient_ids = (
    SELECT json_group_array(r.person_id ORDER BY r.person_id) FROM message_recipients r
    WHERE r.message_id = messages.id)
WHERE EXISTS (SELECT 1 FROM message_recipients r WHERE r.message_id = messages.id);

DROP TRIGGER messages_gone;
CREATE TRIGGER messages_gone AFTER DELETE ON messages BEGIN
    DELETE FROM mailbox_entries WHERE message_id = OLD.id;
END;
DROP TABLE message_recipients;

-- A person deleted by hand is taken out of the recipients of messages once, by the next
-- housekeeping (`Store::housekeeping`, which reads every message's list for it); the note says
-- so, and a person deleted again under the same id is taken out again.
ALTER TABLE people_removed ADD COLUMN recipients_cleaned BIGINT NOT NULL DEFAULT 0;
DROP TRIGGER people_gone_mailbox;
CREATE TRIGGER people_gone_mailbox AFTER DELETE ON people BEGIN
    DELETE FROM mailbox_entries WHERE owner_id = OLD.id;
    INSERT INTO people_removed (person_id, removed_at) VALUES (OLD.id, CAST(unixepoch() AS BIGINT))
    ON CONFLICT (person_id) DO UPDATE
    SET removed_at = excluded.removed_at, recipients_cleaned = 0;
END;
