"""The guarded assistant and the injection classifier, through the hub's shared model cache
(Gradio-free). The assistant is the hub's best chat model (Luth, then Qwen3-0.6B, else the
offline SmolLM2-135M-Instruct); its passes go through a batcher (shared/batching.py), so that a
room's attempts share their forward passes. Every attempt at a level (its secret, its language)
begins with the same system prompt: the batcher computes its keys and values once and keeps them,
so an attempt's first token costs the player's own words, not the whole prompt again."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator

from shared.device import answers_dtype
from shared.gpu import on_zerogpu
from shared.hub import Hub
from shared.language_models import chat_model, end_token_ids, model_title, shared_model, shared_tokenizer
from shared.pass_process import PassProcess
from spaces.guards import logic

log = logging.getLogger(__name__)

SYSTEM_PROMPT_CACHE_MB = 128  # Qwen3-0.6B: ~15 MB a system prompt in float32; SmolLM2: ~6 MB


def attempts_at_once(hub: Hub) -> int:
    """How many attempts the game answers at once: four times the hub's other streams (a lecture:
    32). An attempt is short (60 tokens at most) and the batcher decodes every running attempt in
    one pass a token, where a row costs little; with the other streams' 8, a room's attempts (one
    a second) queued behind each other into timeouts (benchmarks/load_harness.py lecture_guards)."""
    return 4 * hub.settings.lm_stream_concurrency


def system_prompt_tokens(tokenizer, system: str, ids: list[int]) -> int:
    """How many of an attempt's first ids are its system prompt's, in the chat template: the same
    for every attempt with that system prompt (the template laid out for it alone, as far as it
    agrees with the whole prompt's ids)."""
    alone = tokenizer.apply_chat_template([{"role": "system", "content": system}], tokenize=True, return_dict=True)
    shared = 0
    for own, whole in zip(alone["input_ids"], ids, strict=False):
        if own != whole:
            break
        shared += 1
    return shared


class GuardModels:
    def __init__(self, hub: Hub):
        from shared.batching import Batcher, KeyValueCaches, ScoresCache

        self.hub = hub
        # Where the hub runs its passes in a process of their own (a lecture, a Space), the answers
        # run in one of the game's own (shared/pass_process.py), in bfloat16 where the CPU computes
        # it: beside Gradio's event loop, in float32, a room's attempts ran into timeouts
        # (benchmarks/load_harness.py lecture_guards). Else in a batcher here. Streams only, no
        # scores kept; each stream holds its own key/value cache, and the system prompts' caches
        # are kept (one per level and language).
        kept_bytes, max_rows = SYSTEM_PROMPT_CACHE_MB * 2**20, attempts_at_once(hub)
        self.process = self.batcher = None
        if hub.settings.lm_process and not on_zerogpu():
            self.process = PassProcess(ScoresCache(0), kept_bytes, max_rows, hub.settings.torch_threads)
        else:
            self.batcher = Batcher(ScoresCache(0), KeyValueCaches(kept_bytes), max_rows)

    @functools.cached_property
    def key(self) -> str:
        """The assistant's model, chosen once."""
        return chat_model(self.hub)

    def title(self) -> str:
        return model_title(self.hub, self.key)

    def available(self) -> bool:
        return self.hub.weights.unavailable(self.key) is None

    def stream(self, system: str, prompt: str, progress=None, language: str = "fr") -> Iterator[str]:
        """The answer's text as its tokens come (raises WeightsUnavailable)."""
        from shared.batching import DirectPasses, GreedyTokens

        tokenizer = shared_tokenizer(self.hub, self.key, progress, language)
        model = shared_model(self.hub, self.key, progress, language)
        ids = logic.chat_prompt_ids(tokenizer, system, prompt)
        steps = GreedyTokens(end_token_ids(model, tokenizer, instruct=True), logic.MAX_NEW_TOKENS)
        if on_zerogpu():
            tokens = DirectPasses(model).stream(ids, steps)
        else:
            tokens = self._passes(model).stream(ids, steps, system_prompt_tokens(tokenizer, system, ids))
        return logic.answer_texts(tokenizer, tokens)

    def start_process(self) -> None:
        """Before the room arrives: the game's passes' process started and its model loaded there
        (one token), so that the first attempt's first token does not wait seconds for them."""
        from shared.batching import GreedyTokens

        if not self.available():
            return
        started = time.perf_counter()
        model = shared_model(self.hub, self.key)
        list(self._passes(model).stream([model.config.bos_token_id or 0], GreedyTokens(frozenset(), 1)))
        log.info("ready: %s in the guards game's passes' process in %.1f s", self.key, time.perf_counter() - started)

    def _passes(self, model):
        identity = (self.key, self.hub.weights.version(self.key))
        if self.process is not None:
            return self.process.for_model(model, identity, dtype=answers_dtype(model.device))
        return self.batcher.for_model(model, identity)

    @functools.cached_property
    def classifier(self):
        """The injection classifier, or None where this server cannot have it (levels 6 and 7 then
        play without it, and say so)."""
        from spaces.guards.injection_classifier import InjectionClassifier

        classifier = InjectionClassifier(self.hub)
        return None if classifier.unavailable() else classifier
