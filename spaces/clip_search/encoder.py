"""The CLIP encoder: which model (the IAGEN_CLIP_MODEL setting), where its weights come from (the
hub's weight sources, never the hub directly), and texts or images → unit vectors.

The setting, `clip_model`, takes one of:
- empty: the catalogue's `clip_encoder`, RS-M-CLIP (multilingual, remote sensing), or whatever
  IAGEN_MODEL_CLIP_ENCODER points at (another open_clip hub repository, or a local copy);
- `hf-hub:ORG/NAME`: an open_clip repository on the hub (open_clip_config.json + weights);
- `ARCHITECTURE:TAG`: an open_clip architecture with one of its pretrained tags, e.g.
  `ViT-B-32:laion2b_s34b_b79k`, the English-only baseline; the tag's hub repository is fetched;
- `ARCHITECTURE:/path/to/weights`: an architecture with a local weights file (RemoteCLIP's .pt).

Text towers taken from transformers (XLM-RoBERTa for RS-M-CLIP) need their config and tokenizer:
they come from the weight sources too (`clip_text_tower`), and open_clip is pointed at that folder.
open_clip, torch and transformers are imported when a model loads, not when this module does.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from shared.gpu import on_zerogpu
from shared.weights import CATALOGUE, WeightSources, WeightsUnavailable

ENCODER_KEY = "clip_encoder"
TEXT_TOWER_KEY = "clip_text_tower"
MODEL_CACHE_KEY = f"{ENCODER_KEY}:model"
MAX_QUERY_CHARS = 1_000  # far beyond any text context (77 tokens ≈ 300 characters): bounds the tokenizer's work
# open_clip loads the first of these it finds in a model folder (factory._find_checkpoint_in_dir):
# the identity hashes the same one.
WEIGHT_FILES = (
    "open_clip_model.safetensors",
    "open_clip_pytorch_model.safetensors",
    "open_clip_pytorch_model.bin",
    "open_clip_pytorch_model.pth",
    "model.safetensors",
    "pytorch_model.bin",
    "pytorch_model.pth",
    "model.pth",
)
TEXT_TOWER_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "sentencepiece.bpe.model",
    "special_tokens_map.json",
    "vocab.json",
    "merges.txt",
    "spiece.model",
)
# Old short names that transformers still accepts for the repositories now under an organisation.
HF_MODEL_ALIASES = {
    "xlm-roberta-base": "FacebookAI/xlm-roberta-base",
    "xlm-roberta-large": "FacebookAI/xlm-roberta-large",
    "roberta-base": "FacebookAI/roberta-base",
}


class EncoderSettingError(ValueError):
    """IAGEN_CLIP_MODEL cannot be understood; the message says what it accepts."""


@dataclass(frozen=True)
class EncoderChoice:
    setting: str  # as written, for messages
    hub_repo: str | None = None  # an open_clip repository (config + weights), or None for the catalogue's
    architecture: str | None = None  # an open_clip architecture name, with...
    pretrained: str | None = None  # ...a pretrained tag or a local weights file


def parse_encoder_setting(value: str) -> EncoderChoice:
    value = value.strip()
    if not value:
        return EncoderChoice("")
    if value.startswith("hf-hub:"):
        repo = value.removeprefix("hf-hub:").strip("/")
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
            raise EncoderSettingError(f"IAGEN_CLIP_MODEL={value!r}: expected hf-hub:ORGANISATION/NAME")
        return EncoderChoice(value, hub_repo=repo)
    architecture, separator, pretrained = value.partition(":")
    if not separator or not architecture or not pretrained:
        raise EncoderSettingError(
            f"IAGEN_CLIP_MODEL={value!r}: expected empty (RS-M-CLIP), hf-hub:ORGANISATION/NAME, "
            "ARCHITECTURE:TAG (e.g. ViT-B-32:laion2b_s34b_b79k) or ARCHITECTURE:/path/to/weights"
        )
    return EncoderChoice(value, architecture=architecture, pretrained=pretrained)


@dataclass(frozen=True)
class EncoderIdentity:
    """What an index remembers of the encoder that filled it. Two encoders give comparable vectors
    only with the same weights (their sha256) and dimension; `model` names them for people."""

    model: str
    weights_sha256: str
    dim: int

    def matches(self, other: EncoderIdentity) -> bool:
        return self.weights_sha256 == other.weights_sha256 and self.dim == other.dim

    def describe(self) -> str:
        return f"{self.model} (weights {self.weights_sha256[:12]}, {self.dim} dimensions)"

    def to_json(self) -> dict:
        return {"model": self.model, "weights_sha256": self.weights_sha256, "dim": self.dim}

    @classmethod
    def from_json(cls, data: dict) -> EncoderIdentity:
        return cls(str(data["model"]), str(data["weights_sha256"]), int(data["dim"]))


@dataclass(frozen=True)
class PreparedQuery:
    text: str  # what the encoder reads (at most MAX_QUERY_CHARS, cleaned of surrounding spaces)
    truncated: bool  # longer than the text context: only its beginning counts
    kept: str  # the part that counts, as the tokenizer gives it back


class ClipEncoder:
    """An open_clip model with its preprocessing and tokenizer, giving unit-length float32 vectors."""

    def __init__(self, model, preprocess, tokenizer, identity: EncoderIdentity, device, dtype):
        self.model = model
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.identity = identity
        self.device = device
        self.dtype = dtype
        self.context_length = int(tokenizer.context_length)

    @property
    def nbytes(self) -> int:  # for the model cache's memory budget
        return sum(tensor.numel() * tensor.element_size() for tensor in self.model.state_dict().values())

    def prepare_query(self, text: str) -> PreparedQuery:
        text = " ".join(text.split())[:MAX_QUERY_CHARS]
        ids = self._token_ids(text)
        if ids is None or len(ids) <= self.context_length:
            return PreparedQuery(text, False, text)
        return PreparedQuery(text, True, self._decode(ids[: self.context_length]))

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        tokens = self.tokenizer([text[:MAX_QUERY_CHARS] for text in texts]).to(self.device)
        with torch.inference_mode():
            features = self.model.encode_text(tokens)
        return _unit_rows(features)

    def preprocess_images(self, images) -> torch.Tensor:  # noqa: F821 (torch is imported lazily)
        """A batch tensor of PIL images; safe to call from a worker thread while the model encodes."""
        import torch

        return torch.stack([self.preprocess(image) for image in images])

    def encode_pixels(self, batch) -> np.ndarray:
        import torch

        with torch.inference_mode():
            features = self.model.encode_image(batch.to(self.device, self.dtype))
        return _unit_rows(features)

    def encode_images(self, images) -> np.ndarray:
        return self.encode_pixels(self.preprocess_images(images))

    def _token_ids(self, text: str) -> list[int] | None:
        from open_clip.tokenizer import HFTokenizer, SimpleTokenizer

        if isinstance(self.tokenizer, SimpleTokenizer):
            return [self.tokenizer.sot_token_id, *self.tokenizer.encode(text), self.tokenizer.eot_token_id]
        if isinstance(self.tokenizer, HFTokenizer):
            return list(self.tokenizer.tokenizer(self.tokenizer.clean_fn(text))["input_ids"])
        return None  # another tokenizer: it truncates silently, we cannot say where

    def _decode(self, ids: list[int]) -> str:
        from open_clip.tokenizer import SimpleTokenizer

        if isinstance(self.tokenizer, SimpleTokenizer):
            return self.tokenizer.decode(ids[1:-1]).strip()
        return self.tokenizer.tokenizer.decode(ids, skip_special_tokens=True).strip()


def _unit_rows(features) -> np.ndarray:
    vectors = features.float().cpu().numpy()
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return np.ascontiguousarray(vectors, dtype=np.float32)


def load_encoder(hub) -> ClipEncoder:
    """The configured encoder, built from local files found by the hub's weight sources."""
    import open_clip
    import torch
    from open_clip.transform import PreprocessCfg, image_transform_v2

    from shared.device import torch_runtime

    choice = parse_encoder_setting(hub.settings.clip_model)
    runtime = torch_runtime(hub.settings)
    # On ZeroGPU, CUDA exists only inside @spaces.GPU calls, each costing a GPU slot: a search is
    # one small forward pass, cheaper on the CPU than waiting for a slot.
    device = torch.device("cpu") if on_zerogpu() else runtime.device
    dtype = torch.float32 if device.type == "cpu" else runtime.dtype
    precision = {torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}[dtype]

    if choice.architecture is None:
        sources = encoder_sources(hub, choice)
        folder = sources.locate(ENCODER_KEY)
        config_file = folder / "open_clip_config.json"
        if not config_file.is_file():
            raise WeightsUnavailable(sources.source(ENCODER_KEY), f"{folder} has no open_clip_config.json")
        config = json.loads(config_file.read_text(encoding="utf-8"))
        model_cfg = config.get("model_cfg", config)
        weights = _weights_file(folder, sources)
        base, pretrained = f"local-dir:{folder}", None  # open_clip reads config and weights from there
        preprocess_cfg, quick_gelu = config.get("preprocess_cfg", {}), False
        source = sources.source(ENCODER_KEY)  # after IAGEN_MODEL_CLIP_ENCODER
        model_name = str(source.local_path) if source.local_path else f"hf-hub:{source.repo_id}"
    else:
        model_cfg = open_clip.get_model_config(choice.architecture)
        if model_cfg is None:
            raise EncoderSettingError(f"IAGEN_CLIP_MODEL: unknown open_clip architecture {choice.architecture!r}")
        weights, tag_cfg = _pretrained_weights(hub, choice)
        base, pretrained, model_name = choice.architecture, str(weights), choice.setting
        preprocess_cfg = {
            name: tag_cfg[name] for name in ("mean", "std", "interpolation", "resize_mode") if name in tag_cfg
        }
        quick_gelu = bool(tag_cfg.get("quick_gelu", False))

    text_cfg = model_cfg["text_cfg"]
    extra = {}
    if "hf_model_name" in text_cfg:
        tower = _text_tower_folder(hub, text_cfg["hf_model_name"])
        # The tower is built from its config only; the CLIP checkpoint then fills all its weights.
        extra["text_cfg"] = {
            **text_cfg,
            "hf_model_name": str(tower),
            "hf_tokenizer_name": str(tower),
            "hf_model_pretrained": False,
        }
    model = open_clip.create_model(
        base,
        pretrained=pretrained,
        precision=precision,
        device=device,
        force_quick_gelu=quick_gelu,
        force_preprocess_cfg=preprocess_cfg,
        pretrained_text=False,
        **extra,
    )
    model.eval().requires_grad_(False)
    preprocess = image_transform_v2(PreprocessCfg(**model.visual.preprocess_cfg), is_train=False)
    tokenizer = _tokenizer(extra.get("text_cfg", text_cfg))
    identity = EncoderIdentity(model_name, _sha256_of_weights(weights), int(model_cfg["embed_dim"]))
    return ClipEncoder(model, preprocess, tokenizer, identity, device, dtype)


def get_encoder(hub, progress=None, language: str = "fr") -> ClipEncoder:
    """The shared encoder, loaded once for the whole hub."""
    return hub.load_model(MODEL_CACHE_KEY, lambda: load_encoder(hub), progress, language)


def encoder_sources(hub, choice: EncoderChoice) -> WeightSources:
    """The weight sources to locate `clip_encoder` with: the hub's, or one whose entry points at
    the repository the setting names (IAGEN_MODEL_CLIP_ENCODER still overrides it)."""
    if choice.hub_repo is None:
        return hub.weights
    source = replace(
        CATALOGUE[ENCODER_KEY], title=choice.setting, licence="see the model card", repo_id=choice.hub_repo
    )
    return WeightSources(hub.settings, {ENCODER_KEY: source})


def _weights_file(folder: Path, sources: WeightSources) -> Path:
    for name in WEIGHT_FILES:
        if (folder / name).is_file():
            return folder / name
    raise WeightsUnavailable(sources.source(ENCODER_KEY), f"{folder} holds no weights file ({', '.join(WEIGHT_FILES)})")


def _pretrained_weights(hub, choice: EncoderChoice) -> tuple[Path, dict]:
    """The weights file of ARCHITECTURE:TAG (fetched from the tag's hub repository) or ARCHITECTURE:FILE."""
    from open_clip.pretrained import get_pretrained_cfg, list_pretrained_tags_by_model

    tag_cfg = get_pretrained_cfg(choice.architecture, choice.pretrained)
    if not tag_cfg:
        path = Path(choice.pretrained).expanduser()
        if path.is_file():
            return path, {}
        tags = ", ".join(list_pretrained_tags_by_model(choice.architecture)) or "none"
        raise EncoderSettingError(
            f"IAGEN_CLIP_MODEL={choice.setting!r}: {choice.pretrained!r} is neither a "
            f"pretrained tag of {choice.architecture} ({tags}) nor a file"
        )
    repo_id = "/".join(tag_cfg["hf_hub"].strip("/").split("/")[:2])
    source = replace(
        CATALOGUE[ENCODER_KEY],
        title=choice.setting,
        licence="see the model card",
        repo_id=repo_id,
        allow_patterns=("open_clip_model.safetensors", "open_clip_pytorch_model.safetensors"),
    )
    sources = WeightSources(hub.settings, {ENCODER_KEY: source})
    return _weights_file(sources.locate(ENCODER_KEY), sources), tag_cfg


def _text_tower_folder(hub, hf_model_name: str) -> Path:
    """The folder with the transformers config and tokenizer of an HF text tower."""
    if Path(hf_model_name).is_dir():
        return Path(hf_model_name)
    repo_id = HF_MODEL_ALIASES.get(hf_model_name, hf_model_name)
    if repo_id == CATALOGUE[TEXT_TOWER_KEY].repo_id:
        return hub.weights.locate(TEXT_TOWER_KEY)
    source = replace(
        CATALOGUE[TEXT_TOWER_KEY], title=f"{repo_id} (text tower)", repo_id=repo_id, allow_patterns=TEXT_TOWER_FILES
    )
    return WeightSources(hub.settings, {TEXT_TOWER_KEY: source}).locate(TEXT_TOWER_KEY)


def _tokenizer(text_cfg: dict):
    from open_clip.tokenizer import DEFAULT_CONTEXT_LENGTH, HFTokenizer, SimpleTokenizer

    context_length = text_cfg.get("context_length", DEFAULT_CONTEXT_LENGTH)
    kwargs = dict(text_cfg.get("tokenizer_kwargs", {}))
    if text_cfg.get("hf_tokenizer_name"):
        return HFTokenizer(
            text_cfg["hf_tokenizer_name"],
            context_length=context_length,
            tokenizer_mode=text_cfg.get("tokenizer_mode"),
            **kwargs,
        )
    return SimpleTokenizer(context_length=context_length, **kwargs)


def _sha256_of_weights(path: Path) -> str:
    # In the HF cache a snapshot file links to blobs/<sha256 of its content>: no need to read 600 MB.
    target = Path(path).resolve()
    if re.fullmatch(r"[0-9a-f]{64}", target.name):
        return target.name
    digest = hashlib.sha256()
    with open(target, "rb") as file:
        for block in iter(lambda: file.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
