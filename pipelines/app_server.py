"""`streamlit run app.py` on loopback as a child process, for the bench and the browser tests.

One way to start the app and know it is up (its health endpoint answers) and to stop it again,
so the bench's memory measurement and every browser test run the app exactly as `make run` does.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class AppDidNotStart(RuntimeError):
    """The server did not answer in time; the message holds the end of its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(15)


@contextmanager
def running_app(
    db_path: Path,
    log_path: Path,
    *,
    port: int | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 90,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Yields (base URL, server process) once the app answers; stops it afterwards."""
    port = port or free_port()
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
            + ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
            + list(extra_args),
            cwd=ROOT,
            env={**os.environ, "DOSSIER_DB": str(db_path)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise AppDidNotStart(
                            f"streamlit startte niet binnen {timeout:.0f} s: " + log_path.read_text()[-2000:]
                        ) from None
                    time.sleep(0.3)
            yield url, server
        finally:
            stop(server)
