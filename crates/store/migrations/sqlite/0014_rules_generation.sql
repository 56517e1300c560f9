-- The schools' communication rules join the `directory` generation (store::cache): what a send
-- resolves of a recipient group before its transaction is kept under that generation, and a
-- school that changes a rule must retire it at once, like a change of class.
CREATE TRIGGER communication_rules_generation_insert AFTER INSERT ON communication_rules BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER communication_rules_generation_update AFTER UPDATE ON communication_rules BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER communication_rules_generation_delete AFTER DELETE ON communication_rules BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
