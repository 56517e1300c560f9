-- The generation of the sign-on registry (store::cache): the applications, their URLs, schools
-- and profiles. What a CAS login or validation reads of the registry, and whether a person may
-- use an application and what they release to it, are kept under it (with the directory's).
-- The subject key (`sso_secrets`) is never changed once drawn, and is not counted.
INSERT INTO cache_generations (name, value) VALUES ('sso', 1);

CREATE CONSTRAINT TRIGGER sso_services_generation AFTER INSERT OR UPDATE OR DELETE ON sso_services
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('sso');
CREATE CONSTRAINT TRIGGER sso_service_urls_generation AFTER INSERT OR UPDATE OR DELETE ON sso_service_urls
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('sso');
CREATE CONSTRAINT TRIGGER sso_service_schools_generation AFTER INSERT OR UPDATE OR DELETE ON sso_service_schools
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('sso');
CREATE CONSTRAINT TRIGGER sso_service_profiles_generation AFTER INSERT OR UPDATE OR DELETE ON sso_service_profiles
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('sso');

-- Service and proxy tickets, rebuilt for the round trip of a sign-on, which writes one when it
-- is issued and deletes it when it is validated: one key and nothing else to maintain. A ticket
-- lives a minute, and only while its session does: the validation checks the session in the
-- statement that consumes the ticket, so a foreign key that locks the session's row at every
-- issue is not needed. The tickets of a deleted session, person (whose sessions go with them)
-- or application still go at once, by the triggers below; what expired unvalidated goes with
-- the hourly sweep, which reads the whole table (the tickets of the last hour that nobody
-- validated). Tickets alive when this migration runs are dropped: their holders sign on again.
DROP TABLE cas_tickets;
-- No index but the key: the triggers run once per statement and join the deleted rows with
-- the table (an index on the session cost a sixth of the round trips per second). UNLOGGED:
-- not written to the write-ahead log. After a crash the table is empty: a ticket
-- issued in the last minute must be asked for again, which the browser does by going back to
-- the application.
CREATE UNLOGGED TABLE cas_tickets (
    ticket_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    service_id TEXT NOT NULL,
    service_url TEXT NOT NULL,
    person_id TEXT NOT NULL,
    session_hash TEXT NOT NULL,
    from_new_login BIGINT NOT NULL,
    second_factor BIGINT NOT NULL,
    authenticated_at BIGINT NOT NULL,
    proxies TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE FUNCTION cas_tickets_of_deleted_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM cas_tickets t USING gone g WHERE t.session_hash = g.id_hash;
    RETURN NULL;
END
$$;
CREATE TRIGGER sessions_cas_tickets AFTER DELETE ON sessions REFERENCING OLD TABLE AS gone
FOR EACH STATEMENT EXECUTE FUNCTION cas_tickets_of_deleted_sessions();

CREATE FUNCTION cas_tickets_of_deleted_services() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM cas_tickets t USING gone g WHERE t.service_id = g.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER sso_services_cas_tickets AFTER DELETE ON sso_services
REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION cas_tickets_of_deleted_services();
