-- Retention (domain brief §5): editable terms per data class, legal holds per pupil, a log of
-- every run, and the one definition of "this pupil has left" that both the archive rule
-- (dossier/access.py) and the retention job (dossier/retention.py) use.

CREATE SEQUENCE legal_hold_id_seq START 1;
CREATE SEQUENCE retention_run_id_seq START 1;

-- A data class without a row here keeps its default term (dossier/retention.py DATA_CLASSES).
-- term_years counts school years after the one the data concern: 1 = deleted on 31 August of
-- the following school year.
CREATE TABLE retention_rule (
    data_class VARCHAR PRIMARY KEY,
    term_years INTEGER NOT NULL CHECK (term_years BETWEEN 0 AND 10),
    changed_by_id INTEGER NOT NULL,
    changed_by_name VARCHAR NOT NULL,
    changed_at TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- While a hold is open (released_at NULL) nothing of the pupil is deleted. Released holds
-- stay as history until the pupil's own data go.
CREATE TABLE legal_hold (
    id BIGINT PRIMARY KEY DEFAULT nextval('legal_hold_id_seq'),
    pupil_id INTEGER NOT NULL,
    reason VARCHAR NOT NULL,
    set_by_id INTEGER NOT NULL,
    set_by_name VARCHAR NOT NULL,
    set_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    released_by_id INTEGER,
    released_by_name VARCHAR,
    released_at TIMESTAMP,
    release_reason VARCHAR,
    CHECK ((released_at IS NULL) = (released_by_id IS NULL))
);
CREATE INDEX legal_hold_pupil_idx ON legal_hold (pupil_id);

-- One row per run, dry runs included. Counts only: no pupil ids, no names.
CREATE TABLE retention_run (
    id BIGINT PRIMARY KEY DEFAULT nextval('retention_run_id_seq'),
    run_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    reference_date DATE NOT NULL,          -- the run's "today" (peildatum)
    dry_run BOOLEAN NOT NULL,
    user_name VARCHAR,
    counts JSON NOT NULL,                  -- {"data_class": {"pupils": n, "rows": n, "tables": {...}}}
    held_pupils INTEGER NOT NULL,          -- pupils skipped because of a legal hold
    total_rows BIGINT NOT NULL
);

-- Pupils who have left on `as_of`, with the day they left. The latest enrolment decides, so a
-- pupil who came back is not "left". Left: that enrolment has a leave_date on or before as_of,
-- or it lies in an earlier school year while the current school year already has enrolments
-- (the new roster is in and the pupil is not on it; then they left at the end, 31 August, of
-- their last school year). Before the new roster is imported nobody counts as left by absence,
-- so early September does not archive the whole school.
CREATE MACRO left_pupils(as_of) AS TABLE
    WITH latest AS (
        SELECT pupil_id, school_year, leave_date
        FROM enrolment
        QUALIFY row_number() OVER (PARTITION BY pupil_id ORDER BY school_year DESC) = 1
    ),
    now_year AS (
        SELECT CAST(year(as_of) - CASE WHEN month(as_of) >= 9 THEN 0 ELSE 1 END AS INTEGER) AS start_year
    ),
    roster_in AS (
        SELECT count(*) > 0 AS yes FROM enrolment, now_year
        WHERE enrolment.school_year = CAST(now_year.start_year AS VARCHAR) || '-' || CAST(now_year.start_year + 1 AS VARCHAR)
    )
    SELECT l.pupil_id,
           coalesce(l.leave_date, make_date(CAST(substr(l.school_year, 6, 4) AS INTEGER), 8, 31)) AS left_on
    FROM latest l, now_year, roster_in
    WHERE (l.leave_date IS NOT NULL AND l.leave_date <= as_of)
       OR (l.leave_date IS NULL AND roster_in.yes
           AND CAST(substr(l.school_year, 1, 4) AS INTEGER) < now_year.start_year);
