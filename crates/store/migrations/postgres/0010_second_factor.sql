-- The second factor of adults (store::second_factor): a TOTP secret (RFC 6238) per person, the
-- enrolment that shows a new secret until a code confirms it, and one-time recovery codes.
-- Instants are Unix seconds (UTC).

-- A person's confirmed factor. `secret` is the base32 of 20 random bytes. `last_step` is the
-- last TOTP time step accepted (Unix time / 30): no code of that step or an earlier one is ever
-- accepted again, which a conditional UPDATE enforces when two requests race.
CREATE TABLE second_factors (
    person_id TEXT PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    last_step BIGINT NOT NULL,
    confirmed_at BIGINT NOT NULL
);

-- A secret shown to the person and not yet confirmed by a code (a first enrolment, or a
-- replacement after the person gave their password and a code). Stale ones are ignored.
CREATE TABLE second_factor_enrolments (
    person_id TEXT PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Recovery codes, shown once at enrolment and stored as the SHA-256 of the person's id and the
-- code; `used_at` is set when one is spent (it never works again).
CREATE TABLE recovery_codes (
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (person_id, code_hash)
);
