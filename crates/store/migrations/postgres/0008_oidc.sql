-- The state of the OpenID Connect provider: its signing keys, the authorization requests that
-- wait for the person to log in, authorization codes, grants (what one code exchange started,
-- with its refresh tokens) and access tokens. Codes and tokens are stored only as their SHA-256
-- (hex), never as the value; access tokens are signed JWTs, known here by their `jti`. Instants
-- are Unix seconds (UTC).

-- A signing key: the private key as PKCS#8 (PEM), its public half as a JWK (JSON). The newest key
-- that is not superseded signs; a superseded key stays in the JWKS until `publish_until` (when
-- everything it signed has expired), then is deleted.
CREATE TABLE oidc_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    private_key TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    superseded_at BIGINT,
    publish_until BIGINT
);

-- An authorization request sent to the login form (or the second factor) first: its checked
-- parameters (JSON), the session it found (a forced new login must come from another one) and
-- when it started (the new login must come after). Looked up by the SHA-256 of the token in the resume URL; used once.
CREATE TABLE oidc_requests (
    token_hash TEXT PRIMARY KEY,
    service_id TEXT NOT NULL REFERENCES sso_services (id) ON DELETE CASCADE,
    parameters TEXT NOT NULL,
    session_hash TEXT,
    started_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX oidc_requests_expires ON oidc_requests (expires_at);

-- An authorization code: single use (`used_at` is set by the one exchange attempt that takes
-- it, whatever its outcome), bound to the application, the exact redirect URI and the PKCE
-- challenge (S256). It dies with the session it came from.
CREATE TABLE oidc_codes (
    code_hash TEXT PRIMARY KEY,
    service_id TEXT NOT NULL REFERENCES sso_services (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    session_hash TEXT NOT NULL REFERENCES sessions (id_hash) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    auth_time BIGINT NOT NULL,
    second_factor BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX oidc_codes_expires ON oidc_codes (expires_at);

-- A grant: what one code exchange started, the family of its refresh tokens and access tokens.
-- It outlives the browser session (`session_hash` is kept to revoke it at that session's
-- logout), until its absolute end `expires_at` or its revocation (a reused code or refresh
-- token, a logout, a revocation request).
CREATE TABLE oidc_grants (
    id TEXT PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    service_id TEXT NOT NULL REFERENCES sso_services (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    session_hash TEXT NOT NULL,
    scope TEXT NOT NULL,
    auth_time BIGINT NOT NULL,
    second_factor BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX oidc_grants_session ON oidc_grants (session_hash);
CREATE INDEX oidc_grants_person ON oidc_grants (person_id);
CREATE INDEX oidc_grants_expires ON oidc_grants (expires_at);

-- A refresh token of a grant. Each use sets `used_at` and issues the next one; a token used
-- twice revokes its whole grant. `expires_at` is the idle limit, never past the grant's end.
CREATE TABLE oidc_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL REFERENCES oidc_grants (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX oidc_refresh_tokens_grant ON oidc_refresh_tokens (grant_id);

-- An access token (a JWT) by its `jti`, so that it can be revoked before it expires.
CREATE TABLE oidc_access_tokens (
    jti TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL REFERENCES oidc_grants (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX oidc_access_tokens_grant ON oidc_access_tokens (grant_id);
CREATE INDEX oidc_access_tokens_expires ON oidc_access_tokens (expires_at);
