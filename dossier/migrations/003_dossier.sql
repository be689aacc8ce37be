-- The dossier: registrations (append-only versions), PDF attachments of verslagen, care
-- phases, measures (STICORDI) and their evaluations. As in 001: no FOREIGN KEY clauses, the
-- core keeps the references right and the retention job can delete a pupil in one go.
-- Vocabularies are CHECK constraints so a bug in the core cannot store a code the UI has no
-- Dutch label for (dossier/labels.py holds the same lists).

CREATE SEQUENCE registration_row_id_seq START 1;
CREATE SEQUENCE registration_id_seq START 1;
CREATE SEQUENCE registration_group_id_seq START 1;
CREATE SEQUENCE registration_attachment_id_seq START 1;
CREATE SEQUENCE care_phase_id_seq START 1;
CREATE SEQUENCE measure_id_seq START 1;
CREATE SEQUENCE measure_evaluation_id_seq START 1;

-- One row per version. A correction or a withdrawal inserts a new row with the next
-- version number and `supersedes` pointing at the row it replaces; no row is ever updated,
-- so the history is the table itself. The current state is the highest version.
CREATE TABLE registration (
    row_id BIGINT PRIMARY KEY DEFAULT nextval('registration_row_id_seq'),
    registration_id BIGINT NOT NULL,       -- the logical registration, shared by its versions
    version INTEGER NOT NULL,
    supersedes BIGINT,                     -- row_id of the previous version
    pupil_id INTEGER NOT NULL,
    type VARCHAR NOT NULL CHECK (type IN ('observatie', 'oudergesprek', 'leerlinggesprek', 'mdo',
        'klassenraad', 'maatregel', 'evaluatie', 'zorgfase', 'clb_terugkoppeling', 'verslag',
        'leefregel', 'overige')),
    fact_date DATE NOT NULL,               -- when it happened, not when it was typed
    facts VARCHAR NOT NULL,
    interpretation VARCHAR,
    agreements VARCHAR,
    owner VARCHAR,                         -- who follows the agreement up
    evaluation_date DATE,
    domain VARCHAR CHECK (domain IS NULL OR domain IN ('leren_en_studeren', 'onderwijsloopbaan',
        'psychisch_en_sociaal_functioneren', 'preventieve_gezondheidszorg')),
    visibility VARCHAR NOT NULL CHECK (visibility IN ('team', 'zorgteam', 'directie')),
    transferable BOOLEAN NOT NULL,
    confidential_third_parties BOOLEAN NOT NULL DEFAULT false,
    report_kind VARCHAR CHECK (report_kind IS NULL OR report_kind IN ('GC', 'IAC', 'OV4', 'extern_attest')),
    follows_up BIGINT,                     -- registration_id of the agreement this one evaluates
    group_id BIGINT,                       -- set when entered once for a group of pupils
    -- Signed from the login at the moment of writing, never typed.
    author_id INTEGER NOT NULL,
    author_name VARCHAR NOT NULL,
    author_role VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    withdrawn BOOLEAN NOT NULL DEFAULT false,
    withdrawal_reason VARCHAR,
    -- The pupil's school year and class on fact_date, kept so the dossier reads right after
    -- the pupil moves on.
    school_year VARCHAR NOT NULL,
    class_id INTEGER,
    -- Two writers correcting the same registration at once: one of them must fail.
    UNIQUE (registration_id, version),
    -- Breaches of school rules never go to another school.
    CHECK (type <> 'leefregel' OR NOT transferable),
    CHECK (NOT withdrawn OR withdrawal_reason IS NOT NULL)
);
CREATE INDEX registration_pupil_idx ON registration (pupil_id);
CREATE INDEX registration_logical_idx ON registration (registration_id);

-- A verslag may carry its PDF. Several uploads for one registration are kept; the newest
-- is shown, so a replaced file stays in the history like any other version.
CREATE TABLE registration_attachment (
    id BIGINT PRIMARY KEY DEFAULT nextval('registration_attachment_id_seq'),
    registration_id BIGINT NOT NULL,
    file_name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    size_bytes BIGINT NOT NULL,
    content BLOB NOT NULL,
    uploaded_by_id INTEGER NOT NULL,
    uploaded_by_name VARCHAR NOT NULL,
    uploaded_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE INDEX registration_attachment_reg_idx ON registration_attachment (registration_id);

-- The zorgcontinuum. At most one open phase (end_date NULL) per pupil: the core closes the
-- open one in the same transaction that opens the next. No unique index on it, because
-- DuckDB rejects re-inserting an index key that the same transaction just vacated.
CREATE TABLE care_phase (
    id BIGINT PRIMARY KEY DEFAULT nextval('care_phase_id_seq'),
    pupil_id INTEGER NOT NULL,
    phase INTEGER NOT NULL CHECK (phase BETWEEN 0 AND 3),
    start_date DATE NOT NULL,
    end_date DATE,                         -- NULL while the phase is open
    note VARCHAR NOT NULL,
    registration_id BIGINT,                -- the zorgfase registration written with it
    created_by_id INTEGER NOT NULL,
    created_by_name VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX care_phase_pupil_idx ON care_phase (pupil_id);

-- Measures are never edited: an evaluation row carries the decision, the next evaluation
-- date and (for stopzetten) the end, and the current state is derived from the latest one.
CREATE TABLE measure (
    id BIGINT PRIMARY KEY DEFAULT nextval('measure_id_seq'),
    pupil_id INTEGER NOT NULL,
    category VARCHAR NOT NULL CHECK (category IN ('stimuleren', 'compenseren', 'remedieren',
        'differentieren', 'dispenseren')),
    description VARCHAR NOT NULL,
    start_date DATE NOT NULL,
    end_date DATE,                         -- planned end, if known at the start
    evaluation_date DATE NOT NULL,         -- first evaluation
    created_by_id INTEGER NOT NULL,
    created_by_name VARCHAR NOT NULL,
    created_by_role VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    CHECK (end_date IS NULL OR end_date >= start_date),
    CHECK (evaluation_date >= start_date)
);
CREATE INDEX measure_pupil_idx ON measure (pupil_id);

CREATE TABLE measure_evaluation (
    id BIGINT PRIMARY KEY DEFAULT nextval('measure_evaluation_id_seq'),
    measure_id BIGINT NOT NULL,
    evaluated_on DATE NOT NULL,
    text VARCHAR NOT NULL,
    decision VARCHAR NOT NULL CHECK (decision IN ('verderzetten', 'bijsturen', 'stopzetten')),
    next_evaluation_date DATE,             -- NULL: no further evaluation planned
    created_by_id INTEGER NOT NULL,
    created_by_name VARCHAR NOT NULL,
    created_by_role VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    CHECK (decision <> 'stopzetten' OR next_evaluation_date IS NULL)
);
CREATE INDEX measure_evaluation_measure_idx ON measure_evaluation (measure_id);
