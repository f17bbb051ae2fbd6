"""Forward passes of the hub's language models, shared by a room: one pass serves everyone who
asks at the same moment, nobody asks twice for the same scores, and a text that grows by one token
costs one token's pass.

A lecture hall asks the same few prompts again and again, many at once, moves sliders, and draws
tokens one at a time. Three things follow, all here:

- `ScoresCache`: the raw next-token scores, kept per context (the model's identity and the token
  ids) in a least-recently-used cache bounded in bytes. A slider move, a redraw, an undo or a
  second student on the same prompt reads them instead of running the model.
- `KeyValueCaches`: the key/value cache of each recent context (transformers' `DynamicCache`,
  one row each), least recently used dropped beyond a bound in bytes. A context that extends a
  kept one by one token (a drawn or chosen token) runs that one token on the kept cache, which
  then moves to the new context. Keyed by token ids, not by session: whoever asks next for one
  more token on that text uses it (two at once: the second extends a copy). Another token after
  an undo, or another student's token on a text whose cache moved on, extends a copy of the
  longer text's cache less its last token (`DynamicCache.crop`; not once a sliding-window layer
  has dropped that position: then the whole text runs again).
- `Batcher`: one worker thread runs every forward pass. When it is free it takes every request
  waiting and runs them together. A pass is a transformer body (every layer), then the output
  layer on the last position; each reads all its weights from memory whatever its rows, and in a
  one-token pass that reading is the cost (Gemma 3 270M: the body's 400 MB of float32 weights,
  the output layer's 262 144 x 640, 671 MB). So a batch runs:
  - one left-padded body pass for the new contexts and the streams' first passes (attention
    mask and position ids, as `generate()` pads); each new context's own cache is then cut out
    of the batch's, without the pads;
  - one joined body pass for the rows that add one token to a kept cache: their caches padded on
    the left to the longest and stacked, as a padded pass of their texts would have left them,
    then cut apart again (texts of very different lengths: a few joined passes, each within
    MAX_PADDED_TOKENS);
  - one output layer for all the rows, on their last hidden states (`output_scores`).
  transformers' `DynamicCache` does not join or cut caches of different lengths itself:
  `_joined` and `_row_caches` pad and cut every layer's keys and values, and tell a
  sliding-window layer (Gemma) the text's length, which it counts apart from the positions it
  holds. A burst of 16 new short prompts costs one padded pass, the same CPU as before the kept
  caches; each body alone would cost 1.6x (benchmarks/sampling_batching.py).

Streams (generation, chat) start in those batches too: the first pass of a stream is one row of a
batch, which waits up to STREAM_GATHERING_S for other streams (a room pressing « Générer » at once
then shares its passes; a lone user pays a tenth of a second on a generation of seconds). Streams
that started in the same batch then decode together, one batched pass per token for all of them;
a stream leaves its group when it ends or is stopped (`Cache.batch_select_indices`).
Streams that started apart join one group before the next decode step (`_merged`: each cache
padded on the left to the longest, the masks with it), as long as the rows fit the batch: a room
whose guesses or chats start one a second then runs one pass per token for all of them, not one
pass per stream (with 30 streams apart, each token waited for 30 passes and the streams piled up
into timeouts: benchmarks/load_harness.py's `lecture_guards`). A group's leading columns that
only padded rows that have left needed are cut (`_without_leading_pads`). A model with
sliding-window layers (Gemma) keeps its groups apart, interleaved: its layers hold different
lengths. Between batches of new requests, each group runs one step, so a long generation never
holds up a next-token view for more than one token per running group.

A stream may say that its first tokens are a prefix many streams share (`prefix_tokens`: a system
prompt, the same for every attempt at a level of the guards game): the prefix's keys and values
are computed once and kept (in `KeyValueCaches`, under the prefix's context), and each such
stream runs only its own tokens, on a copy of them, at once (it gathers no companions: it would
run alone anyway), then decodes as a group of its own. Its first token then costs its own
tokens' pass, not the whole prompt's: the worker, which every running stream waits for, is held
that much less.

`DirectPasses` runs the same passes in the caller's thread, unbatched and uncached: the reference
that tests compare the batched results with, and the path on ZeroGPU, whose GPU belongs to the
decorated call, not to a worker thread.

Gradio-free and demo-free: a row's sampling (filters, draws, stop sequences) is the caller's
`step` function, called by the worker after each pass of that row.
"""

from __future__ import annotations

import copy
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


class KeyValueCaches:
    """Key/value caches (transformers' `DynamicCache`, one context each) by context (the model's
    identity and the token ids), least recently used dropped first beyond `max_bytes`. The
    batcher's worker takes a cache out to extend it in place, then puts it back under its new
    context; a view of a context whose scores are kept (a slider move) counts as a use too."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.used_bytes = 0
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()  # key -> (cache, bytes)
        self._children: dict[tuple, set[tuple]] = {}  # a context's key -> the kept keys one token longer
        self._lock = threading.Lock()

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def take(self, key: tuple):
        """The cache kept for `key`, no longer kept (None if there is none)."""
        with self._lock:
            return self._drop(key)

    def put(self, key: tuple, cache) -> None:
        size = cache_bytes(cache)
        with self._lock:
            self._drop(key)
            if size > self.max_bytes:
                return
            self._entries[key] = (cache, size)
            self._children.setdefault(_parent_of(key), set()).add(key)
            self.used_bytes += size
            while self.used_bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def touch(self, key: tuple) -> None:
        """`key`'s context was used: its cache (if kept) is dropped last."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)

    def get(self, key: tuple):
        """The cache kept for `key`, left kept (None if there is none): a shared prefix's, which
        the caller copies before extending it."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def child_of(self, key: tuple):
        """The cache kept for a context one token longer than `key`'s, left kept (None if there
        is none): after an undo, or another student's token on the same text."""
        with self._lock:
            children = self._children.get(key)
            return self._entries[next(iter(children))][0] if children else None

    def _drop(self, key: tuple):
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        self.used_bytes -= entry[1]
        siblings = self._children[_parent_of(key)]
        siblings.discard(key)
        if not siblings:
            del self._children[_parent_of(key)]
        return entry[0]

    def __len__(self) -> int:
        return len(self._entries)


def cache_bytes(cache) -> int:
    """The memory a `DynamicCache` holds: its keys' and values' storage (a sliding-window layer's
    keys are a view of a slightly longer tensor: the whole tensor counts)."""
    return sum(
        tensor.untyped_storage().nbytes()
        for keys, values, _ in cache
        for tensor in (keys, values)
        if tensor is not None
    )


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


def output_scores(model, hidden) -> Any:
    """The next-token scores, float32, of hidden states (rows, hidden size) from the model's
    transformer body: its output layer, then what its forward does after it (Gemma's final
    soft-capping when its config has one), as `model(...)` computes them."""
    import torch

    logits = model.get_output_embeddings()(hidden)
    softcapping = getattr(model.config.get_text_config(), "final_logit_softcapping", None)
    if softcapping is not None:
        logits = torch.tanh(logits / softcapping) * softcapping
    return logits.float()


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


class GreedyTokens:
    """A stream's step (`Step`) that needs nothing but the scores, so that a passes' process can
    run it (shared/pass_process.py): the most likely token after each pass, so that the same
    prompt gets the same answer. Its item is the token's id, or None for the end token, which is
    not part of the text; the stream ends at one of `end_ids` or after `max_new_tokens`."""

    def __init__(self, end_ids: frozenset[int], max_new_tokens: int):
        self.end_ids = end_ids
        self.max_new_tokens = max_new_tokens
        self.taken = 0

    def __call__(self, scores) -> tuple[int, int | None, bool]:
        token_id = int(scores.argmax())
        if token_id in self.end_ids:
            return token_id, None, True
        self.taken += 1
        return token_id, token_id, self.taken >= self.max_new_tokens


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
    prefix_tokens: int = 0  # a stream's first tokens that many streams share (their cache is kept)
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
        key_values: KeyValueCaches,
        max_rows: int,
        max_padded_tokens: int = MAX_PADDED_TOKENS,
        stream_gathering_s: float = STREAM_GATHERING_S,
    ):
        self.cache = cache
        self.key_values = key_values
        self.max_rows = max(1, max_rows)
        self.max_padded_tokens = max_padded_tokens
        self.stream_gathering_s = stream_gathering_s
        self.forward_passes = 0  # batched passes run (one output layer each), first passes and decode steps alike
        self.rows_computed = 0  # rows in those passes
        self.rows_extended = 0  # of those, next-token rows that ran one token on a kept cache
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
        return [
            result.result() if isinstance(result, Future) else result
            for result in self.scores_later(model, identity, contexts)
        ]

    def scores_later(self, model, identity: Hashable, contexts: Sequence[Sequence[int]]) -> list:
        """As `scores`, without waiting: each context's scores, or the Future of them."""
        keys = [(identity, tuple(ids)) for ids in contexts]
        results = [self.cache.get(key) for key in keys]
        pending = {}
        for key, result in zip(keys, results, strict=True):
            if result is not None:
                self.key_values.touch(key)  # a student still on this text may draw from it next
            elif key not in pending:
                pending[key] = _Request(model, identity, key[1], future=Future())
        if pending:
            self._submit(*pending.values())  # together, so they share a batch
        return [
            result if result is not None else pending[key].future for key, result in zip(keys, results, strict=True)
        ]

    def stream(self, model, identity: Hashable, ids: Sequence[int], step: Step, prefix_tokens: int = 0) -> Iterator:
        """Yield `step`'s items, one per forward pass, until one is marked last; closing the
        iterator stops the stream (its row leaves its group at the next step). `prefix_tokens`:
        how many of the first ids other streams share (their keys and values are kept)."""
        row = _StreamRow(step)
        prefix_tokens = prefix_tokens if 0 < prefix_tokens < len(ids) else 0  # at least one token of its own
        self._submit(_Request(model, identity, tuple(ids), row=row, prefix_tokens=prefix_tokens))
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
                self._merge_groups()
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
        """A next-token request runs at once, and so does a stream on a shared prefix (it runs
        alone, on the prefix's kept cache: gathering would only delay its first token); another
        stream's first pass once it has gathered others."""
        return request.row is None or request.prefix_tokens > 0 or now - request.arrived >= self.stream_gathering_s

    def _take_batch(self, model) -> list[_Request]:
        """The requests waiting for `model`, oldest first, within the batch's bounds (identical
        next-token requests share a row; gathering streams join too); the others wait. The
        padded-token bound counts the rows of the padded pass only: the rows that extend a kept
        cache run apart (`_plan`)."""
        batch, rows, padded_rows, longest, kept = [], set(), set(), 0, []
        for request in self._waiting:
            key = _row_key(request)
            padded = request.row is not None or _parent_key(request) not in self.key_values
            row_count = len(rows | {key})
            padded_count = len(padded_rows | {key}) if padded else len(padded_rows)
            padded_longest = max(longest, len(request.ids)) if padded else longest
            fits = row_count <= self.max_rows and padded_count * padded_longest <= self.max_padded_tokens
            if request.model is model and (fits or not batch):
                batch.append(request)
                rows.add(key)
                if padded:
                    padded_rows.add(key)
                    longest = padded_longest
            else:
                kept.append(request)
        self._waiting = kept
        return batch

    def _run_first_passes(self, batch: list[_Request]) -> None:
        """One batch's first passes: each row's body as `_plan` says, then the output layer once
        for all rows; each next-token row's cache is kept, the streams start decoding as a group."""
        import torch

        for request in batch:
            if request.row is not None and request.prefix_tokens:
                self._start_on_prefix(request)
        batch = [request for request in batch if request.row is None or not request.prefix_tokens]
        if not batch:
            return
        model = batch[0].model
        rows: list[_Request] = []  # one request per row
        row_of: dict[object, int] = {}
        for request in batch:
            if _row_key(request) not in row_of:
                row_of[_row_key(request)] = len(rows)
                rows.append(request)
        extending, padded = self._plan(rows)
        try:
            with torch.inference_mode():
                hidden, kept, padded_pass = self._run_bodies(model, rows, extending, padded)
                # Copies: a cached row must not keep the whole batch's tensor alive.
                scores = [row_scores.clone() for row_scores in output_scores(model, torch.stack(hidden))]
        except Exception as error:
            log.exception("a batch of %d forward passes failed", len(rows))
            for request in batch:
                request.future.set_exception(error) if request.row is None else request.row.fail(error)
            return
        self.forward_passes += 1
        self.rows_computed += len(rows)
        self.rows_extended += sum(map(len, extending))
        for index, cache in kept.items():
            self.key_values.put((rows[index].identity, rows[index].ids), cache)
        for request in batch:
            self.cache.put((request.identity, request.ids), scores[row_of[_row_key(request)]])
            if request.row is None:
                request.future.set_result(scores[row_of[_row_key(request)]])
        streams = [position for position, index in enumerate(padded) if rows[index].row is not None]
        if streams:
            cache, mask = padded_pass
            selected = torch.tensor(streams, device=model.device)
            if len(streams) < len(padded):  # the next-token rows' own caches were cut out already
                cache.batch_select_indices(selected)
            requests = [rows[padded[position]] for position in streams]
            positions = torch.tensor([[len(request.ids) - 1] for request in requests], device=model.device)
            group = _Group(model, cache, [request.row for request in requests], _rows_of(mask, selected), positions)
            with self._wake:
                self._groups.append(group)
            for request in requests:
                request.row.take(scores[row_of[_row_key(request)]])

    def _start_on_prefix(self, request: _Request) -> None:
        """A stream whose first tokens many streams share: the prefix's cache (kept, or computed
        and kept), the stream's own tokens on a copy of it, then the stream decodes as a group."""
        import torch

        model, body = request.model, request.model.get_decoder()
        key = (request.identity, request.ids[: request.prefix_tokens])
        try:
            with torch.inference_mode():
                prefix = self.key_values.get(key)
                if prefix is None:
                    prefix = body(input_ids=torch.tensor([key[1]], device=model.device), use_cache=True).cache
                    self.key_values.put(key, prefix)
                    self.forward_passes += 1
                own = torch.tensor([request.ids[request.prefix_tokens :]], device=model.device)
                output = body(input_ids=own, cache=copy.deepcopy(prefix), use_cache=True)
                scores = output_scores(model, output.last_hidden_state[:, -1])[0]
        except Exception as error:
            log.exception("a stream's first pass on a shared prefix failed")
            request.row.fail(error)
            return
        self.forward_passes += 1
        self.rows_computed += 1
        positions = torch.tensor([[len(request.ids) - 1]], device=model.device)
        with self._wake:
            self._groups.append(_Group(model, output.cache, [request.row], None, positions))
        request.row.take(scores)

    def _run_bodies(
        self, model, rows: list[_Request], extending: list[list[tuple[int, Any]]], padded: list[int]
    ) -> tuple[list, dict[int, Any], tuple[Any, Any]]:
        """Each row's transformer body, as planned: every row's last hidden state, the caches to
        keep (next-token row -> its context's cache), and the padded pass's cache and attention
        mask (where the streams' group starts)."""
        import torch

        body = model.get_decoder()
        hidden: list[Any] = [None] * len(rows)
        kept: dict[int, Any] = {}
        for group in extending:
            indices = [index for index, _ in group]
            step_input = torch.tensor([rows[index].ids[-1:] for index in indices], device=model.device)
            if len(group) == 1:  # its own cache as it is
                output = body(input_ids=step_input, cache=group[0][1], use_cache=True)
                hidden[indices[0]], kept[indices[0]] = output.last_hidden_state[0, -1], output.cache
                continue
            lengths = [len(rows[index].ids) for index in indices]
            cache, mask, positions = _joined(model, [cache for _, cache in group], [length - 1 for length in lengths])
            output = body(
                input_ids=step_input, attention_mask=mask, position_ids=positions, cache=cache, use_cache=True
            )
            for position, index in enumerate(indices):
                hidden[index] = output.last_hidden_state[position, -1]
            kept.update(zip(indices, _row_caches(model, output.cache, lengths), strict=True))
        if not padded:
            return hidden, kept, (None, None)
        input_ids, mask, positions = left_padded([rows[index].ids for index in padded], model.device)
        output = body(input_ids=input_ids, attention_mask=mask, position_ids=positions, use_cache=True)
        for position, index in enumerate(padded):
            hidden[index] = output.last_hidden_state[position, -1]
        next_token_rows = {position: index for position, index in enumerate(padded) if rows[index].row is None}
        lengths = [len(rows[index].ids) for index in next_token_rows.values()]
        own_caches = _row_caches(model, output.cache, lengths, list(next_token_rows))
        kept.update(zip(next_token_rows.values(), own_caches, strict=True))
        return hidden, kept, (output.cache, mask)

    def _plan(self, rows: list[_Request]) -> tuple[list[list[tuple[int, Any]]], list[int]]:
        """How the rows' bodies run, as indices into `rows`: the next-token rows that extend a
        kept cache, with the cache each extends (a second row on the same text gets a copy), in
        groups that run as one joined pass within the padded-token bound (shortest first); and
        the rows of the padded pass (new contexts, streams)."""
        extending, padded = [], []
        taken: dict[Hashable, Any] = {}  # the caches taken out for this batch, before any extension
        for index, request in enumerate(rows):
            if request.row is None:
                parent = _parent_key(request)
                cache = copy.deepcopy(taken[parent]) if parent in taken else self.key_values.take(parent)
                if cache is None:
                    cache = _one_token_shorter(self.key_values.child_of(parent))
                if cache is not None:
                    taken.setdefault(parent, cache)
                    extending.append((index, cache))
                    continue
            padded.append(index)
        groups: list[list[tuple[int, Any]]] = []
        for index, cache in sorted(extending, key=lambda row: len(rows[row[0]].ids)):
            if not groups or (len(groups[-1]) + 1) * len(rows[index].ids) > self.max_padded_tokens:
                groups.append([])
            groups[-1].append((index, cache))
        return groups, padded

    def _merge_groups(self) -> None:
        """Each running group joins an earlier one of its model, while their rows fit a batch."""
        groups: list[_Group] = []
        for group in self._groups:
            into = next(
                (
                    index
                    for index, earlier in enumerate(groups)
                    if earlier.model is group.model
                    and len(earlier.rows) + len(group.rows) <= self.max_rows
                    and _mergeable(earlier)
                    and _mergeable(group)
                ),
                None,
            )
            if into is None:
                groups.append(group)
            else:
                groups[into] = _merged(groups[into], group)
        with self._wake:
            self._groups[:] = groups

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
            if _mergeable(group):
                _without_leading_pads(group)
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


def _mergeable(group: _Group) -> bool:
    """Whether every layer of the group's cache holds all its positions (no sliding window)."""
    from transformers.cache_utils import DynamicLayer

    return all(type(layer) is DynamicLayer for layer in group.cache.layers)


def _merged(first: _Group, second: _Group) -> _Group:
    """One group of two: every layer's keys and values, and the masks, padded on the left to the
    longer cache; each row keeps its own positions."""
    import torch

    groups = (first, second)
    held = [group.cache.get_seq_length() for group in groups]
    longest = max(held)
    layers = [
        (_stacked([one.keys, two.keys], longest), _stacked([one.values, two.values], longest))
        for one, two in zip(first.cache.layers, second.cache.layers, strict=True)
    ]
    mask = torch.cat(
        [
            torch.nn.functional.pad(
                group.mask if group.mask is not None else group.positions.new_ones((len(group.rows), length)),
                (longest - length, 0),
            )
            for group, length in zip(groups, held, strict=True)
        ]
    )
    return _Group(
        first.model,
        _cache_of(first.model, layers, longest),
        first.rows + second.rows,
        None if bool(mask.all()) else mask,
        torch.cat([first.positions, second.positions]),
    )


def _without_leading_pads(group: _Group) -> None:
    """Cut the cache's first positions where no remaining row has a token (their rows have left):
    otherwise a room's group, always joined by new streams, would grow by its padding for ever."""
    if group.mask is None:
        return
    first = int(group.mask.any(0).nonzero()[0])
    if first == 0:
        return
    for layer in group.cache.layers:
        layer.keys, layer.values = layer.keys[:, :, first:], layer.values[:, :, first:]
    group.mask = _rows_of(group.mask[:, first:], slice(None))


def _parent_key(request: _Request) -> tuple:
    """The key of the context a request's context extends by one token."""
    return _parent_of((request.identity, request.ids))


def _parent_of(key: tuple) -> tuple:
    identity, ids = key
    return (identity, ids[:-1])


def _one_token_shorter(cache):
    """A copy of `cache` without its last token (None for None), or None when a sliding-window
    layer has already dropped the position the copy would need (a text longer than its window)."""
    if cache is None:
        return None
    shorter = copy.deepcopy(cache)
    try:
        shorter.crop(-1)
    except RuntimeError:
        return None
    return shorter


def _joined(model, caches: Sequence[Any], lengths: Sequence[int]) -> tuple[Any, Any, Any]:
    """One cache of several rows' caches (`lengths`: their texts' tokens), as a left-padded pass
    of their texts would have left it, with the attention mask and the position ids of one more
    token each. Each layer's keys and values are padded on the left to the longest row's."""
    import torch

    longest = max(lengths)
    layers = []
    for rows in zip(*(list(cache) for cache in caches), strict=True):  # one layer of every row
        keys, values = [keys for keys, _, _ in rows], [values for _, values, _ in rows]
        held = max(row_keys.shape[-2] for row_keys in keys)
        layers.append((_stacked(keys, held), _stacked(values, held)))
    device = layers[0][0].device
    own = torch.tensor(lengths, device=device)
    mask = (torch.arange(longest + 1, device=device)[None, :] >= (longest - own)[:, None]).long()
    return _cache_of(model, layers, longest), (None if bool(mask.all()) else mask), own[:, None]


def _stacked(tensors: Sequence[Any], held: int):
    """Keys or values of several caches, (rows, heads, positions, head size) each, padded on the
    left to `held` positions and stacked into one batch."""
    import torch

    return torch.cat([torch.nn.functional.pad(tensor, (0, 0, held - tensor.shape[-2], 0)) for tensor in tensors])


def _row_caches(model, cache, lengths: Sequence[int], rows: Sequence[int] | None = None) -> list:
    """The own caches of some rows of a left-padded pass (`rows`: their places in the batch, all
    of them by default; `lengths`: their texts' tokens), each of batch 1 without the pads."""
    layers = list(cache)
    rows = range(len(lengths)) if rows is None else rows
    return [
        _cache_of(
            model,
            [
                (
                    keys[row : row + 1, :, -min(length, keys.shape[-2]) :],
                    values[row : row + 1, :, -min(length, keys.shape[-2]) :],
                )
                for keys, values, _ in layers
            ],
            length,
        )
        for row, length in zip(rows, lengths, strict=True)
    ]


def _cache_of(model, layers: Sequence[tuple[Any, Any]], length: int):
    """A `DynamicCache` holding each layer's keys and values (copied), for texts of `length` tokens.

    A sliding-window layer holds its window's last positions only, and counts the text's tokens
    apart (its masks and the next position ids come from that count): transformers fills it from
    the positions it is given, so the count is set."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicSlidingWindowLayer

    cache = DynamicCache(layers, config=model.config)
    for layer in cache.layers:
        if isinstance(layer, DynamicSlidingWindowLayer):
            layer.cumulative_length = length
    return cache


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

    def stream(self, ids: Sequence[int], step: Step, prefix_tokens: int = 0) -> Iterator:
        return self.batcher.stream(self.model, self.identity, ids, step, prefix_tokens)
