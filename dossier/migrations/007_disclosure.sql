-- Disclosure: parents' inzage and the overdracht to another school (dossier/inzage.py,
-- dossier/overdracht.py). Every export also has an audit_log row; these tables keep what the
-- audit log cannot: who explained the dossier to the parents, when they inspected the transfer
-- package, their objection, and exactly which items left the school.

CREATE SEQUENCE inzage_record_id_seq START 1;
CREATE SEQUENCE overdracht_record_id_seq START 1;

-- One row per explanation given to the parents; the inzage PDF names the one it follows.
CREATE TABLE inzage_record (
    id BIGINT PRIMARY KEY DEFAULT nextval('inzage_record_id_seq'),
    pupil_id INTEGER NOT NULL,
    explained_by VARCHAR NOT NULL,         -- free text: the explainer need not have an account
    explained_on DATE NOT NULL,
    recorded_by_id INTEGER NOT NULL,
    recorded_by_name VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE INDEX inzage_record_pupil_idx ON inzage_record (pupil_id);

-- One row per transfer case: the parents' inspection, their objection and one export. A second
-- export of the same case gets a new row (a copy of the inspection and objection), so each row's
-- items_included says what left the school in that export.
CREATE TABLE overdracht_record (
    id BIGINT PRIMARY KEY DEFAULT nextval('overdracht_record_id_seq'),
    pupil_id INTEGER NOT NULL,
    inspected_on DATE,                     -- NULL: the parents have not seen the package yet
    window_days INTEGER,                   -- objection window in force when the inspection was recorded
    window_end DATE,                       -- last day on which the parents may still object
    objection_text VARCHAR,
    objection_on DATE,
    recorded_by_id INTEGER NOT NULL,
    recorded_by_name VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    approved_by_id INTEGER,
    approved_by_name VARCHAR,
    approved_at TIMESTAMP,
    exported_at TIMESTAMP,
    mandatory_only BOOLEAN,
    items_included JSON,                   -- {"registrations": [ids], "sections": [...]} of the export
    CHECK (inspected_on IS NOT NULL OR window_end IS NULL),
    CHECK (objection_text IS NULL OR objection_on IS NOT NULL)
);
CREATE INDEX overdracht_record_pupil_idx ON overdracht_record (pupil_id);
