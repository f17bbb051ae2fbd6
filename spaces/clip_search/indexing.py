"""Indexing images for the image search: a folder brought up to date with its files
(`index_folder`, what `python -m spaces.clip_search.index DIR` runs), and the pieces the hub's
gallery builds its own base with (`embed_images`, `GrowingCollection`).

The index goes to DIR/.clip-search-index (or another folder), where the hub finds it when
IAGEN_CLIP_GALLERY=DIR. A second run re-embeds only new or changed files (same size and
modification time: unchanged; otherwise the file's hash decides) and forgets deleted ones; an
interrupted run resumes, since progress is saved every CHECKPOINT_SECONDS. A file that cannot be
read (corrupt, not an image, too large) is skipped and listed in the report; indexing goes on.

An index built by another encoder is refused unless rebuilt. While a batch is encoded, the next one
is read, hashed, decoded and resized in a second thread, so the files cost little beyond the
encoder itself.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from spaces.clip_search.collection import THUMBNAILS, Collection, Item
from spaces.clip_search.images import IMAGE_SUFFIXES, UnreadableImage, file_sha256, load_image, save_thumbnail

INDEX_FOLDER = ".clip-search-index"
BATCH_SIZE = 32
CHECKPOINT_SECONDS = 120

Task = TypeVar("Task")


@dataclass
class IndexReport:
    collection: Collection
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{len(self.collection)} images indexed: {self.new} new, {self.changed} changed, "
            f"{self.unchanged} unchanged, {self.removed} removed, {len(self.unreadable)} unreadable "
            f"({self.seconds:.1f} s)"
        )


def default_index_folder(folder: Path) -> Path:
    return Path(folder) / INDEX_FOLDER


def scan_images(folder: Path) -> list[Path]:
    """Image files under `folder`, sorted; hidden files and folders (our index among them) are
    not even entered."""
    found = []
    for root, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith(".")]
        found.extend(
            Path(root) / name
            for name in files
            if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_SUFFIXES
        )
    return sorted(found)


def in_batches(tasks: list[Task], batch_size: int = BATCH_SIZE) -> list[list[Task]]:
    return [tasks[start : start + batch_size] for start in range(0, len(tasks), batch_size)]


def embed_images(
    encoder,
    batches: Iterable[list[Task]],
    prepare: Callable[[Task], tuple[Item, object]],
    on_batch: Callable[[list[Item], np.ndarray, list[tuple[str, str]]], None],
) -> None:
    """Encode the images that `prepare(task)` gives (an Item and a PIL image, or UnreadableImage),
    batch by batch; `on_batch(items, vectors, failures)` after each. The next batch is taken from
    `batches` (which may be a generator) and prepared in a worker thread meanwhile: reading,
    decoding and resizing release the GIL, so they overlap with the encoder."""
    batches = iter(batches)

    def prepare_batch():
        batch = next(batches, None)
        if batch is None:
            return None
        items, images, failures = [], [], []
        for task in batch:
            try:
                item, image = prepare(task)
            except (UnreadableImage, OSError) as error:
                failures.append((str(task), str(error)))
                continue
            items.append(item)
            images.append(image)
        return items, (encoder.preprocess_images(images) if images else None), failures

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="clip-prepare") as worker:
        prepared = worker.submit(prepare_batch).result()
        while prepared is not None:
            items, pixels, failures = prepared
            pending = worker.submit(prepare_batch)
            vectors = encoder.encode_pixels(pixels) if items else np.zeros((0, encoder.identity.dim), np.float32)
            on_batch(items, vectors, failures)
            prepared = pending.result()


class GrowingCollection:
    """A collection being filled batch by batch, saved every CHECKPOINT_SECONDS and at the end, so
    that an interrupted run keeps what it had encoded. Checkpoints get an exact index (an
    approximate one is trained: minutes for a million vectors); the final save, the right kind."""

    def __init__(self, base: Collection, folder: Path):
        self.base, self.folder = base, folder
        self.items: list[Item] = []
        self.vectors: list[np.ndarray] = []
        self.last_save = time.perf_counter()

    def add(self, items: list[Item], vectors: np.ndarray) -> None:
        self.items.extend(items)
        self.vectors.append(vectors)
        if time.perf_counter() - self.last_save > CHECKPOINT_SECONDS:
            self.save(final=False)

    def save(self, final: bool = True) -> Collection:
        vectors = np.concatenate(self.vectors) if self.vectors else np.zeros((0, self.base.encoder.dim), np.float32)
        collection = self.base.updated(new_items=self.items, new_vectors=vectors, exact=not final)
        collection.save(self.folder)
        self.last_save = time.perf_counter()
        return collection


def index_folder(
    folder: Path,
    encoder,
    index_folder_path: Path | None = None,
    rebuild: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> IndexReport:
    """Bring the index of `folder` up to date with its files; see the module's docstring."""
    from filelock import FileLock

    started = time.perf_counter()
    folder = Path(folder).resolve()
    target = Path(index_folder_path or default_index_folder(folder))
    target.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target / ".lock")):
        existing = (
            Collection.empty(encoder.identity, target)
            if rebuild
            else Collection.load(target, encoder.identity) or Collection.empty(encoder.identity, target)
        )
        files = scan_images(folder)
        report = IndexReport(existing)
        kept: list[str] = []
        touched: list[Item] = []  # same content, new modification time: keep the vector, update the record
        to_embed: list[Path] = []
        for path in files:
            key = path.relative_to(folder).as_posix()
            stat = path.stat()
            known = existing.items[existing.positions[key]] if key in existing.positions else None
            if known is not None and (known.size, known.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                kept.append(key)
                report.unchanged += 1
            elif known is not None and file_sha256(path) == known.sha256:
                touched.append(replace(known, size=stat.st_size, mtime_ns=stat.st_mtime_ns))
                report.unchanged += 1
            else:
                to_embed.append(path)
                report.changed += known is not None
                report.new += known is None
        present = {path.relative_to(folder).as_posix() for path in files}
        report.removed = sum(key not in present for key in existing.positions)
        if not (to_embed or touched or report.removed):  # up to date: no new version to write
            report.seconds = time.perf_counter() - started
            return report
        touched_vectors = np.array([existing.vector_of(item.key) for item in touched], dtype=np.float32).reshape(
            len(touched), encoder.identity.dim
        )
        base = existing.updated(keep=kept, new_items=touched, new_vectors=touched_vectors)

        def prepare(path: Path) -> tuple[Item, object]:
            stat = path.stat()
            sha256 = file_sha256(path)
            image = load_image(path)
            thumbnail = save_thumbnail(image, target / THUMBNAILS, sha256)
            relative = path.relative_to(folder).as_posix()
            return Item(
                relative,
                str(path),
                relative,
                "folder",
                sha256,
                thumbnail.relative_to(target).as_posix(),
                stat.st_size,
                stat.st_mtime_ns,
            ), image

        growing = GrowingCollection(base, target)

        def on_batch(items, vectors, failures):
            growing.add(items, vectors)
            for name, why in failures:  # counted as new or changed above: they are neither
                relative = Path(name).relative_to(folder).as_posix()
                report.unreadable.append((relative, why))
                if relative in existing.positions:
                    report.changed -= 1
                else:
                    report.new -= 1
            if progress:
                progress(len(growing.items) + len(report.unreadable), len(to_embed))

        embed_images(encoder, in_batches(to_embed, batch_size), prepare, on_batch)
        report.collection = growing.save()
    report.seconds = time.perf_counter() - started
    return report
