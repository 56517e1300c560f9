-- The département's directory as AAF describes it, plus the département's own people.
-- Numbers and flags are BIGINT (0/1 for flags), instants are Unix seconds (UTC), civil dates are
-- 'YYYY-MM-DD' text: the same SQL then reads the same way on SQLite and PostgreSQL.

CREATE TABLE departement (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    code TEXT NOT NULL,
    name TEXT NOT NULL
);

CREATE TABLE schools (
    id TEXT PRIMARY KEY,
    jointure TEXT NOT NULL UNIQUE,
    uai TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT,
    contract TEXT,
    siret TEXT,
    street TEXT,
    postal_code TEXT,
    city TEXT,
    phone TEXT,
    email TEXT,
    academy TEXT,
    time_zone TEXT NOT NULL DEFAULT 'Europe/Paris',
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    attributes TEXT NOT NULL DEFAULT '{}',
    active BIGINT NOT NULL DEFAULT 1,
    missing_since BIGINT,
    deactivated_at BIGINT,
    -- The import run whose complete full export last listed this school.
    last_seen_run TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX schools_uai ON schools (uai);

CREATE TABLE subjects (
    code TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    updated_at BIGINT NOT NULL
);

CREATE TABLE mefs (
    code TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    level TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    updated_at BIGINT NOT NULL
);

CREATE TABLE classes (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    mef_code TEXT,
    UNIQUE (school_id, code)
);

CREATE TABLE teaching_groups (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    UNIQUE (school_id, code)
);

CREATE TABLE people (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    profile TEXT NOT NULL,
    last_name TEXT NOT NULL,
    first_name TEXT NOT NULL,
    birth_name TEXT,
    title TEXT,
    birth_date TEXT,
    email TEXT,
    ine TEXT,
    mobile TEXT,
    address_lines TEXT,
    postal_code TEXT,
    city TEXT,
    country TEXT,
    mef_code TEXT,
    mef_label TEXT,
    -- The names folded for the directory search (domain::names::search_key).
    search_key TEXT NOT NULL DEFAULT '',
    attributes TEXT NOT NULL DEFAULT '{}',
    active BIGINT NOT NULL DEFAULT 1,
    missing_since BIGINT,
    deactivated_at BIGINT,
    -- The import run whose complete full export last listed this person.
    last_seen_run TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (source, external_id)
);
CREATE INDEX people_profile ON people (profile);
CREATE INDEX people_names ON people (last_name, first_name);

CREATE TABLE person_schools (
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, school_id)
);
CREATE INDEX person_schools_school ON person_schools (school_id);

CREATE TABLE person_functions (
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    label TEXT NOT NULL,
    discipline_code TEXT NOT NULL DEFAULT '',
    discipline_label TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (person_id, school_id, code, discipline_code)
);
CREATE INDEX person_functions_school ON person_functions (school_id, code);

CREATE TABLE class_teachers (
    teacher_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    class_id TEXT NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    subject_code TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (teacher_id, class_id, subject_code)
);
CREATE INDEX class_teachers_class ON class_teachers (class_id);

CREATE TABLE group_teachers (
    teacher_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES teaching_groups (id) ON DELETE CASCADE,
    subject_code TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (teacher_id, group_id, subject_code)
);
CREATE INDEX group_teachers_group ON group_teachers (group_id);

CREATE TABLE principal_teachers (
    teacher_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    class_id TEXT NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    PRIMARY KEY (teacher_id, class_id)
);
CREATE INDEX principal_teachers_class ON principal_teachers (class_id);

CREATE TABLE pupil_classes (
    pupil_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    class_id TEXT NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    entry_date TEXT,
    exit_date TEXT,
    PRIMARY KEY (pupil_id, class_id)
);
CREATE INDEX pupil_classes_class ON pupil_classes (class_id);

CREATE TABLE pupil_groups (
    pupil_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES teaching_groups (id) ON DELETE CASCADE,
    PRIMARY KEY (pupil_id, group_id)
);
CREATE INDEX pupil_groups_group ON pupil_groups (group_id);

-- A pupil's relatives, with the AAF flags. `legal`: 0 none, 1 legal guardian, 2 person in charge.
CREATE TABLE guardianships (
    pupil_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    relative_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    kinship TEXT,
    legal BIGINT NOT NULL,
    financial BIGINT NOT NULL,
    contact BIGINT NOT NULL,
    payment BIGINT NOT NULL,
    PRIMARY KEY (pupil_id, relative_id)
);
CREATE INDEX guardianships_relative ON guardianships (relative_id);

-- References that pointed nowhere when their record was applied: a relative in a chunk not
-- provided yet, a class of an unknown school. Each later run retries them from the person's
-- stored attributes and deletes the rows that resolve.
CREATE TABLE pending_references (
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    file TEXT NOT NULL,
    line BIGINT NOT NULL,
    record_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (person_id, kind, target)
);
CREATE INDEX pending_references_target ON pending_references (kind, target);

-- The département's own people (agents, officials) and their scope: one row per school, or one
-- row with school_id '' for the whole département.
CREATE TABLE departement_scopes (
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    school_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (person_id, school_id)
);

-- Administrative roles: 'departement_admin' (school_id ''), 'school_admin' (a school).
CREATE TABLE roles (
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    school_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (person_id, role, school_id)
);

-- The next collision number to try for each login base (`jean.dupont` -> 2 gives
-- `jean.dupont2`), so that provisioning never scans `logins`.
CREATE TABLE login_counters (
    base TEXT PRIMARY KEY,
    next_number BIGINT NOT NULL
);

CREATE TABLE import_runs (
    id TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    -- Renewed after every file: a run whose heartbeat stopped long ago died with its process.
    heartbeat_at BIGINT,
    finished_at BIGINT,
    report TEXT NOT NULL DEFAULT '{}'
);
-- At most one run under way: a second import waits for the first to finish.
CREATE UNIQUE INDEX import_runs_one_running ON import_runs ((finished_at IS NULL))
    WHERE finished_at IS NULL;

CREATE TABLE import_rejections (
    run_id TEXT NOT NULL REFERENCES import_runs (id) ON DELETE CASCADE,
    file TEXT NOT NULL,
    line BIGINT NOT NULL,
    record_id TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX import_rejections_run ON import_rejections (run_id);
