"""The French assistant: Qwen3 models (Luth-0.6B-Instruct, Qwen3-0.6B, Qwen3-0.6B-Base) loaded from
a fake hub cache under their real repository ids, as tiny random models of the real architecture
with Qwen3's special tokens and chat template; the chat's choice of model, its fallback notice,
and the model named under each reply."""

import functools
import os
import shutil
from pathlib import Path

import pytest
import torch
from conftest import seed_hub_cache
from hub_server import hub_in_process
from test_sampling_logic import save_tiny, tiny_gemma3, tiny_llama
from test_sampling_ui import GEMMA_ID, SMOLLM2_ID
from tiny_models import save_tiny_qwen3

from shared.hub import Hub
from shared.settings import load_settings

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client  # noqa: E402

REPOSITORIES = {
    "luth_0_6b_instruct": ("kurakurai/Luth-0.6B-Instruct", True),
    "qwen3_0_6b": ("Qwen/Qwen3-0.6B", True),
    "qwen3_0_6b_base": ("Qwen/Qwen3-0.6B-Base", False),
}
MISSING = "/nonexistent/weights"  # IAGEN_MODEL_<KEY> at a folder that is not there: the model cannot be had


def seed_qwen3_models() -> dict:
    """The three Qwen3 repositories (and the packs' two models) in the test HF cache."""
    snapshots = {
        key: seed_hub_cache(repo_id, functools.partial(save_tiny_qwen3, instruct=instruct))
        for key, (repo_id, instruct) in REPOSITORIES.items()
    }
    seed_hub_cache(GEMMA_ID, save_tiny(tiny_gemma3))
    seed_hub_cache(SMOLLM2_ID, save_tiny(tiny_llama))
    return snapshots


def remove_qwen3_models() -> None:
    """Other modules expect the chat's offline pack, as a server without the Qwen3 models has."""
    for repo_id, _ in REPOSITORIES.values():
        shutil.rmtree(Path(os.environ["HF_HOME"]) / "hub" / f"models--{repo_id.replace('/', '--')}")


@pytest.fixture(scope="module")
def qwen3_snapshots():
    yield seed_qwen3_models()
    remove_qwen3_models()


def make_hub(cache_dir, **overrides) -> Hub:
    environ = {
        "IAGEN_CACHE_DIR": str(cache_dir),
        "HF_HUB_OFFLINE": "1",
        "IAGEN_TORCH_THREADS": "1",
        "IAGEN_MODEL_GEMMA3_270M": GEMMA_ID,
        "IAGEN_MODEL_SMOLLM2_135M_INSTRUCT": SMOLLM2_ID,
        **overrides,
    }
    return Hub(load_settings([], environ))


@pytest.fixture(scope="module")
def hub(qwen3_snapshots, tmp_path_factory):
    return make_hub(tmp_path_factory.mktemp("assistant-cache"))


# --- the models, from the hub -----------------------------------------------------------------------


@pytest.mark.parametrize("key", REPOSITORIES)
def test_each_qwen3_model_loads_from_the_hub_cache_in_bfloat16_with_its_chat_template(hub, key):
    from transformers import Qwen3ForCausalLM

    from shared.language_models import load_model, load_tokenizer

    assert hub.weights.source(key).repo_id == REPOSITORIES[key][0]
    model = load_model(hub, key)
    tokenizer = load_tokenizer(hub, key)
    assert isinstance(model, Qwen3ForCausalLM) and model.dtype == torch.bfloat16
    assert "enable_thinking" in tokenizer.chat_template and "<|im_end|>" in tokenizer.get_vocab()


def test_the_chat_takes_luth_then_qwen3_then_the_offline_english_pack(hub, tmp_path):
    from shared.language_models import chat_model

    assert chat_model(hub) == "luth_0_6b_instruct"
    no_luth = make_hub(tmp_path / "a", IAGEN_MODEL_LUTH_0_6B_INSTRUCT=MISSING)
    assert chat_model(no_luth) == "qwen3_0_6b"
    neither = make_hub(tmp_path / "b", IAGEN_MODEL_LUTH_0_6B_INSTRUCT=MISSING, IAGEN_MODEL_QWEN3_0_6B=MISSING)
    assert chat_model(neither) == "smollm2_135m_instruct"


# --- the chat with the French assistant -----------------------------------------------------------


def test_the_chat_names_the_model_under_each_reply_and_keeps_the_name_from_the_next_prompt(qwen3_snapshots, tmp_path):
    hub = make_hub(tmp_path)
    with hub_in_process(hub, {"sampling": "spaces.sampling.ui"}) as url:
        client = Client(url, verbose=False)
        neutral = (1.0, 0, 1.0, 0.0, 1.0)
        history, _, status = client.predict("Bonjour !", [], "Sois bref.", 5, *neutral, 1, api_name="/chat")
        reply = history[1]["content"][0]["text"]
        assert reply.endswith("\n\n*— Luth-0.6B-Instruct*") and "5 tokens en" in status
        assert "modèle anglais" not in str(hub.page_texts.texts().by_language["fr"])

    from spaces.sampling.handlers import without_model_name

    assert without_model_name(reply) == reply.removesuffix("\n\n*— Luth-0.6B-Instruct*")
    assert without_model_name("Le tiret — reste *là*") == "Le tiret — reste *là*"


def test_without_a_french_model_the_chat_says_the_offline_pack_answers_poorly(qwen3_snapshots, tmp_path):
    fallback = make_hub(tmp_path, IAGEN_MODEL_LUTH_0_6B_INSTRUCT=MISSING, IAGEN_MODEL_QWEN3_0_6B=MISSING)
    with hub_in_process(fallback, {"sampling": "spaces.sampling.ui"}) as url:
        history, _, _ = Client(url, verbose=False).predict(
            "Bonjour !", [], "", 3, 1.0, 0, 1.0, 0.0, 1.0, 1, api_name="/chat"
        )
    assert history[1]["content"][0]["text"].endswith("*— SmolLM2-135M-Instruct*")
    texts = fallback.page_texts.texts().by_language
    assert (
        "modèle anglais de 135 M paramètres, réponses en français médiocres"
        in texts["fr"]["sampling_chat_fallback_notice"]
    )
    assert "English model of 135 M parameters" in texts["en"]["sampling_chat_fallback_notice"]
