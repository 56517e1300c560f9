-- A statement that may stop halfway through several rows keeps a copy of every page it
-- changes, to undo its own part; a send's statements, which roll the whole transaction back
-- on any failure (INSERT OR ROLLBACK), need none. Two things made SQLite keep them anyway,
-- some two hundred pages copied per send, a tenth of the writer's time:
-- - the triggers of counts (0015, 0016) added to an owner's row by an upsert, whose update
--   part stops its statement on a failed constraint whatever the statement asks. The same
--   counts are kept here by an insert of the owner's row at zero when there is none, then an
--   update (a test of `changes()` after the update, the obvious alternative, makes SQLite
--   keep the copies too);
-- - the search row of a message, written by a trigger (0016) into the full-text index, a
--   virtual table that may always stop its statement; the full-text index also wrote a
--   segment of its own at each such statement, one per message, instead of one per
--   transaction. The send writes that row itself again, in a statement of its own.
DROP TRIGGER mailbox_counts_entry_added;
DROP TRIGGER mailbox_counts_entry_changed;
DROP TRIGGER messages_search_added;

CREATE TRIGGER mailbox_counts_entry_added AFTER INSERT ON mailbox_entries BEGIN
    INSERT INTO mailbox_counts (owner_id, folder, total, unread)
    SELECT NEW.owner_id, NEW.folder, 0, 0 WHERE NOT EXISTS (
        SELECT 1 FROM mailbox_counts WHERE owner_id = NEW.owner_id AND folder = NEW.folder);
    UPDATE mailbox_counts SET total = total + 1, unread = unread + NEW.unread
    WHERE owner_id = NEW.owner_id AND folder = NEW.folder;
END;
CREATE TRIGGER mailbox_counts_entry_changed AFTER UPDATE OF owner_id, folder, unread
ON mailbox_entries BEGIN
    UPDATE mailbox_counts SET total = total - 1, unread = unread - OLD.unread
    WHERE owner_id = OLD.owner_id AND folder = OLD.folder;
    INSERT INTO mailbox_counts (owner_id, folder, total, unread)
    SELECT NEW.owner_id, NEW.folder, 0, 0 WHERE NOT EXISTS (
        SELECT 1 FROM mailbox_counts WHERE owner_id = NEW.owner_id AND folder = NEW.folder);
    UPDATE mailbox_counts SET total = total + 1, unread = unread + NEW.unread
    WHERE owner_id = NEW.owner_id AND folder = NEW.folder;
END;
