"""The language models' next-token passes in a process of their own, beside the hub's.

Why: in one Python process the model's worker thread and Gradio's event loop share one interpreter
lock. A forward pass is a few hundred torch calls; each lets the lock go and must take it back, and
while the event loop is busy with a room's requests, taking it back waits for the loop to let go
(Python's switch interval, 5 ms). On a 2-core machine Gemma's 165 ms pass took 307 ms beside a
Python thread busy 60 % of the time; under the lecture mix the worker was busy all the time and
the views waited seconds (benchmarks/pass_process.py). vLLM keeps its engine core in a process of
its own for the same reason.

`PassProcess` starts the process (multiprocessing's spawn: the same on Linux, macOS and Windows)
on first use. It runs a `shared.batching.Batcher` (batched passes, kept key/value caches) over its
own copy of each model, loaded from the folder the hub loaded it from, with the hub's dtype,
device and thread count. Requests go over a pipe as token ids; the scores come back as float32
arrays (1 MB a context for Gemma). The scores cache stays in the hub's process: a slider's view,
a redraw or a second student on a kept text never crosses over. Streams (generation, chat) stay in
the hub's process too: their steps run the caller's sampling code after each pass
(`RemotePasses.stream` uses the hub's own batcher).

If the process dies (killed, out of memory), the calls waiting for it fail with its exit code,
and the next call starts a new one. It ends with the hub: at the hub's exit, or when its pipe
closes.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import queue
import threading
from collections.abc import Hashable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from shared.batching import Batcher, KeyValueCaches, ModelPasses, ScoresCache, Step

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSource:
    """What the process loads a model from: the hub's copy's folder (or hub id), dtype and device."""

    name_or_path: str
    dtype: str  # "float32"
    device: str  # "cpu", "cuda:0"

    @classmethod
    def of(cls, model) -> ModelSource:
        return cls(model.name_or_path, str(model.dtype).removeprefix("torch."), str(model.device))


class PassProcess:
    """The next-token passes of the hub's language models, run in a process of their own (see the
    module's docstring). Thread-safe."""

    def __init__(self, cache: ScoresCache, kv_cache_bytes: int, max_rows: int, threads: int):
        self.cache = cache
        self._arguments = (kv_cache_bytes, max_rows, threads)
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._waiting: dict[int, Future] = {}  # request id -> its scores, while the process computes them
        self._request_ids = itertools.count()

    def for_model(self, model, identity: Hashable, streams: ModelPasses) -> RemotePasses:
        """The passes of one model: next-token scores here, streams through `streams` (the hub's
        own batcher)."""
        return RemotePasses(self, ModelSource.of(model), identity, streams)

    def scores(self, source: ModelSource, identity: Hashable, contexts: Sequence[Sequence[int]]) -> list:
        """The raw next-token scores after each context, shape (vocabulary,) each: from the cache,
        or from the process, which batches them with whatever else is waiting there."""
        import torch

        keys = [(identity, tuple(ids)) for ids in contexts]
        results = [self.cache.get(key) for key in keys]
        pending: dict[tuple, Future] = {
            key: Future() for key, result in zip(keys, results, strict=True) if result is None
        }
        if pending:
            self._send(source, identity, pending)  # in one message: they share a batch
        for index, (key, result) in enumerate(zip(keys, results, strict=True)):
            if result is None:
                results[index] = torch.from_numpy(pending[key].result())
                self.cache.put(key, results[index])
        return results

    def close(self) -> None:
        """Stop the process (a later call starts a new one)."""
        with self._lock:
            if self._connection is not None:
                try:
                    self._connection.send(None)  # the process's signal to end
                except OSError:  # it is gone already (its reader fails what waited)
                    pass
            process, self._process, self._connection = self._process, None, None
        if process is not None:
            process.join(timeout=30)

    def _send(self, source: ModelSource, identity: Hashable, pending: dict[tuple, Future]) -> None:
        with self._lock:
            connection = self._connection or self._start()
            requests = []
            for (_, ids), future in pending.items():
                request_id = next(self._request_ids)
                self._waiting[request_id] = future
                requests.append((request_id, ids))
            try:
                connection.send((source, identity, requests))
            except OSError as error:  # the process died meanwhile: its reader fails what waits
                for request_id, _ in requests:
                    self._waiting.pop(request_id, None)
                raise RuntimeError("the language models' process stopped") from error

    def _start(self) -> Connection:
        """Start the process and the thread that reads its answers (with the lock held)."""
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no copy of the hub's threads or locks
        connection, process_end = context.Pipe()
        self._process = context.Process(
            target=serve, args=(process_end, *self._arguments), name="language-model-passes", daemon=True
        )
        self._process.start()
        process_end.close()  # the process holds its end: when it dies, reading ours ends
        self._connection = connection
        threading.Thread(
            target=self._read, args=(connection, self._process), name="language-model-process", daemon=True
        ).start()
        log.info("the language models' passes run in process %d", self._process.pid)
        return connection

    def _read(self, connection: Connection, process) -> None:
        """Hand each answer to its caller until the process's pipe closes."""
        while True:
            try:
                request_id, scores, error = connection.recv()
            except (EOFError, OSError):
                break
            future = self._waiting.pop(request_id)
            future.set_exception(RuntimeError(error)) if error else future.set_result(scores)
        with self._lock:
            died = self._connection is connection  # else close() ended it, and waits for it
            if died:
                self._connection = self._process = None
            stranded = [self._waiting.pop(request_id) for request_id in list(self._waiting)]
        if died:
            process.join(timeout=5)  # for its exit code
            log.error("the language models' process stopped (exit code %s)", process.exitcode)
        for future in stranded:
            future.set_exception(RuntimeError(f"the language models' process stopped (exit code {process.exitcode})"))


@dataclass(frozen=True)
class RemotePasses:
    """One model's passes: next-token scores from the process, streams from the hub's batcher."""

    process: PassProcess
    source: ModelSource
    identity: Hashable
    streams: ModelPasses

    def scores(self, contexts: Sequence[Sequence[int]]) -> list:
        return self.process.scores(self.source, self.identity, contexts)

    def stream(self, ids: Sequence[int], step: Step) -> Iterator:
        return self.streams.stream(ids, step)


# --- the process itself ---


def serve(connection: Connection, kv_cache_bytes: int, max_rows: int, threads: int) -> None:
    """Answer the hub's requests until it says to end or its pipe closes: each message's contexts
    in one batch."""
    import torch

    torch.set_num_threads(threads)
    # No scores cache here (the hub keeps its own); the key/value caches make a drawn token cheap.
    batcher = Batcher(ScoresCache(0), KeyValueCaches(kv_cache_bytes), max_rows)
    answers: queue.SimpleQueue = queue.SimpleQueue()
    models: dict[ModelSource, Any] = {}

    def answer_when_done(request_id: int, result: Future) -> None:  # no scores cache: always a Future
        result.add_done_callback(lambda done: answers.put((request_id, done)))

    def send_answers() -> None:  # apart from the batcher's worker, which must not wait for the hub to read
        while True:
            request_id, done = answers.get()
            try:
                message = (request_id, done.result().cpu().numpy(), None)
            except Exception as error:
                message = (request_id, None, f"{type(error).__name__}: {error}")
            connection.send(message)

    threading.Thread(target=send_answers, name="answers", daemon=True).start()
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return  # the hub is gone
        if message is None:
            return  # the hub closed us
        source, identity, requests = message
        try:
            if source not in models:
                models[source] = _load(source)
            results = batcher.scores_later(models[source], identity, [ids for _, ids in requests])
        except Exception as error:  # a model that cannot load fails its requests, not the process
            log.exception("could not compute scores for %s", source.name_or_path)
            failed = Future()
            failed.set_exception(error)
            results = [failed] * len(requests)
        for (request_id, _), result in zip(requests, results, strict=True):
            answer_when_done(request_id, result)


def _load(source: ModelSource):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(source.name_or_path, dtype=getattr(torch, source.dtype))
    return model.to(source.device).eval()
