-- A send writes one mailbox entry per person it reaches (about 90 for a class and its
-- families), so each entry costs as few index insertions as it can: the key of the entries is
-- (message, owner) instead of (owner, message), which also serves every lookup by message, and
-- the separate index by message, kept by every send, goes. A folder page still reads
-- `mailbox_entries_folder`; one owner's entry is found by the key.
ALTER TABLE mailbox_entries DROP CONSTRAINT mailbox_entries_pkey;
ALTER TABLE mailbox_entries ADD PRIMARY KEY (message_id, owner_id);
DROP INDEX mailbox_entries_message;
