-- The catalogue of resources (store::resources): what the département and the schools offer
-- their people (textbooks, dictionaries, platforms, the département library's digital offer,
-- services to families), to whom, and how often each is opened per school and day. Instants
-- are Unix seconds (UTC); days are `YYYY-MM-DD` in the school's zone.

-- A resource. `school_id` is the school that maintains it (its administrators), NULL for the
-- département's. `kind` is a code of store::resources::KINDS. `service_id` is the registered
-- application it opens through (CAS: the tile goes through /cas/login), if any.
CREATE TABLE resources (
    id TEXT PRIMARY KEY,
    school_id TEXT REFERENCES schools (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    service_id TEXT REFERENCES sso_services (id) ON DELETE SET NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX resources_school ON resources (school_id);
CREATE INDEX resources_service ON resources (service_id);

-- The schools whose people see a resource. None: the whole département (département resources
-- only; a school's resource always lists its own school).
CREATE TABLE resource_schools (
    resource_id TEXT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    PRIMARY KEY (resource_id, school_id)
);
CREATE INDEX resource_schools_school ON resource_schools (school_id);

-- The profiles that see a resource (at least one).
CREATE TABLE resource_profiles (
    resource_id TEXT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    profile TEXT NOT NULL,
    PRIMARY KEY (resource_id, profile)
);

-- What the catalogue's filters read: `kind` 'subject', 'level' or 'dys', `value` a code of
-- store::resources.
CREATE TABLE resource_tags (
    resource_id TEXT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (resource_id, kind, value)
);
CREATE INDEX resource_tags_value ON resource_tags (kind, value);

-- How many times a resource was opened, per school ('' for people of no school) and day in
-- that school's zone. An aggregate counter: nothing here says who opened it.
CREATE TABLE resource_openings (
    resource_id TEXT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    school_id TEXT NOT NULL,
    day TEXT NOT NULL,
    openings BIGINT NOT NULL,
    PRIMARY KEY (resource_id, school_id, day)
);
CREATE INDEX resource_openings_day ON resource_openings (day);
