"""Analysis export: pseudonymised Parquet (no names, no free text, birth year only), stable keyed pseudonyms,
the CLI contract, and the notebook that reproduces the cohort chart from the files."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import plotly.graph_objects as go
import pytest

from dossier import dashboards as dash
from dossier.access import AccessDenied
from dossier.db import Database, get_setting
from pipelines.analysis_export import PSEUDONYM_LENGTH, SECRET_SETTING, TABLES, export_analysis, pseudonym
from tests.factories import make_school
from tests.test_dashboards import add_avi, add_lvs, add_pupils, sign_in

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "cohort.ipynb"
SECRET_TEXT = "GEHEIM-vrije-tekst"


def build(db: Database):
    """A school with two lager years, so cohorts span grades, and free text in every text column."""
    school = make_school(db)
    year, prev = school.year, school.previous_year
    l2a = db.write(
        lambda cur: cur.execute(
            "INSERT INTO class (school_year, name, level, grade, parallel)"
            " VALUES (?, 'L2A', 'lager', 2, 'A') RETURNING id",
            [year],
        ).fetchone()[0]
    )
    # Six pupils: L1A last year, L2A now.
    older = add_pupils(db, school.previous_classes["L1A"], prev, 6)
    db.write(
        lambda cur: [
            cur.execute("INSERT INTO enrolment (pupil_id, school_year, class_id) VALUES (?, ?, ?)", [p, year, l2a])
            for p in older
        ]
    )
    young = [school.pupils[n] for n in ("30004", "30005", "30006", "30007", "30008", "30009")]
    add_lvs(
        db,
        [
            (p, prev, m, "wiskunde", v)
            for p, v in zip(older, [5, 20, 40, 60, 80, 15], strict=True)
            for m in ("begin", "eind")
        ],
    )
    add_lvs(
        db, [(p, year, "begin", "wiskunde", v) for p, v in zip(older, [8, 30, 45, 66, 90, 9], strict=True)], grade=2
    )
    add_lvs(db, [(p, year, "begin", "wiskunde", v) for p, v in zip(young, [50, 10, 70, 22, 35, 95], strict=True)])
    add_lvs(db, [(p, year, "begin", "spelling", 40) for p in young])
    add_avi(db, young[0], year, "begin", 1, [("M3", 1)])

    def free_text(cur):
        cur.execute("UPDATE lvs_result SET remark = ?", [SECRET_TEXT])
        cur.execute("UPDATE avi_result SET administered_by = ?", [SECRET_TEXT])
        cur.execute(
            "INSERT INTO wellbeing_result (pupil_id, school_year, observed_on, scale, score_text, score, context,"
            " observer, remark) VALUES (?, ?, ?, 'welbevinden', '2+', 2.5, ?, ?, ?)",
            [young[1], year, date(int(year[:4]), 10, 3), SECRET_TEXT, SECRET_TEXT, SECRET_TEXT],
        )
        cur.execute(
            "INSERT INTO care_phase (pupil_id, phase, start_date, note, created_by_id, created_by_name)"
            " VALUES (?, 1, ?, ?, 1, ?)",
            [young[1], date(int(year[:4]), 10, 4), SECRET_TEXT, SECRET_TEXT],
        )
        cur.execute(
            "INSERT INTO measure (pupil_id, category, description, start_date, evaluation_date, created_by_id,"
            " created_by_name, created_by_role) VALUES (?, 'remedieren', ?, ?, ?, 1, ?, 'zorgteam')",
            [young[1], SECRET_TEXT, date(int(year[:4]), 10, 4), date(int(year[:4]), 12, 4), SECRET_TEXT],
        )

    db.write(free_text)
    return school


@pytest.fixture
def school(db):
    return build(db)


def read(path: Path) -> pd.DataFrame:
    con = duckdb.connect()
    try:
        return con.execute("SELECT * FROM read_parquet(?)", [str(path)]).df()
    finally:
        con.close()


def test_writes_every_table_with_a_manifest_and_matching_row_counts(db, school, tmp_path):
    summary = export_analysis(db, tmp_path / "analyse")
    out = tmp_path / "analyse"
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert set(manifest["tables"]) == {name for name, _, _ in TABLES}
    counts = {
        "pupils": "pupil",
        "enrolments": "enrolment",
        "lvs_results": "lvs_result",
        "avi_results": "avi_result",
        "dmt_results": "dmt_result",
        "idp_results": "idp_result",
        "wellbeing_results": "wellbeing_result",
        "care_phases": "care_phase",
        "measures": "measure",
    }
    with db.cursor() as cur:
        for name, table in counts.items():
            expected = cur.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            assert (
                len(read(out / f"{name}.parquet")) == expected == summary.rows[name] == manifest["tables"][name]["rows"]
            )
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{n}.parquet" for n in counts] + ["manifest.json"])


def test_no_names_numbers_free_text_or_birth_dates_leave(db, school, tmp_path):
    export_analysis(db, tmp_path)
    with db.cursor() as cur:
        people = cur.execute("SELECT first_name, last_name, pupil_number, birth_date FROM pupil").fetchall()
        staff = [r[0] for r in cur.execute("SELECT display_name FROM staff_user").fetchall()]
    forbidden = {SECRET_TEXT, *staff}
    for first, last, number, _ in people:
        forbidden |= {first, last, number, f"{first} {last}"}
    for name, _, _ in TABLES:
        frame = read(tmp_path / f"{name}.parquet")
        assert not {"first_name", "last_name", "pupil_number", "birth_date", "remark", "note", "description"} & set(
            frame.columns
        )
        assert not {"context", "observer", "administered_by", "created_by_name", "pupil_id"} & set(frame.columns)
        for column in frame.columns:
            values = {str(v) for v in frame[column].dropna()}
            assert not values & forbidden, (name, column, values & forbidden)
    pupils = read(tmp_path / "pupils.parquet")
    assert list(pupils.columns) == ["pupil", "birth_year", "gender"]
    assert set(pupils["birth_year"]) == {d.year for *_, d in people}


def test_pseudonyms_are_keyed_stable_and_not_the_id(db, school, tmp_path):
    export_analysis(db, tmp_path / "first")
    secret = get_setting(db, SECRET_SETTING)
    assert secret and len(bytes.fromhex(secret)) == 32
    export_analysis(db, tmp_path / "second")
    assert get_setting(db, SECRET_SETTING) == secret  # made once
    first, second = read(tmp_path / "first" / "pupils.parquet"), read(tmp_path / "second" / "pupils.parquet")
    assert first["pupil"].tolist() == second["pupil"].tolist()
    with db.cursor() as cur:
        ids = [r[0] for r in cur.execute("SELECT id FROM pupil").fetchall()]
    expected = {
        hmac.new(bytes.fromhex(secret), str(i).encode(), hashlib.sha256).hexdigest()[:PSEUDONYM_LENGTH] for i in ids
    }
    assert set(first["pupil"]) == expected == {pseudonym(bytes.fromhex(secret), i) for i in ids}
    assert first["pupil"].str.fullmatch(f"[0-9a-f]{{{PSEUDONYM_LENGTH}}}").all() and first["pupil"].is_unique
    # Without the key the same ids give other pseudonyms: another database, another secret.
    other = Database(tmp_path / "other.duckdb")
    try:
        build(other)
        export_analysis(other, tmp_path / "other")
        assert get_setting(other, SECRET_SETTING) != secret
    finally:
        other.close()
    assert not set(read(tmp_path / "other" / "pupils.parquet")["pupil"]) & set(first["pupil"])
    # Every table refers to pupils of the pupils file.
    for name, _, _ in TABLES:
        assert set(read(tmp_path / "first" / f"{name}.parquet")["pupil"]) <= set(first["pupil"])


def test_export_is_audited_and_refused_to_roles_that_do_not_approve_exports(db, school, tmp_path):
    export_analysis(db, tmp_path)
    with db.cursor() as cur:
        rows = cur.execute("SELECT action, object, detail FROM audit_log WHERE action = 'export'").fetchall()
    assert len(rows) == 1 and rows[0][1] == "analyse" and str(tmp_path) in rows[0][2]
    for username in ("zorg", "juf.l1a", "clb", "beheer"):
        with pytest.raises(AccessDenied):
            export_analysis(db, tmp_path / username, user=sign_in(db, username))
        assert not (tmp_path / username).exists()


def run_cli(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "pipelines", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_cli_export_analyse(tmp_path):
    path = tmp_path / "school.duckdb"
    database = Database(path)
    build(database)
    with database.cursor() as cur:
        results = cur.execute("SELECT count(*) FROM lvs_result").fetchall()[0][0]
    database.close()
    done = run_cli("export", "analyse", "--out", str(tmp_path / "uit"), "--db", str(path))
    assert done.returncode == 0, done.stderr
    assert "Analyse-export geschreven" in done.stdout and f"lvs_results.parquet: {results} rijen" in done.stdout
    assert (tmp_path / "uit" / "lvs_results.parquet").exists()
    # A file where the folder should be: a Dutch message and exit status 2, no traceback.
    (tmp_path / "bestand").write_text("x")
    refused = run_cli("export", "analyse", "--out", str(tmp_path / "bestand"), "--db", str(path))
    assert refused.returncode == 2 and "geen map" in refused.stderr and "Traceback" not in refused.stderr
    missing = run_cli("export", "analyse", "--db", str(path))
    assert missing.returncode == 2 and "Ongeldige opdracht" in missing.stderr
    unknown = run_cli("export", "alles", "--db", str(path))
    assert unknown.returncode == 2 and "Ongeldige opdracht" in unknown.stderr


def run_notebook(path: Path) -> dict:
    """Execute the notebook's code cells in order, in one namespace, as a kernel would."""
    notebook = json.loads(path.read_text("utf-8"))
    assert notebook["nbformat"] == 4
    namespace: dict = {"__name__": "__main__"}
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), f"{path.name}", "exec"), namespace)  # noqa: S102
    return namespace


@pytest.mark.parametrize("domain", ["wiskunde", "spelling"])
def test_notebook_reproduces_the_cohort_chart_from_the_parquet_files(db, school, tmp_path, monkeypatch, domain):
    export_analysis(db, tmp_path / "analyse")
    monkeypatch.setenv("ANALYSE_DIR", str(tmp_path / "analyse"))
    monkeypatch.setenv("ANALYSE_DOMEIN", domain)
    monkeypatch.chdir(NOTEBOOK.parent)
    namespace = run_notebook(NOTEBOOK)
    from_files = namespace["cohorts"]
    in_app = dash.cohorts(db, sign_in(db, "directie"), domain)
    columns = ["cohort", "school_year", "cohort_grade", "moment", "n", "n_d_e", "share_d_e", "median_percentile"]
    assert len(in_app) > 0
    pd.testing.assert_frame_equal(
        from_files[columns].reset_index(drop=True),
        in_app[columns].reset_index(drop=True),
        check_dtype=False,
    )
    fig = namespace["fig"]
    assert isinstance(fig, go.Figure)
    assert sorted(trace.name for trace in fig.data) == sorted(in_app["cohort"].unique())
    assert domain in fig.layout.title.text


def test_notebook_is_small_and_has_no_stored_outputs():
    notebook = json.loads(NOTEBOOK.read_text("utf-8"))
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert 2 <= len(code) <= 6
    assert all(c["outputs"] == [] for c in code)
    source = "".join("".join(c["source"]) for c in code)
    assert "read_parquet" in source and "duckdb.connect()" in source
    # The default folder is the one the documented command writes (`--out data/analyse`, from notebooks/).
    assert '"../data/analyse"' in source
