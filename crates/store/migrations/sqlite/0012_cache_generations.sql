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

-- SQLite has row triggers only; each moves the counter within the writer's transaction.
CREATE TRIGGER departement_generation_insert AFTER INSERT ON departement BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER departement_generation_update AFTER UPDATE ON departement BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER departement_generation_delete AFTER DELETE ON departement BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER schools_generation_insert AFTER INSERT ON schools BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER schools_generation_update AFTER UPDATE ON schools BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER schools_generation_delete AFTER DELETE ON schools BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER subjects_generation_insert AFTER INSERT ON subjects BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER subjects_generation_update AFTER UPDATE ON subjects BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER subjects_generation_delete AFTER DELETE ON subjects BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER mefs_generation_insert AFTER INSERT ON mefs BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER mefs_generation_update AFTER UPDATE ON mefs BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER mefs_generation_delete AFTER DELETE ON mefs BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER classes_generation_insert AFTER INSERT ON classes BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER classes_generation_update AFTER UPDATE ON classes BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER classes_generation_delete AFTER DELETE ON classes BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER teaching_groups_generation_insert AFTER INSERT ON teaching_groups BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER teaching_groups_generation_update AFTER UPDATE ON teaching_groups BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER teaching_groups_generation_delete AFTER DELETE ON teaching_groups BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER people_generation_insert AFTER INSERT ON people BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER people_generation_update AFTER UPDATE ON people BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER people_generation_delete AFTER DELETE ON people BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER person_schools_generation_insert AFTER INSERT ON person_schools BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER person_schools_generation_update AFTER UPDATE ON person_schools BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER person_schools_generation_delete AFTER DELETE ON person_schools BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER person_functions_generation_insert AFTER INSERT ON person_functions BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER person_functions_generation_update AFTER UPDATE ON person_functions BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER person_functions_generation_delete AFTER DELETE ON person_functions BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER class_teachers_generation_insert AFTER INSERT ON class_teachers BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER class_teachers_generation_update AFTER UPDATE ON class_teachers BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER class_teachers_generation_delete AFTER DELETE ON class_teachers BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER group_teachers_generation_insert AFTER INSERT ON group_teachers BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER group_teachers_generation_update AFTER UPDATE ON group_teachers BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER group_teachers_generation_delete AFTER DELETE ON group_teachers BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER principal_teachers_generation_insert AFTER INSERT ON principal_teachers BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER principal_teachers_generation_update AFTER UPDATE ON principal_teachers BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER principal_teachers_generation_delete AFTER DELETE ON principal_teachers BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER pupil_classes_generation_insert AFTER INSERT ON pupil_classes BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER pupil_classes_generation_update AFTER UPDATE ON pupil_classes BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER pupil_classes_generation_delete AFTER DELETE ON pupil_classes BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER pupil_groups_generation_insert AFTER INSERT ON pupil_groups BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER pupil_groups_generation_update AFTER UPDATE ON pupil_groups BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER pupil_groups_generation_delete AFTER DELETE ON pupil_groups BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER guardianships_generation_insert AFTER INSERT ON guardianships BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER guardianships_generation_update AFTER UPDATE ON guardianships BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER guardianships_generation_delete AFTER DELETE ON guardianships BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER departement_scopes_generation_insert AFTER INSERT ON departement_scopes BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER departement_scopes_generation_update AFTER UPDATE ON departement_scopes BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER departement_scopes_generation_delete AFTER DELETE ON departement_scopes BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER roles_generation_insert AFTER INSERT ON roles BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER roles_generation_update AFTER UPDATE ON roles BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER roles_generation_delete AFTER DELETE ON roles BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER accounts_generation_insert AFTER INSERT ON accounts BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER accounts_generation_update AFTER UPDATE OF login ON accounts BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER accounts_generation_delete AFTER DELETE ON accounts BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER preferences_generation_insert AFTER INSERT ON preferences BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER preferences_generation_update AFTER UPDATE ON preferences BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER preferences_generation_delete AFTER DELETE ON preferences BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'directory';
END;
CREATE TRIGGER school_years_generation_insert AFTER INSERT ON school_years BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER school_years_generation_update AFTER UPDATE ON school_years BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER school_years_generation_delete AFTER DELETE ON school_years BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER time_slots_generation_insert AFTER INSERT ON time_slots BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER time_slots_generation_update AFTER UPDATE ON time_slots BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER time_slots_generation_delete AFTER DELETE ON time_slots BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER rooms_generation_insert AFTER INSERT ON rooms BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER rooms_generation_update AFTER UPDATE ON rooms BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER rooms_generation_delete AFTER DELETE ON rooms BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER courses_generation_insert AFTER INSERT ON courses BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER courses_generation_update AFTER UPDATE ON courses BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER courses_generation_delete AFTER DELETE ON courses BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER course_teachers_generation_insert AFTER INSERT ON course_teachers BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER course_teachers_generation_update AFTER UPDATE ON course_teachers BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER course_teachers_generation_delete AFTER DELETE ON course_teachers BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER course_classes_generation_insert AFTER INSERT ON course_classes BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER course_classes_generation_update AFTER UPDATE ON course_classes BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER course_classes_generation_delete AFTER DELETE ON course_classes BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER course_groups_generation_insert AFTER INSERT ON course_groups BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER course_groups_generation_update AFTER UPDATE ON course_groups BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER course_groups_generation_delete AFTER DELETE ON course_groups BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER course_rooms_generation_insert AFTER INSERT ON course_rooms BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER course_rooms_generation_update AFTER UPDATE ON course_rooms BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER course_rooms_generation_delete AFTER DELETE ON course_rooms BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER course_changes_generation_insert AFTER INSERT ON course_changes BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER course_changes_generation_update AFTER UPDATE ON course_changes BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER course_changes_generation_delete AFTER DELETE ON course_changes BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'timetable';
END;
CREATE TRIGGER internship_sectors_generation_insert AFTER INSERT ON internship_sectors BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER internship_sectors_generation_update AFTER UPDATE ON internship_sectors BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER internship_sectors_generation_delete AFTER DELETE ON internship_sectors BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER communes_generation_insert AFTER INSERT ON communes BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER communes_generation_update AFTER UPDATE ON communes BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER communes_generation_delete AFTER DELETE ON communes BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER hosts_generation_insert AFTER INSERT ON hosts BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER hosts_generation_update AFTER UPDATE ON hosts BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER hosts_generation_delete AFTER DELETE ON hosts BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER host_members_generation_insert AFTER INSERT ON host_members BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER host_members_generation_update AFTER UPDATE ON host_members BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER host_members_generation_delete AFTER DELETE ON host_members BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER school_internship_profiles_generation_insert AFTER INSERT ON school_internship_profiles BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER school_internship_profiles_generation_update AFTER UPDATE ON school_internship_profiles BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER school_internship_profiles_generation_delete AFTER DELETE ON school_internship_profiles BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER school_internship_weeks_generation_insert AFTER INSERT ON school_internship_weeks BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER school_internship_weeks_generation_update AFTER UPDATE ON school_internship_weeks BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER school_internship_weeks_generation_delete AFTER DELETE ON school_internship_weeks BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER internship_settings_generation_insert AFTER INSERT ON internship_settings BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER internship_settings_generation_update AFTER UPDATE ON internship_settings BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER internship_settings_generation_delete AFTER DELETE ON internship_settings BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER internship_partners_generation_insert AFTER INSERT ON internship_partners BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER internship_partners_generation_update AFTER UPDATE ON internship_partners BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER internship_partners_generation_delete AFTER DELETE ON internship_partners BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER internship_offers_generation_insert AFTER INSERT ON internship_offers BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER internship_offers_generation_update AFTER UPDATE ON internship_offers BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER internship_offers_generation_delete AFTER DELETE ON internship_offers BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER internship_offer_weeks_generation_insert AFTER INSERT ON internship_offer_weeks BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER internship_offer_weeks_generation_update AFTER UPDATE ON internship_offer_weeks BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER internship_offer_weeks_generation_delete AFTER DELETE ON internship_offer_weeks BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER internship_offer_schools_generation_insert AFTER INSERT ON internship_offer_schools BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER internship_offer_schools_generation_update AFTER UPDATE ON internship_offer_schools BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;
CREATE TRIGGER internship_offer_schools_generation_delete AFTER DELETE ON internship_offer_schools BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'internship';
END;

-- Applications: made or removed, and taking or giving back a place.
CREATE TRIGGER internship_applications_generation_insert AFTER INSERT ON internship_applications
BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'applications';
END;
CREATE TRIGGER internship_applications_generation_delete AFTER DELETE ON internship_applications
BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'applications';
END;
CREATE TRIGGER internship_applications_generation_update
AFTER UPDATE OF pupil_id, offer_id ON internship_applications BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'applications';
END;
CREATE TRIGGER internship_applications_places_insert AFTER INSERT ON internship_applications
WHEN NEW.state = 'confirmed' BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'places';
END;
CREATE TRIGGER internship_applications_places_delete AFTER DELETE ON internship_applications
WHEN OLD.state = 'confirmed' BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'places';
END;
CREATE TRIGGER internship_applications_places_update
AFTER UPDATE OF state, iso_week, offer_id ON internship_applications
WHEN OLD.state = 'confirmed' OR NEW.state = 'confirmed' BEGIN
    UPDATE cache_generations SET value = value + 1 WHERE name = 'places';
END;
