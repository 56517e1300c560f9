-- Generations of what the server keeps in memory (store::cache). Each row counts the committed
-- changes to one family of tables:
-- - `directory`: people, accounts' logins, schools, classes, groups, memberships, roles,
--   preferences;
-- - `timetable`: school years, slot grids, rooms, courses and their changes;
-- - `internship`: the reference lists, hosts, offers, the collèges' weeks and profiles, the
--   settings, partners;
-- - `places`: an application that takes or gives back a place (becoming or ceasing to be
--   confirmed);
-- - `applications`: an application made or removed (who applied to what).
-- A reader takes the generations in the same statement as its session and keeps what it
-- computed under them; any change to a family, by this process, another instance or a command
-- on the same database, moves its generation and so retires what was kept. Only the login of
-- `accounts` counts: its other columns (password, activation, the freeze) are read afresh with
-- every session.
CREATE TABLE cache_generations (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO cache_generations (name, value) VALUES ('directory', 1), ('timetable', 1),
    ('internship', 1), ('places', 1), ('applications', 1);

-- Moved once per transaction and family, when the transaction commits (a deferred trigger): a
-- long import holds the row for an instant at its end, not for its whole length.
CREATE FUNCTION cache_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('preau.bumped_' || TG_ARGV[0], true) IS DISTINCT FROM
        txid_current()::text THEN
        UPDATE cache_generations SET value = value + 1 WHERE name = TG_ARGV[0];
        PERFORM set_config('preau.bumped_' || TG_ARGV[0], txid_current()::text, true);
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER departement_generation AFTER INSERT OR UPDATE OR DELETE ON departement
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
CREATE CONSTRAINT TRIGGER schools_generation AFTER INSERT OR UPDATE OR DELETE ON schools
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
CREATE CONSTRAINT TRIGGER subjects_generation AFTER INSERT OR UPDATE OR DELETE ON subjects
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
CREATE CONSTRAINT TRIGGER mefs_generation AFTER INSERT OR UPDATE OR DELETE ON mefs
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
CREATE CONSTRAINT TRIGGER classes_generation AFTER INSERT OR UPDATE OR DELETE ON classes
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
CREATE CONSTRAINT TRIGGER teaching_groups_generation AFTER INSERT OR UPDATE OR DELETE ON teaching_groups
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
CREATE CONSTRAINT TRIGGER people_generation AFTER INSERT OR UPDATE OR DELETE ON people
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
CREATE CONSTRAINT TRIGGER person_schools_generation AFTER INSERT OR UPDATE OR DELETE ON person_schools
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
CREATE CONSTRAINT TRIGGER person_functions_generation AFTER INSERT OR UPDATE OR DELETE ON person_functions
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
CREATE CONSTRAINT TRIGGER class_teachers_generation AFTER INSERT OR UPDATE OR DELETE ON class_teachers
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
CREATE CONSTRAINT TRIGGER group_teachers_generation AFTER INSERT OR UPDATE OR DELETE ON group_teachers
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
CREATE CONSTRAINT TRIGGER principal_teachers_generation AFTER INSERT OR UPDATE OR DELETE ON principal_teachers
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
CREATE CONSTRAINT TRIGGER pupil_classes_generation AFTER INSERT OR UPDATE OR DELETE ON pupil_classes
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
CREATE CONSTRAINT TRIGGER pupil_groups_generation AFTER INSERT OR UPDATE OR DELETE ON pupil_groups
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
CREATE CONSTRAINT TRIGGER guardianships_generation AFTER INSERT OR UPDATE OR DELETE ON guardianships
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
CREATE CONSTRAINT TRIGGER departement_scopes_generation AFTER INSERT OR UPDATE OR DELETE ON departement_scopes
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
CREATE CONSTRAINT TRIGGER roles_generation AFTER INSERT OR UPDATE OR DELETE ON roles
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
CREATE CONSTRAINT TRIGGER accounts_generation AFTER INSERT OR UPDATE OF login OR DELETE ON accounts
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
CREATE CONSTRAINT TRIGGER preferences_generation AFTER INSERT OR UPDATE OR DELETE ON preferences
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('directory');
CREATE CONSTRAINT TRIGGER school_years_generation AFTER INSERT OR UPDATE OR DELETE ON school_years
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('timetable');
CREATE CONSTRAINT TRIGGER time_slots_generation AFTER INSERT OR UPDATE OR DELETE ON time_slots
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('timetable');
CREATE CONSTRAINT TRIGGER rooms_generation AFTER INSERT OR UPDATE OR DELETE ON rooms
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('timetable');
CREATE CONSTRAINT TRIGGER courses_generation AFTER INSERT OR UPDATE OR DELETE ON courses
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('timetable');
CREATE CONSTRAINT TRIGGER course_teachers_generation AFTER INSERT OR UPDATE OR DELETE ON course_teachers
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('timetable');
CREATE CONSTRAINT TRIGGER course_classes_generation AFTER INSERT OR UPDATE OR DELETE ON course_classes
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('timetable');
CREATE CONSTRAINT TRIGGER course_groups_generation AFTER INSERT OR UPDATE OR DELETE ON course_groups
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('timetable');
CREATE CONSTRAINT TRIGGER course_rooms_generation AFTER INSERT OR UPDATE OR DELETE ON course_rooms
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('timetable');
CREATE CONSTRAINT TRIGGER course_changes_generation AFTER INSERT OR UPDATE OR DELETE ON course_changes
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('timetable');
CREATE CONSTRAINT TRIGGER internship_sectors_generation AFTER INSERT OR UPDATE OR DELETE ON internship_sectors
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('internship');
CREATE CONSTRAINT TRIGGER communes_generation AFTER INSERT OR UPDATE OR DELETE ON communes
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('internship');
CREATE CONSTRAINT TRIGGER hosts_generation AFTER INSERT OR UPDATE OR DELETE ON hosts
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('internship');
CREATE CONSTRAINT TRIGGER host_members_generation AFTER INSERT OR UPDATE OR DELETE ON host_members
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('internship');
CREATE CONSTRAINT TRIGGER school_internship_profiles_generation AFTER INSERT OR UPDATE OR DELETE ON school_internship_profiles
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('internship');
CREATE CONSTRAINT TRIGGER school_internship_weeks_generation AFTER INSERT OR UPDATE OR DELETE ON school_internship_weeks
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('internship');
CREATE CONSTRAINT TRIGGER internship_settings_generation AFTER INSERT OR UPDATE OR DELETE ON internship_settings
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('internship');
CREATE CONSTRAINT TRIGGER internship_partners_generation AFTER INSERT OR UPDATE OR DELETE ON internship_partners
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('internship');
CREATE CONSTRAINT TRIGGER internship_offers_generation AFTER INSERT OR UPDATE OR DELETE ON internship_offers
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('internship');
CREATE CONSTRAINT TRIGGER internship_offer_weeks_generation AFTER INSERT OR UPDATE OR DELETE ON internship_offer_weeks
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('internship');
CREATE CONSTRAINT TRIGGER internship_offer_schools_generation AFTER INSERT OR UPDATE OR DELETE ON internship_offer_schools
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('internship');

-- Applications: made or removed, and taking or giving back a place.
CREATE CONSTRAINT TRIGGER internship_applications_generation
AFTER INSERT OR UPDATE OF pupil_id, offer_id OR DELETE ON internship_applications
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cache_generation_bump('applications');
CREATE CONSTRAINT TRIGGER internship_applications_places_insert AFTER INSERT
ON internship_applications DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
WHEN (NEW.state = 'confirmed') EXECUTE FUNCTION cache_generation_bump('places');
CREATE CONSTRAINT TRIGGER internship_applications_places_delete AFTER DELETE
ON internship_applications DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
WHEN (OLD.state = 'confirmed') EXECUTE FUNCTION cache_generation_bump('places');
CREATE CONSTRAINT TRIGGER internship_applications_places_update
AFTER UPDATE OF state, iso_week, offer_id ON internship_applications
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
WHEN (OLD.state = 'confirmed' OR NEW.state = 'confirmed')
EXECUTE FUNCTION cache_generation_bump('places');
