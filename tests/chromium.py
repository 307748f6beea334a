"""The app in the background and a headless browser: what the browser tests, the speed
benchmark and the lesson's screenshots share.

Chromium is Debian's package; the flags are the ones that work on a machine without a
display or internet (see the project's notes on the browser app offline).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(cwd: Path | None = None, timeout: float = 60.0) -> Iterator[str]:
    """`secmig app` as a real subprocess on a free loopback port; yields its address once it
    answers, stops it afterwards. RuntimeError (with the app's output) if it does not start."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "simulation.cli", "app", "--port", str(port),
                             "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=cwd)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"secmig app exited early:\n{proc.stdout.read()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"secmig app did not answer within {timeout:g} s")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
