-- The state of the CAS server: service and proxy tickets, proxy-granting tickets, and the login
-- requests that prove credentials were presented for one `/cas/login`. Only the SHA-256 (hex)
-- of a ticket or request token is stored, never the value. Instants are Unix seconds (UTC).
-- Everything here dies with the SSO session it came from (`ON DELETE CASCADE` on the session).

-- A service ticket (`ST`) or proxy ticket (`PT`): single use, consumed by the one validation
-- attempt that deletes it. It remembers the application and the exact service URL it was issued
-- for, the person, the session, whether credentials were presented for this very ticket
-- (`from_new_login`, CAS `renew`), whether the session had passed its second factor, when the
-- session's credentials were presented, and, for a proxy ticket, the proxy callback URLs it went
-- through (JSON list, most recent first).
CREATE TABLE cas_tickets (
    ticket_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    service_id TEXT NOT NULL REFERENCES sso_services (id) ON DELETE CASCADE,
    service_url TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    session_hash TEXT NOT NULL REFERENCES sessions (id_hash) ON DELETE CASCADE,
    from_new_login BIGINT NOT NULL,
    second_factor BIGINT NOT NULL,
    authenticated_at BIGINT NOT NULL,
    proxies TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX cas_tickets_expires ON cas_tickets (expires_at);
CREATE INDEX cas_tickets_session ON cas_tickets (session_hash);

-- A proxy-granting ticket, handed to an application's proxy callback: it yields proxy tickets
-- while the person's session lives, and dies with it. `proxies` is the chain of callback URLs,
-- this ticket's own first.
CREATE TABLE cas_proxy_granting_tickets (
    ticket_hash TEXT PRIMARY KEY,
    service_id TEXT NOT NULL REFERENCES sso_services (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    session_hash TEXT NOT NULL REFERENCES sessions (id_hash) ON DELETE CASCADE,
    second_factor BIGINT NOT NULL,
    authenticated_at BIGINT NOT NULL,
    proxies TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX cas_pgt_expires ON cas_proxy_granting_tickets (expires_at);
CREATE INDEX cas_pgt_session ON cas_proxy_granting_tickets (session_hash);

-- A `/cas/login` that sent the browser to the login form: the browser holds the token in a
-- cookie, and the ticket it then gets counts as issued from credentials presented for it only if
-- the session is another one than the browser had then (`previous_session_hash`, NULL: none)
-- and was opened at or after `created_at` (CAS `renew`, `isFromNewLogin`). Used once.
CREATE TABLE cas_login_requests (
    token_hash TEXT PRIMARY KEY,
    service_url TEXT NOT NULL,
    previous_session_hash TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX cas_login_requests_expires ON cas_login_requests (expires_at);
