-- A send writes one mailbox entry and one recipient row per person it reaches (about 90 for a
-- class and its families), so each of those rows costs as little as it can:
-- - the key of the entries is (message, owner) instead of (owner, message), which also serves
--   every lookup by message, and the separate index by message, kept by every send, goes. A
--   folder page still reads `mailbox_entries_folder`; one owner's entry is found by the key;
-- - neither table refers to `people` or `messages` by a foreign key any more: each row's check
--   ran a query and locked the person's row (FOR KEY SHARE), so that sixteen sends to one
--   class queued on the same ninety rows and spent most of their time in those checks. A send
--   writes these rows in the transaction that reads the people and writes the message, and
--   the triggers below delete them with their message or their person (see there).
ALTER TABLE mailbox_entries DROP CONSTRAINT mailbox_entries_pkey;
ALTER TABLE mailbox_entries ADD PRIMARY KEY (message_id, owner_id);
DROP INDEX mailbox_entries_message;

ALTER TABLE mailbox_entries DROP CONSTRAINT mailbox_entries_owner_id_fkey;
ALTER TABLE mailbox_entries DROP CONSTRAINT mailbox_entries_message_id_fkey;
ALTER TABLE message_recipients DROP CONSTRAINT message_recipients_person_id_fkey;
ALTER TABLE message_recipients DROP CONSTRAINT message_recipients_message_id_fkey;

CREATE FUNCTION messages_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM mailbox_entries WHERE message_id IN (SELECT id FROM gone);
    DELETE FROM message_recipients WHERE message_id IN (SELECT id FROM gone);
    RETURN NULL;
END
$$;
CREATE TRIGGER messages_gone AFTER DELETE ON messages
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION messages_gone();

-- Préau deactivates people and never deletes them. A person deleted by hand leaves at once
-- their mailbox and is noted in `people_removed`: a send that read them before the deletion
-- committed may still write their rows after this trigger ran (no key makes it wait any
-- more), so the next housekeeping deletes the mailbox and recipient rows of every noted
-- person again (`Store::housekeeping`), their recipient rows included, which no index by
-- person finds (every send would keep it). The note goes a day later, or as soon as a person
-- with that id exists again.
CREATE TABLE people_removed (
    person_id TEXT PRIMARY KEY,
    removed_at BIGINT NOT NULL
);
CREATE FUNCTION people_gone_mailbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM mailbox_entries WHERE owner_id IN (SELECT id FROM gone);
    INSERT INTO people_removed (person_id, removed_at)
    SELECT id, CAST(FLOOR(EXTRACT(EPOCH FROM now())) AS BIGINT) FROM gone
    ON CONFLICT (person_id) DO UPDATE SET removed_at = excluded.removed_at;
    RETURN NULL;
END
$$;
CREATE TRIGGER people_gone_mailbox AFTER DELETE ON people
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION people_gone_mailbox();
