-- News of a school or of the département (store::news): what was published, to whom, and who
-- acknowledged it. Instants are Unix seconds (UTC).

CREATE TABLE news (
    id TEXT PRIMARY KEY,
    author_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    -- The school it is published in the name of, or '' for the département.
    school_id TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL,
    -- Sanitised HTML (formats::rich_text) and its plain-text rendering.
    body_html TEXT NOT NULL,
    body_text TEXT NOT NULL,
    -- The illustration, an image checked by content and kept in `attachments`.
    image_attachment_id TEXT REFERENCES attachments (id) ON DELETE SET NULL,
    -- The illustration's text alternative ('' when it only decorates).
    image_alt TEXT NOT NULL DEFAULT '',
    publish_at BIGINT NOT NULL,
    expires_at BIGINT,
    -- 1 when the people targeted are asked to acknowledge it ("lu et pris connaissance").
    requires_ack BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    withdrawn_at BIGINT
);
CREATE INDEX news_publish ON news (publish_at);
CREATE INDEX news_author ON news (author_id, created_at);
CREATE INDEX news_school ON news (school_id, created_at);

-- Who a news item is for. `kind` 'school' (a school id, or '' for the whole département; at
-- least one row), and optionally 'profile' (a profile code), 'level' (mefs.level) and 'class'
-- (a class id): a person is targeted when they match every kind the item names (see
-- store::news for the exact rule).
CREATE TABLE news_targets (
    news_id TEXT NOT NULL REFERENCES news (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (news_id, kind, value)
);
CREATE INDEX news_targets_value ON news_targets (kind, value);

-- "J'ai lu et pris connaissance": one row per person and item, the first click kept.
CREATE TABLE news_acks (
    news_id TEXT NOT NULL REFERENCES news (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    PRIMARY KEY (news_id, person_id)
);
CREATE INDEX news_acks_person ON news_acks (person_id);
