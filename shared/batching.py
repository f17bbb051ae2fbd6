"""Forward passes of the hub's language models, shared by a room: one pass serves everyone who
asks at the same moment, and nobody asks twice for the same scores.

A lecture hall asks the same few prompts again and again, many at once, and mostly moves
sliders. Two things follow, both here:

- `ScoresCache`: the raw next-token scores, kept per context (the model's identity and the token
  ids) in a least-recently-used cache bounded in bytes. A slider move, a redraw, an undo or a
  second student on the same prompt reads them instead of running the model.
- `Batcher`: one worker thread runs every forward pass. When it is free it takes every request
  waiting and runs them as one left-padded batch (attention mask and position ids, as
  `generate()` pads): the weights are read once for all of them, which is what a forward pass
  on a CPU costs (Gemma 3 270M on one core: 1 prompt ~150 ms, 16 prompts ~360 ms).

Streams (generation, chat) start in those batches too: the first pass of a stream is one row of a
batch, which waits up to STREAM_GATHERING_S for other streams (a room pressing « Générer » at once
then shares its passes; a lone user pays a tenth of a second on a generation of seconds). Streams
that started in the same batch then decode together, one batched pass per token for all of them;
a stream leaves its group when it ends or is stopped (`Cache.batch_select_indices`).
Streams that started apart are not merged: transformers' `DynamicCache` can shrink its batch but
not join two caches of different lengths (that would mean padding every layer's keys and values
ourselves, Gemma's sliding-window layers included). They are interleaved instead, one step of
each group between batches of new requests, so a long generation never holds up a next-token
view for more than one token per running group.

`DirectPasses` runs the same passes in the caller's thread, unbatched and uncached: the reference
that tests compare the batched results with, and the path on ZeroGPU, whose GPU belongs to the
decorated call, not to a worker thread.

Gradio-free and demo-free: a row's sampling (filters, draws, stop sequences) is the caller's
`step` function, called by the worker after each pass of that row.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# A step of a stream: given the scores after a pass (shape (vocabulary,)), the token to feed to
# the next pass, the item the stream yields, and whether that item is the last one.
Step = Callable[[Any], tuple[int, Any, bool]]

# A batch pads its rows to its longest one: a long prompt runs in a batch of its own rather than
# make many short ones pay for its length (padded tokens = rows x longest row).
MAX_PADDED_TOKENS = 2048
PAD_TOKEN_ID = 0  # any id the model knows: padded positions are masked out
STREAM_GATHERING_S = 0.1  # how long a stream's first pass waits for others to share its batch


class ScoresCache:
    """Next-token scores by context, least recently used dropped first beyond `max_bytes`."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.used_bytes = 0
        self.hits = self.misses = 0
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable):
        with self._lock:
            scores = self._entries.get(key)
            if scores is None:
                self.misses += 1
                return None
            self.hits += 1
            self._entries.move_to_end(key)
            return scores

    def put(self, key: Hashable, scores) -> None:
        size = scores.numel() * scores.element_size()
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = scores
            self.used_bytes += size
            while self.used_bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self.used_bytes -= dropped.numel() * dropped.element_size()

    def __len__(self) -> int:
        return len(self._entries)


def left_padded(rows: Sequence[Sequence[int]], device) -> tuple[Any, Any, Any]:
    """input_ids, attention_mask and position_ids for rows of different lengths, padded on the
    left (the last position of every row is then its own last token); no mask when none is padded."""
    import torch

    longest = max(len(row) for row in rows)
    input_ids = torch.tensor([[PAD_TOKEN_ID] * (longest - len(row)) + list(row) for row in rows], device=device)
    lengths = torch.tensor([len(row) for row in rows], device=device)
    mask = (torch.arange(longest, device=device)[None, :] >= (longest - lengths)[:, None]).long()
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return input_ids, (None if bool(mask.all()) else mask), positions


def last_scores(output) -> Any:
    """The scores of each row's next token, float32, shape (rows, vocabulary)."""
    return output.logits[:, -1].float()


class DirectPasses:
    """One model's forward passes in the caller's thread: unbatched, uncached."""

    def __init__(self, model):
        self.model = model

    def scores(self, contexts: Sequence[Sequence[int]]) -> list:
        import torch

        results = []
        for ids in contexts:
            with torch.inference_mode():
                # logits_to_keep=1: only the last position's scores (Gemma's vocabulary is 262 144 tokens).
                output = self.model(
                    input_ids=torch.tensor([list(ids)], device=self.model.device), use_cache=False, logits_to_keep=1
                )
            results.append(last_scores(output)[0])
        return results

    def stream(self, ids: Sequence[int], step: Step) -> Iterator:
        import torch

        step_input = torch.tensor([list(ids)], device=self.model.device)
        cache = None
        while True:
            with torch.inference_mode():
                output = self.model(input_ids=step_input, cache=cache, use_cache=True, logits_to_keep=1)
            cache = output.cache  # this stream's own KV cache: no other call reads or extends it
            token_id, item, last = step(last_scores(output)[0])
            yield item
            if last:
                return
            step_input = torch.tensor([[token_id]], device=self.model.device)


_END = object()  # a stream's queue: nothing follows


@dataclass(eq=False)
class _StreamRow:
    step: Step
    items: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    next_token: int = 0
    stopped: bool = False  # the consumer is gone (Stop pressed) or the stream ended

    def take(self, scores) -> None:
        """Run the caller's step on this row's scores; hand over its item."""
        try:
            self.next_token, item, last = self.step(scores)
        except Exception as error:  # a failing step ends its own stream only
            self.fail(error)
            return
        self.items.put(item)
        if last:
            self.stopped = True
            self.items.put(_END)

    def fail(self, error: BaseException) -> None:
        self.stopped = True
        self.items.put(error)


@dataclass(eq=False)
class _Request:
    model: Any
    identity: Hashable
    ids: tuple[int, ...]
    future: Future | None = None  # a next-token request
    row: _StreamRow | None = None  # the first pass of a stream
    arrived: float = field(default_factory=time.monotonic)


@dataclass(eq=False)
class _Group:
    """Streams that started in one batch: they share a KV cache and decode together."""

    model: Any
    cache: Any
    rows: list[_StreamRow]
    mask: Any  # (rows, length) or None when no row is padded
    positions: Any  # (rows, 1): each row's last position


class Batcher:
    """Runs every forward pass of the hub's language models in one worker thread, batching the
    requests that wait together (see the module's docstring). Thread-safe; the worker starts
    on the first request."""

    def __init__(
        self,
        cache: ScoresCache,
        max_rows: int,
        max_padded_tokens: int = MAX_PADDED_TOKENS,
        stream_gathering_s: float = STREAM_GATHERING_S,
    ):
        self.cache = cache
        self.max_rows = max(1, max_rows)
        self.max_padded_tokens = max_padded_tokens
        self.stream_gathering_s = stream_gathering_s
        self.forward_passes = 0  # batched passes run, prefill and decode steps alike
        self.rows_computed = 0  # rows in those passes
        self._waiting: list[_Request] = []
        self._groups: list[_Group] = []
        self._wake = threading.Condition()
        self._worker: threading.Thread | None = None

    def for_model(self, model, identity: Hashable) -> ModelPasses:
        """The passes of one model, for callers; `identity` names its weights in the cache (a
        model reloaded from the same weights keeps its cached scores)."""
        return ModelPasses(self, model, identity)

    @property
    def active_streams(self) -> int:
        with self._wake:
            return sum(not row.stopped for group in self._groups for row in group.rows) + sum(
                request.row is not None for request in self._waiting
            )

    # --- what callers use (any thread) ---

    def scores(self, model, identity: Hashable, contexts: Sequence[Sequence[int]]) -> list:
        """The raw next-token scores after each context, shape (vocabulary,) each: from the
        cache, or from one batched pass with whatever else is waiting."""
        keys = [(identity, tuple(ids)) for ids in contexts]
        results = [self.cache.get(key) for key in keys]
        pending = {}
        for key, result in zip(keys, results, strict=True):
            if result is None and key not in pending:
                pending[key] = _Request(model, identity, key[1], future=Future())
        if pending:
            self._submit(*pending.values())  # together, so they share a batch
        return [
            result if result is not None else pending[key].future.result()
            for key, result in zip(keys, results, strict=True)
        ]

    def stream(self, model, identity: Hashable, ids: Sequence[int], step: Step) -> Iterator:
        """Yield `step`'s items, one per forward pass, until one is marked last; closing the
        iterator stops the stream (its row leaves its group at the next step)."""
        row = _StreamRow(step)
        self._submit(_Request(model, identity, tuple(ids), row=row))
        try:
            while True:
                item = row.items.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            row.stopped = True

    def _submit(self, *requests: _Request) -> None:
        with self._wake:
            self._waiting.extend(requests)
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="language-model-passes", daemon=True)
                self._worker.start()
            self._wake.notify()

    # --- the worker ---

    def _work(self) -> None:
        while True:
            with self._wake:
                while True:
                    now = time.monotonic()
                    due = [request for request in self._waiting if self._is_due(request, now)]
                    if due or self._groups:
                        break
                    if self._waiting:  # only streams, gathering companions
                        self._wake.wait(min(r.arrived for r in self._waiting) + self.stream_gathering_s - now)
                    else:
                        self._wake.wait()
                batch = self._take_batch(due[0].model) if due else []
            try:
                if batch:
                    self._run_first_passes(batch)
                for group in list(self._groups):  # one token for every running group, then new requests again
                    self._run_decode_step(group)
            except Exception as error:  # a bug here must not leave anyone waiting for ever
                log.exception("the language models' worker failed")
                self._fail_everything(batch, error)

    def _fail_everything(self, batch: list[_Request], error: BaseException) -> None:
        for request in batch:
            if request.row is not None:
                request.row.fail(error)
            elif not request.future.done():
                request.future.set_exception(error)
        with self._wake:
            for group in self._groups:
                for row in group.rows:
                    row.fail(error)
            self._groups.clear()

    def _is_due(self, request: _Request, now: float) -> bool:
        """A next-token request runs at once; a stream's first pass once it has gathered others."""
        return request.row is None or now - request.arrived >= self.stream_gathering_s

    def _take_batch(self, model) -> list[_Request]:
        """The requests waiting for `model`, oldest first, within the batch's bounds (identical
        next-token requests share a row; gathering streams join too); the others wait."""
        batch, rows, longest, kept = [], set(), 0, []
        for request in self._waiting:
            row_count = len(rows | {_row_key(request)})
            padded = max(longest, len(request.ids)) * row_count
            fits = row_count <= self.max_rows and padded <= self.max_padded_tokens
            if request.model is model and (fits or not batch):
                batch.append(request)
                rows.add(_row_key(request))
                longest = max(longest, len(request.ids))
            else:
                kept.append(request)
        self._waiting = kept
        return batch

    def _run_first_passes(self, batch: list[_Request]) -> None:
        import torch

        model = batch[0].model
        rows: list[tuple[int, ...]] = []
        row_of: dict[object, int] = {}
        for request in batch:
            if _row_key(request) not in row_of:
                row_of[_row_key(request)] = len(rows)
                rows.append(request.ids)
        streams = [request for request in batch if request.row is not None]
        try:
            input_ids, mask, positions = left_padded(rows, model.device)
            with torch.inference_mode():
                output = model(
                    input_ids=input_ids,
                    attention_mask=mask,
                    position_ids=positions,
                    use_cache=bool(streams),
                    logits_to_keep=1,
                )
            # Copies: a cached row must not keep the whole batch's tensor alive.
            scores = [row_scores.clone() for row_scores in last_scores(output)]
        except Exception as error:
            log.exception("a batch of %d forward passes failed", len(rows))
            for request in batch:
                request.future.set_exception(error) if request.row is None else request.row.fail(error)
            return
        self.forward_passes += 1
        self.rows_computed += len(rows)
        for request in batch:
            self.cache.put((request.identity, request.ids), scores[row_of[_row_key(request)]])
            if request.row is None:
                request.future.set_result(scores[row_of[_row_key(request)]])
        if streams:
            indices = [row_of[_row_key(request)] for request in streams]
            cache = output.cache
            selected = torch.tensor(indices, device=model.device)
            if len(indices) < len(rows):  # the next-token rows need no cache
                cache.batch_select_indices(selected)
            positions = torch.tensor([[len(request.ids) - 1] for request in streams], device=model.device)
            group = _Group(model, cache, [request.row for request in streams], _rows_of(mask, selected), positions)
            with self._wake:
                self._groups.append(group)
            for request, index in zip(streams, indices, strict=True):
                request.row.take(scores[index])

    def _run_decode_step(self, group: _Group) -> None:
        import torch

        live = [index for index, row in enumerate(group.rows) if not row.stopped]
        if not live:
            with self._wake:
                self._groups.remove(group)
            return
        if len(live) < len(group.rows):  # stopped or ended streams leave the group
            selected = torch.tensor(live, device=group.model.device)
            group.cache.batch_select_indices(selected)
            group.rows = [group.rows[index] for index in live]
            group.positions = group.positions[selected]
            group.mask = _rows_of(group.mask, selected)
        step_input = torch.tensor([[row.next_token] for row in group.rows], device=group.model.device)
        group.positions = group.positions + 1
        if group.mask is not None:
            group.mask = torch.cat([group.mask, group.mask.new_ones((len(group.rows), 1))], dim=-1)
        try:
            with torch.inference_mode():
                output = group.model(
                    input_ids=step_input,
                    attention_mask=group.mask,
                    position_ids=group.positions,
                    cache=group.cache,
                    use_cache=True,
                    logits_to_keep=1,
                )
            scores = last_scores(output)
        except Exception as error:
            log.exception("a decode step of %d streams failed", len(group.rows))
            for row in group.rows:
                row.fail(error)
            with self._wake:
                self._groups.remove(group)
            return
        self.forward_passes += 1
        self.rows_computed += len(group.rows)
        group.cache = output.cache
        for index, row in enumerate(group.rows):
            row.take(scores[index])


def _row_key(request: _Request) -> object:
    """Identical next-token requests share a row of a batch; a stream always has its own."""
    return request.ids if request.row is None else request


def _rows_of(mask, selected):
    """The attention mask of the selected rows; None (no mask) once none of them is padded."""
    if mask is None:
        return None
    mask = mask[selected]
    return None if bool(mask.all()) else mask


@dataclass(frozen=True)
class ModelPasses:
    """One model's passes through a `Batcher`: what a demo hands to its logic."""

    batcher: Batcher
    model: Any
    identity: Hashable

    def scores(self, contexts: Sequence[Sequence[int]]) -> list:
        return self.batcher.scores(self.model, self.identity, contexts)

    def stream(self, ids: Sequence[int], step: Step) -> Iterator:
        return self.batcher.stream(self.model, self.identity, ids, step)
