-- The 3e internship platform (store::internship): host organisations and their people, offers
-- with their weeks and reservations, the collèges' internship weeks, applications and their
-- history, agreements with their signatures and single-use signing links, partner platforms,
-- and the reference lists (sectors, the gazetteer of communes). Instants are Unix seconds
-- (UTC); civil dates are `YYYY-MM-DD`; ISO weeks are `YYYY-Www` (`2027-W05`).

-- The national list of professional sectors; `id` is the national platform's UUID, so that
-- partners can name a sector the way the national operator API does.
CREATE TABLE internship_sectors (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    folded_name TEXT NOT NULL
);

-- The offline gazetteer: communes with the coordinates of their centre. `id` is the INSEE or
-- GeoNames code it came with; `folded_name` is domain::names::fold_for_search of the name.
CREATE TABLE communes (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    folded_name TEXT NOT NULL,
    postal_code TEXT,
    population BIGINT,
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL
);
CREATE INDEX communes_folded ON communes (folded_name);
CREATE INDEX communes_postal ON communes (postal_code);

-- A host organisation. `status`: 'pending' (self-registered, not yet checked: its offers are
-- not shown to pupils), 'verified', 'suspended' (its offers hidden, its people cannot act),
-- 'merged' (into `merged_into`, which took its offers and people). `kind`: 'company',
-- 'public', 'association'.
CREATE TABLE hosts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    folded_name TEXT NOT NULL,
    siret TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    street TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    contact_name TEXT NOT NULL DEFAULT '',
    contact_email TEXT NOT NULL DEFAULT '',
    contact_phone TEXT NOT NULL DEFAULT '',
    representative_name TEXT NOT NULL DEFAULT '',
    representative_role TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    merged_into TEXT REFERENCES hosts (id),
    created_by TEXT,
    verified_by TEXT,
    verified_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX hosts_status ON hosts (status);

-- The people of a host (profile 'host'). `role`: 'manager' (may invite and remove members)
-- or 'member'. A person belongs to one host at most.
CREATE TABLE host_members (
    host_id TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL UNIQUE REFERENCES people (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (host_id, person_id)
);

-- What the département says of a collège for internships: rural (chosen by the département),
-- priority education ('rep', 'rep_plus' or NULL), and the date of the board's vote that
-- delegates signing to the head (written on the agreement).
CREATE TABLE school_internship_profiles (
    school_id TEXT PRIMARY KEY REFERENCES schools (id) ON DELETE CASCADE,
    rural BIGINT NOT NULL DEFAULT 0,
    priority_education TEXT,
    delegation_date TEXT,
    updated_at BIGINT NOT NULL
);

-- The internship weeks a collège declares for a level ('3e', '4e'). `monday` is the week's
-- Monday, a civil date, kept for ordering and display.
CREATE TABLE school_internship_weeks (
    school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    level TEXT NOT NULL,
    iso_week TEXT NOT NULL,
    monday TEXT NOT NULL,
    PRIMARY KEY (school_id, level, iso_week)
);
CREATE INDEX school_internship_weeks_week ON school_internship_weeks (iso_week);

-- The département's settings, one row (id = 1): delays in days, the head start given to
-- rural and priority-education pupils, and the default radius of a search.
CREATE TABLE internship_settings (
    id BIGINT PRIMARY KEY,
    application_days BIGINT NOT NULL,
    read_extension_days BIGINT NOT NULL,
    confirmation_days BIGINT NOT NULL,
    reminder_days BIGINT NOT NULL,
    head_start_days BIGINT NOT NULL,
    default_radius_km BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO internship_settings
    (id, application_days, read_extension_days, confirmation_days, reminder_days,
     head_start_days, default_radius_km, updated_at)
VALUES (1, 15, 15, 7, 2, 7, 30, 0);

-- A partner platform that pushes offers through the JSON API, with the SHA-256 of its bearer
-- token (shown once).
CREATE TABLE internship_partners (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    active BIGINT NOT NULL DEFAULT 1,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);

-- An offer. `state`: 'draft', 'published', 'unpublished', 'archived'. `location_precision`:
-- 'address' (the host gave a point) or 'commune' (the gazetteer's centre of `commune_id`).
-- `reservation`: 'none', 'priority_education', 'rural' or 'schools' (the schools of
-- internship_offer_schools). `daily_hours` is JSON (domain::internship::WeekHours).
-- `search_text` is domain::internship::search_terms of title, description, sector and host:
-- folded, stemmed words between spaces, read with LIKE on both engines. A partner's offer
-- has `partner_id`, `remote_id` (unique per partner) and `permalink` (where pupils apply).
-- `visible_from` is the instant before which only head-start pupils see it.
CREATE TABLE internship_offers (
    id TEXT PRIMARY KEY,
    host_id TEXT REFERENCES hosts (id),
    partner_id TEXT REFERENCES internship_partners (id),
    remote_id TEXT,
    permalink TEXT,
    employer_name TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    sector_id TEXT REFERENCES internship_sectors (id),
    street TEXT NOT NULL DEFAULT '',
    postal_code TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    commune_id TEXT REFERENCES communes (id),
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    location_precision TEXT NOT NULL,
    places_per_week BIGINT NOT NULL,
    places_total BIGINT NOT NULL,
    tutor_name TEXT NOT NULL DEFAULT '',
    tutor_role TEXT NOT NULL DEFAULT '',
    tutor_email TEXT NOT NULL DEFAULT '',
    tutor_phone TEXT NOT NULL DEFAULT '',
    daily_hours TEXT NOT NULL DEFAULT '{}',
    accessible BIGINT NOT NULL DEFAULT 0,
    reservation TEXT NOT NULL DEFAULT 'none',
    state TEXT NOT NULL,
    search_text TEXT NOT NULL DEFAULT '',
    visible_from BIGINT,
    created_by TEXT,
    published_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (partner_id, remote_id)
);
CREATE INDEX internship_offers_host ON internship_offers (host_id);
CREATE INDEX internship_offers_place ON internship_offers (state, latitude, longitude, sector_id);

-- The ISO weeks an offer is open.
CREATE TABLE internship_offer_weeks (
    offer_id TEXT NOT NULL REFERENCES internship_offers (id) ON DELETE CASCADE,
    iso_week TEXT NOT NULL,
    monday TEXT NOT NULL,
    PRIMARY KEY (offer_id, iso_week)
);
CREATE INDEX internship_offer_weeks_week ON internship_offer_weeks (iso_week, offer_id);

-- The schools an offer with reservation 'schools' is reserved for.
CREATE TABLE internship_offer_schools (
    offer_id TEXT NOT NULL REFERENCES internship_offers (id) ON DELETE CASCADE,
    school_id TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
    PRIMARY KEY (offer_id, school_id)
);

-- An application of a pupil to an offer for one week. `state`: domain::internship::
-- ApplicationState codes. A place is taken by a 'confirmed' application and by nothing else:
-- the places left are always counted from these rows. `consent_by`/`consent_at`: the legal
-- guardian who agreed. `expires_at`: when the current state lapses (NULL when it does not);
-- `reminded_at`: the reminder sent for that deadline.
CREATE TABLE internship_applications (
    id TEXT PRIMARY KEY,
    offer_id TEXT NOT NULL REFERENCES internship_offers (id),
    pupil_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    school_id TEXT NOT NULL REFERENCES schools (id),
    iso_week TEXT NOT NULL,
    state TEXT NOT NULL,
    motivation TEXT NOT NULL DEFAULT '',
    consent_by TEXT REFERENCES people (id) ON DELETE SET NULL,
    consent_at BIGINT,
    expires_at BIGINT,
    reminded_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (pupil_id, offer_id)
);
CREATE INDEX internship_applications_offer ON internship_applications (offer_id, iso_week, state);
CREATE INDEX internship_applications_pupil ON internship_applications (pupil_id, state);
CREATE INDEX internship_applications_school ON internship_applications (school_id, state);
CREATE INDEX internship_applications_due ON internship_applications (expires_at)
    WHERE expires_at IS NOT NULL;
-- A pupil holds at most one confirmed internship per week.
CREATE UNIQUE INDEX internship_applications_one_per_week
    ON internship_applications (pupil_id, iso_week) WHERE state = 'confirmed';

-- Every change of an application's state: who (a person, or NULL for Préau itself), from and
-- to which state, when.
CREATE TABLE internship_application_events (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES internship_applications (id) ON DELETE CASCADE,
    from_state TEXT,
    to_state TEXT NOT NULL,
    actor_id TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX internship_application_events_app ON internship_application_events (application_id, at);

-- The agreement of a confirmed application (one per application, enforced here). `state`:
-- domain::internship::AgreementState codes. `content` is the JSON of
-- domain::internship::AgreementContent (the snapshot of every party, written at creation and
-- completed by the host and the school); `version` grows with every change of it, and a
-- signature is valid only for the version and `document_sha256` it was given on.
-- `document_sha256` is the SHA-256 of the frozen PDF; `sealed_file_key` the FileStore key of
-- the sealed PDF once everyone has signed. `referent_teacher_id` repeats the content's
-- referent teacher (written with it), so that who may read an agreement is decided in SQL.
CREATE TABLE internship_agreements (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL UNIQUE REFERENCES internship_applications (id),
    school_id TEXT NOT NULL REFERENCES schools (id),
    host_id TEXT REFERENCES hosts (id),
    referent_teacher_id TEXT,
    state TEXT NOT NULL,
    content TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    document_sha256 TEXT,
    frozen_at BIGINT,
    sealed_at BIGINT,
    sealed_file_key TEXT,
    sealed_sha256 TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX internship_agreements_school ON internship_agreements (school_id, state);
CREATE INDEX internship_agreements_host ON internship_agreements (host_id, state);

-- A signature. `role`: domain::internship::SignatoryRole codes. `method`: 'session' (an ENT
-- session), 'link' (a single-use link and a code sent by e-mail), 'paper' (marked by the
-- school, with the scan in `scan_file_key`). `person_id` is the signer when Préau knows them.
-- `voided_at` is set when a change of the agreement voids it. One valid signature per role
-- and version.
CREATE TABLE internship_signatures (
    id TEXT PRIMARY KEY,
    agreement_id TEXT NOT NULL REFERENCES internship_agreements (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    version BIGINT NOT NULL,
    document_sha256 TEXT NOT NULL,
    person_id TEXT,
    signer_name TEXT NOT NULL,
    method TEXT NOT NULL,
    recorded_by TEXT,
    ip TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    scan_file_key TEXT,
    signed_at BIGINT NOT NULL,
    voided_at BIGINT,
    UNIQUE (agreement_id, role, version)
);
CREATE INDEX internship_signatures_agreement ON internship_signatures (agreement_id, version);

-- A single-use signing link for a party without an ENT session (the host's representative,
-- the tutor): the SHA-256 of the link's token, the e-mail it was sent to, and the SHA-256 of
-- the one-time code sent when the link is opened, with its expiry and the tries left.
CREATE TABLE internship_sign_links (
    token_hash TEXT PRIMARY KEY,
    agreement_id TEXT NOT NULL REFERENCES internship_agreements (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    version BIGINT NOT NULL,
    email TEXT NOT NULL,
    signer_name TEXT NOT NULL,
    code_hash TEXT,
    code_expires_at BIGINT,
    code_tries BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX internship_sign_links_agreement ON internship_sign_links (agreement_id, role);

-- The département's sealing keys (Ed25519): the PKCS#8 private key, the raw public key, and
-- whether it is the one that seals now. Old keys stay to verify what they sealed.
CREATE TABLE internship_seal_keys (
    id TEXT PRIMARY KEY,
    private_pkcs8 TEXT NOT NULL,
    public_key TEXT NOT NULL,
    active BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- E-mails of the internship platform waiting for the notification worker (an outbox entry of
-- kind 'internship_mail' names each): a signing code, an application's news. The body is
-- emptied once sent.
CREATE TABLE internship_mails (
    id TEXT PRIMARY KEY,
    to_email TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
