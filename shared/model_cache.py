"""The models every demo shares, loaded once, kept within a memory budget.

`ModelCache.get(key, loader)` returns the model stored under `key`, calling `loader()` only if it is
not in memory. Concurrent first requests for one key wait for a single load; requests for other
keys are not blocked meanwhile. When the models in memory exceed the budget, the least recently
used ones are dropped (a later request loads them again). `statuses()` says, for every key ever
asked for, whether it is loaded, loading or missing, and why.

Gradio-free: the tabs show progress and statuses; this module only keeps the books.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from shared.weights import WeightsUnavailable

log = logging.getLogger(__name__)
Model = TypeVar("Model")

LOADED, LOADING, MISSING, FAILED, EVICTED = "loaded", "loading", "missing", "failed", "evicted"


@dataclass(frozen=True)
class ModelStatus:
    key: str
    state: str  # one of LOADED, LOADING, MISSING, FAILED, EVICTED
    size_bytes: int = 0
    load_seconds: float = 0.0
    reason: str = ""  # why it is missing or failed: the remedy a user can act on
    missing: WeightsUnavailable | None = None  # when MISSING: the remedy's parts, to say it in the page's language


def measure_bytes(model: object) -> int:
    """Memory held by a model: tensors of torch modules and pipelines, numpy arrays, or the
    `nbytes` the object declares. Objects we cannot measure count as 0 (tokenizers, small tables)."""
    nbytes = getattr(model, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    components = getattr(model, "components", None)  # a diffusers pipeline
    if isinstance(components, dict):
        return sum(measure_bytes(part) for part in components.values() if part is not None)
    if callable(getattr(model, "parameters", None)) and callable(getattr(model, "buffers", None)):
        tensors = [*model.parameters(), *model.buffers()]
        return sum(tensor.numel() * tensor.element_size() for tensor in tensors)
    if isinstance(model, (tuple, list)):
        return sum(measure_bytes(part) for part in model)
    return 0


@dataclass
class _Entry:
    lock: threading.Lock
    model: object = None
    status: ModelStatus | None = None


class ModelCache:
    def __init__(self, memory_budget_bytes: int):
        self.memory_budget_bytes = memory_budget_bytes
        self._entries: dict[str, _Entry] = {}
        self._recently_used: OrderedDict[str, None] = OrderedDict()  # loaded keys, oldest first
        self._books = threading.Lock()  # guards _entries and _recently_used, never held while loading

    def get(self, key: str, loader: Callable[[], Model], size_bytes: int | None = None) -> Model:
        """The model under `key`, loading it with `loader()` if needed (once, however many ask).

        A `WeightsUnavailable` from the loader marks the model missing and reaches every caller;
        the next call tries again (the weights may have been fetched meanwhile)."""
        with self._books:
            entry = self._entries.setdefault(key, _Entry(lock=threading.Lock()))
            if entry.status is not None and entry.status.state == LOADED:
                self._recently_used.move_to_end(key)
                return entry.model
        with entry.lock:  # one loader per key; the others wait here, then find it loaded
            if entry.status is not None and entry.status.state == LOADED:
                with self._books:
                    self._recently_used.move_to_end(key)
                return entry.model
            self._set_status(entry, ModelStatus(key, LOADING))
            started = time.perf_counter()
            try:
                model = loader()
            except WeightsUnavailable as missing:
                self._set_status(entry, ModelStatus(key, MISSING, reason=str(missing), missing=missing))
                raise
            except Exception as error:
                self._set_status(entry, ModelStatus(key, FAILED, reason=f"{type(error).__name__}: {error}"))
                raise
            seconds = time.perf_counter() - started
            size = measure_bytes(model) if size_bytes is None else size_bytes
            log.info("loaded %s in %.1f s (%.0f MB)", key, seconds, size / 1e6)
            with self._books:
                entry.model = model
                entry.status = ModelStatus(key, LOADED, size, seconds)
                self._recently_used[key] = None
                self._evict_beyond_budget(keep=key)
            # A model, and the modules its loading imported, live as long as the hub: hundreds of
            # thousands of objects that Python's full collections would walk every ~40 s under a
            # lecture hall's load, pausing every call for 0.5 s. Frozen, collections leave them out.
            gc.freeze()
            return model

    def _set_status(self, entry: _Entry, status: ModelStatus) -> None:
        with self._books:
            entry.status = status

    def _evict_beyond_budget(self, keep: str) -> None:
        # Called with the books held. The model just loaded stays even if it alone exceeds the
        # budget: refusing it would leave the demo unusable, while a warning in the log suffices.
        while self.used_bytes() > self.memory_budget_bytes:
            oldest = next((key for key in self._recently_used if key != keep), None)
            if oldest is None:
                log.warning("%s alone exceeds the memory budget of %.1f GB", keep, self.memory_budget_bytes / 1e9)
                return
            self._evict_with_books_held(oldest)

    def evict(self, key: str) -> None:
        """Drop a model from memory (callers still holding it keep it alive until they finish)."""
        with self._books:
            self._evict_with_books_held(key)

    def _evict_with_books_held(self, key: str) -> None:
        entry = self._entries.get(key)
        if entry is None or entry.status is None or entry.status.state != LOADED:
            return
        log.info("evicting %s (%.0f MB) to stay within the memory budget", key, entry.status.size_bytes / 1e6)
        entry.model = None
        entry.status = ModelStatus(key, EVICTED)
        self._recently_used.pop(key, None)
        # A frozen object is never collected: what the model leaves in reference cycles goes now.
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    def used_bytes(self) -> int:
        return sum(self._entries[key].status.size_bytes for key in self._recently_used)

    def status(self, key: str) -> ModelStatus | None:
        with self._books:
            entry = self._entries.get(key)
            return None if entry is None else entry.status

    def statuses(self) -> list[ModelStatus]:
        with self._books:
            return [entry.status for entry in self._entries.values() if entry.status is not None]
