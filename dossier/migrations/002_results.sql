-- LVS results, one table per instrument. Values are stored as delivered; the natural key
-- of each import format is a UNIQUE constraint. class_id is the pupil's class on the
-- test date (the file's `klas` column is informational). History of imported values and
-- undo live in import_change.

CREATE SEQUENCE result_id_seq START 1;

CREATE TABLE lvs_result (
    id BIGINT PRIMARY KEY DEFAULT nextval('result_id_seq'),
    pupil_id INTEGER NOT NULL,
    school_year VARCHAR NOT NULL,
    test_date DATE NOT NULL,
    grade INTEGER NOT NULL,
    domain VARCHAR NOT NULL,       -- wiskunde, spelling, technisch_lezen, begrijpend_lezen
    moment VARCHAR NOT NULL,       -- begin, midden, eind
    raw_score DOUBLE,
    max_score DOUBLE,
    percentile DOUBLE,
    zone VARCHAR NOT NULL,         -- A-E, as delivered or derived from the percentile
    zone_derived BOOLEAN NOT NULL DEFAULT false,
    remark VARCHAR,
    class_id INTEGER,
    import_batch_id INTEGER,
    UNIQUE (pupil_id, domain, school_year, moment)
);

CREATE TABLE avi_result (
    id BIGINT PRIMARY KEY DEFAULT nextval('result_id_seq'),
    pupil_id INTEGER NOT NULL,
    school_year VARCHAR NOT NULL,
    test_date DATE NOT NULL,
    grade INTEGER NOT NULL,
    moment VARCHAR NOT NULL,
    card VARCHAR NOT NULL,         -- normalised level of the card read: AVI-Start, M3 ... AVI-Plus
    reading_time_sec DOUBLE,
    errors INTEGER,
    card_result VARCHAR,           -- beheersing, instructie, frustratie
    level_achieved VARCHAR NOT NULL,
    level_rank INTEGER NOT NULL,   -- 0 = AVI-Start ... 11 = AVI-Plus
    administered_by VARCHAR,
    class_id INTEGER,
    import_batch_id INTEGER,
    UNIQUE (pupil_id, test_date, card)
);

CREATE TABLE dmt_result (
    id BIGINT PRIMARY KEY DEFAULT nextval('result_id_seq'),
    pupil_id INTEGER NOT NULL,
    school_year VARCHAR NOT NULL,
    test_date DATE NOT NULL,
    grade INTEGER NOT NULL,
    moment VARCHAR NOT NULL,
    version VARCHAR,
    card1_correct INTEGER, card1_errors INTEGER,
    card2_correct INTEGER, card2_errors INTEGER,
    card3_correct INTEGER, card3_errors INTEGER,
    norm_set VARCHAR,
    percentile DOUBLE,
    zone VARCHAR,
    class_id INTEGER,
    import_batch_id INTEGER,
    UNIQUE (pupil_id, school_year, moment)
);

CREATE TABLE idp_result (
    id BIGINT PRIMARY KEY DEFAULT nextval('result_id_seq'),
    pupil_id INTEGER NOT NULL,
    school_year VARCHAR NOT NULL,
    test_date DATE NOT NULL,
    test VARCHAR NOT NULL,         -- IDP4, IDP6
    area VARCHAR NOT NULL,         -- leergebied
    part VARCHAR NOT NULL,         -- onderdeel
    score DOUBLE NOT NULL,
    max_score DOUBLE NOT NULL,
    percentage DOUBLE,
    reference_percentage DOUBLE,
    class_id INTEGER,
    import_batch_id INTEGER,
    UNIQUE (pupil_id, test, school_year, area, part)
);

CREATE TABLE wellbeing_result (
    id BIGINT PRIMARY KEY DEFAULT nextval('result_id_seq'),
    pupil_id INTEGER NOT NULL,
    school_year VARCHAR NOT NULL,
    observed_on DATE NOT NULL,
    scale VARCHAR NOT NULL,        -- welbevinden, betrokkenheid
    score_text VARCHAR NOT NULL,   -- as written: 1, 1+, ... 5
    score DOUBLE NOT NULL,         -- n+ = n + 0.5
    context VARCHAR,
    observer VARCHAR,
    remark VARCHAR,
    class_id INTEGER,
    import_batch_id INTEGER,
    UNIQUE (pupil_id, observed_on, scale)
);

CREATE INDEX lvs_result_pupil_idx ON lvs_result (pupil_id);
CREATE INDEX avi_result_pupil_idx ON avi_result (pupil_id);
CREATE INDEX dmt_result_pupil_idx ON dmt_result (pupil_id);
CREATE INDEX idp_result_pupil_idx ON idp_result (pupil_id);
CREATE INDEX wellbeing_result_pupil_idx ON wellbeing_result (pupil_id);
