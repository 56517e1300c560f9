-- Timetables: per school, one school year counted in weeks, a slot grid, rooms, and courses as
-- weekly patterns in local wall-clock time (weekday, minutes after local midnight, a bitmask of
-- school weeks), linked to teachers, classes, groups and rooms; changes per occurrence; the
-- import runs and their reports; private calendar feeds.

CREATE TABLE school_years (
    school_id TEXT PRIMARY KEY REFERENCES schools (id) ON DELETE CASCADE,
    -- The Monday of week 1 and the last day of lessons, `YYYY-MM-DD`.
    first_monday TEXT NOT NULL,
    last_day TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE time_slots (
    school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    start_minute BIGINT NOT NULL,
    end_minute BIGINT NOT NULL,
    PRIMARY KEY (school_id, number)
);

CREATE TABLE rooms (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    -- The folded name (domain::names::search_key), for matching across imports.
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (school_id, code)
);

CREATE TABLE courses (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    -- 'edt', 'udt' or 'ical'; with source_key, the identity of the course across re-imports.
    source TEXT NOT NULL,
    source_key TEXT NOT NULL,
    -- For an iCalendar import: the class or teacher the feed was imported for ('' otherwise),
    -- so that re-importing one class's feed replaces that class's courses only.
    source_scope TEXT NOT NULL DEFAULT '',
    subject_code TEXT,
    subject_label TEXT NOT NULL,
    -- 1 = Monday … 7 = Sunday.
    weekday BIGINT NOT NULL,
    start_minute BIGINT NOT NULL,
    end_minute BIGINT NOT NULL,
    -- domain::timetable::WeekSet, bit 0 = week 1.
    weeks BIGINT NOT NULL,
    -- A digest of what the course says; a re-import that changes it bumps `sequence`.
    fingerprint TEXT NOT NULL,
    sequence BIGINT NOT NULL DEFAULT 0,
    -- Names the file gave that matched nobody in the directory, shown as written.
    unmatched_teachers TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (school_id, source, source_scope, source_key)
);

CREATE TABLE course_teachers (
    course_id TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    PRIMARY KEY (course_id, person_id)
);
CREATE INDEX course_teachers_person ON course_teachers (person_id);

CREATE TABLE course_classes (
    course_id TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    class_id TEXT NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    PRIMARY KEY (course_id, class_id)
);
CREATE INDEX course_classes_class ON course_classes (class_id);

CREATE TABLE course_groups (
    course_id TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL REFERENCES teaching_groups (id) ON DELETE CASCADE,
    PRIMARY KEY (course_id, group_id)
);
CREATE INDEX course_groups_group ON course_groups (group_id);

CREATE TABLE course_rooms (
    course_id TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    room_id TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    PRIMARY KEY (course_id, room_id)
);
CREATE INDEX course_rooms_room ON course_rooms (room_id);

-- A change to one occurrence of a course, keyed by the occurrence's original local date.
CREATE TABLE course_changes (
    id TEXT PRIMARY KEY,
    course_id TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    occurrence_date TEXT NOT NULL,
    -- 'import' (cancelled weeks of the file, replaced at each import) or 'manual'.
    origin TEXT NOT NULL,
    cancelled BIGINT NOT NULL DEFAULT 0,
    exam BIGINT NOT NULL DEFAULT 0,
    -- A move: the new local date and times.
    new_date TEXT,
    new_start_minute BIGINT,
    new_end_minute BIGINT,
    new_room_id TEXT REFERENCES rooms (id) ON DELETE SET NULL,
    substitute_id TEXT REFERENCES people (id) ON DELETE SET NULL,
    note TEXT NOT NULL DEFAULT '',
    -- Bumped at each edit; added to the course's sequence in calendar feeds.
    sequence BIGINT NOT NULL DEFAULT 1,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (course_id, occurrence_date)
);
CREATE INDEX course_changes_new_date ON course_changes (new_date);
CREATE INDEX course_changes_substitute ON course_changes (substitute_id);
CREATE INDEX course_changes_room ON course_changes (new_room_id);

CREATE TABLE timetable_imports (
    id TEXT PRIMARY KEY,
    school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    file_name TEXT NOT NULL,
    started_by TEXT,
    created_at BIGINT NOT NULL,
    -- 'applied' or 'refused' (the whole file).
    outcome TEXT NOT NULL,
    courses_created BIGINT NOT NULL DEFAULT 0,
    courses_updated BIGINT NOT NULL DEFAULT 0,
    courses_unchanged BIGINT NOT NULL DEFAULT 0,
    courses_removed BIGINT NOT NULL DEFAULT 0,
    -- JSON: the rejections, the ambiguous or unknown matches and the notices.
    report TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX timetable_imports_school ON timetable_imports (school_id, created_at);

CREATE TABLE calendar_feeds (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    -- The person whose timetable the feed shows (the person, or a parent's child).
    subject_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    -- SHA-256 of the secret in the URL; the secret itself is never stored.
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_used_at BIGINT
);
CREATE INDEX calendar_feeds_person ON calendar_feeds (person_id);

-- Class memberships end on the school's own calendar (an overseas collège's exit date ends at its
-- local midnight, not Paris's). `exit_after` is the Unix second at which the membership ends: the
-- local midnight after `exit_date` in the school's zone, written by the AAF import and stamped at
-- start-up for older rows; NULL when there is no exit date, or when the row was written by hand
-- (the check then compares `exit_date` with the Paris date, until the next start-up stamps it).
-- Editing `exit_date` by hand clears a stamp that no longer matches it.
ALTER TABLE pupil_classes ADD COLUMN exit_after BIGINT;
CREATE TRIGGER pupil_classes_exit_edited AFTER UPDATE OF exit_date ON pupil_classes
FOR EACH ROW WHEN OLD.exit_after IS NOT NULL AND NEW.exit_after IS OLD.exit_after
    AND NEW.exit_date IS NOT OLD.exit_date
BEGIN
    UPDATE pupil_classes SET exit_after = NULL
    WHERE pupil_id = NEW.pupil_id AND class_id = NEW.class_id;
END;
