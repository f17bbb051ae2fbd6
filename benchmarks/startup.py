"""Start-up of the hub against the floor set by gradio itself.

Measures, in one run and alternating the order to cancel drift on a noisy machine:

* hub: from starting `python app.py --port N` to the first HTTP 200 on "/";
* bare gradio: from starting `python -c "import gradio"` to the end of that import (the child
  prints a line once imported; interpreter teardown is not counted, which makes the ratio stricter);
* the resident memory (RSS) of each process at that moment, with psutil.

Reading it: ratio = median hub time / median bare-import time. Every hub must at least import
gradio, so 1.0 is the floor and what lies above it is our own imports, the Blocks we build and the
server's start; the target is <= 1.5x. The memory ratio reads the same way.

    python benchmarks/startup.py [--repetitions 5] [--quick]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time

import psutil
from common import REPO, hub_environment, machine_description, median, mib, now, run_benchmark
from hub_server import free_port, wait_until_served  # noqa: E402 (tests/ is on the path via common)

IMPORT_GRADIO = "import gradio, sys; print('imported', flush=True); sys.stdin.read()"
TARGET_RATIO = 1.5
TIMEOUT_S = 120


def resident_memory(process: subprocess.Popen) -> int:
    """RSS of the process and any children it started, in bytes."""
    parent = psutil.Process(process.pid)
    return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def time_bare_import(environ: dict[str, str]) -> tuple[float, int]:
    """Seconds from start to `import gradio` done, and the RSS then."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", IMPORT_GRADIO],
        env=environ,
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()  # blocks until the import is done
        elapsed = time.perf_counter() - started
        if line.strip() != "imported":
            raise RuntimeError(f"`import gradio` failed (exit code {process.wait()})")
        return elapsed, resident_memory(process)
    finally:
        process.stdin.close()
        stop(process)


def time_hub_start(environ: dict[str, str], log_path: str) -> tuple[float, int]:
    """Seconds from start to the hub's first page served (HTTP 200 on "/"), and the RSS then."""
    port = free_port()
    with open(log_path, "w") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, str(REPO / "app.py"), "--port", str(port)],
            env=environ,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_served(f"http://127.0.0.1:{port}/", process, TIMEOUT_S)
            elapsed = time.perf_counter() - started
            return elapsed, resident_memory(process)
        finally:
            stop(process)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one repetition, no warm-up (a check that it runs)")
    args = parser.parse_args(argv)
    if args.quick:
        args.repetitions = 1

    print(f"== Start-up: hub vs `import gradio` — {now()}; {machine_description()}")
    with tempfile.TemporaryDirectory(prefix="iagen-bench-startup-") as scratch:
        environ = hub_environment(f"{scratch}/cache")
        log_path = f"{scratch}/hub.log"
        if not args.quick:  # --quick's figures mean nothing: this would only add an import of gradio
            time_bare_import(environ)  # untimed: fills the OS file cache for both (the hub imports gradio too)

        hub_times, hub_memory, import_times, import_memory = [], [], [], []
        for repetition in range(args.repetitions):
            hub_first = repetition % 2 == 0  # alternate the order: drift hits both sides alike
            for which in ("hub", "import") if hub_first else ("import", "hub"):
                try:
                    if which == "hub":
                        seconds, rss = time_hub_start(environ, log_path)
                        hub_times.append(seconds)
                        hub_memory.append(rss)
                    else:
                        seconds, rss = time_bare_import(environ)
                        import_times.append(seconds)
                        import_memory.append(rss)
                except Exception:
                    print(f"-- {which} failed; hub log:\n{open(log_path).read()[-3000:]}")
                    raise
                print(f"  run {repetition + 1} {which:6}: {seconds:5.2f} s, RSS {mib(rss)}")

    results = {
        "hub_start_s": median(hub_times),
        "import_gradio_s": median(import_times),
        "hub_rss_mib": median(hub_memory) / 2**20,
        "import_gradio_rss_mib": median(import_memory) / 2**20,
    }
    results["time_ratio"] = results["hub_start_s"] / results["import_gradio_s"]
    # Each repetition ran both side by side: the median of those paired ratios shrugs off a slow run.
    results["paired_time_ratio"] = median(hub / bare for hub, bare in zip(hub_times, import_times, strict=True))
    results["memory_ratio"] = results["hub_rss_mib"] / results["import_gradio_rss_mib"]
    verdict = "within" if results["time_ratio"] <= TARGET_RATIO else "ABOVE"
    print(
        f"  medians of {args.repetitions}: hub first page {results['hub_start_s']:.2f} s, "
        f"import gradio {results['import_gradio_s']:.2f} s -> ratio {results['time_ratio']:.2f}x "
        f"({verdict} the {TARGET_RATIO}x target); median of paired ratios {results['paired_time_ratio']:.2f}x"
    )
    print(
        f"  RSS: hub {results['hub_rss_mib']:.0f} MiB, import gradio {results['import_gradio_rss_mib']:.0f} MiB "
        f"-> ratio {results['memory_ratio']:.2f}x"
    )
    return results


if __name__ == "__main__":
    run_benchmark(main)
