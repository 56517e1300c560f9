-- The schools' communication rules join the `directory` generation (store::cache): what a send
-- resolves of a recipient group before its transaction is kept under that generation, and a
-- school that changes a rule must retire it at once, like a change of class.
CREATE CONSTRAINT TRIGGER communication_rules_generation
AFTER INSERT OR UPDATE OR DELETE ON communication_rules
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
