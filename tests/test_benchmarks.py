"""Every benchmark still runs: each script with --quick (its code path on small sizes, seconds) in a
process of its own, as `make bench` runs it at full size. Checked: the exit code, and that the
headline lines were printed with numbers in them; never a figure's value (a timing on a shared
machine proves nothing, and the benchmarks themselves assert nothing).

The benchmarks run on the machine's default caches (~/.cache/iagen-demos, where `make run` and
`python -m shared.prefetch` leave the converted models and vocabularies), not on this session's
temporary ones: building a vocabulary or converting a pack happens once per machine there, but
once per test session here. Their quick runs load tiny random language models in Gemma's and
SmolLM2's place (benchmarks/common.py use_tiny_language_models): the real packs' loads took a
minute of the suite, several times over.

The runs go two at a time (RUNS_AT_ONCE), all started by one fixture in the tests' order, the
longest first; each test waits for its own run. A run is mostly imports, a hub's or a browser's
start and waits: one after the other they took 5 minutes of a 2-core machine. The tiny models are
saved once, for all of them (IAGEN_BENCH_TINY_MODELS), and the runs that take a hub's --url share
one hub, started once (on the tiny models too).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import pytest
from hub_server import running_hub

from shared.settings import load_settings

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The slowest, first_load.py (two servers and a browser) and reply_cost.py (two hubs), take ~23 s
# alone on a 2-core Xeon VM; reply_cost.py, with a third hub then, took 45 s alone on a 2-core AMD
# VM and over 2 minutes two at a time there while others loaded it too. On a fresh clone,
# cemantix.py first builds the vocabularies in the default cache. Under pytest's 300 s.
TIMEOUT_S = 280

pytestmark = pytest.mark.slow

N = r"\d[\d,.]*"  # a number as the benchmarks print it (never "nan")
RUNS_AT_ONCE = 2  # the machine's cores: a run is one busy process at a time, or waits on a hub or a browser

# In the order the runs start: the longest first (seconds of a quick run alone, 2-core AMD VM), the
# short ones then fill in beside them.
HEADLINES = {
    "reply_cost": (
        rf"reply: with the meter {N} s, without {N} s -> ratio {N}x",
        rf"the meter's own work per reply: {N} ms",
        rf"hub first page: ours {N} s, before {N} s -> ratio {N}x",
        r"at the hub.s start: codecarbon imported (?:no|yes), ecologits imported (?:no|yes)",
    ),
    "first_load": (
        rf"one phone, \?tab=tokenizer: {N} KB in {N} requests",
        rf"ours: {N}/{N} phones served, {N} errors; page working after p50 {N} s",
        rf"the hub's CPU for the rush: ours {N} s against {N} s",
        rf"one compressed page GET, the server's CPU: ours {N} ms",
    ),
    "sampling_browser": (
        rf"built in +{N} ms of CPU",
        rf"temperature +{N} +{N} +{N} +{N} +{N}",
        rf"the browser's work per redraw .*: {N} ms",
        rf"a /next_token round trip .*: median {N} ms",
    ),
    "sampling": (
        rf"GGUF +{N} s, converted +{N} s",
        rf"with both models loaded: RSS {N} MiB",
        rf"gemma3_270m +ours +{N} tok/s, before +{N}, generate\(\) +{N} -> {N}x before",
        rf"first view +{N} ms, before +{N}, bare forward +{N} -> {N}x before",
        rf"2 thread\(s\): +{N} tok/s, next token +{N} ms",
    ),
    "clip_search": (
        rf"vectors: bare encode +{N} ms \| ours: .* = +{N} ms -> {N}x",
        rf"files: index.faiss {N} MiB",
        rf"index_folder {N} images/s -> {N}x",
        rf"exact {N} ms/query vs IVF {N} ms/query at recall@10 {N}",
    ),
    "seg2sat": (rf"ratio ours / bare +: {N}", rf"seconds per denoising step +: {N} s"),
    "sampling_batching": (
        rf"ours +{N} views/s, p50 +{N} ms, p95 +{N} ms",
        rf"queued +{N} views/s",
        rf"ours {N} tok/s for the room vs {N} one after the other",
        rf"CPU: ours {N} ms vs before {N} ms",
        rf"ours +{N} tok/s for the room",
        rf"one padded pass \(before\) {N} ms, ours \(padded, caches cut out\) {N} ms",
    ),
    "load_harness": (
        rf"throughput {N} calls/s",
        rf"latency of successful calls: p50 {N} ms, p95 {N} ms, max {N} ms",
        rf"loaded p50 / unloaded p50 = {N}x",
    ),
    "pass_process": (
        rf"in the hub's process +{N} ms a pass",
        rf"-> the hub's process takes {N}x the time of a process of its own",
    ),
    "startup": (
        rf"hub first page {N} s, import gradio {N} s -> ratio {N}x",
        rf"RSS: hub {N} MiB, import gradio {N} MiB -> ratio {N}x",
    ),
    "assistant": (
        rf"bfloat16 +{N} thread\(s\): first token {N} s \(generate\(\) {N} s\), {N} tok/s \(generate\(\) {N}\) -> {N}x",
        rf"chats at once with a first token <= 3 s: {N}",
    ),
    "cemantix": (
        rf"guess +ours +{N} µs vs bare dot product +{N} µs -> ratio {N}x",
        rf"ranking +{N} ms per new secret",
        rf"load +{N} ms from the cache",
    ),
    "tokenizer": (rf"o200k_base +{N} tokens: ours +{N} ms, bare +{N} ms -> ratio {N}x",),
}
IN_A_BROWSER = {"sampling_browser", "first_load"}  # Debian's Chromium, through Playwright
# Their quick runs on one hub, started once (each would start its own, ~6 s of CPU): the arguments
# that name it, {url} and {pid} filled in. The laptop profile makes no model ready before serving.
ON_THE_SHARED_HUB = {
    "first_load": ("--url", "{url}", "--hub-pid", "{pid}"),
    "sampling_browser": ("--url", "{url}"),
    "load_harness": ("--url", "{url}", "--hub-pid", "{pid}"),
}
SHARED_HUB_FLAGS = ("--profile", "laptop", "--host", "127.0.0.1", "--torch-threads", "1")


def benchmark_environment() -> dict[str, str]:
    """This session's environment, on the machine's default caches rather than conftest's."""
    environ = {name: value for name, value in os.environ.items() if name not in ("IAGEN_CACHE_DIR", "HF_HOME")}
    default_cache = load_settings([], {}).cache_dir
    return {**environ, "IAGEN_CACHE_DIR": str(default_cache), "HF_HUB_OFFLINE": "1"}


def run_quick(script: str, arguments: list[str], environ: dict[str, str]) -> tuple[subprocess.CompletedProcess, float]:
    """The run, and its seconds (printed by its test: `pytest -s` shows what each run took)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, f"benchmarks/{script}.py", "--quick", *arguments],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    return done, time.perf_counter() - started


@pytest.fixture(scope="module")
def quick_runs(request, tmp_path_factory):
    """The quick run of every benchmark this session tests, RUNS_AT_ONCE at a time, started in the
    tests' order (pytest-xdist's --dist loadfile keeps this module in one process): a future each."""
    import psutil

    from benchmarks.common import TINY_LANGUAGE_MODELS, TINY_MODELS_VARIABLE, save_tiny_language_models

    tiny_models = tmp_path_factory.mktemp("tiny-models")
    save_tiny_language_models(tiny_models)
    environ = {**benchmark_environment(), TINY_MODELS_VARIABLE: str(tiny_models)}
    hub_environ = {**environ, **{f"IAGEN_MODEL_{key.upper()}": str(tiny_models / key) for key in TINY_LANGUAGE_MODELS}}
    scripts = [
        item.callspec.params["script"]
        for item in request.session.items
        if getattr(item, "function", None) is test_benchmark_runs_quick_and_prints_its_headline_figures
    ]
    shared_hub = (
        running_hub(*SHARED_HUB_FLAGS, environ=hub_environ) if ON_THE_SHARED_HUB.keys() & set(scripts) else None
    )
    with shared_hub or nullcontext() as url, ThreadPoolExecutor(RUNS_AT_ONCE) as pool:
        port = url and str(urllib.parse.urlparse(url).port)
        pid = url and next(str(child.pid) for child in psutil.Process().children() if port in child.cmdline())
        arguments = {
            script: [argument.format(url=url, pid=pid) for argument in ON_THE_SHARED_HUB.get(script, ())]
            for script in scripts
        }
        yield {script: pool.submit(run_quick, script, arguments[script], environ) for script in scripts}
        pool.shutdown(cancel_futures=True)  # after a failure with -x: no new run; those running end


@pytest.mark.parametrize(
    "script",
    [pytest.param(name, marks=pytest.mark.browser) if name in IN_A_BROWSER else name for name in HEADLINES],
)
def test_benchmark_runs_quick_and_prints_its_headline_figures(script, quick_runs):
    done, seconds = quick_runs[script].result()
    print(f"{script}: quick run {seconds:.1f} s")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    missing = [headline for headline in HEADLINES[script] if not re.search(headline, done.stdout)]
    assert not missing, f"not printed: {missing}\n{done.stdout[-4000:]}"


def test_every_benchmark_script_is_smoke_run_here_and_by_make_bench():
    """A benchmark added without its --quick run here, or left out of `make bench`, would stop
    running unseen (as clip_search.py once did): every script that ends in run_benchmark(main)."""
    folder = os.path.join(REPO, "benchmarks")
    scripts = {
        name.removesuffix(".py")
        for name in os.listdir(folder)
        if name.endswith(".py")
        and re.search(r"^\s+run_benchmark\(main\)$", open(os.path.join(folder, name), encoding="utf-8").read(), re.M)
    }
    run_all = open(os.path.join(folder, "run_all.py"), encoding="utf-8").read()
    assert scripts - set(HEADLINES) == set(), "benchmarks without a --quick check here"
    assert {script for script in scripts if f'"{script}.py"' not in run_all} == set(), "benchmarks make bench skips"
