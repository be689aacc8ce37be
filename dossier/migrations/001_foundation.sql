-- Foundation: calendar, classes, pupils, enrolments, staff, audit, import batches, settings.
-- No FOREIGN KEY clauses: DuckDB checks them eagerly and blocks the retention job's
-- deletes in a single transaction; referential rules are enforced by the core instead.

CREATE SEQUENCE class_id_seq START 1;
CREATE SEQUENCE pupil_id_seq START 1;
CREATE SEQUENCE staff_user_id_seq START 1;
CREATE SEQUENCE audit_log_id_seq START 1;
CREATE SEQUENCE import_batch_id_seq START 1;
CREATE SEQUENCE import_change_id_seq START 1;

CREATE TABLE setting (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE TABLE school_year (
    name VARCHAR PRIMARY KEY,              -- '2025-2026'
    start_date DATE NOT NULL,              -- 1 September
    end_date DATE NOT NULL                 -- 31 August
);

CREATE TABLE class (
    id INTEGER PRIMARY KEY DEFAULT nextval('class_id_seq'),
    school_year VARCHAR NOT NULL,
    name VARCHAR NOT NULL,                 -- free text: K2B, L3A, 1A2, 5LAWI
    level VARCHAR NOT NULL CHECK (level IN ('kleuter', 'lager', 'secundair')),
    grade INTEGER NOT NULL,
    parallel VARCHAR,
    UNIQUE (school_year, name)
);

CREATE TABLE pupil (
    id INTEGER PRIMARY KEY DEFAULT nextval('pupil_id_seq'),
    pupil_number VARCHAR NOT NULL UNIQUE,  -- stamboeknummer / leerlingnummer
    first_name VARCHAR NOT NULL,
    last_name VARCHAR NOT NULL,
    birth_date DATE NOT NULL,
    gender VARCHAR CHECK (gender IS NULL OR gender IN ('M', 'V', 'X')),
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE enrolment (
    pupil_id INTEGER NOT NULL,
    school_year VARCHAR NOT NULL,
    class_id INTEGER NOT NULL,
    entry_date DATE,                       -- instroomdatum
    leave_date DATE,                       -- vertrekdatum: the pupil left the school
    import_batch_id INTEGER,
    PRIMARY KEY (pupil_id, school_year)
);
CREATE INDEX enrolment_class_idx ON enrolment (class_id);

CREATE TABLE staff_user (
    id INTEGER PRIMARY KEY DEFAULT nextval('staff_user_id_seq'),
    username VARCHAR NOT NULL UNIQUE,
    display_name VARCHAR NOT NULL,
    email VARCHAR,
    role VARCHAR NOT NULL CHECK (role IN ('leerkracht', 'zorgteam', 'directie', 'clb', 'beheerder')),
    password_hash VARCHAR,
    active BOOLEAN NOT NULL DEFAULT true,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE class_assignment (
    user_id INTEGER NOT NULL,
    class_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, class_id)
);

CREATE TABLE audit_log (
    id BIGINT PRIMARY KEY DEFAULT nextval('audit_log_id_seq'),
    logged_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    user_id INTEGER,
    user_name VARCHAR,
    role VARCHAR,
    action VARCHAR NOT NULL,
    pupil_id INTEGER,
    object VARCHAR,
    detail VARCHAR
);
CREATE INDEX audit_log_pupil_idx ON audit_log (pupil_id);

CREATE TABLE import_batch (
    id INTEGER PRIMARY KEY DEFAULT nextval('import_batch_id_seq'),
    file_name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    format VARCHAR NOT NULL,
    user_id INTEGER,
    user_name VARCHAR,
    imported_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    rows INTEGER NOT NULL,
    inserted INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    undone_at TIMESTAMP,
    undone_by VARCHAR
);

-- One row per row an import inserted or changed: the history of imported values and
-- what an undo restores. before/after are JSON objects of the stored columns.
CREATE TABLE import_change (
    id BIGINT PRIMARY KEY DEFAULT nextval('import_change_id_seq'),
    batch_id INTEGER NOT NULL,
    entity VARCHAR NOT NULL,               -- table name
    entity_key VARCHAR NOT NULL,           -- natural key as JSON text
    action VARCHAR NOT NULL CHECK (action IN ('inserted', 'updated')),
    before_values JSON,
    after_values JSON NOT NULL
);
CREATE INDEX import_change_batch_idx ON import_change (batch_id);
CREATE INDEX import_change_key_idx ON import_change (entity, entity_key);
