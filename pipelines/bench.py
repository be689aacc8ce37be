"""`python -m pipelines bench`: performance figures on a large synthetic school group.

The bench is a list of named sections (`SECTIONS`). Each builds what it needs in its own
temporary folder, measures, and returns a JSON-able dict that lands in bench.json under its
name, next to `machine`. To add one, put it in a module `pipelines/bench_<something>.py`
(every such module is imported before the bench runs):

    @section("leerlingpagina", "Leerlingpagina openen", render=my_table_lines)
    def bench_pupil_page(ctx: BenchContext) -> dict: ...

Whatever is measured runs in a fresh child process, so each figure's peak memory is that of
one whole process, as a user would see it, and nothing one measurement loads or caches helps
the next. A child reports its own peak (VmHWM): the kernel's ru_maxrss of a child also counts
the memory of the parent it was forked from. Times leave out the Python start and the module
imports (the app has those loaded already); the `opdrachtregel` line is the real
`python -m pipelines import` call, start-up included.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import io
import json
import os
import pkgutil
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_ROWS = 100_000
DEFAULT_REPEAT = 3
TARGET_RATIO = 3.0
TARGET_PEAK_MB = 300.0


class BenchError(RuntimeError):
    """A measurement that did not run as intended. The message is Dutch."""


# -- the section registry ------------------------------------------------------------------------
@dataclass
class BenchContext:
    """What a section gets: its own empty folder, the size asked for and a way to report progress."""

    work: Path
    rows: int = DEFAULT_ROWS
    repeat: int = DEFAULT_REPEAT
    say: Callable[[str], None] = print


@dataclass(frozen=True)
class Section:
    name: str  # key in bench.json
    title: str  # Dutch, printed above the section's table
    run: Callable[[BenchContext], dict]
    render: Callable[[dict], list[str]] | None = None  # the printed table; JSON when absent


SECTIONS: dict[str, Section] = {}


def section(name: str, title: str, render: Callable[[dict], list[str]] | None = None):
    """Register `run(ctx) -> dict` as the bench section `name`, run in registration order."""

    def register(run: Callable[[BenchContext], dict]) -> Callable[[BenchContext], dict]:
        SECTIONS[name] = Section(name, title, run, render)
        return run

    return register


def load_sections() -> dict[str, Section]:
    """Every section: this module's and those of the pipelines/bench_*.py modules."""
    import pipelines

    for module in pkgutil.iter_modules(pipelines.__path__):
        if module.name.startswith("bench_"):
            importlib.import_module(f"pipelines.{module.name}")
    return SECTIONS


# -- measuring a child process -------------------------------------------------------------------
# Runs `python -m <module> <args>` and writes the process's own peak resident memory (kB) to a
# file when it exits, however it exits.
_PEAK_WRAPPER = """
import atexit, resource, runpy, sys
peak_path, module = sys.argv[1], sys.argv[2]
def _peak():
    try:
        with open('/proc/self/status') as status:
            kb = next(int(line.split()[1]) for line in status if line.startswith('VmHWM:'))
    except (OSError, StopIteration):
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // (1024 if sys.platform == 'darwin' else 1)
    with open(peak_path, 'w') as out:
        out.write(str(kb))
atexit.register(_peak)
sys.argv = [module] + sys.argv[3:]
runpy.run_module(module, run_name='__main__', alter_sys=True)
"""


@dataclass
class Measured:
    seconds: float  # wall time of the whole process, start-up included
    peak_mb: float  # peak resident memory of the whole process
    returncode: int
    stdout: str
    stderr: str
    report: dict = field(default_factory=dict)  # what a worker wrote about itself


def run_module(module: str, args: list[str], cwd: Path, report_path: Path | None = None) -> Measured:
    """`python -m module args...` in a fresh interpreter: its wall time and its own peak memory."""
    out_path, err_path, peak_path = cwd / "_stdout.txt", cwd / "_stderr.txt", cwd / "_peak.txt"
    peak_path.unlink(missing_ok=True)
    argv = [sys.executable, "-c", _PEAK_WRAPPER, str(peak_path), module, *args]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        code = subprocess.call(argv, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
    report = {}
    if report_path is not None and report_path.exists():
        report = json.loads(report_path.read_text("utf-8"))
        report_path.unlink()
    return Measured(
        seconds=seconds,
        peak_mb=int(peak_path.read_text()) / 1024 if peak_path.exists() else 0.0,
        returncode=code,
        stdout=out_path.read_text("utf-8", errors="replace"),
        stderr=err_path.read_text("utf-8", errors="replace"),
        report=report,
    )


def run_worker(kind: str, params: dict, cwd: Path) -> Measured:
    """One of `WORKERS` in a fresh interpreter; raises BenchError when the work itself failed."""
    report_path = cwd / f"_worker_{kind}.json"
    measured = run_module(
        "pipelines.bench", ["worker", kind, json.dumps({**params, "report": str(report_path)})], cwd, report_path
    )
    if measured.returncode != 0 or not measured.report:
        raise BenchError(f"meting '{kind}' mislukte (code {measured.returncode}): {measured.stderr.strip()[-2000:]}")
    return measured


def summarise(runs: list[Measured], rows: int) -> dict:
    """Median time of the worker's own timing (load on a shared machine only ever adds), peak memory."""
    seconds = float(statistics.median(m.report["seconds"] for m in runs))
    peaks = [round(m.peak_mb, 1) for m in runs]
    return {
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds),
        "peak_mb": float(statistics.median(peaks)),
        "peak_mb_max": max(peaks),
        "runs_seconds": [round(m.report["seconds"], 3) for m in runs],
        "runs_peak_mb": peaks,
    }


# -- workers: the measured work, run in the child process ------------------------------------------
def _worker_import(params: dict) -> dict:
    """The real command-line import, timed once its modules are loaded (as in the app)."""
    import argparse

    from pipelines.importer import cli_import

    args = argparse.Namespace(file=params["file"], db=params["db"], format="auto", dry_run=False, json=True)
    started = time.perf_counter()
    code = cli_import(args)
    return {"seconds": time.perf_counter() - started, "exit_code": code}


def _worker_duckdb(params: dict) -> dict:
    """DuckDB alone: read_csv + INSERT of the same file into the same table of the same database.

    The pupil-number -> id lookup is in it because the table stores ids; a missing zone is
    filled with a constant instead of being derived. Connecting, committing and closing (the
    checkpoint) are timed, as they are for the import.
    """
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect(params["db"])
    con.execute("BEGIN TRANSACTION")
    inserted = con.execute(
        "INSERT INTO lvs_result (pupil_id, school_year, test_date, grade, domain, moment, raw_score, max_score,"
        " percentile, zone, zone_derived, remark, class_id)"
        " SELECT p.id, r.schooljaar, r.afnamedatum, r.leerjaar, r.domein, r.afnamemoment, r.ruwe_score,"
        " r.max_score, r.percentiel, coalesce(r.zone, 'C'), r.zone IS NULL, r.opmerking, e.class_id"
        " FROM read_csv(?, delim = ';', header = true, dateformat = '%d/%m/%Y', decimal_separator = ',',"
        "  encoding = 'latin-1') r"
        " JOIN pupil p ON p.pupil_number = r.leerling_id::VARCHAR"
        " LEFT JOIN enrolment e ON e.pupil_id = p.id AND e.school_year = r.schooljaar",
        [params["file"]],
    ).fetchone()[0]
    con.execute("COMMIT")
    con.close()
    return {"seconds": time.perf_counter() - started, "inserted": inserted}


def _worker_duckdb_ctas(params: dict) -> dict:
    """DuckDB's least work for the file: CREATE TABLE AS read_csv in a new, empty database
    (no keys, no indexes, no lookups). For comparison only; the target is on the line above."""
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect(params["db"])
    con.execute(
        "CREATE TABLE lvs AS SELECT * FROM read_csv(?, delim = ';', header = true, dateformat = '%d/%m/%Y',"
        " decimal_separator = ',', encoding = 'latin-1')",
        [params["file"]],
    )
    inserted = con.execute("SELECT count(*) FROM lvs").fetchone()[0]
    con.close()
    return {"seconds": time.perf_counter() - started, "inserted": inserted}


WORKERS: dict[str, Callable[[dict], dict]] = {
    "import": _worker_import,
    "duckdb": _worker_duckdb,
    "duckdb_ctas": _worker_duckdb_ctas,
}


def worker_main(argv: list[str]) -> int:
    kind, params = argv[0], json.loads(argv[1])
    result = WORKERS[kind](params)
    Path(params["report"]).write_text(json.dumps(result), "utf-8")
    return 0


# -- a synthetic school group -------------------------------------------------------------------------
# Fixed school years and seeds: every run generates the same files.
YEARS = ("2022-2023", "2023-2024", "2024-2025")
LVS_DOMAINS = ("wiskunde", "spelling", "technisch_lezen", "begrijpend_lezen")
MOMENT_DATES = {"begin": (10, 8), "midden": (2, 4), "eind": (6, 10)}  # moment -> (month, first day)
CLASS_SIZE = 22
_FIRST_NAMES = ("Nora", "Jules", "Zoë", "Amélie", "Wout", "Yasmina", "Çan", "Louis", "Fien", "Noah", "Mila", "Ilyas")
_LAST_NAMES = ("Maes", "Peeters", "Çelik", "Van den Broeck", "El Amrani", "Janssens", "Nowak", "De Smet", "Wouters")
_REMARKS = ("herkansing", "afgenomen in kleine groep", "verlengde tijd; voorleessoftware", "ziek bij eerste afname")


def pupils_needed(rows: int) -> int:
    """Pupils for `rows` LVS rows: each has 4 domains x 3 moments in each school year."""
    per_pupil = len(LVS_DOMAINS) * len(MOMENT_DATES) * len(YEARS)
    return max(1, -(-rows // per_pupil))


def _letters(position: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: parallel classes of a big school group."""
    text = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        text = chr(ord("A") + rest) + text
    return text


def roster_frame(pupils: int, seed: int = 7):
    """A leerlingen file: each pupil in every school year, in lager onderwijs, a grade up each year."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    first_grade = rng.integers(1, 5, pupils)  # 1-4 in the first year, so at most 6 in the last
    birth = pd.to_datetime(
        {"year": 2016 - first_grade, "month": rng.integers(1, 13, pupils), "day": rng.integers(1, 29, pupils)}
    ).dt.strftime("%d/%m/%Y")
    pupil = pd.DataFrame(
        {
            "leerling_id": np.arange(100_001, 100_001 + pupils).astype(str),
            "voornaam": rng.choice(np.array(_FIRST_NAMES), pupils),
            "naam": rng.choice(np.array(_LAST_NAMES), pupils),
            "geboortedatum": birth,
            "geslacht": rng.choice(np.array(["M", "V"]), pupils),
        }
    )
    years = []
    for offset, year in enumerate(YEARS):
        grade = first_grade + offset
        # Classes of CLASS_SIZE pupils per grade, in pupil order: L3A, L3B, ..., L3AA.
        within = pd.Series(grade).groupby(grade).cumcount().to_numpy() // CLASS_SIZE
        years.append(
            pupil.assign(
                schooljaar=year,
                klas=[f"L{g}{_letters(p)}" for g, p in zip(grade.tolist(), within.tolist(), strict=True)],
                niveau="lager",
                leerjaar=grade,
                instroomdatum="",
                vertrekdatum="",
            )
        )
    columns = ["leerling_id", "voornaam", "naam", "geboortedatum", "schooljaar", "klas", "niveau", "leerjaar"]
    return pd.concat(years, ignore_index=True)[[*columns, "geslacht", "instroomdatum", "vertrekdatum"]]


def lvs_frame(roster, rows: int, seed: int = 11):
    """`rows` valid LVS-VCLB results for the roster's pupils, each key once, zones fitting the
    percentiles (a quarter left empty to be derived), so the file imports without warnings."""
    import numpy as np
    import pandas as pd

    from dossier.instruments import zones_for_percentiles

    rng = np.random.default_rng(seed)
    tests = [(d, m) for d in LVS_DOMAINS for m in MOMENT_DATES]
    enrolled = roster[["leerling_id", "schooljaar", "klas", "leerjaar"]]
    frame = enrolled.loc[enrolled.index.repeat(len(tests))].reset_index(drop=True).iloc[:rows]
    n = len(frame)
    domain = np.array([d for d, _ in tests] * len(enrolled))[:n]
    moment = np.array([m for _, m in tests] * len(enrolled))[:n]
    month = np.array([MOMENT_DATES[m][0] for m in moment])
    day = np.array([MOMENT_DATES[m][1] for m in moment]) + rng.integers(0, 10, n)
    start = frame["schooljaar"].str[:4].astype(int).to_numpy()
    dates = pd.to_datetime({"year": np.where(month >= 9, start, start + 1), "month": month, "day": day})
    max_score = np.where(domain == "wiskunde", 60, 50)
    percentile = np.round(rng.uniform(0, 100, n) * 2) / 2  # halves, written 47,5
    zone = zones_for_percentiles(pd.Series(percentile)).where(rng.random(n) >= 0.25, "")
    return pd.DataFrame(
        {
            "schooljaar": frame["schooljaar"].to_numpy(),
            "afnamedatum": dates.dt.strftime("%d/%m/%Y").to_numpy(),
            "leerling_id": frame["leerling_id"].to_numpy(),
            "klas": frame["klas"].to_numpy(),
            "leerjaar": frame["leerjaar"].to_numpy(),
            "domein": domain,
            "afnamemoment": moment,
            "ruwe_score": rng.integers(0, max_score + 1),
            "max_score": max_score,
            "percentiel": [f"{p:g}".replace(".", ",") for p in percentile.tolist()],
            "zone": zone.to_numpy(),
            "opmerking": np.where(rng.random(n) < 0.05, rng.choice(np.array(_REMARKS), n), ""),
        }
    )


def belgian_csv(frame) -> bytes:
    """What Excel in nl-BE saves: `;`-separated, Windows-1252, CRLF."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(frame.columns)
    writer.writerows(frame.itertuples(index=False, name=None))
    return text.getvalue().encode("cp1252")


def build_school(work: Path, rows: int) -> tuple[Path, Path, dict]:
    """A database whose roster matches a `rows`-row LVS-VCLB file: (database, file, facts).

    The roster goes in through the real importer, as a school would load it.
    """
    from dossier.db import Database
    from dossier.users import SYSTEM_USER
    from pipelines.importer import run_import

    roster = roster_frame(pupils_needed(rows))
    roster_path = work / "leerlingen.csv"
    roster_path.write_bytes(belgian_csv(roster))
    lvs_path = work / "lvs-vclb.csv"
    lvs_path.write_bytes(belgian_csv(lvs_frame(roster, rows)))
    db_path = work / "school.duckdb"
    db = Database(db_path)
    try:
        started = time.perf_counter()
        report = run_import(db, SYSTEM_USER, roster_path.read_bytes(), roster_path.name)
        seconds = time.perf_counter() - started
        if report.status != "imported":
            raise BenchError(f"de leerlingenlijst werd niet ingelezen: {report.summary()[:2000]}")
        db.checkpoint()  # every copy starts from a file without a WAL
    finally:
        db.close()
    facts = {
        "pupils": int(roster["leerling_id"].nunique()),
        "school_years": len(YEARS),
        "roster_rows": len(roster),
        "roster_seconds": round(seconds, 3),
        "rows": rows,
        "file_mb": round(lvs_path.stat().st_size / 1e6, 2),
    }
    return db_path, lvs_path, facts


# -- the import section ----------------------------------------------------------------------------
def _render_import(result: dict) -> list[str]:
    rows = result["rows"]
    lines = [
        f"{_n(rows)} rijen ({_dec(result['file_mb'], 1)} MB, puntkomma, Windows-1252) voor {_n(result['pupils'])}"
        f" leerlingen in {result['school_years']} schooljaren",
        "",
        f"{'':30}{'seconden':>10}{'rijen/s':>12}{'piekgeheugen':>15}",
    ]
    for label, data in (
        ("import (run_import)", result["importer"]),
        ("DuckDB read_csv + INSERT", result["duckdb"]),
        ("DuckDB CREATE TABLE AS", result["duckdb_ctas"]),
        ("opdrachtregel, heel proces", result["cli"]),
    ):
        lines.append(
            f"{label:30}{_dec(data['seconds'], 3):>10}{_n(data['rows_per_second']):>12}"
            f"{_dec(data['peak_mb'], 0) + ' MB':>15}"
        )
    targets = result["targets"]
    lines += [
        "",
        f"Verhouding import / DuckDB: {_dec(result['ratio'], 2)} (doel: hoogstens {_dec(TARGET_RATIO, 0)})"
        f" - {'gehaald' if targets['ratio_met'] else 'niet gehaald'}",
        f"Piekgeheugen: {_dec(targets['peak_mb'], 0)} MB (doel: hoogstens {_dec(TARGET_PEAK_MB, 0)} MB)"
        f" - {'gehaald' if targets['peak_met'] else 'niet gehaald'}",
        "",
        "DuckDB read_csv + INSERT: hetzelfde bestand in dezelfde tabel van dezelfde databank (sleutels, indexen,"
        " leerling-id's opzoeken).",
        f"DuckDB CREATE TABLE AS: in een lege databank zonder sleutels, ter vergelijking (verhouding"
        f" {_dec(result['ratio_ctas'], 2)}).",
        f"Tijden: {_runs(len(result['importer']['runs_seconds']))}, zonder het opstarten van Python; opdrachtregel:"
        " één meting, met het opstarten.",
    ]
    return lines


@section("import", "Import van een LVS-VCLB-bestand", render=_render_import)
def bench_import(ctx: BenchContext) -> dict:
    """The real import against DuckDB's own ingest of the same file, each in its own process."""
    ctx.say(f"Synthetische scholengroep en een LVS-VCLB-bestand van {_n(ctx.rows)} rijen aanmaken…")
    school, lvs_path, facts = build_school(ctx.work, ctx.rows)
    rows = facts["rows"]

    def fresh_copy(name: str) -> str:
        target = ctx.work / name
        Path(f"{target}.wal").unlink(missing_ok=True)
        shutil.copyfile(school, target)
        return str(target)

    runs: dict[str, list[Measured]] = {"import": [], "duckdb": [], "duckdb_ctas": []}
    for i in range(ctx.repeat):
        ctx.say(f"Meting {i + 1} van {ctx.repeat}: de import, dan DuckDB alleen…")
        measured = run_worker("import", {"file": str(lvs_path), "db": fresh_copy("import.duckdb")}, ctx.work)
        outcome = json.loads(measured.stdout) if measured.report["exit_code"] == 0 else {}
        if outcome.get("inserted") != rows:
            raise BenchError(f"de import schreef niet alle {rows} rijen weg: {measured.stdout[:2000]}")
        runs["import"].append(measured)
        measured = run_worker("duckdb", {"file": str(lvs_path), "db": fresh_copy("duckdb.duckdb")}, ctx.work)
        if measured.report["inserted"] != rows:
            raise BenchError(f"DuckDB schreef {measured.report['inserted']} van de {rows} rijen weg")
        runs["duckdb"].append(measured)
        (ctx.work / "ctas.duckdb").unlink(missing_ok=True)
        measured = run_worker("duckdb_ctas", {"file": str(lvs_path), "db": str(ctx.work / "ctas.duckdb")}, ctx.work)
        if measured.report["inserted"] != rows:
            raise BenchError(f"DuckDB las {measured.report['inserted']} van de {rows} rijen")
        runs["duckdb_ctas"].append(measured)

    ctx.say("De echte opdrachtregel: python -m pipelines import…")
    cli = run_module("pipelines", ["import", str(lvs_path), "--db", fresh_copy("cli.duckdb"), "--json"], ctx.work)
    if cli.returncode != 0:
        raise BenchError(f"python -m pipelines import gaf code {cli.returncode}: {cli.stderr[-2000:]}")

    importer, duck = summarise(runs["import"], rows), summarise(runs["duckdb"], rows)
    ctas = summarise(runs["duckdb_ctas"], rows)
    ratio = importer["seconds"] / duck["seconds"]
    peak = max(importer["peak_mb"], cli.peak_mb)
    return {
        **facts,
        "importer": importer,
        "duckdb": duck,
        "duckdb_ctas": ctas,
        "cli": {
            "seconds": round(cli.seconds, 3),
            "rows_per_second": round(rows / cli.seconds),
            "peak_mb": round(cli.peak_mb, 1),
        },
        "ratio": round(ratio, 2),
        "ratio_ctas": round(importer["seconds"] / ctas["seconds"], 2),
        "targets": {
            "ratio_max": TARGET_RATIO,
            "ratio_met": ratio <= TARGET_RATIO,
            "peak_mb_max": TARGET_PEAK_MB,
            "peak_mb": round(peak, 1),
            "peak_met": peak <= TARGET_PEAK_MB,
        },
    }


# -- running the bench ------------------------------------------------------------------------------
def _runs(count: int) -> str:
    return "één meting" if count == 1 else f"mediaan van {count} metingen"


def _n(value: float) -> str:
    return f"{round(value):,}".replace(",", ".")


def _dec(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def machine_info() -> dict:
    import duckdb
    import pandas as pd
    import pandera
    import pyarrow

    try:
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3, 1)
    except (ValueError, OSError, AttributeError):
        memory_gb = None
    return {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pd.__version__,
        "pandera": pandera.__version__,
        "pyarrow": pyarrow.__version__,
    }


def run_bench(
    out: Path,
    *,
    rows: int = DEFAULT_ROWS,
    repeat: int = DEFAULT_REPEAT,
    sections: list[str] | None = None,
    say: Callable[[str], None] = print,
) -> dict:
    """Run the chosen sections (all by default), print their tables and write `out` as JSON."""
    available = load_sections()
    chosen = sections or list(available)
    unknown = [name for name in chosen if name not in available]
    if unknown:
        raise BenchError(f"onbekend onderdeel: {', '.join(unknown)}; kies uit {', '.join(SECTIONS)}")
    if rows < 1 or repeat < 1:
        raise BenchError("het aantal rijen en het aantal metingen moeten minstens 1 zijn")
    document: dict = {"machine": machine_info()}
    for name in chosen:
        spec = SECTIONS[name]
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as folder:
            result = spec.run(BenchContext(work=Path(folder), rows=rows, repeat=repeat, say=say))
        document[name] = result
        say("")
        say(spec.title)
        say("=" * len(spec.title))
        for line in spec.render(result) if spec.render else [json.dumps(result, ensure_ascii=False)]:
            say(line)
    from pipelines.bench_summary import summary_lines, summary_rows

    document["summary"] = summary_rows(document)
    if document["summary"]:
        say("")
        say("Samenvatting")
        say("============")
        for line in summary_lines(document["summary"]):
            say(line)
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    say("")
    say(f"Resultaten bewaard in {out}.")
    return document


def cli_bench(args) -> int:
    """`python -m pipelines bench [--out bench.json] [--rows N] [--repeat N] [--only NAME]`: 0 done, 1 failed."""
    try:
        run_bench(
            Path(args.out),
            rows=getattr(args, "rows", DEFAULT_ROWS),
            repeat=getattr(args, "repeat", DEFAULT_REPEAT),
            sections=getattr(args, "only", None) or None,
            say=lambda text: print(text, flush=True),
        )
    except BenchError as exc:
        print(f"Fout: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"Fout: de resultaten konden niet bewaard worden: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        sys.exit(worker_main(sys.argv[2:]))
    print("Gebruik: python -m pipelines bench", file=sys.stderr)
    sys.exit(2)
