"""Tiny random open_clip models, synthetic aerial-looking images and a fake FLAIR dataset, for the
image search tests. Nothing here needs the model hub."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

# docs/models.md's recipe: the real CLIP code (ViT + text transformer), 32 dimensions, ~0.5 M parameters;
# vocab_size 49408 keeps open_clip's offline SimpleTokenizer.
TINY_MODEL_CFG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "head_width": 32, "patch_size": 8},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}
PREPROCESS_CFG = {
    "mean": [0.48145466, 0.4578275, 0.40821073],
    "std": [0.26862954, 0.26130258, 0.27577711],
    "interpolation": "bicubic",
    "resize_mode": "shortest",
}
DEFAULT_REPO = "joaodaniel/RS-M-CLIP"  # the catalogue's clip_encoder
FLAIR_REPO = "IGNF/FLAIR_1_osm_clip"


def save_tiny_open_clip(folder: Path, seed: int = 0, model_cfg: dict = TINY_MODEL_CFG) -> None:
    """An open_clip hub repository's files (open_clip_config.json + safetensors) for random weights."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    model = (
        open_clip.factory.CLIP(**model_cfg)
        if "hf_model_name" not in model_cfg["text_cfg"]
        else open_clip.CustomTextCLIP(
            **{**model_cfg, "text_cfg": {**model_cfg["text_cfg"], "hf_model_pretrained": False}}
        )
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "open_clip_config.json").write_text(
        json.dumps({"model_cfg": model_cfg, "preprocess_cfg": PREPROCESS_CFG})
    )
    save_file(
        {name: tensor.contiguous() for name, tensor in model.state_dict().items()},
        str(folder / "open_clip_model.safetensors"),
    )


def seed_tiny_encoder(repo_id: str = DEFAULT_REPO, seed: int = 0, revision: str = "0" * 40) -> Path:
    from conftest import seed_hub_cache

    return seed_hub_cache(repo_id, lambda folder: save_tiny_open_clip(folder, seed), revision_sha=revision)


def aerial_like_image(seed: int, size: int = 96, mode: str = "RGB") -> Image.Image:
    """Fields, a forest patch and a road in random places: distinct images, as a CLIP model sees them."""
    rng = np.random.default_rng(seed)
    pixels = np.empty((size, size, 3), dtype=np.uint8)
    pixels[:] = rng.integers(60, 200, 3)
    for _ in range(4):
        x, y = rng.integers(0, size - 8, 2)
        w, h = rng.integers(8, size // 2, 2)
        pixels[y : y + h, x : x + w] = rng.integers(0, 255, 3)
    pixels += rng.integers(0, 25, pixels.shape, dtype=np.uint8)
    return Image.fromarray(pixels, "RGB").convert(mode)


def write_images(folder: Path, count: int, start: int = 0, suffix: str = ".png") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in range(start, start + count):
        path = folder / f"patch_{seed:04d}{suffix}"
        aerial_like_image(seed).save(path)
        paths.append(path)
    return paths


def save_fake_flair(
    folder: Path,
    rows: int,
    caption_column: str = "prompt",
    shards: int = 1,
    saved: int | None = None,
    captions: dict[int, str] | None = None,
):
    """Parquet shards laid out as datasets' push_to_hub writes an Image feature ({bytes, path}):
    `rows` rows over `shards` shards, of which the first `saved` (all by default) are written;
    `captions` replaces the captions of some rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (folder / "data").mkdir(parents=True, exist_ok=True)
    per_shard = -(-rows // shards)
    for shard in range(shards if saved is None else saved):
        images, caption_of_row = [], []
        for row in range(shard * per_shard, min(rows, (shard + 1) * per_shard)):
            buffer = io.BytesIO()
            aerial_like_image(1000 + row, size=128).save(buffer, format="PNG")
            images.append({"bytes": buffer.getvalue(), "path": f"IMG_{row:06d}.png"})
            caption_of_row.append((captions or {}).get(row, f"Aerial view of rue {row}, Toulouse. deciduous, building"))
        segmentation = [{"bytes": b"", "path": None}] * len(images)
        table = pa.table({"image": images, caption_column: caption_of_row, "segmentation": segmentation})
        pq.write_table(table, folder / "data" / f"train-{shard:05d}-of-{shards:05d}.parquet", row_group_size=16)
    (folder / "README.md").write_text("---\nlicense: etalab-2.0\n---\n# fake FLAIR_1_osm_clip\n")


def seed_fake_flair(
    rows: int,
    revision: str = "1" * 40,
    shards: int = 1,
    saved: int | None = None,
    captions: dict[int, str] | None = None,
) -> Path:
    from conftest import seed_hub_cache

    return seed_hub_cache(
        FLAIR_REPO,
        lambda folder: save_fake_flair(folder, rows, shards=shards, saved=saved, captions=captions),
        revision_sha=revision,
        repo_type="dataset",
    )
