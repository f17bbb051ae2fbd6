"""Every benchmark at full size (`make bench`), one after the other, then one summary of their
headline figures, kept as JSON in benchmarks/results/<date>-<short commit>.json.

Each benchmark runs in a process of its own, as it runs alone (`python benchmarks/X.py`): its
threads, environment and memory are its own, and its output shows as it goes. --long adds what
takes long on a 2-core machine: the million-vector index (clip_search.py), Seg2Sat's 20 steps
(rather than 2) and two 300-s lecture rooms, one with a third of it in the guards game
(load_harness.py); the record's name then ends in -long
(and with --only, in the names of the benchmarks run).

The record: the machine (common.machine_description), the date, the commit (`git rev-parse HEAD`,
and whether the tree had changes), then per benchmark its arguments, exit code, seconds, the
headline figures the summary prints and every figure its main() returned. Ratios are measured
side by side in one run: compare ratios across machines, absolute figures on one machine only.
Nothing is asserted; a benchmark that fails is reported and the others still run.

    python benchmarks/run_all.py [--long] [--only tokenizer cemantix]
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from common import REPO, RESULTS_FILE_VARIABLE, machine_description, now

RESULTS_FOLDER = REPO / "benchmarks" / "results"


class Benchmark(NamedTuple):
    name: str  # its key in the summary and the record
    script: str
    arguments: tuple[str, ...] | None  # for `make bench`; None: only with --long
    headline: tuple[str, ...]  # the figures the summary prints: patterns of flattened keys ("latency/*/ratio")
    long_arguments: tuple[str, ...] | None = None  # with --long, where they differ


REUSE_CACHE = ("--reuse-cache",)  # the lecture hub on the converted models, not a fresh cache (minutes)
BENCHMARKS = (
    Benchmark(
        "startup", "startup.py", (), ("hub_start_s", "import_gradio_s", "time_ratio", "hub_rss_mib", "memory_ratio")
    ),
    Benchmark("tokenizer", "tokenizer.py", (), ("*/ours_ms", "*/ratio")),
    Benchmark("cemantix", "cemantix.py", (), ("*/ours_ms", "*/ranking_ms", "*/load_ms", "*/build_s")),
    # A room's 100 phones watching for its end (a tick every 10 s) against none and a tick every 2 s (~4 min).
    Benchmark("cemantix_room_watch", "cemantix.py", ("--room-watch",), ("*/hub_cpu_s", "*/p95_ms", "*/ended")),
    Benchmark(
        "clip_search",
        "clip_search.py",
        ("--skip-million",),
        (
            "latency/*/whole_ms",
            "latency/*/ratio",
            "memory/rss_*",
            "indexing/ratio",
            "million */*_ms",
            "million */recall",
        ),
        long_arguments=(),
    ),
    Benchmark("seg2sat", "seg2sat.py", ("--steps", "2", "--repeats", "1"), ("ratio", "step_s"), long_arguments=()),
    # From the drawn map to the final image: the CPU preset against the distilled path (~4 min).
    Benchmark("seg2sat_paths", "seg2sat.py", ("--paths", "--threads", "2"), ("*_s",)),
    # Repainting part of a real photo: our wrapper against the bare inpainting pipeline (tiny models).
    Benchmark(
        "seg2sat_repaint",
        "seg2sat.py",
        ("--architecture", "tiny", "--size", "384", "--steps", "20", "--repaint", "--repeats", "5"),
        ("repaint_*",),
    ),
    Benchmark(
        "sampling",
        "sampling.py",
        (),
        ("load */*_s", "generate */ours_tok_s", "generate */vs_*", "next_token */first_ms", "next_token */vs_*"),
    ),
    Benchmark(
        "sampling_batching",
        "sampling_batching.py",
        (),
        (
            "views/*/per_s",
            "through_gradio/*/per_s",
            "streams/*_tok_s",
            "draws/one_token/*_cpu_ms",
            "draws/sessions/*/room_tok_s",
        ),
    ),
    Benchmark("pass_process", "pass_process.py", (), ("*/*/ms_a_pass", "*/ratio")),
    Benchmark(
        "assistant",
        "assistant.py",
        (),
        ("one_user/*/first_token_s", "one_user/*/tok_s", "chats_within_limit"),
    ),
    Benchmark(
        "sampling_browser",
        "sampling_browser.py",
        (),
        (
            "view/build_ms",
            "view/payload_kib",
            "page/drags/*/redraws_per_s",
            "page/fast_redraws_per_s",
            "page/round_trip_ms",
        ),
    ),
    Benchmark(
        "reply_cost",
        "reply_cost.py",
        (),
        ("reply/ratio", "reply/cpu_ratio", "reply/meter_ms", "reply/first_reply_probe_s", "start/ratio"),
    ),
    Benchmark(
        "first_load",
        "first_load.py",
        # The room's first minute: 100 phones opening what its QR code opens (Cémantix's own page).
        ("--own-page", "--tab", "cemantix", "--phones", "100", *REUSE_CACHE),
        ("*/transferred", "*/first_screen_s", "*/p95_s", "*/hub_cpu_s", "*/page_get_cpu_ms"),
    ),
    Benchmark(
        "load_tokenize",
        "load_harness.py",
        ("--scenario", "tokenize", "--users", "50", "--seconds", "30", *REUSE_CACHE),
        ("p50_ms", "p95_ms", "max_ms", "throughput_per_s", "errors", "p50_ratio"),
    ),
    Benchmark(
        "load_lecture",
        "load_harness.py",
        None,
        ("p50_ms", "p95_ms", "max_ms", "throughput_per_s", "errors", "by_endpoint/*/p95_ms"),
        long_arguments=("--scenario", "lecture", "--users", "100", "--seconds", "300", *REUSE_CACHE),
    ),
    # Issue 26's room: 33 phones in the guards game (an attempt every 30 s), 67 in the lecture mix;
    # the target is the attempts' first output (first token), p95 <= 2 s (~8 min).
    Benchmark(
        "load_lecture_guards",
        "load_harness.py",
        None,
        (
            "by_endpoint//guard_attempt/first_output_p50_ms",
            "by_endpoint//guard_attempt/first_output_p95_ms",
            "by_endpoint/*/p95_ms",
            "errors",
            "hub_cpu_per_s",
            "harness_cpu_per_s",
            "steal_cores",
        ),
        long_arguments=("--scenario", "lecture_guards", "--users", "33", "--seconds", "300", *REUSE_CACHE),
    ),
)


def arguments_for(benchmark: Benchmark, long: bool) -> tuple[str, ...] | None:
    """The benchmark's arguments in this run, or None where it does not run."""
    if long and benchmark.long_arguments is not None:
        return benchmark.long_arguments
    return benchmark.arguments


def flattened(figures, prefix: str = "") -> dict[str, float]:
    """{"latency": {10000: {"ratio": 1.01}}} -> {"latency/10000/ratio": 1.01}: the numbers only."""
    if isinstance(figures, dict):
        flat = {}
        for key, value in figures.items():
            flat.update(flattened(value, f"{prefix}{key}/"))
        return flat
    if isinstance(figures, int | float) and not isinstance(figures, bool):
        return {prefix.rstrip("/"): figures}
    return {}


def headline(figures: dict, patterns: tuple[str, ...]) -> dict[str, float]:
    flat = flattened(figures)
    return {key: value for pattern in patterns for key, value in flat.items() if fnmatch.fnmatchcase(key, pattern)}


def run(benchmark: Benchmark, arguments: tuple[str, ...]) -> dict:
    """The benchmark in a process of its own, its output shown as it goes; what it measured."""
    print(f"\n>>> {benchmark.script} {' '.join(arguments)}", flush=True)
    with tempfile.TemporaryDirectory(prefix="iagen-bench-") as scratch:
        results_file = Path(scratch) / "figures.json"
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(REPO / "benchmarks" / benchmark.script), *arguments],
            cwd=REPO,
            env={**os.environ, "HF_HUB_OFFLINE": "1", RESULTS_FILE_VARIABLE: str(results_file)},
        )
        seconds = time.perf_counter() - started
        figures = json.loads(results_file.read_text()) if done.returncode == 0 and results_file.exists() else None
    return {
        "arguments": list(arguments),
        "exit_code": done.returncode,
        "seconds": round(seconds, 1),
        "headline": headline(figures, benchmark.headline) if figures else {},
        "figures": figures,
    }


def git(*command: str) -> str:
    return subprocess.run(["git", *command], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()


def print_summary(record: dict) -> None:
    print(f"\n== Summary — {record['date']}; {record['machine']}; commit {record['commit'][:10]}")
    for name, outcome in record["benchmarks"].items():
        verdict = "" if outcome["exit_code"] == 0 else f" FAILED (exit code {outcome['exit_code']})"
        print(f"  {name} ({outcome['seconds']:.0f} s){verdict}")
        for key, value in outcome["headline"].items():
            print(f"    {key:42} {value:.4g}")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long", action="store_true", help="add the long ones: 1 M vectors, 20 steps, two 300-s rooms")
    parser.add_argument("--only", nargs="+", choices=[b.name for b in BENCHMARKS], help="these benchmarks only")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    record = {
        "machine": machine_description(),
        "date": now(),
        "commit": git("rev-parse", "HEAD"),
        "uncommitted_changes": bool(git("status", "--porcelain", "--untracked-files=no")),
        "long": args.long,
        "benchmarks": {},
    }
    for benchmark in BENCHMARKS:
        arguments = arguments_for(benchmark, args.long)
        if arguments is None or (args.only and benchmark.name not in args.only):
            continue
        record["benchmarks"][benchmark.name] = run(benchmark, arguments)
    if not record["benchmarks"]:
        parser.error("no benchmark to run: load_lecture and load_lecture_guards run with --long only")
    record["seconds"] = round(time.perf_counter() - started)

    print_summary(record)
    RESULTS_FOLDER.mkdir(exist_ok=True)
    # A long or partial run is named as such: it never takes the place of the full run's record.
    parts = [f"{datetime.now():%Y-%m-%d}", record["commit"][:7], *(["long"] if args.long else []), *(args.only or [])]
    record_file = RESULTS_FOLDER / ("-".join(parts) + ".json")
    record_file.write_text(json.dumps(record, indent=1) + "\n")
    print(f"  {record['seconds']} s in all; figures kept in {record_file.relative_to(REPO)}")
    return record


if __name__ == "__main__":
    outcomes = main()["benchmarks"].values()
    sys.exit(1 if any(outcome["exit_code"] for outcome in outcomes) else 0)  # `make bench` fails with any of them
