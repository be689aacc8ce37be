-- The attention list (aandachtslijst): the zorgteam's settings per rule and dismissed signals.
-- The rules themselves are code (dossier/signals.py); a rule without a row here runs with its
-- default thresholds and default on/off state.

CREATE SEQUENCE signal_dismissal_id_seq START 1;

CREATE TABLE signal_rule (
    rule_id VARCHAR PRIMARY KEY,
    enabled BOOLEAN NOT NULL,
    thresholds JSON NOT NULL,              -- {"name": value}, validated by the core on save
    changed_by_id INTEGER NOT NULL,
    changed_by_name VARCHAR NOT NULL,
    changed_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- A dismissal hides one signal only while the data it was based on stay the same: the
-- fingerprint is a hash of those data, so a new or changed result brings the signal back.
-- Rows are never updated; the audit log holds the same event.
CREATE TABLE signal_dismissal (
    id BIGINT PRIMARY KEY DEFAULT nextval('signal_dismissal_id_seq'),
    pupil_id INTEGER NOT NULL,
    rule_id VARCHAR NOT NULL,
    fingerprint VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    dismissed_by_id INTEGER NOT NULL,
    dismissed_by_name VARCHAR NOT NULL,
    dismissed_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);
CREATE INDEX signal_dismissal_pupil_idx ON signal_dismissal (pupil_id);
