"""Serve the real hub for tests: `python app.py` in a child process (`running_hub`), or the
Blocks of `app.build_hub` in this process (`hub_in_process`).

Used by the end-to-end, browser and demo tests and by the benchmarks: they all talk to the hub the
way a user or a gradio_client would, over HTTP on loopback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_hub(
    *flags: str,
    environ: dict[str, str] | None = None,
    timeout: float = 120,
    log_path: Path | None = None,
    script: Path = REPO / "app.py",
):
    """Yield the hub's URL while `python <script> --port <free> *flags` runs (app.py, or a
    benchmark's variant of it); stop it afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(environ or {})}
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, str(script), "--port", str(port), *flags],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_served(url, process, timeout)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        if log_path:
            log.close()


@contextmanager
def hub_in_process(hub, demo_modules: dict[str, str]):
    """Yield the URL of `app.build_hub(hub, demo_modules)` served in this process, on a free port:
    faster than a child process, and the test can reach into the hub it built."""
    from app import build_hub

    built = build_hub(hub, demo_modules)
    hub.start()
    blocks = built.blocks
    blocks.queue()
    _, url, _ = blocks.launch(prevent_thread_lock=True, quiet=True, i18n=built.i18n(hub))
    try:
        yield url
    finally:
        blocks.close()


def wait_until_served(url: str, process: subprocess.Popen, timeout: float) -> float:
    """Seconds until `url` answers 200; raises if the process dies or time runs out."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"the hub exited with code {process.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"the hub did not serve {url} within {timeout} s")
