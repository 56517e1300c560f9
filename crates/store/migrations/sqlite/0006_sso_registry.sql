-- The registry of applications that may use Préau's single sign-on, and what a session knows of
-- its second factor. Instants are Unix seconds (UTC). The protocols' own state (CAS tickets,
-- OpenID Connect codes, tokens and keys) lives in the migrations after this one.

-- An application: CAS (Pronote, school software) or OpenID Connect. `school_id` is the school
-- that registered it (its administrators manage it), NULL for the département's. `attributes` is
-- the JSON list of released attribute codes (`domain::sso::Attribute`); `principal` says what
-- identifies the person (`opaque`: a per-application identifier; `login`).
CREATE TABLE sso_services (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    protocol TEXT NOT NULL,
    school_id TEXT REFERENCES schools (id) ON DELETE CASCADE,
    principal TEXT NOT NULL DEFAULT 'opaque',
    attributes TEXT NOT NULL DEFAULT '[]',
    require_second_factor BIGINT NOT NULL DEFAULT 0,
    allow_proxy BIGINT NOT NULL DEFAULT 0,
    client_id TEXT UNIQUE,
    client_secret_hash TEXT,
    enabled BIGINT NOT NULL DEFAULT 1,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sso_services_school ON sso_services (school_id);

-- The URLs of an application: CAS service URLs (`exact` or `prefix`), OpenID Connect redirect
-- URIs (`exact`) and post-logout redirect URIs (`logout`). `origin` indexes the lookup of a
-- URL a client sends; the comparison itself is `domain::sso::url_matches`.
CREATE TABLE sso_service_urls (
    service_id TEXT NOT NULL REFERENCES sso_services (id) ON DELETE CASCADE,
    match_kind TEXT NOT NULL,
    url TEXT NOT NULL,
    origin TEXT NOT NULL,
    PRIMARY KEY (service_id, match_kind, url)
);
CREATE INDEX sso_service_urls_origin ON sso_service_urls (origin);

-- Who may use an application: people of these schools (none listed: anyone of the département)
-- with one of these profiles.
CREATE TABLE sso_service_schools (
    service_id TEXT NOT NULL REFERENCES sso_services (id) ON DELETE CASCADE,
    school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    PRIMARY KEY (service_id, school_id)
);
CREATE INDEX sso_service_schools_school ON sso_service_schools (school_id);

CREATE TABLE sso_service_profiles (
    service_id TEXT NOT NULL REFERENCES sso_services (id) ON DELETE CASCADE,
    profile TEXT NOT NULL,
    PRIMARY KEY (service_id, profile)
);

-- Secrets of the sign-on that are drawn once per database (the key of opaque identifiers).
CREATE TABLE sso_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- When the session's second factor was checked (NULL: not in this session), and whether the
-- session still waits for it (a session that waits is no session for anything else).
ALTER TABLE sessions ADD COLUMN second_factor_at BIGINT;
ALTER TABLE sessions ADD COLUMN second_factor_pending BIGINT NOT NULL DEFAULT 0;
