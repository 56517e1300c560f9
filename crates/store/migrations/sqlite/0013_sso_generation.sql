-- The generation of the sign-on registry (store::cache): the applications, their URLs, schools
-- and profiles. What a CAS login or validation reads of the registry, and whether a person may
-- use an application and what they release to it, are kept under it (with the directory's).
-- The subject key (`sso_secrets`) is never changed once drawn, and is not counted.
INSERT INTO cache_generations (name, value) VALUES ('sso', 1);

CREATE TRIGGER sso_services_generation_insert AFTER INSERT ON sso_services BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'sso';
END;
CREATE TRIGGER sso_services_generation_update AFTER UPDATE ON sso_services BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'sso';
END;
CREATE TRIGGER sso_services_generation_delete AFTER DELETE ON sso_services BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'sso';
END;
CREATE TRIGGER sso_service_urls_generation_insert AFTER INSERT ON sso_service_urls BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'sso';
END;
CREATE TRIGGER sso_service_urls_generation_update AFTER UPDATE ON sso_service_urls BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'sso';
END;
CREATE TRIGGER sso_service_urls_generation_delete AFTER DELETE ON sso_service_urls BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'sso';
END;
CREATE TRIGGER sso_service_schools_generation_insert AFTER INSERT ON sso_service_schools BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'sso';
END;
CREATE TRIGGER sso_service_schools_generation_update AFTER UPDATE ON sso_service_schools BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'sso';
END;
CREATE TRIGGER sso_service_schools_generation_delete AFTER DELETE ON sso_service_schools BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'sso';
END;
CREATE TRIGGER sso_service_profiles_generation_insert AFTER INSERT ON sso_service_profiles BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'sso';
END;
CREATE TRIGGER sso_service_profiles_generation_update AFTER UPDATE ON sso_service_profiles BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'sso';
END;
CREATE TRIGGER sso_service_profiles_generation_delete AFTER DELETE ON sso_service_profiles BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'sso';
END;

-- Service and proxy tickets, rebuilt for the round trip of a sign-on, which writes one when it
-- is issued and deletes it when it is validated: one key and nothing else to maintain. A ticket
-- lives a minute, and only while its session does: the validation checks the session in the
-- statement that consumes the ticket, so a foreign key that locks the session's row at every
-- issue is not needed. The tickets of a deleted session, person (whose sessions go with them)
-- or application still go at once, by the triggers below; what expired unvalidated goes with
-- the hourly sweep, which reads the whole table (the tickets of the last hour that nobody
-- validated). Tickets alive when this migration runs are dropped: their holders sign on again.
DROP TABLE cas_tickets;
-- WITHOUT ROWID: the key is the table. The index on the session serves the trigger, which
-- runs once per deleted session.
CREATE TABLE cas_tickets (
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
) WITHOUT ROWID;
CREATE INDEX cas_tickets_session ON cas_tickets (session_hash);

CREATE TRIGGER sessions_cas_tickets AFTER DELETE ON sessions BEGIN
    DELETE FROM cas_tickets WHERE session_hash = OLD.id_hash;
END;
CREATE TRIGGER sso_services_cas_tickets AFTER DELETE ON sso_services BEGIN
    DELETE FROM cas_tickets WHERE service_id = OLD.id;
END;
