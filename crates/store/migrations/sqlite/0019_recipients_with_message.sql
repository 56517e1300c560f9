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
