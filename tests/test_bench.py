"""The bench machinery end to end at a tiny size: no timing is asserted, only that it runs."""

from __future__ import annotations

import json

import pytest

from pipelines import bench
from pipelines.cli import main
from pipelines.formats import detect
from pipelines.readers import read_table


def test_bench_command_measures_the_import_and_writes_bench_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "--only", "import", "--rows", "500", "--repeat", "1", "--out", str(out)]) == 0
    document = json.loads(out.read_text("utf-8"))
    assert set(document) == {"machine", "import", "summary"}
    [row] = document["summary"]
    assert row["what"] == "import 500 LVS-rijen" and row["met"] == (
        document["import"]["targets"]["ratio_met"] and document["import"]["targets"]["peak_met"]
    )
    assert {"date", "cpus", "python", "duckdb", "pandas"} <= set(document["machine"])
    result = document["import"]
    assert result["rows"] == 500 and result["pupils"] == bench.pupils_needed(500)
    for measured in ("importer", "duckdb", "duckdb_ctas", "cli"):
        assert result[measured]["seconds"] > 0 and result[measured]["peak_mb"] > 0
        assert result[measured]["rows_per_second"] > 0
    assert len(result["importer"]["runs_seconds"]) == len(result["duckdb"]["runs_seconds"]) == 1
    assert result["ratio"] == pytest.approx(result["importer"]["seconds"] / result["duckdb"]["seconds"], abs=0.01)
    assert set(result["targets"]) == {"ratio_max", "ratio_met", "peak_mb_max", "peak_mb", "peak_met"}
    printed = capsys.readouterr().out
    assert "Import van een LVS-VCLB-bestand" in printed and "DuckDB read_csv + INSERT" in printed
    assert "Verhouding import / DuckDB" in printed and "piekgeheugen" in printed


def test_generated_files_are_belgian_excel_and_match_the_roster():
    roster = bench.roster_frame(bench.pupils_needed(100))
    data = bench.belgian_csv(bench.lvs_frame(roster, 100))
    table = read_table(data, "lvs-vclb.csv")
    assert (table.separator, table.encoding, len(table.frame)) == (";", "utf-8", 100)
    assert detect(table.columns) == "lvs-vclb"
    assert set(table.frame["leerling_id"]) <= set(roster["leerling_id"])
    assert table.frame["afnamedatum"].str.fullmatch(r"\d\d/\d\d/\d{4}").all()
    keys = table.frame[["leerling_id", "domein", "schooljaar", "afnamemoment"]]
    assert not keys.duplicated().any()
    back = read_table(bench.belgian_csv(roster), "leerlingen.csv")
    assert detect(back.columns) == "leerlingen"
    assert list(back.frame["naam"]) == list(roster["naam"])  # accents survive Windows-1252


def test_a_registered_section_lands_in_bench_json_under_its_name(tmp_path):
    @bench.section("proef", "Proefonderdeel", render=lambda result: [f"{result['rows']} rijen gezien"])
    def run(ctx: bench.BenchContext) -> dict:
        assert ctx.work.is_dir() and not any(ctx.work.iterdir())
        return {"rows": ctx.rows}

    lines = []
    try:
        document = bench.run_bench(tmp_path / "b.json", rows=7, repeat=1, sections=["proef"], say=lines.append)
    finally:
        del bench.SECTIONS["proef"]
    assert document["proef"] == {"rows": 7}
    assert json.loads((tmp_path / "b.json").read_text("utf-8"))["proef"] == {"rows": 7}
    assert "Proefonderdeel" in lines and "7 rijen gezien" in lines


def test_unknown_section_is_a_dutch_error(tmp_path, capsys):
    assert main(["bench", "--only", "bestaatniet", "--out", str(tmp_path / "b.json")]) == 1
    assert "onbekend onderdeel: bestaatniet" in capsys.readouterr().err
    assert not (tmp_path / "b.json").exists()


def test_summary_has_one_row_per_headline_figure_with_its_verdict():
    from pipelines.bench_summary import summary_lines, summary_rows

    document = {
        "pupil_page": {"core_ms": 30.0, "bare_ms": 10.0, "ratio": 3.0, "apptest_median_s": 0.31},
        "dashboards": {"class_ms": 8.0, "bare_class_ms": 5.0, "class_ratio": 1.6, "school_s": 0.2},
        "memory": {"visits": 31, "rss_after_mb": 410.0, "peak_mb": 450.0, "rss_start_mb": 70.0},
    }
    rows = summary_rows(document)
    verdicts = {row["what"]: row["met"] for row in rows}
    assert verdicts == {
        "leerlingendossier openen (kern)": False,
        "leerlingpagina, volledige AppTest-run": True,
        "klasdashboard, alle gegevens van één klas": True,
        "schoolzicht, alle gegevens": True,
        "geheugen van de app na 31 paginabezoeken": None,
    }
    lines = summary_lines(rows)
    assert len(lines) == 1 + len(rows) and "NIET gehaald" in lines[1] and "verhouding 3,00" in lines[1]


def test_demo_section_times_the_real_command(tmp_path):
    from pipelines import bench_ui

    ctx = bench.BenchContext(work=tmp_path, rows=1, repeat=1, say=lambda _: None)
    ctx.group_pupils = 40
    result = bench_ui.bench_demo(ctx)
    assert result["pupils"] >= 250 and result["years"] == 3 and result["seconds"] > 0
    assert result["group"]["pupils_per_year"] == 40
