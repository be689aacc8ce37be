"""The Importeren page through AppTest: upload, report, import, past batches, undo."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.apptest import signed_in, texts

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "voorbeelden"


def open_import(username):
    at = signed_in(username)
    at.switch_page("pages/importeren.py").run()
    assert not at.exception, at.exception
    return at


def count(path, table):
    con = duckdb.connect(str(path))  # same process as the app: share its database instance
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def test_roster_upload_imports_and_can_be_undone(app_db):
    path, _ = app_db
    before = count(path, "pupil")
    at = open_import("directie")
    at.file_uploader(key="import_files").upload("leerlingen.csv", (SAMPLES / "leerlingen.csv").read_bytes(), "text/csv")
    at.run()
    assert not at.exception
    content = texts(at)
    assert "leerlingen.csv" in content
    assert at.metric[0].value == "42"
    button = next(b for b in at.button if b.label == "Importeren")
    assert not button.disabled
    button.click()
    at.run()
    assert not at.exception
    assert any("Ingelezen: 42 nieuw" in s.value for s in at.success)
    assert count(path, "pupil") == before + 42
    assert "Eerdere imports" in texts(at)
    at.checkbox(key="undo_sure").check().run()
    next(b for b in at.button if b.label == "Ongedaan maken").click()
    at.run()
    assert not at.exception
    assert count(path, "pupil") == before


def test_file_with_errors_cannot_be_imported_and_offers_the_problem_rows(app_db):
    path, _ = app_db
    at = open_import("zorg")
    at.file_uploader(key="import_files").upload("leerlingen.csv", (SAMPLES / "leerlingen.csv").read_bytes(), "text/csv")
    at.run()
    next(b for b in at.button if b.label == "Importeren").click()
    at.run()
    at.file_uploader(key="import_files").upload(
        "fouten-lvs-vclb.csv", (SAMPLES / "fouten-lvs-vclb.csv").read_bytes(), "text/csv"
    )
    at.run()
    assert not at.exception
    assert any("fout(en)" in e.value for e in at.error)
    buttons = [b for b in at.button if b.label == "Importeren"]
    assert buttons and all(b.disabled for b in buttons)
    report = next(d.value for d in at.dataframe if "melding" in d.value.columns)
    assert {"rij", "kolom", "waarde", "melding"} <= set(report.columns)
    assert sorted(report[report["soort"] == "fout"]["rij"].unique().tolist()) == [2, 3, 4, 5, 6]
    assert [d for d in at.get("download_button") if "fouten" in str(d.proto.label)]
    assert count(path, "lvs_result") == 0


def test_beheerder_may_import_the_roster_but_not_results(app_db):
    at = open_import("beheer")
    at.file_uploader(key="import_files").upload("lvs.csv", (SAMPLES / "lvs-vclb.csv").read_bytes(), "text/csv")
    at.run()
    assert not at.exception
    assert any("geen toegang" in e.value.lower() for e in at.error)


def test_the_dry_run_is_kept_across_reruns_until_the_data_change(app_db, monkeypatch):
    from pipelines import importer

    dry_runs = []
    real = importer.run_import

    def counting(*args, **kwargs):
        if kwargs.get("dry_run"):
            dry_runs.append(args[3])
        return real(*args, **kwargs)

    monkeypatch.setattr(importer, "run_import", counting)
    at = open_import("directie")
    at.file_uploader(key="import_files").upload("leerlingen.csv", (SAMPLES / "leerlingen.csv").read_bytes(), "text/csv")
    at.run()
    at.run()  # any rerun: a click elsewhere, a widget
    assert dry_runs == ["leerlingen.csv"]
    assert at.metric[1].value == "42"  # nieuw
    next(b for b in at.button if b.label == "Importeren").click()
    at.run()
    assert not at.exception
    # The import changed the data: the same file is checked again and is now unchanged.
    assert dry_runs == ["leerlingen.csv", "leerlingen.csv"]
    assert at.metric[3].value == "42"  # ongewijzigd
