"""Bench sections for the app as a whole: every page under AppTest, the server's memory after a
visit of every page in a real browser, and the time to seed the demo school.

All run on the school group of pipelines/bench_app.py (20,000 pupils a year, six school years).
The pipelines package never imports Streamlit: AppTest runs in a child process
(`python -m ui.bench_every_page`), the browser drives a real `streamlit run`.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from pipelines.app_server import AppDidNotStart, running_app
from pipelines.bench import BenchContext, BenchError, _dec, _n, run_module, section
from pipelines.bench_app import group_database

ROOT = Path(__file__).resolve().parents[1]
TARGET_PAGE_SECONDS = 0.5
ROLE_ORDER = ("directie", "zorgteam", "leerkracht", "clb", "beheerder")
DEMO_PASSWORD = "demo1234"


# -- every page under AppTest ------------------------------------------------------------------
def _render_pages(result: dict) -> list[str]:
    lines = [f"{'pagina':28}{'rol':14}{'mediaan':>10}{'traagste':>10}"]
    for page in result["pages"]:
        lines.append(
            f"{page['title']:28}{page['role']:14}{_dec(page['median_s'], 2) + ' s':>10}"
            f"{_dec(page['max_s'], 2) + ' s':>10}"
        )
    lines += [
        "",
        f"Volledige AppTest-runs ({result['runs']} per pagina, na één opwarmrun), als de eerste rol die de pagina"
        " mag openen, met een leerling en klas van dit schooljaar in de URL.",
        f"Traagste mediaan: {result['slowest']} ({_dec(result['slowest_median_s'], 2)} s)",
    ]
    return lines


@section("pages", "Elke pagina: volledige AppTest-run", render=_render_pages)
def bench_pages(ctx: BenchContext) -> dict:
    path, group = group_database(ctx)
    runs = max(3, ctx.repeat)
    ctx.say(f"Elke pagina {runs} keer met AppTest…")
    done = subprocess.run(
        [sys.executable, "-m", "ui.bench_every_page", str(path), str(runs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise BenchError(f"AppTest van de pagina's mislukte: {done.stderr.strip()[-2000:]}")
    pages = json.loads(done.stdout.strip().splitlines()[-1])["pages"]
    for page in pages:
        page["median_s"] = round(statistics.median(page["seconds"]), 3)
        page["max_s"] = round(max(page["seconds"]), 3)
    slowest = max(pages, key=lambda p: p["median_s"])
    return {
        "group": group,
        "runs": runs,
        "pages": pages,
        "slowest": slowest["title"],
        "slowest_median_s": slowest["median_s"],
    }


# -- the server's memory after every page in a real browser ----------------------------------------
def _process_memory_mb(pid: int) -> tuple[float, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM) of one process, in MB."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return round(values["VmRSS"], 1), round(values["VmHWM"], 1)


def _chromium() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if not found:
        raise BenchError("chromium ontbreekt (Debian-pakket 'chromium'); nodig voor de geheugenmeting")
    return found


def _visit_every_page(url: str, accounts: list[dict], params: str) -> list[dict]:
    """Each role signs in and opens every page it may open; returns the browser time per visit."""
    from playwright.sync_api import sync_playwright

    from dossier.access import User
    from ui.navigation import PAGES  # no Streamlit import: the page table is plain data

    visits = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), headless=True, args=["--no-sandbox"])
        for role in ROLE_ORDER:
            account = next((a for a in accounts if a["role"] == role), None)
            if account is None:
                continue
            probe = User(id=0, username=account["username"], name="", role=role, class_ids=frozenset({1}))
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="nl-BE")
            page = context.new_page()
            page.set_default_timeout(120_000)
            page.goto(url)
            page.get_by_label("Aanmeldnaam").fill(account["username"])
            page.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Aanmelden").click()
            page.get_by_role("button", name="Afmelden").wait_for()
            for spec in PAGES:
                if not spec.allowed(probe):
                    continue
                slug = Path(spec.path).stem
                started = time.perf_counter()
                page.goto(f"{url}/{'' if spec.default else slug}?{params}")
                page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()
                page.get_by_test_id("stMain").wait_for()
                errors = page.get_by_test_id("stException").count()
                visits.append(
                    {
                        "role": role,
                        "page": spec.title,
                        "seconds": round(time.perf_counter() - started, 2),
                        "exceptions": errors,
                    }
                )
            context.close()
        browser.close()
    return visits


def _render_memory(result: dict) -> list[str]:
    return [
        f"Streamlit-server na het opstarten: {_dec(result['rss_start_mb'], 0)} MB resident",
        f"Na {result['visits']} paginabezoeken ({result['roles']} rollen, elke toegelaten pagina):"
        f" {_dec(result['rss_after_mb'], 0)} MB resident, piek {_dec(result['peak_mb'], 0)} MB",
        f"Traagste pagina in de browser: {result['slowest_visit']['page']} als {result['slowest_visit']['role']}"
        f" ({_dec(result['slowest_visit']['seconds'], 1)} s tot het script klaar was)",
        f"Streamlit-fouten op een pagina: {result['exceptions']}",
    ]


@section("memory", "Geheugen van de app na een bezoek aan elke pagina", render=_render_memory)
def bench_memory(ctx: BenchContext) -> dict:
    path, group = group_database(ctx)
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        accounts = json.loads(con.execute("SELECT value FROM setting WHERE key = 'demo_accounts'").fetchone()[0])
        teacher = next(a for a in accounts if a["role"] == "leerkracht")
        classes = teacher["classes"] if isinstance(teacher["classes"], list) else teacher["classes"].split(",")
        row = con.execute(
            "SELECT c.id, min(e.pupil_id) FROM class c JOIN enrolment e ON e.class_id = c.id"
            " WHERE c.name = ? AND c.school_year = (SELECT max(school_year) FROM class) GROUP BY c.id",
            [classes[0]],
        ).fetchone()
    params = f"klas={row[0]}&leerling={row[1]}"
    ctx.say("De app starten op de scholengroep en elke pagina bezoeken in Chromium, per rol…")
    try:
        with running_app(path, ctx.work / "streamlit.log") as (url, proc):
            time.sleep(1.0)
            rss_start, _ = _process_memory_mb(proc.pid)
            visits = _visit_every_page(url, accounts, params)
            rss_after, peak = _process_memory_mb(proc.pid)
    except AppDidNotStart as exc:
        raise BenchError(str(exc)) from exc
    return {
        "group": group,
        "rss_start_mb": rss_start,
        "rss_after_mb": rss_after,
        "peak_mb": peak,
        "visits": len(visits),
        "roles": len({v["role"] for v in visits}),
        "exceptions": sum(v["exceptions"] for v in visits),
        "slowest_visit": max(visits, key=lambda v: v["seconds"]),
        "per_visit": visits,
    }


# -- seeding the demo ----------------------------------------------------------------------------
def _render_demo(result: dict) -> list[str]:
    return [
        f"python -m pipelines demo (standaard: {_n(result['pupils'])} leerlingen, {result['years']} schooljaren),"
        f" heel proces: {_dec(result['seconds'], 1)} s, piek {_dec(result['peak_mb'], 0)} MB",
        f"Scholengroep voor de metingen ({_n(result['group']['pupils_per_year'])} leerlingen per jaar,"
        f" {result['group']['school_years']} schooljaren): {_dec(result['group']['seed_seconds'], 1)} s",
    ]


@section("demo", "Demoschool aanmaken", render=_render_demo)
def bench_demo(ctx: BenchContext) -> dict:
    _, group = group_database(ctx)
    target = ctx.work / "demo.duckdb"
    ctx.say("De standaard demoschool aanmaken met de opdrachtregel…")
    measured = run_module("pipelines", ["demo", "--db", str(target)], ctx.work)
    if measured.returncode != 0:
        raise BenchError(f"python -m pipelines demo gaf code {measured.returncode}: {measured.stderr[-1500:]}")
    import duckdb

    with duckdb.connect(str(target), read_only=True) as con:
        pupils = con.execute("SELECT count(*) FROM pupil").fetchone()[0]
        years = con.execute("SELECT count(*) FROM school_year").fetchone()[0]
    return {
        "seconds": round(measured.seconds, 2),
        "peak_mb": round(measured.peak_mb, 1),
        "pupils": pupils,
        "years": years,
        "group": group,
    }
