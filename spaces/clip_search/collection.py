"""A searchable collection of images: their vectors, a faiss index over them, and a sidecar of
metadata (path, caption, source, file hash) with the identity of the encoder that made the vectors.

On disk, a collection is a folder of versions; `CURRENT` names the complete one:

    <folder>/CURRENT            "v000003"
    <folder>/v000003/items.json  {"format", "encoder": {model, weights_sha256, dim}, "index": {kind, ...}, "items": [...]}
    <folder>/v000003/vectors.npy float32, one unit row per item (the truth: indexes are rebuilt from it)
    <folder>/v000003/index.faiss

A save writes a new version folder and then replaces CURRENT (an atomic rename), so a reader, or a
crash mid-save, never sees a half-written collection; the previous version is kept for readers
still holding it, older ones are removed. Loading memory-maps the vectors and the index.

An index is only ever queried with vectors from the encoder that built it: `load` refuses any
other (`EncoderMismatch`), whose message says how to rebuild.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from shared.atomic_write import atomic_write
from spaces.clip_search import vector_index
from spaces.clip_search.encoder import EncoderIdentity
from spaces.clip_search.vector_index import IndexInfo

FORMAT = 1
VERSIONS_KEPT = 2
THUMBNAILS = "thumbnails"  # beside the versions, named by image hash: shared by all versions


@dataclass(frozen=True, slots=True)  # slots: 100 000 items in memory cost ~40 % less
class Item:
    key: str  # unique in its collection: a relative path, "flair:<shard>#<row>", "upload:<hash>"...
    path: str  # where the image came from (file, dataset shard)
    caption: str
    source: str  # "flair", "folder", "upload", "seg2sat"...
    sha256: str  # of the original file or image bytes
    thumbnail: str  # a small JPEG for display, relative to the collection's folder
    size: int = 0  # bytes and modification time of a file, to notice changes without hashing
    mtime_ns: int = 0


@dataclass(frozen=True)
class Hit:
    score: float  # cosine similarity
    item: Item
    position: int  # row in its collection


class EncoderMismatch(RuntimeError):
    """The collection was built by another encoder: its vectors cannot be compared with ours."""

    def __init__(self, folder: Path, built_by: EncoderIdentity, current: EncoderIdentity):
        self.folder, self.built_by, self.current = folder, built_by, current
        super().__init__(
            f"the index {folder} was built by {built_by.describe()}, but the current encoder is "
            f"{current.describe()}: their vectors cannot be compared. Rebuild it with "
            f"python -m spaces.clip_search.index <folder> --rebuild, or choose its encoder again."
        )


class Collection:
    """Immutable: `updated` returns a new collection (a memory-mapped index cannot grow)."""

    def __init__(
        self,
        encoder: EncoderIdentity,
        items: list[Item],
        vectors: np.ndarray,
        index=None,
        info: IndexInfo | None = None,
        folder: Path | None = None,
        exact: bool = False,
    ):
        """`index` and `info` when loaded; otherwise an index is built (always exact with `exact`:
        cheap to build, for checkpoints that the next save replaces)."""
        if len(items) != len(vectors):
            raise ValueError(f"{len(items)} items but {len(vectors)} vectors")
        self.encoder = encoder
        self.items = items
        self.vectors = vectors
        if index is None:
            exact_limit = max(len(items), vector_index.EXACT_LIMIT) if exact else vector_index.EXACT_LIMIT
            index, info = vector_index.build_index(_as_matrix(vectors, encoder.dim), exact_limit)
        self.index, self.info = index, info
        self.positions = {item.key: position for position, item in enumerate(items)}
        self.folder = folder  # where it is saved; its thumbnails are in folder/THUMBNAILS

    @classmethod
    def empty(cls, encoder: EncoderIdentity, folder: Path | None = None) -> Collection:
        return cls(encoder, [], np.zeros((0, encoder.dim), dtype=np.float32), folder=folder)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def nbytes(self) -> int:
        return int(self.vectors.nbytes) * 2  # the vectors and the index's copy of them

    def search(self, query: np.ndarray, k: int) -> list[Hit]:
        if not self.items or k < 1:
            return []
        scores, positions = vector_index.search(self.index, query.reshape(1, -1), min(k, len(self.items)))
        return [
            Hit(float(score), self.items[position], int(position))
            for score, position in zip(scores[0], positions[0], strict=True)
            if position >= 0
        ]

    def thumbnail_path(self, item: Item) -> Path:
        return self.folder / item.thumbnail

    def vector_of(self, key: str) -> np.ndarray | None:
        position = self.positions.get(key)
        return None if position is None else np.asarray(self.vectors[position], dtype=np.float32)

    def updated(
        self,
        keep: Iterable[str] | None = None,
        new_items: list[Item] = (),
        new_vectors: np.ndarray | None = None,
        exact: bool = False,
    ) -> Collection:
        """A collection with only the `keep` keys (all when None), then `new_items` (replacing same keys)."""
        keep = None if keep is None else set(keep)
        replaced = {item.key for item in new_items}
        kept_positions = [
            position
            for position, item in enumerate(self.items)
            if (keep is None or item.key in keep) and item.key not in replaced
        ]
        items = [self.items[position] for position in kept_positions] + list(new_items)
        parts = [np.asarray(self.vectors[kept_positions], dtype=np.float32)]
        if new_items:
            parts.append(np.asarray(new_vectors, dtype=np.float32))
        vectors = np.concatenate(parts).reshape(len(items), self.encoder.dim)
        return Collection(self.encoder, items, vectors, folder=self.folder, exact=exact)

    def save(self, folder: Path) -> Path:
        """Write a new version of the collection in `folder` and make it current."""
        folder.mkdir(parents=True, exist_ok=True)
        version = f"v{_current_number(folder) + 1:06d}"
        staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=folder))
        try:
            np.save(staging / "vectors.npy", _as_matrix(self.vectors, self.encoder.dim))
            vector_index.write_index(self.index, staging / "index.faiss")
            sidecar = {
                "format": FORMAT,
                "encoder": self.encoder.to_json(),
                "index": self.info.to_json(),
                "items": [asdict(item) for item in self.items],
            }
            (staging / "items.json").write_text(json.dumps(sidecar, ensure_ascii=False), encoding="utf-8")
            os.replace(staging, folder / version)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        with atomic_write(folder / "CURRENT", "w", encoding="utf-8") as current:
            current.write(version)
        for old in sorted(folder.glob("v[0-9]*"))[:-VERSIONS_KEPT]:
            shutil.rmtree(old, ignore_errors=True)
        self.folder = folder
        return folder / version

    @classmethod
    def load(cls, folder: Path, encoder: EncoderIdentity) -> Collection | None:
        """The current version in `folder`, memory-mapped; None if there is none yet."""
        version = read_current(folder)
        if version is None:
            return None
        sidecar = json.loads((version / "items.json").read_text(encoding="utf-8"))
        built_by = EncoderIdentity.from_json(sidecar["encoder"])
        if not built_by.matches(encoder):
            raise EncoderMismatch(folder, built_by, encoder)
        info = IndexInfo.from_json(sidecar["index"])
        items = [Item(**item) for item in sidecar["items"]]
        if not items:  # numpy cannot memory-map an empty array
            return cls(encoder, [], np.zeros((0, encoder.dim), dtype=np.float32), folder=folder)
        vectors = np.load(version / "vectors.npy", mmap_mode="r")
        index = vector_index.read_index(version / "index.faiss", info)
        return cls(encoder, items, vectors, index, info, folder)


def read_current(folder: Path) -> Path | None:
    try:
        version = folder / (folder / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return version if (version / "items.json").is_file() else None


def built_by(folder: Path) -> EncoderIdentity | None:
    """The encoder that built the collection in `folder`, without loading it."""
    version = read_current(folder)
    if version is None:
        return None
    return EncoderIdentity.from_json(json.loads((version / "items.json").read_text(encoding="utf-8"))["encoder"])


def _current_number(folder: Path) -> int:
    numbers = [int(path.name[1:]) for path in folder.glob("v[0-9]*") if path.name[1:].isdigit()]
    return max(numbers, default=0)


def _as_matrix(vectors: np.ndarray, dim: int) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(-1, dim))
