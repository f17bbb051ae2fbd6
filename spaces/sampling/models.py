"""The Échantillonnage tab's language models: loaded through the hub's shared cache (the
tokenizer tab shows the same copy), their forward passes batched for the whole room by one
`shared.batching.Batcher` per hub, so that a room asking at once shares passes and the next-token
scores of a context are kept: redraws and undos cost no forward pass. With each text's scores,
what the browser needs to run the filters itself (browser_filters.py), made once per text."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor

from shared.gpu import on_zerogpu
from shared.hub import Hub
from shared.language_models import (
    LANGUAGE_MODELS,
    LOADING,
    load_phase,
    model_title,
    shared_model,
    shared_tokenizer,
)
from shared.model_cache import LOADED
from spaces.sampling.texts import TEXTS

log = logging.getLogger(__name__)

COMPLETION_MODEL = "gemma3_270m"  # fluent French, a base model: it continues a text


def language_model(hub: Hub, key: str, progress=None, language: str = "fr"):
    """The model and its tokenizer through the shared cache (the tokenizer tab shows the same
    copy), with direct forward passes (the tab's own go through its batcher: TabModels)."""
    from spaces.sampling import logic

    tokenizer = shared_tokenizer(hub, key, progress, language)
    return logic.LanguageModel(shared_model(hub, key, progress, language), tokenizer)


class TabModels:
    """The tab's language models, loaded through the hub's shared cache, their forward passes
    batched for the whole room (direct on ZeroGPU, where the GPU belongs to each decorated call)."""

    def __init__(self, hub: Hub):
        from shared.batching import Batcher, KeyValueCaches, ScoresCache

        self.hub = hub
        settings = hub.settings
        self.batcher = Batcher(
            ScoresCache(settings.lm_cache_mb * 2**20),
            KeyValueCaches(settings.lm_kv_cache_mb * 2**20),
            max_rows=settings.lm_concurrency + settings.lm_stream_concurrency,
        )
        self.process = None
        if settings.lm_process and not on_zerogpu():
            from shared.pass_process import PassProcess

            self.process = PassProcess(
                self.batcher.cache,  # the views' scores, kept here: a kept text never crosses to the process
                settings.lm_kv_cache_mb * 2**20,
                self.batcher.max_rows,
                settings.torch_threads,
            )
        self._identities: dict[str, tuple[str, str]] = {}
        self.filters = FiltersCache()
        self._loads = ThreadPoolExecutor(max_workers=len(LANGUAGE_MODELS), thread_name_prefix="sampling-load")

    def missing(self) -> list[str]:
        """The tab's models that this server cannot load (the reasons go to the server's log)."""
        return [key for key in LANGUAGE_MODELS if self.hub.weights.unavailable(key) is not None]

    def get(self, key: str, progress=None, language: str = "fr"):
        """The model ready to use; on its first load, `progress` tells the user what happens, in
        words, until it is ready. Raises WeightsUnavailable."""
        if progress is None or self.loaded(key):
            return self._open(key)
        loading = self._loads.submit(self._open, key)
        while True:
            try:
                return loading.result(timeout=0.5)
            except TimeoutError:
                phase = load_phase(self.hub, key) or LOADING
                progress(None, desc=TEXTS.get(f"sampling_phase_{phase}", language, model=model_title(self.hub, key)))

    def filters_payload(self, key: str, lm, next_token) -> dict:
        """What the browser needs to apply the filters itself to this view's text, made once per text."""
        from spaces.sampling.browser_filters import filters_payload

        identity = (self._identities.get(key, key), next_token.context.ids)
        return self.filters.get(identity, lambda: filters_payload(lm, next_token.context.ids, next_token.raw_scores))

    def start_process(self) -> None:
        """Before the room arrives: the passes' process started, each model that is present loaded
        there (one pass each), its time in the log."""
        missing = self.missing()
        for key in LANGUAGE_MODELS:
            if key not in missing:
                started = time.perf_counter()
                lm = self._open(key)
                lm.passes.scores([[lm.tokenizer.bos_token_id or 0]])
                log.info("ready: %s in the passes' process in %.1f s", key, time.perf_counter() - started)

    def loaded(self, key: str) -> bool:
        statuses = (self.hub.models.status(f"{key}:{part}") for part in ("tokenizer", "model"))
        return all(status is not None and status.state == LOADED for status in statuses)

    def _open(self, key: str):
        from spaces.sampling import logic

        tokenizer = shared_tokenizer(self.hub, key)
        model = shared_model(self.hub, key)
        passes = None
        if not on_zerogpu():
            if key not in self._identities:  # the weights' version: a reload of the same weights keeps its scores
                self._identities[key] = (key, self.hub.weights.version(key))
            passes = self.batcher.for_model(model, self._identities[key])
            if self.process is not None:
                passes = self.process.for_model(model, self._identities[key], streams=passes)
        return logic.LanguageModel(model, tokenizer, passes, context_tokens=self.hub.settings.lm_context_tokens)


class FiltersCache:
    """Payloads by context (the model's identity and the token ids), the least recently used
    dropped beyond `max_entries`: a slider's release, an undo or another phone on the same text
    costs no new one."""

    def __init__(self, max_entries: int = 256):
        self.max_entries = max_entries
        self._payloads: OrderedDict[Hashable, dict] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make) -> dict:
        with self._lock:
            if key in self._payloads:
                self._payloads.move_to_end(key)
                return self._payloads[key]
        payload = make()
        with self._lock:
            self._payloads[key] = payload
            while len(self._payloads) > self.max_entries:
                self._payloads.popitem(last=False)
        return payload
