-- Accounts, sessions and what protects them. Instants are Unix seconds (UTC).

-- Every login ever handed out, never deleted, so that a login is never reused.
CREATE TABLE logins (
    login TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX logins_person ON logins (person_id);

CREATE TABLE accounts (
    person_id TEXT PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
    login TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    activation_code TEXT,
    activation_expires_at BIGINT,
    activated_at BIGINT,
    frozen BIGINT NOT NULL DEFAULT 0,
    password_changed_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX accounts_activation ON accounts (activation_code);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_person ON sessions (person_id);

-- Failed logins per typed login (known or not, so that throttling reveals nothing). The last
-- failure is in Unix milliseconds: the first delays are one or two seconds long.
CREATE TABLE login_throttle (
    login_key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failure_ms BIGINT NOT NULL
);

CREATE TABLE preferences (
    person_id TEXT PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
    reading_mode BIGINT NOT NULL DEFAULT 0
);

-- Administrative acts and security events. No passwords, codes or session ids.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    target_id TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);

-- One row per submitted creation form, keyed by a token drawn when the form was shown, so that
-- a reload or a double click creates nothing twice. `result_id` is NULL while the first
-- submission is being processed.
CREATE TABLE form_submissions (
    actor_id TEXT NOT NULL,
    token TEXT NOT NULL,
    result_id TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (actor_id, token)
);
