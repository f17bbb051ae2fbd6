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
own copy of each model, loaded from the folder the hub loaded it from, on the hub's device and
thread count, in the dtype of the hub's copy or the one `for_model` names. Requests go over a pipe
as token ids; the scores come back as float32 arrays (1 MB a context for Gemma). The scores cache
stays in the hub's process: a slider's view, a redraw or a second student on a kept text never
crosses over.

Streams run there too when their step can cross to the process (pickled once, with the ids): the
guards game's greedy answers (`shared.batching.GreedyTokens`) come back a token id at a time and
are decoded in the hub. Under a room's load they were the worker beside Gradio's event loop: a
third of the room's attempts ran past 30 s (benchmarks/load_harness.py's `lecture_guards`). The
sampling tab's streams (generation, chat) stay in the hub's process, on the batcher given to
`for_model`: their steps run the tab's sampling code, with its random draws, after each pass.

Each demo that needs one starts its own (the sampling tab, the guards game): two batchers in one
process share its interpreter lock. A room's attempts (60 tokens, 1.1 a second) beside new
sampling views (4 a second) took 6.4 s each (median) and the views 0.37 s (p95) with one process,
5.8 s and 0.21 s with two (SmolLM2 in bfloat16 and Gemma, 2-core Xeon VM).

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

_END = object()  # a stream's queue: nothing follows


@dataclass(frozen=True)
class ModelSource:
    """What the process loads a model from: the hub's copy's folder (or hub id), dtype and device."""

    name_or_path: str
    dtype: str  # "float32"
    device: str  # "cpu", "cuda:0"

    @classmethod
    def of(cls, model, dtype: str | None = None) -> ModelSource:
        return cls(model.name_or_path, dtype or str(model.dtype).removeprefix("torch."), str(model.device))


class PassProcess:
    """The next-token passes of the hub's language models, run in a process of their own (see the
    module's docstring). Thread-safe."""

    def __init__(self, cache: ScoresCache, kv_cache_bytes: int, max_rows: int, threads: int):
        self.cache = cache
        self._arguments = (kv_cache_bytes, max_rows, threads)
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        # request id -> its scores (a Future) or its stream's items (a queue), while the process works
        self._waiting: dict[int, Future | queue.SimpleQueue] = {}
        self._request_ids = itertools.count()

    def for_model(
        self, model, identity: Hashable, streams: ModelPasses | None = None, dtype: str | None = None
    ) -> RemotePasses:
        """The passes of one model: next-token scores here; streams through `streams` (a batcher
        in the hub's process), or in the process. The process loads the model from the folder the
        hub's copy came from, in `dtype` or the copy's."""
        return RemotePasses(self, ModelSource.of(model, dtype), identity, streams)

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
            with self._lock:  # in one message: they share a batch
                requests = [(self._expect(future), ids) for (_, ids), future in pending.items()]
                message = ("scores", source, identity, requests)
                self._send(message, [request_id for request_id, _ in requests])
        for index, (key, result) in enumerate(zip(keys, results, strict=True)):
            if result is None:
                results[index] = torch.from_numpy(pending[key].result())
                self.cache.put(key, results[index])
        return results

    def stream(
        self, source: ModelSource, identity: Hashable, ids: Sequence[int], step: Step, prefix_tokens: int = 0
    ) -> Iterator:
        """`Batcher.stream` run in the process: `step` is pickled there once (its items come back
        pickled too). Closing the iterator stops the stream there after its next token."""
        items: queue.SimpleQueue = queue.SimpleQueue()
        with self._lock:
            request_id = self._expect(items)
            message = ("stream", source, identity, request_id, tuple(ids), step, prefix_tokens)
            self._send(message, [request_id])
        try:
            while (item := items.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                yield item
        except GeneratorExit:  # closed before its end (Stop pressed, the phone gone)
            self._stop(request_id)
            raise

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

    def _expect(self, answer: Future | queue.SimpleQueue) -> int:
        """A new request's id, under which the reader hands its answer over (with the lock held)."""
        request_id = next(self._request_ids)
        self._waiting[request_id] = answer
        return request_id

    def _send(self, message: tuple, request_ids: list[int]) -> None:
        """Send one message to the process, started if need be (with the lock held)."""
        connection = self._connection or self._start()
        try:
            connection.send(message)
        except OSError as error:  # the process died meanwhile: its reader fails what waits
            for request_id in request_ids:
                self._waiting.pop(request_id, None)
            raise RuntimeError("the language models' process stopped") from error

    def _stop(self, request_id: int) -> None:
        """A stream's consumer is gone: the process drops its row; what it still sends is ignored."""
        with self._lock:
            if self._waiting.pop(request_id, None) is not None and self._connection is not None:
                try:
                    self._connection.send(("stop", request_id))
                except OSError:  # the process is gone: nothing runs the stream any more
                    pass

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
                request_id, value, error, last = connection.recv()
            except (EOFError, OSError):
                break
            with self._lock:
                answer = self._waiting.pop(request_id, None) if last else self._waiting.get(request_id)
            if isinstance(answer, Future):
                answer.set_exception(RuntimeError(error)) if error else answer.set_result(value)
            elif answer is not None:  # else a stream that was stopped
                answer.put(RuntimeError(error) if error else _END if last else value)
        with self._lock:
            died = self._connection is connection  # else close() ended it, and waits for it
            if died:
                self._connection = self._process = None
            stranded = [self._waiting.pop(request_id) for request_id in list(self._waiting)]
        if died:
            process.join(timeout=5)  # for its exit code
            log.error("the language models' process stopped (exit code %s)", process.exitcode)
        for answer in stranded:
            error = RuntimeError(f"the language models' process stopped (exit code {process.exitcode})")
            answer.set_exception(error) if isinstance(answer, Future) else answer.put(error)


@dataclass(frozen=True)
class RemotePasses:
    """One model's passes: next-token scores from the process; streams from `streams` (a batcher
    in the hub's process) or, without one, from the process."""

    process: PassProcess
    source: ModelSource
    identity: Hashable
    streams: ModelPasses | None

    def scores(self, contexts: Sequence[Sequence[int]]) -> list:
        return self.process.scores(self.source, self.identity, contexts)

    def stream(self, ids: Sequence[int], step: Step, prefix_tokens: int = 0) -> Iterator:
        if self.streams is not None:
            return self.streams.stream(ids, step, prefix_tokens)
        return self.process.stream(self.source, self.identity, ids, step, prefix_tokens)


# --- the process itself ---


def serve(connection: Connection, kv_cache_bytes: int, max_rows: int, threads: int) -> None:
    """Answer the hub's requests until it says to end or its pipe closes: each message's contexts
    in one batch, each stream's items as they come."""
    import torch

    torch.set_num_threads(threads)
    # No scores cache here (the hub keeps its own); the key/value caches make a drawn token cheap.
    batcher = Batcher(ScoresCache(0), KeyValueCaches(kv_cache_bytes), max_rows)
    # (request id, scores' Future or a stream's item, an error, whether it is the request's last message)
    answers: queue.SimpleQueue = queue.SimpleQueue()
    stopped: set[int] = set()  # streams whose consumer is gone
    models: dict[ModelSource, Any] = {}

    def send_answers() -> None:  # apart from the batcher's worker, which must not wait for the hub to read
        while True:
            request_id, value, error, last = answers.get()
            if isinstance(value, Future):
                try:
                    value = value.result().cpu().numpy()
                except Exception as failure:
                    value, error = None, _described(failure)
            connection.send((request_id, value, error, last))

    def forward(request_id: int, items: Iterator) -> None:
        """A stream's items to the hub, until it ends or the hub stops it."""
        try:
            for item in items:
                if request_id in stopped:
                    items.close()  # its row leaves its group
                    return
                answers.put((request_id, item, None, False))
            answers.put((request_id, None, None, True))
        except Exception as error:
            answers.put((request_id, None, _described(error), True))
        finally:
            stopped.discard(request_id)

    def model_of(source: ModelSource):
        if source not in models:
            models[source] = _load(source)
        return models[source]

    threading.Thread(target=send_answers, name="answers", daemon=True).start()
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return  # the hub is gone
        if message is None:
            return  # the hub closed us
        kind, *arguments = message
        if kind == "stop":
            stopped.add(arguments[0])
        elif kind == "stream":
            source, identity, request_id, ids, step, prefix_tokens = arguments
            try:
                items = batcher.stream(model_of(source), identity, ids, step, prefix_tokens)
            except Exception as error:  # a model that cannot load fails its stream, not the process
                log.exception("could not load %s", source.name_or_path)
                answers.put((request_id, None, _described(error), True))
                continue
            threading.Thread(target=forward, args=(request_id, items), name=f"stream-{request_id}", daemon=True).start()
        else:
            source, identity, requests = arguments
            try:
                results = batcher.scores_later(model_of(source), identity, [ids for _, ids in requests])
            except Exception as error:  # a model that cannot load fails its requests, not the process
                log.exception("could not compute scores for %s", source.name_or_path)
                failed = Future()
                failed.set_exception(error)
                results = [failed] * len(requests)
            for (request_id, _), result in zip(requests, results, strict=True):
                # no scores cache here: always a Future
                result.add_done_callback(
                    lambda done, request_id=request_id: answers.put((request_id, done, None, True))
                )


def _described(error: Exception) -> str:
    """An error as the hub's caller reads it (the exception itself may not cross the pipe)."""
    return f"{type(error).__name__}: {error}"


def _load(source: ModelSource):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(source.name_or_path, dtype=getattr(torch, source.dtype))
    return model.to(source.device).eval()
