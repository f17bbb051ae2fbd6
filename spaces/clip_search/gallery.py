"""The image search's gallery in the hub: a base collection plus the images added while it runs.

The base is either FLAIR #1 aerial patches with their captions (the catalogue's `flair_gallery`, a
hub dataset: the first IAGEN_CLIP_GALLERY_SIZE rows of its train split, read shard after shard
until there are enough), or a local folder
(IAGEN_CLIP_GALLERY=DIR, indexed like `python -m spaces.clip_search.index DIR` does). It is built
on first use, with progress, and saved: later starts load it in well under a second.

Added images are uploads the user chose to add, and images other demos offered through
shared.gallery_handoff (Seg2Sat's); they go to a small exact collection of their own, so adding one
never rewrites the base. A search looks at both and merges by score.

The FLAIR layout could not be checked against the dataset card here (no hub access). What is known:
one `train` split of 61.7 k rows, parquet shards under data/ (push_to_hub's layout). The column
names are those of the Seg2Sat author's training set (rgres/AerialDreams: `image`, `segmentation`,
`prompt` = "Aerial view of <OSM address>. <classes>", `clip_label`), which this dataset appears to
publish; images in datasets' Image feature ({bytes, path}). A missing caption column leaves
captions empty; a missing image column is reported.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shared.gallery_handoff import inbox_stamp, list_offers
from shared.weights import WeightsUnavailable
from spaces.clip_search.collection import THUMBNAILS, Collection, EncoderMismatch, Item
from spaces.clip_search.encoder import get_encoder
from spaces.clip_search.images import UnreadableImage, file_sha256, load_image, save_thumbnail
from spaces.clip_search.indexing import BATCH_SIZE, GrowingCollection, default_index_folder, embed_images, index_folder

log = logging.getLogger(__name__)

GALLERY_KEY = "flair_gallery"
INDEX_CACHE_KEY = f"{GALLERY_KEY}:index"
FLAIR_SPLIT = "train"
FLAIR_IMAGE_COLUMN = "image"
FLAIR_CAPTION_COLUMNS = ("prompt", "clip_label", "text", "caption")  # the first one present is shown
MAX_ADDED = 1_000  # uploads and offers kept, most recent first: the added collection stays exact and small

Progress = Callable[[int, int, str], None]  # (done, total, stage)


class GalleryUnavailable(RuntimeError):
    """The base gallery cannot be built (folder missing, dataset layout unexpected...)."""


@dataclass(frozen=True)
class Result:
    score: float
    item: Item
    thumbnail: Path


@dataclass(frozen=True)
class FlairRow:
    shard: Path
    row: int
    image_bytes: bytes
    caption: str

    def __str__(self) -> str:
        return f"{self.shard.name} row {self.row}"


def search_folder(settings) -> Path:
    return settings.cache_dir / "clip_search"


def base_folder(settings, encoder) -> Path:
    if settings.clip_gallery:
        return default_index_folder(Path(settings.clip_gallery).expanduser())
    # One index per encoder: switching models back and forth never rebuilds.
    return search_folder(settings) / "flair" / encoder.identity.weights_sha256[:16]


def added_folder(settings, encoder) -> Path:
    return search_folder(settings) / "added" / encoder.identity.weights_sha256[:16]


def build_base(hub, encoder, progress: Progress) -> tuple[Collection, list[tuple[str, str]]]:
    """The base collection brought up to date, and the images that could not be read."""
    if hub.settings.clip_gallery:
        folder = Path(hub.settings.clip_gallery).expanduser()
        if not folder.is_dir():
            raise GalleryUnavailable(f"IAGEN_CLIP_GALLERY={folder} is not a folder")
        report = index_folder(folder, encoder, progress=lambda done, total: progress(done, total, "index"))
        return report.collection, report.unreadable
    return build_flair(hub, encoder, progress)


def build_flair(hub, encoder, progress: Progress) -> tuple[Collection, list[tuple[str, str]]]:
    from filelock import FileLock

    progress(0, 0, "download")
    source = hub.weights.source(GALLERY_KEY)
    snapshot = hub.weights.locate(GALLERY_KEY)
    wanted = hub.settings.clip_gallery_size
    shards = flair_shards(hub, snapshot, wanted)
    target = base_folder(hub.settings, encoder)
    target.mkdir(parents=True, exist_ok=True)
    unreadable: list[tuple[str, str]] = []
    with FileLock(str(target / ".lock")):
        existing = Collection.load(target, encoder.identity) or Collection.empty(encoder.identity, target)
        wanted_keys = _first_row_keys(shards, wanted)
        trimmed = not set(existing.positions) <= wanted_keys  # the gallery size was lowered
        if trimmed:
            existing = existing.updated(keep=[key for key in existing.positions if key in wanted_keys])
        growing = GrowingCollection(existing, target)
        rows = _flair_rows(shards, wanted_keys - set(existing.positions))
        available = len(wanted_keys)

        def prepare(row: FlairRow) -> tuple[Item, object]:
            image = load_image(io.BytesIO(row.image_bytes))
            sha256 = hashlib.sha256(row.image_bytes).hexdigest()
            thumbnail = save_thumbnail(image, target / THUMBNAILS, sha256)
            relative = row.shard.relative_to(snapshot).as_posix()
            return Item(
                _flair_key(row.shard, row.row),
                f"{source.local_path or source.repo_id}/{relative}#{row.row}",
                row.caption,
                "flair",
                sha256,
                thumbnail.relative_to(target).as_posix(),
            ), image

        def on_batch(items, vectors, failures):
            growing.add(items, vectors)
            unreadable.extend(failures)
            progress(len(existing) + len(growing.items) + len(unreadable), available, "index")

        progress(len(existing), available, "index")
        embed_images(encoder, _batches(rows, BATCH_SIZE), prepare, on_batch)
        collection = growing.save() if growing.items or trimmed else existing
    return collection, unreadable


def flair_shards(hub, snapshot: Path, wanted: int) -> list[Path]:
    """The train shards that hold the first `wanted` rows. The snapshot brings the first shard
    (push_to_hub's data/train-00000-of-000NN.parquet; its commits hold 50 files each, so a shard
    may hold far fewer rows than the gallery wants); the next ones are fetched one at a time,
    only while rows are missing. Offline, the gallery keeps the rows of the shards at hand."""
    import pyarrow.parquet as pq

    shards = sorted(
        path for path in snapshot.rglob("*.parquet") if FLAIR_SPLIT in path.name or FLAIR_SPLIT in path.parent.name
    )
    if not shards:
        raise WeightsUnavailable(
            hub.weights.source(GALLERY_KEY), f"no parquet file of the {FLAIR_SPLIT} split in {snapshot}"
        )
    numbered = re.fullmatch(rf"{FLAIR_SPLIT}-(\d+)-of-(\d+)\.parquet", shards[0].name)
    if numbered is None:  # another layout: every shard is in the snapshot already
        return shards
    count_text = numbered.group(2)
    width, count = len(count_text), int(count_text)
    shards, rows = shards[:1], pq.ParquetFile(shards[0]).metadata.num_rows
    for index in range(1, count):
        if rows >= wanted:
            break
        name = shards[0].relative_to(snapshot).with_name(f"{FLAIR_SPLIT}-{index:0{width}d}-of-{count_text}.parquet")
        try:
            shards.append(hub.weights.locate_file(GALLERY_KEY, name.as_posix()))
        except WeightsUnavailable as missing:
            log.warning("the gallery stops at %d rows: %s", rows, missing)
            break
        rows += pq.ParquetFile(shards[-1]).metadata.num_rows
    return shards


def _flair_key(shard: Path, row: int) -> str:
    return f"flair:{shard.name}#{row}"


def _first_row_keys(shards: list[Path], wanted: int) -> set[str]:
    """The keys of the first `wanted` rows across the shards (from their footers: no image is read)."""
    import pyarrow.parquet as pq

    keys: set[str] = set()
    for shard in shards:
        rows = min(pq.ParquetFile(shard).metadata.num_rows, wanted - len(keys))
        keys.update(_flair_key(shard, row) for row in range(rows))
    return keys


def _flair_rows(shards: list[Path], keys: set[str]) -> Iterator[FlairRow]:
    """The rows with these keys; reads a batch of rows at a time, so memory holds a few images,
    never a shard (~500 MB)."""
    import pyarrow.parquet as pq

    left = set(keys)
    for shard in shards:
        if not left:
            return
        parquet = pq.ParquetFile(shard)
        names = parquet.schema_arrow.names
        if FLAIR_IMAGE_COLUMN not in names:
            raise GalleryUnavailable(f"{shard.name} has no {FLAIR_IMAGE_COLUMN!r} column (columns: {', '.join(names)})")
        caption_column = next((name for name in FLAIR_CAPTION_COLUMNS if name in names), None)
        columns = [FLAIR_IMAGE_COLUMN] + ([caption_column] if caption_column else [])
        row = 0
        for batch in parquet.iter_batches(batch_size=BATCH_SIZE, columns=columns):
            images = batch.column(FLAIR_IMAGE_COLUMN).to_pylist()
            captions = batch.column(caption_column).to_pylist() if caption_column else [""] * len(images)
            for image, caption in zip(images, captions, strict=True):
                key, row = _flair_key(shard, row), row + 1
                if key not in left:
                    continue
                left.discard(key)
                data = image.get("bytes") if isinstance(image, dict) else image  # datasets' Image feature
                yield FlairRow(shard, row - 1, data or b"", str(caption or ""))
                if not left:
                    return


def _batches(rows: Iterator, size: int) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class Gallery:
    """The base collection (None when it could not be built: `base_problem` says why) and the
    added one. Searches may run in many threads; additions are serialised by a lock."""

    def __init__(
        self, hub, encoder, base: Collection | None, base_problem: str | None, unreadable: list[tuple[str, str]]
    ):
        self.hub, self.encoder = hub, encoder
        self.base, self.base_problem, self.unreadable = base, base_problem, unreadable
        self.added_folder = added_folder(hub.settings, encoder)
        self.added = Collection.load(self.added_folder, encoder.identity) or Collection.empty(
            encoder.identity, self.added_folder
        )
        self._adding = threading.Lock()
        self._inbox_seen: tuple[int, ...] | None = None

    @property
    def nbytes(self) -> int:
        return (self.base.nbytes if self.base else 0) + self.added.nbytes

    def __len__(self) -> int:
        return (len(self.base) if self.base else 0) + len(self.added)

    def thumbnail_folders(self) -> list[Path]:
        return [collection.folder / THUMBNAILS for collection in (self.base, self.added) if collection is not None]

    def search(self, vector: np.ndarray, k: int) -> list[Result]:
        results = []
        for collection in (self.base, self.added):
            if collection is not None:
                results.extend(
                    Result(hit.score, hit.item, collection.thumbnail_path(hit.item))
                    for hit in collection.search(vector, k)
                )
        return sorted(results, key=lambda result: -result.score)[:k]

    def find(self, key: str) -> tuple[Item, Path, np.ndarray] | None:
        """The item under `key`, its thumbnail and its vector (None once it left the gallery)."""
        for collection in (self.base, self.added):
            if collection is not None and key in collection.positions:
                item = collection.items[collection.positions[key]]
                return item, collection.thumbnail_path(item), collection.vector_of(key)
        return None

    def add_images(self, entries: list[tuple[object, str, str, str]], vectors: np.ndarray | None = None) -> list[Item]:
        """Add (PIL image, caption, source, sha256 of its file) entries to the added collection and
        save it; `vectors` when the caller has encoded them already. Keys are source:sha256[:32], as
        the hand-off names its offers."""
        if vectors is None:
            vectors = self.encoder.encode_images([entry[0] for entry in entries])
        self.added_folder.mkdir(parents=True, exist_ok=True)
        items = []
        for image, caption, source, sha256 in entries:
            thumbnail = save_thumbnail(image, self.added_folder / THUMBNAILS, sha256)
            items.append(
                Item(
                    f"{source}:{sha256[:32]}",
                    f"{source}:{sha256}",
                    caption,
                    source,
                    sha256,
                    thumbnail.relative_to(self.added_folder).as_posix(),
                )
            )
        with self._adding:
            updated = self.added.updated(new_items=items, new_vectors=vectors)
            if len(updated) > MAX_ADDED:
                updated = updated.updated(keep=[item.key for item in updated.items[-MAX_ADDED:]])
            updated.save(self.added_folder)
            self.added = updated
        return items

    def sync_offers(self) -> int:
        """Add the images other demos offered since the last look; how many were added."""
        stamp = inbox_stamp(self.hub.settings.cache_dir)
        if stamp == self._inbox_seen:
            return 0
        entries = []
        for offer in list_offers(self.hub.settings.cache_dir):
            if f"{offer.source}:{offer.digest}" in self.added.positions:
                continue
            try:
                entries.append((load_image(offer.path), offer.caption, offer.source, file_sha256(offer.path)))
            except (UnreadableImage, OSError):
                continue  # removed while we read it (the inbox keeps the most recent offers only)
        if entries:
            self.add_images(entries)
        self._inbox_seen = stamp
        return len(entries)


class GalleryLoader:
    """Opens the gallery once per hub, in a background thread, and lets any number of requests
    wait for it while showing how far the build is."""

    def __init__(self, hub):
        self.hub = hub
        self.status: tuple[int, int, str] = (0, 0, "encoder")
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    def start(self) -> None:
        with self._starting:
            if self._thread is not None and self._thread.is_alive():
                return
            self.error = None
            self._thread = threading.Thread(target=self._open, name="clip-gallery", daemon=True)
            self._thread.start()

    def gallery(
        self, on_status: Callable[[tuple[int, int, str]], None] = lambda status: None, poll_seconds: float = 0.25
    ) -> Gallery:
        """The gallery, opening (or building) it first if needed."""
        status = self.hub.models.status(INDEX_CACHE_KEY)
        if status is None or status.state != "loaded":
            self.start()
            while self._thread.is_alive():
                on_status(self.status)
                self._thread.join(poll_seconds)
            if self.error is not None:
                raise self.error
        return self.hub.models.get(INDEX_CACHE_KEY, self._open_gallery)

    def _open(self) -> None:
        try:
            self.hub.models.get(INDEX_CACHE_KEY, self._open_gallery)
        except BaseException as error:  # handed to the requests waiting for it
            self.error = error

    def _open_gallery(self) -> Gallery:
        encoder = get_encoder(self.hub)
        self.status = (0, 0, "download")
        try:
            base, unreadable = build_base(self.hub, encoder, self._report)
            problem = None
        except (WeightsUnavailable, GalleryUnavailable, EncoderMismatch) as error:
            base, unreadable, problem = None, [], str(error)
        gallery = Gallery(self.hub, encoder, base, problem, unreadable)
        self.status = (len(gallery), len(gallery), "ready")
        return gallery

    def _report(self, done: int, total: int, stage: str) -> None:
        self.status = (done, total, stage)


# One loader per hub for the life of the process. A hub is not hashable, so the key is its id();
# each loader holds its hub, which therefore lives on and its id is never reused by another.
_loaders: dict[int, GalleryLoader] = {}
_loaders_lock = threading.Lock()


def gallery_loader(hub) -> GalleryLoader:
    with _loaders_lock:
        return _loaders.setdefault(id(hub), GalleryLoader(hub))
