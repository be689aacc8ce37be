"""The one table `make bench` ends with: each headline figure, its same-run comparison and target.

Built from the sections' results in bench.json, so the printed table, bench.json's `summary` and
the README's "Prestaties" section carry the same numbers. Sections that did not run are left out.
"""

from __future__ import annotations


def _fmt(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def _verdict(met: bool | None) -> str:
    return "" if met is None else ("gehaald" if met else "NIET gehaald")


def summary_rows(document: dict) -> list[dict]:
    """One dict per headline figure: what, measured, comparison, target, met (None: no target)."""
    rows: list[dict] = []
    imp = document.get("import")
    if imp:
        targets = imp["targets"]
        rows.append(
            {
                "what": f"import {_fmt(imp['rows'], 0)} LVS-rijen",
                "measured": f"{_fmt(imp['importer']['seconds'], 2)} s, piek {_fmt(targets['peak_mb'], 0)} MB",
                "comparison": f"DuckDB read_csv+INSERT {_fmt(imp['duckdb']['seconds'], 2)} s:"
                f" verhouding {_fmt(imp['ratio'], 2)}",
                "target": f"≤ {_fmt(targets['ratio_max'], 0)}×, ≤ {_fmt(targets['peak_mb_max'], 0)} MB",
                "met": bool(targets["ratio_met"] and targets["peak_met"]),
            }
        )
    pupil = document.get("pupil_page")
    if pupil:
        rows.append(
            {
                "what": "leerlingendossier openen (kern)",
                "measured": f"{_fmt(pupil['core_ms'], 1)} ms",
                "comparison": f"kale SELECTs {_fmt(pupil['bare_ms'], 1)} ms: verhouding {_fmt(pupil['ratio'], 2)}",
                "target": "≤ 2×",
                "met": pupil["ratio"] <= 2.0,
            }
        )
        rows.append(
            {
                "what": "leerlingpagina, volledige AppTest-run",
                "measured": f"mediaan {_fmt(pupil['apptest_median_s'], 2)} s",
                "comparison": "",
                "target": "≤ 0,5 s",
                "met": pupil["apptest_median_s"] <= 0.5,
            }
        )
    dash = document.get("dashboards")
    if dash:
        rows.append(
            {
                "what": "klasdashboard, alle gegevens van één klas",
                "measured": f"{_fmt(dash['class_ms'], 1)} ms",
                "comparison": f"handgeschreven aggregaat {_fmt(dash['bare_class_ms'], 1)} ms:"
                f" verhouding {_fmt(dash['class_ratio'], 2)}",
                "target": "≤ 2×",
                "met": dash["class_ratio"] <= 2.0,
            }
        )
        rows.append(
            {
                "what": "schoolzicht, alle gegevens",
                "measured": f"{_fmt(dash['school_s'], 2)} s",
                "comparison": "",
                "target": "≤ 1 s",
                "met": dash["school_s"] <= 1.0,
            }
        )
    pages = document.get("pages")
    if pages:
        for page in pages["pages"]:
            rows.append(
                {
                    "what": f"pagina {page['title']} ({page['role']}), AppTest",
                    "measured": f"mediaan {_fmt(page['median_s'], 2)} s",
                    "comparison": "",
                    "target": "",
                    "met": None,
                }
            )
    memory = document.get("memory")
    if memory:
        rows.append(
            {
                "what": f"geheugen van de app na {memory['visits']} paginabezoeken",
                "measured": f"{_fmt(memory['rss_after_mb'], 0)} MB resident (piek {_fmt(memory['peak_mb'], 0)} MB)",
                "comparison": f"na opstarten {_fmt(memory['rss_start_mb'], 0)} MB",
                "target": "",
                "met": None,
            }
        )
    demo = document.get("demo")
    if demo:
        rows.append(
            {
                "what": f"demoschool aanmaken ({demo['pupils']} leerlingen, {demo['years']} schooljaren)",
                "measured": f"{_fmt(demo['seconds'], 1)} s",
                "comparison": f"scholengroep {_fmt(demo['group']['pupils_per_year'], 0)}"
                f" × {demo['group']['school_years']} jaar: {_fmt(demo['group']['seed_seconds'], 1)} s",
                "target": "",
                "met": None,
            }
        )
    return rows


def summary_lines(rows: list[dict]) -> list[str]:
    """The rows as a fixed-width table for the terminal."""
    if not rows:
        return []
    headers = {"what": "wat", "measured": "gemeten", "comparison": "in dezelfde run", "target": "doel", "met": ""}
    cells = [headers] + [{**row, "met": _verdict(row["met"])} for row in rows]
    widths = {key: max(len(str(cell[key])) for cell in cells) for key in headers}
    return ["  ".join(str(cell[key]).ljust(widths[key]) for key in headers).rstrip() for cell in cells]
