"""`streamlit run app.py` on loopback against a given database, for tests that need their own server
(they write, or they hold the database while something else runs)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.browser.conftest import _free_port

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def streamlit_app(db_path: Path, folder: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """Yields (base URL, server process) once the health endpoint answers; stops the server after."""
    port = _free_port()
    log_path = folder / "streamlit.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
         "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, "DOSSIER_DB": str(db_path)}, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("streamlit startte niet: " + log_path.read_text()[-2000:]) from None
                time.sleep(0.3)
        yield url, server
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
