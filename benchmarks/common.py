"""Helpers shared by the benchmarks: paths, the child hub's environment, medians, the machine."""

from __future__ import annotations

import atexit
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The repository root (for `shared`, `spaces`) and tests/ (for hub_server) become importable.
for folder in (REPO, REPO / "tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


# run_all.py names a file in this variable: the benchmark it starts writes its figures there as JSON.
RESULTS_FILE_VARIABLE = "IAGEN_BENCH_RESULTS_FILE"


def run_benchmark(main) -> None:
    """A benchmark's `__main__`: run `main()` and, when run_all.py asked for them, write the figures
    it returned as JSON. The variable is taken out of the environment first, so that processes the
    benchmark starts (a hub, sampling.py's fresh-process phases) never write that file."""
    results_file = os.environ.pop(RESULTS_FILE_VARIABLE, None)
    results = main()
    if results_file:
        Path(results_file).write_text(json.dumps(results, indent=1, default=str))


def hub_environment(cache_dir: str | Path) -> dict[str, str]:
    """Environment for a child hub: offline, a private cache, nothing phones home."""
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "IAGEN_CACHE_DIR": str(cache_dir),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONUNBUFFERED": "1",
    }


# Names a folder where save_tiny_language_models() saved the tiny models already: --quick runs use
# those rather than saving their own (tests/test_benchmarks.py saves them once for all its runs).
TINY_MODELS_VARIABLE = "IAGEN_BENCH_TINY_MODELS"
TINY_LANGUAGE_MODELS = ("gemma3_270m", "smollm2_135m_instruct")


def save_tiny_language_models(folder: Path) -> None:
    """Tiny random models of Gemma 3's and SmolLM2's architectures (tests/tiny_models.py, GPT-2's
    tokenizer), each in folder/<key>."""
    from tiny_models import save_tiny_causal_lm, save_tiny_gemma3

    for key, save in zip(TINY_LANGUAGE_MODELS, (save_tiny_gemma3, save_tiny_causal_lm), strict=True):
        save(folder / key, context_tokens=1024)


def use_tiny_language_models() -> None:
    """--quick: the hub's language models become tiny random ones of their real architectures, named
    with IAGEN_MODEL_<KEY> for this process and every hub or fresh process it starts: those in
    $IAGEN_BENCH_TINY_MODELS, or else saved in a temporary folder (removed at exit). The same
    loading, batching and sampling code runs in seconds, without the packs' loads (5-10 s each, more
    than once a run): a check that the benchmark runs, not figures."""
    folder = os.environ.get(TINY_MODELS_VARIABLE)
    if folder is None:
        folder = tempfile.mkdtemp(prefix="iagen-bench-tiny-models-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        save_tiny_language_models(Path(folder))
    for key in TINY_LANGUAGE_MODELS:
        os.environ[f"IAGEN_MODEL_{key.upper()}"] = str(Path(folder) / key)


def median(values) -> float:
    return statistics.median(values)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list (fraction 0.95 -> p95)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_description() -> str:
    import psutil

    memory_gib = psutil.virtual_memory().total / 2**30
    return (
        f"{os.cpu_count()} cores, {cpu_model()}, {memory_gib:.0f} GiB, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def now() -> str:
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


def mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:.0f} MiB"
