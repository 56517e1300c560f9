-- Who a message was sent to is kept with the message, as one JSON array of person ids, instead
-- of one row per recipient: a send to a class and its families wrote some ninety rows and as
-- many index entries for a list that is only ever read whole, by message (reply to all, the
-- e-mail notifications, the live notifications, a recall). Each recipient's mailbox entry is
-- still a row of its own (`mailbox_entries`).
ALTER TABLE messages ADD COLUMN recipient_ids TEXT NOT NULL DEFAULT '[]';
UPDATE messages m SET recipient_ids = r.ids
FROM (SELECT message_id, CAST(json_agg(person_id ORDER BY person_id) AS TEXT) AS ids
      FROM message_recipients GROUP BY message_id) r
WHERE r.message_id = m.id;

CREATE OR REPLACE FUNCTION messages_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM mailbox_entries WHERE message_id IN (SELECT id FROM gone);
    RETURN NULL;
END
$$;
DROP TABLE message_recipients;

-- A person deleted by hand is taken out of the recipients of messages once, by the next
-- housekeeping (`Store::housekeeping`, which reads every message's list for it); the note says
-- so, and a person deleted again under the same id is taken out again.
ALTER TABLE people_removed ADD COLUMN recipients_cleaned BIGINT NOT NULL DEFAULT 0;
CREATE OR REPLACE FUNCTION people_gone_mailbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM mailbox_entries WHERE owner_id IN (SELECT id FROM gone);
    INSERT INTO people_removed (person_id, removed_at)
    SELECT id, CAST(FLOOR(EXTRACT(EPOCH FROM now())) AS BIGINT) FROM gone
    ON CONFLICT (person_id) DO UPDATE
    SET removed_at = excluded.removed_at, recipients_cleaned = 0;
    RETURN NULL;
END
$$;
